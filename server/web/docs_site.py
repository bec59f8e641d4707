"""What every page of the docs reads from one snapshot, gathered once for both languages.

Nothing here decides a fact: the rows come from the question functions (graph.catalog, graph.paths), the
rest is a lookup in the snapshot's tables and descriptions. `Evidence.pick` chooses which of a fact's
passages a displayed value links to.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graph.catalog import products
from graph.describe import Description, Value
from graph.layout import VOCAB
from graph.model import Citation, Text, text
from graph.snapshot import Snapshot
from graph.tables import local_id
from server.web.render import Shown, relation_names, statements


@dataclass(frozen=True)
class Fact:
    """A statement shown as a card or a list item: a comparison, advice, rule, requirement, exclusion."""

    iri: str
    label: Text
    definition: Text | None
    as_of: str | None
    related: tuple[Shown, ...]
    evidence: tuple[Citation, ...]


@dataclass(frozen=True)
class Passage:
    iri: str
    quote: str
    lang: str
    section: str | None
    position: int | None
    document: str
    cited_by: tuple[str, ...]


class Evidence:
    """Which passage a displayed value links to.

    A row cites several passages: a table's heading sentence, its header row, the row itself. A value links
    to the most specific passage that contains it as written in Japanese (the article's language), else to
    the most specific one; "most specific" is the passage the fewest facts cite (ties: document order).
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self.counts = Counter(c.iri for cites in snapshot.tables.citations.values() for c in cites)

    def pick(self, evidence: Sequence[Citation], needle: str | None = None) -> Citation | None:
        ranked = sorted(evidence, key=lambda c: self.counts[c.iri])  # stable: ties keep document order
        if needle:
            for citation in ranked:
                if needle in citation.quote:
                    return citation
        return ranked[0] if ranked else None


class Site:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.tables = snapshot.tables
        self.evidence = Evidence(snapshot)
        self.products = products(snapshot)
        self.paths = tuple(sorted(self.tables.io_paths, key=lambda p: p.iri))
        self.passages = _passages(snapshot)
        self.quote_langs = {p.iri: p.lang for p in self.passages}
        self.documents = sorted({p.document for p in self.passages})

    def describe(self, iri: str) -> Description:
        return self.snapshot.descriptions[iri]

    def of_type(self, kind: str) -> list[str]:
        """The resources whose most specific class is hv:`kind`, in IRI order."""
        return sorted(iri for iri, found in self.tables.types.items() if found == kind)

    def values(self, iri: str, predicate: str) -> list[Value]:
        return [s.value for s in self.describe(iri).outgoing if s.predicate == predicate]

    def fact(self, iri: str, related: Iterable[str] = ()) -> Fact:
        """The card of a statement, with the hv: properties named in `related` shown as links."""
        found = self.describe(iri)
        wanted = {VOCAB + name for name in related}
        dated = self.values(iri, VOCAB + "asOf")
        return Fact(
            iri,
            found.label,
            found.definition,
            dated[0].text if dated else None,
            tuple(s for s in statements(self.snapshot, found) if s.predicate in wanted),
            found.evidence,
        )

    def facts(self, kind: str, related: Iterable[str] = (), about: set[str] | None = None) -> list[Fact]:
        """The cards of every hv:`kind`; with `about`, only those whose hv:about names one of these IRIs."""
        names = tuple(related)
        return [
            self.fact(iri, names)
            for iri in self.of_type(kind)
            if about is None or {v.iri for v in self.values(iri, VOCAB + "about")} & about
        ]

    def label(self, iri: str, lang: str) -> str:
        found = self.tables.labels.get(iri) or relation_names(self.snapshot).get(iri) or {"en": local_id(iri)}
        return text(found, lang)

    def document_title(self, iri: str, lang: str) -> str:
        titles = {v.language or "": v.text for v in self.values(iri, "http://purl.org/dc/terms/title")}
        return titles.get(lang) or titles.get("ja") or titles.get("en") or local_id(iri)

    def document_value(self, iri: str, predicate: str) -> str:
        found = self.values(iri, predicate)
        return found[0].text if found else "—"


def _passages(snapshot: Snapshot) -> tuple[Passage, ...]:
    """Every passage of every document (the named query "passages"), with the facts that cite it."""
    cited_by: dict[str, set[str]] = defaultdict(set)
    for thing, cites in snapshot.tables.citations.items():
        for citation in cites:
            cited_by[citation.iri].add(thing)
    rows: Iterable[Any] = snapshot.graph.query(snapshot.queries["passages"])
    found = [
        Passage(
            str(row.passage),
            str(row.quote),
            row.quote.language or "en",
            str(row.section) if row.section is not None else None,
            int(row.position) if row.position is not None else None,
            str(row.document),
            tuple(sorted(cited_by[str(row.passage)])),
        )
        for row in rows
    ]
    return tuple(sorted(found, key=lambda p: (p.document, p.position or 0, p.iri)))
