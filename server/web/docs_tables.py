"""The docs' tables: each is a question function's answer laid out as rows, every value linked to its quote.

The rows and their order are the answer's (guest_support, host_support, licensing, storage_formats,
products, io_path); this module only formats the fields and picks, per value, the passage it links to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from graph.knowledge import statement
from graph.layout import BASE, VOCAB
from graph.model import (
    Citation,
    FeatureSupport,
    GuestRow,
    Hop,
    HostRow,
    LicenseRow,
    Named,
    Product,
    Relation,
    StorageFormat,
    text,
)
from graph.nodes import Basis
from graph.tables import local_id
from server.web.docs_site import Site
from server.web.docs_text import as_of, translator


@dataclass(frozen=True)
class Cell:
    text: str
    quote: Citation | None  # None: the sources say nothing here (shown as such, and tested to be so)
    css: str = ""  # "head": a row heading; "unstated": nothing is known; "yes"/"no": availability; "inferred"
    lines: tuple[Cell, ...] = ()  # a cell of several statements, each with its own quote
    # the value's statement is INFERRED (graph.nodes): the rule it is read by, whose page holds its passages
    rule: str | None = None


@dataclass(frozen=True)
class Row:
    id: str
    iri: str
    cells: tuple[Cell, ...]
    evidence: tuple[Citation, ...]  # the row's own passages (those of the whole table are in `shared`)


@dataclass(frozen=True)
class FactsTable:
    id: str
    caption: str
    columns: tuple[tuple[str, str], ...]  # (key, heading)
    rows: tuple[Row, ...]
    shared: tuple[Citation, ...] = ()  # passages every row cites (the table's heading sentence), shown once


class Cells:
    """Builds the cells of one table's rows: each value with the passage that states it."""

    def __init__(self, site: Site, rows_iris: Sequence[str]) -> None:
        self.site = site
        self.shared = site.tables.shared_citations(list(rows_iris)) if len(rows_iris) > 1 else ()

    def __call__(self, value: str, evidence: Sequence[Citation], needle: str | None = None, css: str = "") -> Cell:
        return Cell(value, self.site.evidence.pick(evidence, needle), css)

    def own(self, evidence: Sequence[Citation]) -> tuple[Citation, ...]:
        return tuple(c for c in evidence if c not in self.shared)


def _names(items: Sequence[Named], lang: str, sep: str = ", ") -> str:
    return sep.join(text(n.label, lang) for n in items) or "—"


def service_packs(numbers: Sequence[int], lang: str) -> str:
    named = [f"SP{n}" for n in numbers if n > 0]
    return " / ".join(named) if named else translator(lang)("none_named")


def guest_table(site: Site, product: Product, rows: Sequence[GuestRow], lang: str) -> FactsTable:
    t = translator(lang)
    cell = Cells(site, [r.iri for r in rows])
    columns = (
        ("os", t("os")),
        ("editions", t("editions")),
        ("service_pack", t("service_pack")),
        ("architecture", t("cpu_architecture")),
        ("max_vp", t("max_vp")),
        ("as_of", t("as_of")),
    )
    shown = []
    for row in rows:
        os, cites = row.operating_system.label, row.evidence
        cells = (
            cell(text(os, lang), cites, text(os, "ja")),
            cell(_names(row.editions, lang), cites),
            cell(service_packs(row.service_packs, lang), cites, service_packs(row.service_packs, "ja")),
            cell(row.architecture.value, cites, row.architecture.value),
            cell(str(row.max_virtual_processors), cites, str(row.max_virtual_processors)),
            cell(row.as_of, cites),
        )
        shown.append(Row(local_id(row.iri), row.iri, cells, cell.own(cites)))
    return FactsTable("guest-" + product.id, text(product.label, lang), columns, tuple(shown), cell.shared)


def host_table(site: Site, product: Product, rows: Sequence[HostRow], lang: str) -> FactsTable:
    t = translator(lang)
    cell = Cells(site, [r.iri for r in rows])
    columns = (
        ("os", t("os")),
        ("editions", t("editions")),
        ("architecture", t("cpu_architecture")),
        ("installation", t("installation")),
        ("as_of", t("as_of")),
    )

    def modes(row: HostRow, in_lang: str) -> str:
        return ", ".join(site.label(BASE + m.value, in_lang) for m in row.installations)

    shown = []
    for row in rows:
        os, cites = row.operating_system.label, row.evidence
        cells = (
            cell(text(os, lang), cites, text(os, "ja")),
            cell(_names(row.editions, lang), cites),
            cell(row.architecture.value, cites, row.architecture.value),
            cell(modes(row, lang), cites, modes(row, "ja")),
            cell(row.as_of, cites),
        )
        shown.append(Row(local_id(row.iri), row.iri, cells, cell.own(cites)))
    return FactsTable("host-" + product.id, text(product.label, lang), columns, tuple(shown), cell.shared)


def instances(row: LicenseRow, lang: str) -> str:
    if row.unlimited:
        return translator(lang)("unlimited")
    return str(row.virtual_instances) if row.virtual_instances is not None else "—"


def license_table(site: Site, rows: Sequence[LicenseRow], lang: str) -> FactsTable:
    t = translator(lang)
    cell = Cells(site, [r.iri for r in rows])
    columns = (
        ("os", t("os")),
        ("edition", t("edition")),
        ("virtual_instances", t("virtual_instances")),
        ("as_of", t("as_of")),
    )
    shown = []
    for row in rows:
        os, edition, cites = row.operating_system.label, row.edition.label, row.evidence
        cells = (
            cell(text(os, lang), cites, text(os, "ja")),
            cell(text(edition, lang), cites, text(edition, "ja")),
            cell(instances(row, lang), cites, instances(row, "ja")),
            cell(row.as_of, cites),
        )
        shown.append(Row(local_id(row.iri), row.iri, cells, cell.own(cites)))
    return FactsTable("licensing", "", columns, tuple(shown), cell.shared)


def max_size(site: Site, fmt: StorageFormat, lang: str) -> str:
    if fmt.max_size_gb is not None:
        return f"{fmt.max_size_gb:,} GB"
    unlimited = site.values(fmt.iri, VOCAB + "noCapacityLimit")
    return translator(lang)("no_limit") if unlimited and unlimited[0].text == "true" else "—"


def storage_table(site: Site, product: Product, formats: Sequence[StorageFormat], lang: str) -> FactsTable:
    t = translator(lang)
    cell = Cells(site, [f.iri for f in formats])
    columns = (
        ("format", t("format")),
        ("max_size", t("max_size")),
        ("snapshots", t("snapshots")),
        ("file_extension", t("file_extension")),
        ("allocation_unit", t("allocation_unit")),
        ("prerequisites", t("prerequisites")),
        ("migration", t("migration")),
    )
    shown = []
    for fmt in formats:
        cites = fmt.evidence
        size = str(fmt.max_size_gb) if fmt.max_size_gb is not None else None
        snapshots = "yes" if fmt.supports_snapshots else "no"
        # VHD's snapshots are read by a rule: marked by class and rule, its words kept (as in the comparison)
        rule = _inferred_by(site, fmt.iri, VOCAB + "supportsSnapshots")
        snapshots_cell = cell(t(snapshots), cites, None, f"{snapshots} inferred" if rule else snapshots)
        cells = (
            cell(text(fmt.label, lang), cites, text(fmt.label, "ja")),
            cell(max_size(site, fmt, lang), cites, size),
            replace(snapshots_cell, rule=rule),
            cell(fmt.file_extension or "—", cites, fmt.file_extension),
            cell(fmt.allocation_unit or "—", cites),
            cell(_names(fmt.prerequisites, lang, "; "), cites, _names(fmt.prerequisites, "ja", "; ")),
            cell(_names(fmt.migration_notes, lang, "; "), cites),
        )
        shown.append(Row(fmt.id, fmt.iri, cells, cell.own(cites)))
    return FactsTable("storage-" + product.id, text(product.label, lang), columns, tuple(shown), cell.shared)


def relations_table(site: Site, key: str, relations: Sequence[Relation], lang: str) -> FactsTable:
    """Documented relations between components, each cell linked to the relation's first passage."""
    t = translator(lang)
    columns = (("from", t("from")), ("relation", t("relation")), ("to", t("to")))
    shown = []
    for relation in relations:
        first = relation.evidence[0] if relation.evidence else None
        label = site.tables.labels.get(relation.predicate, {"en": relation.predicate})
        cells = (
            Cell(text(site.tables.components[relation.subject].label, lang), first),
            Cell(text(label, lang), first),
            Cell(text(site.tables.components[relation.object].label, lang), first),
        )
        shown.append(Row(local_id(relation.iri), relation.iri, cells, relation.evidence))
    return FactsTable(key, "", columns, tuple(shown))


def hops_table(site: Site, hops: Sequence[Hop], lang: str) -> FactsTable:
    """The hops of an I/O path in order, each cell linked to the hop's first passage (as its arrow is)."""
    t = translator(lang)
    columns = (("hop", t("hop")), ("from", t("from")), ("relation", t("relation")), ("to", t("to")))
    shown = []
    for number, hop in enumerate(hops, 1):
        first = hop.evidence[0] if hop.evidence else None
        cells = (
            Cell(str(number), first),
            Cell(text(hop.source.label, lang), first),
            Cell(text(hop.relation, lang), first),
            Cell(text(hop.target.label, lang), first),
        )
        iri = _relation_of(site, hop)
        shown.append(Row(local_id(iri), iri, cells, hop.evidence))
    return FactsTable("hops", "", columns, tuple(shown))


def _relation_of(site: Site, hop: Hop) -> str:
    """The hv:ComponentRelation behind a hop (its page holds the statement and its passages)."""
    ends = (hop.source.id, hop.target.id) if hop.forward else (hop.target.id, hop.source.id)
    for relation in site.tables.relations:
        if relation.predicate == hop.relation_iri and (relation.subject, relation.object) == ends:
            return relation.iri
    return hop.source.iri


def comparison_table(site: Site, lang: str) -> FactsTable:
    """Products as columns: their architecture style and every feature the sources state, with its date."""
    t, pick = translator(lang), site.evidence.pick
    columns = (("feature", t("feature")), *((p.id, text(p.label, lang)) for p in site.products))
    style_cells = [Cell(t("architecture_style"), None, "head")]
    for product in site.products:
        style = BASE + product.style.value
        cites = site.tables.citations.get(product.iri, ())
        # an inferred style keeps its words (the label) and is marked by its class and rule, not by other text
        rule = _inferred_by(site, product.iri, VOCAB + "architectureStyle")
        style_cells.append(
            Cell(site.label(style, lang), pick(cites, site.label(style, "ja")), "inferred" if rule else "", rule=rule)
        )
    picked = tuple(c.quote for c in style_cells if c.quote is not None)
    rows = [Row("architecture-style", VOCAB + "architectureStyle", tuple(style_cells), picked)]

    by_feature: dict[str, dict[str, list[FeatureSupport]]] = defaultdict(lambda: defaultdict(list))
    for product in site.products:
        for support in product.features:
            feature = site.values(support.iri, VOCAB + "feature")[0].iri or support.iri
            by_feature[feature][product.id].append(support)
    for feature in sorted(by_feature, key=lambda iri: (site.label(iri, lang).casefold(), iri)):
        cells = [Cell(site.label(feature, lang), None, "head")]
        cited: list[Citation] = []
        for product in site.products:
            supports = sorted(by_feature[feature][product.id], key=lambda f: (f.as_of or "", f.iri))
            lines = tuple(_availability_cell(site, f, lang) for f in supports)
            cells.append(Cell("", None, "lines", lines) if lines else Cell(t("unstated"), None, "unstated"))
            cited.extend(c for f in supports for c in f.evidence if c not in cited)
        rows.append(Row(local_id(feature), feature, tuple(cells), tuple(cited)))
    return FactsTable("comparison", "", columns, tuple(rows))


def _availability(support: FeatureSupport, lang: str) -> str:
    t = translator(lang)
    words = t("available") if support.available else t("unavailable")
    version = f", {support.product_version}" if support.product_version else ""
    return f"{words} ({as_of(support.as_of or '—', lang)}{version})"


def _availability_cell(site: Site, support: FeatureSupport, lang: str) -> Cell:
    """One availability, linked to its passage; an inferred one says so and names its rule, in the graph's words
    (the label of hv:inferredBy and the rule's label)."""
    words, css = _availability(support, lang), "yes" if support.available else "no"
    rule = _inferred_by(site, support.iri, VOCAB + "available")
    if rule is not None:
        words = f"{words} [{site.label(VOCAB + 'inferredBy', lang)}: {site.label(rule, lang)}]"
        css += " inferred"
    return Cell(words, site.evidence.pick(support.evidence), css, rule=rule)


def _inferred_by(site: Site, iri: str, predicate: str) -> str | None:
    """The rule of the statement when graph.nodes reads it as INFERRED; None for a stated or outside one."""
    found = statement(site.snapshot, iri, predicate)
    return found.rule if found is not None and found.basis is Basis.INFERRED else None
