"""Rendering a page: the one function the live /id/ pages, the front door and the static docs all render with.

`render_page` fills the templates (server/templates/) with the docs' base layout, navigation and words, and gives
every template `id_once` so that a page never repeats an id; `render_resource` is a resource's page, its
statements shown as nested tables. A `Links` says where the links point: /id/... live, relative files in the docs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from html import unescape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from rdflib import BNode

from graph.describe import (
    Description,
    Value,
    axioms_about,
    describe,
    ontology_iri,
    replaced_by,
    replacing,
    shown_value,
    vocabulary_terms,
)
from graph.layout import BASE, VOCAB
from graph.model import Text, text
from graph.snapshot import Snapshot
from graph.tables import local_id
from server.web.docs_links import Links
from server.web.docs_text import LANGUAGE_NAMES, as_of, translator

# The words of the /id/ pages that the docs' vocabulary (server.web.docs_text) does not have, in both languages.
WORDS: dict[str, Text] = {
    "deprecated": {
        "en": "Deprecated: this IRI was renamed and redirects to",
        "ja": "非推奨: このIRIは名前が変わり、次のIRIへリダイレクトされます:",
    },
    "replaces": {"en": "Replaces (deprecated IRIs)", "ja": "置き換えた旧IRI(非推奨)"},
    "annotations": {"en": "About its statements", "ja": "文についての注釈"},
    "vocabulary": {"en": "The vocabulary", "ja": "語彙"},
    "classes": {"en": "Classes", "ja": "クラス"},
    "object_properties": {"en": "Object properties", "ja": "オブジェクト・プロパティ"},
    "datatype_properties": {"en": "Datatype properties", "ja": "データ型プロパティ"},
    "annotation_properties": {"en": "Annotation properties", "ja": "注釈プロパティ"},
    "properties": {"en": "Properties", "ja": "プロパティ"},
    "individuals": {"en": "Individuals", "ja": "個体"},
    "reference": {"en": "Ontology reference (pyLODE)", "ja": "オントロジー・リファレンス(pyLODE)"},
    "index": {"en": "Every resource, by type", "ja": "すべてのリソース(種類別)"},
    "index_lead": {
        "en": "Every IRI the graph describes, under its type. Each answers here as a page and as RDF "
        "(Turtle, JSON-LD, N-Triples, RDF/XML); this list is RDF too.",
        "ja": "グラフが記述するすべてのIRIを種類別に示します。各IRIはページとしてもRDF(Turtle、JSON-LD、"
        "N-Triples、RDF/XML)としても応答します。この一覧もRDFで取得できます。",
    },
}
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parents[1] / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    # templates are read once: an edit on disk takes effect with a restart, never halfway through serving
    auto_reload=False,
)
PREFIXES = {
    VOCAB: "hv:",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf:",
    "http://www.w3.org/2000/01/rdf-schema#": "rdfs:",
    "http://www.w3.org/2002/07/owl#": "owl:",
    "http://www.w3.org/2001/XMLSchema#": "xsd:",
    "http://www.w3.org/2004/02/skos/core#": "skos:",
    "http://www.w3.org/ns/prov#": "prov:",
    "http://purl.org/dc/terms/": "dcterms:",
    "http://www.w3.org/ns/oa#": "oa:",
    "http://xmlns.com/foaf/0.1/": "foaf:",
}
# The top of the docs, in the order of the navigation bar: (UI word, page path in a language's directory).
NAVIGATION = (
    ("home", "index.html"),
    ("guests", "guests.html"),
    ("hosts", "hosts.html"),
    ("licensing", "licensing.html"),
    ("storage", "storage.html"),
    ("comparison", "comparison.html"),
    ("architecture", "architecture.html"),
    ("glossary", "glossary.html"),
    ("ontology", "ontology.html"),
    ("sources", "sources.html"),
    ("resources", "resources.html"),
)
# An id attribute in markup made elsewhere (pyLODE's reference); `data-id=` is not one (no space before `id`).
_ID_ATTRIBUTE = re.compile(r'\sid="([^"]*)"')


def compact(iri: str) -> str:
    """A prefixed name for a well-known namespace (xsd:integer), else the IRI itself."""
    for namespace, prefix in PREFIXES.items():
        if iri.startswith(namespace):
            return prefix + iri[len(namespace) :]
    return iri


def render_page(
    template: str,
    snapshot: Snapshot,
    links: Links,
    lang: str,
    languages: Sequence[str] = (),
    **context: Any,
) -> str:
    """The one render function of every HTML page, live or static: the same base layout and helpers."""

    def tx(value: Text | None) -> str:
        return text(value, lang) if value else ""

    def other(value: Text | None) -> str:
        """The other language's text, when it differs from the page's (shown beside it)."""
        if not value:
            return ""
        second = text(value, "en" if lang == "ja" else "ja")
        return "" if second == tx(value) else second

    sentences = relation_names(snapshot)

    def called(value: Value | Description) -> Text:
        """How a resource is called: a relation statement read as a sentence, else its label, else its id."""
        if value.iri in sentences:
            return sentences[value.iri]
        if value.label:
            return value.label
        return {"en": value.text if isinstance(value, Value) else value.id}

    def name(value: Value | Description) -> str:
        return tx(called(value))

    def predicate_name(predicate: str) -> str:
        label = snapshot.tables.labels.get(predicate)
        return tx(label) if label else compact(predicate)

    given: set[str] = set()

    def id_once(value: str) -> Markup:
        """` id="value"` the first time this page asks for it, else nothing: HTML wants every id once. A page
        may quote one passage twice (a table's shared quote and a fact's own, two facts citing it, a document
        with two titles making two citations of it): its anchor is on the first quote."""
        if value in given:
            return Markup("")
        given.add(value)
        return Markup(' id="{}"').format(value)

    def ids_once(html: Markup) -> Markup:
        """The same rule for markup made elsewhere: pyLODE lists a functional property twice (under its kind and
        under Functional Properties) with one id; the repeat loses it, so #term goes to the term's own entry."""

        def first(match: re.Match[str]) -> str:
            value = unescape(match.group(1))
            if value in given:
                return ""
            given.add(value)
            return match.group(0)

        return Markup(_ID_ATTRIBUTE.sub(first, str(html)))  # noqa: S704 -- markup in, the same less some ids out

    return TEMPLATES.get_template(template).render(
        snapshot=snapshot,
        links=links,
        lang=lang,
        other_lang="en" if lang == "ja" else "ja",
        languages=languages,
        language_names=LANGUAGE_NAMES,
        navigation=NAVIGATION,
        t=translator(lang),
        tx=tx,
        other=other,
        compact=compact,
        name=name,
        called=called,
        predicate_name=predicate_name,
        id_once=id_once,
        ids_once=ids_once,
        as_of=lambda date: as_of(date, lang),
        **context,
    )


@dataclass(frozen=True)
class Shown:
    """One predicate of a resource as its page shows it: every value of that predicate, in graph order."""

    predicate: str
    label: Text
    values: tuple[Value, ...]


# The sentences of the relation statements (hv:ComponentRelation has no label of its own), per snapshot.
_SENTENCES: dict[str, dict[str, Text]] = {}


def relation_names(snapshot: Snapshot) -> dict[str, Text]:
    """Each documented relation read as a sentence in both languages: "VSC sends I/O to VMBus",
    "VSCはVMBusにI/O要求を渡す" (the Japanese labels of relations are the predicate with its particle)."""
    if snapshot.content_hash not in _SENTENCES:
        _SENTENCES.clear()
        tables = snapshot.tables
        names: dict[str, Text] = {}
        for relation in tables.relations:
            subject = tables.components[relation.subject].label
            target = tables.components[relation.object].label
            verb = tables.labels.get(relation.predicate, {"en": compact(relation.predicate)})
            names[relation.iri] = {
                "en": f"{text(subject, 'en')} {text(verb, 'en')} {text(target, 'en')}",
                "ja": f"{text(subject, 'ja')}は{text(target, 'ja')}{text(verb, 'ja')}",
            }
        _SENTENCES[snapshot.content_hash] = names
    return _SENTENCES[snapshot.content_hash]


def statements(snapshot: Snapshot, found: Description) -> tuple[Shown, ...]:
    by_predicate: dict[str, list[Value]] = {}
    labels: dict[str, Text] = {}
    for statement, (_, _, obj) in zip(found.outgoing, found.triples, strict=True):
        shown = _shown_value(
            shown_value(snapshot.graph, obj, snapshot.tables) if isinstance(obj, BNode) else statement.value
        )
        by_predicate.setdefault(statement.predicate, []).append(shown)
        known = snapshot.tables.labels.get(statement.predicate)
        labels[statement.predicate] = known or {"en": compact(statement.predicate)}
    return tuple(Shown(p, labels[p], tuple(v)) for p, v in by_predicate.items())


def _shown_value(value: Value) -> Value:
    """A value as a page shows it: an unlabelled IRI of another vocabulary by its prefixed name (oa:exact),
    inside blank nodes too."""
    if value.members is not None:
        return replace(value, members=tuple(_shown_value(m) for m in value.members))
    if value.nested is not None:
        return replace(value, nested=tuple(replace(s, value=_shown_value(s.value)) for s in value.nested))
    if value.iri is not None and not value.iri.startswith(BASE) and value.label is None:
        return Value(compact(value.iri), value.iri)
    return value


def render_resource(
    snapshot: Snapshot,
    resource_name: str,
    lang: str = "en",
    links: Links | None = None,
    languages: Sequence[str] = (),
) -> str | None:
    found = describe(snapshot, resource_name)
    if found is None:
        return None
    graph = snapshot.graph
    is_ontology = found.iri == ontology_iri(graph)
    return render_page(
        "resource.html",
        snapshot,
        links or Links.for_live(lang),
        lang,
        languages,
        d=found,
        shown=statements(snapshot, found),
        words=WORDS,
        replaced=replaced_by(graph, found.iri),
        replaces=[Value(local_id(iri), iri, snapshot.tables.labels.get(iri)) for iri in replacing(graph, found.iri)],
        axioms=tuple(_shown_value(a) for a in axioms_about(graph, found.iri, snapshot.tables)),
        vocabulary=vocabulary_terms(graph, snapshot.tables) if is_ontology else (),
    )
