"""The pages of the docs in one language: which template each uses and what it shows.

A page is a path inside the language's directory, a template of server/templates/docs/ and its context.
Diagrams are drawn here, with the links of the page they sit in (and again as standalone SVG files).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from graph.catalog import guest_support, host_support, licensing, storage_formats
from graph.describe import Value, ontology_iri
from graph.layout import BASE, VOCAB
from graph.model import ArchitecturePath, IoPathDef, Product, Text, text
from graph.paths import io_path, layers
from graph.tables import local_id
from server.web.diagrams import architecture_svg, io_path_svg
from server.web.docs_links import Links, anchor
from server.web.docs_reference import REFERENCE_PAGE, REFERENCE_TITLE, ontology_reference
from server.web.docs_site import Site
from server.web.docs_tables import (
    comparison_table,
    guest_table,
    hops_table,
    host_table,
    license_table,
    relations_table,
    storage_table,
)
from server.web.docs_text import translator
from server.web.render import statements

OWL = "http://www.w3.org/2002/07/owl#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
# Kinds of resource that are facts (rows, statements, passages) rather than terms: not in the glossary.
NOT_TERMS = {
    "Passage", "Document", "GuestSupport", "HostSupport", "LicenseRights", "ComponentRelation", "Layer",
    "FeatureSupport", "GuestNotSupported", "HostNotSupported", "Rule", "Advice", "Comparison",
    "HardwareRequirement", "MigrationNote", "Prerequisite", "DowngradeRight", "IoPath", "Edition",
    # the records from outside the article (graph/facts/outside.ttl)
    "Release", "GuestList", "GuestListEntry", "LicenseTerm", "CapacityLimit",
}  # fmt: skip


@dataclass(frozen=True)
class Page:
    path: str
    template: str
    title: str
    context: dict[str, Any] = field(default_factory=dict)


def pages(site: Site, lang: str) -> list[Page]:
    t = translator(lang)
    result = [
        home(site, lang),
        Page("guests.html", "docs/support.html", t("guests"), guests(site, lang)),
        Page("hosts.html", "docs/support.html", t("hosts"), hosts(site, lang)),
        Page("licensing.html", "docs/licensing.html", t("licensing"), licences(site, lang)),
        Page("storage.html", "docs/storage.html", t("storage"), storage(site, lang)),
        Page("comparison.html", "docs/comparison.html", t("comparison"), comparison(site, lang)),
        Page("architecture.html", "docs/architecture-index.html", t("architecture"), {"products": site.products}),
        Page("glossary.html", "docs/glossary.html", t("glossary"), glossary(site, lang)),
        Page("ontology.html", "docs/ontology.html", t("ontology"), ontology(site)),
        Page("sources.html", "docs/sources.html", t("sources"), {"passages": site.passages}),
        Page("resources.html", "docs/resources.html", t("resources"), {"groups": resource_groups(site, lang)}),
        Page(
            REFERENCE_PAGE,
            "docs/ontology-reference.html",
            text(REFERENCE_TITLE, lang),
            {"reference": ontology_reference(site.snapshot), "vocabulary_iri": ontology_iri(site.snapshot.graph)},
        ),
    ]
    result.extend(architecture(site, product, lang) for product in site.products)
    for definition in site.paths:
        found = io_path(site.snapshot, definition.product, definition.mode)
        if found is not None:
            result.append(path_page(site, definition, found, lang))
    return result


def home(site: Site, lang: str) -> Page:
    # The article's subject is the product with a guest table; its architecture opens the site.
    subject = next((p for p in site.products if guest_support(site.snapshot, p.id)), None)
    path = "index.html"
    diagram = architecture_diagram(site, subject, lang, Links.for_static(lang, path), "home") if subject else None
    return Page(path, "docs/home.html", translator(lang)("home_title"), {"home_product": subject, "diagram": diagram})


def guests(site: Site, lang: str) -> dict[str, Any]:
    return {
        "kind": "guest",
        "tables": [
            guest_table(site, p, rows, lang) for p in site.products if (rows := guest_support(site.snapshot, p.id))
        ],
        "not_supported": [
            site.fact(n.iri, ("operatingSystem", "servicePack"))
            for n in sorted(site.tables.not_supported, key=lambda n: n.iri)
            if n.role == "guest"
        ],
        "notes": site.facts("Rule"),
    }


def hosts(site: Site, lang: str) -> dict[str, Any]:
    return {
        "kind": "host",
        "tables": [
            host_table(site, p, rows, lang) for p in site.products if (rows := host_support(site.snapshot, p.id))
        ],
        "not_supported": [
            site.fact(n.iri, ("operatingSystem", "edition", "architecture"))
            for n in sorted(site.tables.not_supported, key=lambda n: n.iri)
            if n.role == "host"
        ],
        "notes": site.facts("HardwareRequirement"),
    }


def licences(site: Site, lang: str) -> dict[str, Any]:
    rows = licensing(site.snapshot)
    concerned = {r.iri for r in rows} | {r.edition.iri for r in rows}
    return {
        "table": license_table(site, rows, lang),
        "downgrade": site.facts("DowngradeRight", ("appliesTo",)),
        "advice": site.facts("Advice", ("about",), about=concerned),
    }


def storage(site: Site, lang: str) -> dict[str, Any]:
    return {
        "tables": [
            storage_table(site, p, formats, lang)
            for p in site.products
            if (formats := storage_formats(site.snapshot, p.id))
        ],
        "notes": [*site.facts("Prerequisite"), *site.facts("MigrationNote")],
    }


def comparison(site: Site, lang: str) -> dict[str, Any]:
    return {
        "table": comparison_table(site, lang),
        "comparisons": site.facts("Comparison", ("favors", "comparedWith")),
        "advice": site.facts("Advice", ("about",), about={p.iri for p in site.products}),
    }


def architecture(site: Site, product: Product, lang: str) -> Page:
    t = translator(lang)
    path = f"architecture/{product.id}.html"
    mine = sorted(
        (r for r in site.tables.relations if product.id in site.tables.components[r.subject].products),
        key=lambda r: r.iri,
    )
    return Page(
        path,
        "docs/architecture.html",
        f"{t('architecture')}: {text(product.label, lang)}",
        {
            "product": product,
            "layers": layers(site.snapshot, product.id),
            "diagram": architecture_diagram(site, product, lang, Links.for_static(lang, path), "architecture"),
            "product_evidence": site.tables.citations.get(product.iri, ()),
            "relations": relations_table(site, "relations-" + product.id, mine, lang),
            "paths": [p for p in site.paths if p.product == product.id],
        },
    )


def path_page(site: Site, definition: IoPathDef, found: ArchitecturePath, lang: str) -> Page:
    path = f"io/{local_id(definition.iri)}.html"
    return Page(
        path,
        "docs/io-path.html",
        site.label(definition.iri, lang),
        {
            "definition": definition,
            "diagram": io_diagram(site, definition, found, lang, Links.for_static(lang, path)),
            "hops": hops_table(site, found.hops, lang),
            "mode_iri": BASE + definition.mode.value,
        },
    )


# ---- diagrams --------------------------------------------------------------------------------------------


def _markup(svg: str) -> Markup:
    return Markup(svg)  # noqa: S704 -- server.web.diagrams escapes every text and attribute it writes


def architecture_diagram(site: Site, product: Product, lang: str, links: Links, key: str) -> Markup | None:
    found = layers(site.snapshot, product.id)
    if not found:
        return None
    title = f"{translator(lang)('architecture')}: {text(product.label, lang)}"
    return _markup(architecture_svg(key, title, found, site.tables, product.id, lang, links.resource, links.quote))


def path_context(site: Site, found: ArchitecturePath) -> dict[str, Text]:
    """Where each component of a path runs, when the graph says (hv:runsIn), to show under its name."""
    runs_in = VOCAB + "runsIn"
    phrase = site.tables.labels.get(runs_in, {"en": "runs in"})
    context: dict[str, Text] = {}
    for relation in sorted(site.tables.relations, key=lambda r: r.iri):
        if relation.predicate == runs_in and relation.subject not in context:
            where = site.tables.components[relation.object].label
            # English reads "runs in X"; the Japanese label is a postposition: "Xの中で動作する".
            context[relation.subject] = {
                "en": f"{text(phrase, 'en')} {text(where, 'en')}",
                "ja": f"{text(where, 'ja')}{text(phrase, 'ja')}",
            }
    return {c.id: context[c.id] for c in found.components if c.id in context}


def io_diagram(site: Site, definition: IoPathDef, found: ArchitecturePath, lang: str, links: Links) -> Markup:
    title = site.label(definition.iri, lang)
    context = path_context(site, found)
    return _markup(io_path_svg("io-path", title, found, context, lang, links.resource, links.quote))


def svg_files(site: Site, lang: str) -> list[tuple[str, str]]:
    """The diagrams again as standalone SVG files in diagrams/, their links relative to that directory."""
    files = []
    for product in site.products:
        name = f"architecture-{product.id}.svg"
        diagram = architecture_diagram(site, product, lang, Links.for_static(lang, "diagrams/" + name), "architecture")
        if diagram is not None:
            files.append((name, diagram))
    for definition in site.paths:
        found = io_path(site.snapshot, definition.product, definition.mode)
        if found is not None:
            name = local_id(definition.iri) + ".svg"
            files.append((name, io_diagram(site, definition, found, lang, Links.for_static(lang, "diagrams/" + name))))
    return [(name, '<?xml version="1.0" encoding="UTF-8"?>\n' + str(svg)) for name, svg in files]


# ---- glossary, ontology, index ---------------------------------------------------------------------------


def glossary(site: Site, lang: str) -> dict[str, Any]:
    tables = site.tables
    terms = [
        iri
        for iri, kind in tables.types.items()
        if kind not in NOT_TERMS and (iri in tables.definitions or iri in tables.alt_labels)
    ]
    terms.sort(key=lambda iri: (site.label(iri, lang).casefold(), iri))
    abbreviations: dict[str, set[str]] = defaultdict(set)
    for iri in terms:
        for alt in tables.alt_labels.get(iri, ()):
            if _is_abbreviation(alt):
                abbreviations[alt].add(iri)
    return {"terms": terms, "abbreviations": sorted((a, sorted(iris)) for a, iris in abbreviations.items())}


def _is_abbreviation(name: str) -> bool:
    """VSC, VMM, W2K8, SLES10: a short name in capitals (and digits), the way the article abbreviates."""
    return 2 <= len(name) <= 8 and name[0].isupper() and name.isalnum() and name.upper() == name


@dataclass(frozen=True)
class Term:
    """One class or property of the vocabulary, as the ontology reference shows it."""

    iri: str
    name: str
    label: Text
    definition: Text | None
    inverse: Text | None
    shown: dict[str, tuple[Value, ...]]
    subclasses: tuple[Value, ...]
    characteristics: tuple[str, ...]


def ontology(site: Site) -> dict[str, Any]:
    kinds = (
        ("classes", OWL + "Class"),
        ("object_properties", OWL + "ObjectProperty"),
        ("datatype_properties", OWL + "DatatypeProperty"),
        ("annotation_properties", OWL + "AnnotationProperty"),
    )
    groups = []
    for key, kind in kinds:
        members = sorted(
            iri
            for iri, found in site.snapshot.descriptions.items()
            if iri.startswith(VOCAB) and any(v.iri == kind for v in found.types)
        )
        groups.append((key, [_term(site, iri) for iri in members]))
    return {
        "groups": groups,
        "header": site.describe(VOCAB.rstrip("/")),
        "instance_counts": Counter(site.tables.types.values()),
    }


def _term(site: Site, iri: str) -> Term:
    found = site.describe(iri)
    shown = {s.predicate: s.values for s in statements(site.snapshot, found)}
    subclasses = sorted(
        (source for source, s in found.incoming if s.predicate == RDFS + "subClassOf" and source.iri is not None),
        key=lambda v: v.iri or "",
    )
    functional = tuple(sorted(v.iri[len(OWL) :] for v in found.types if v.iri and v.iri == OWL + "FunctionalProperty"))
    return Term(
        iri,
        "hv:" + iri[len(VOCAB) :],
        found.label,
        found.definition,
        site.tables.inverse_labels.get(iri),
        {key: shown.get(RDFS + key, ()) for key in ("subClassOf", "subPropertyOf", "domain", "range")},
        tuple(subclasses),
        functional,
    )


def resource_groups(site: Site, lang: str) -> list[tuple[str, str, list[str]]]:
    """Every described resource under the label of its most specific class (ontology terms apart)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for iri in site.snapshot.descriptions:
        kind = site.tables.types.get(iri) or ("ontology" if iri.startswith(VOCAB.rstrip("/")) else "other")
        groups[kind].append(iri)
    t = translator(lang)

    def heading(kind: str) -> str:
        return t(kind) if kind in ("ontology", "other") else site.label(VOCAB + kind, lang)

    ordered = sorted(groups, key=lambda k: (k in ("ontology", "other"), heading(k).casefold(), k))
    return [(k, heading(k), sorted(groups[k], key=lambda i: (site.label(i, lang).casefold(), i))) for k in ordered]


def helpers(site: Site, lang: str) -> dict[str, Any]:
    """Small lookups the docs templates call; each reads the snapshot's tables, none derives a fact."""
    tables = site.tables
    dcterms = "http://purl.org/dc/terms/"
    return {
        "label_of": lambda iri: site.label(iri, lang),
        # an inferred value's note, in the graph's words: "inferred by: <the rule's label>" (Cell.rule)
        "rule_note": lambda rule: f"{site.label(VOCAB + 'inferredBy', lang)}: {site.label(rule, lang)}",
        "labels": lambda iri: tables.labels.get(iri, {"en": local_id(iri)}),
        "definition_of": tables.definitions.get,
        "alt_labels": lambda iri: sorted(tables.alt_labels.get(iri, ()), key=lambda a: (a.casefold(), a)),
        "evidence_of": lambda iri: tables.citations.get(iri, ()),
        "style_iri": lambda product: BASE + product.style.value,
        "mode_iri": lambda path: BASE + path.mode.value,
        "product_iri": lambda product_id: tables.products[product_id].iri,
        "local_id": local_id,
        "anchor": anchor,
        "quote_lang": lambda c: site.quote_langs.get(c.iri, "ja"),
        "document_title": lambda c: site.document_title(c.document_iri, lang),
        "doc_title": lambda doc: site.document_title(doc, lang),
        "doc_as_of": lambda doc: site.document_value(doc, VOCAB + "asOf"),
        "doc_publisher": lambda doc: next(
            (site.label(v.iri, lang) if v.iri else v.text for v in site.values(doc, dcterms + "publisher")), "—"
        ),
        "doc_passages": lambda doc: sum(1 for p in site.passages if p.document == doc),
        "documents": site.documents,
        "paths": site.paths,
    }
