"""Search: what people type, in English or Japanese, over names and the passages' own words.

Names are every skos:prefLabel, skos:altLabel, skos:hiddenLabel, rdfs:label and dcterms:title of a resource
minted under the base (the ontology's terms included): the literals only, never an IRI or its local id, so
"NT" does not find every term of the ontology. Passages are found by their hv:quote and hv:section.

Both sides are folded with graph.names.fold, and a match is a substring of the folded text: Japanese writes
no spaces, and "仮想マシン・バス" is then "仮想マシンバス". Hits rank exact name > name prefix > name substring
> passage quote > passage heading; ties by type, then id. Spellings the data lacks belong in the data
(skos:hiddenLabel, see graph/facts/spellings.ttl), not here.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS

from graph.layout import BASE, VOCAB
from graph.model import Citation, SearchHit, Text
from graph.names import fold
from graph.tables import Tables, local_id

if TYPE_CHECKING:
    from rdflib import Graph

    from graph.snapshot import Snapshot

HV_QUOTE = URIRef(VOCAB + "quote")
HV_SECTION = URIRef(VOCAB + "section")
HV_AS_OF = URIRef(VOCAB + "asOf")

# The predicates whose literals name a resource, in the order a hit's `matched` prefers among equal matches.
NAME_PREDICATES = (SKOS.prefLabel, RDFS.label, DCTERMS.title, SKOS.altLabel, SKOS.hiddenLabel)

EXACT, PREFIX, NAME, QUOTE, SECTION = 4.0, 3.0, 2.0, 1.0, 0.5
# Characters of a quote shown in a passage hit's label.
LABEL_QUOTE_LENGTH = 40


class _Haystack:
    """Folded texts joined by a separator that fold never leaves in a text, so one str.find (C speed) scans
    them all; each match is mapped back to its text by the texts' start offsets."""

    def __init__(self, texts: list[str]) -> None:
        self.text = "\n".join(texts)
        self.starts: list[int] = []
        offset = 0
        for text in texts:
            self.starts.append(offset)
            offset += len(text) + 1

    def find(self, key: str) -> Iterator[tuple[int, bool, bool]]:
        """(text number, whether the text starts with the key, whether it is the key) for every text that
        holds the key, each once."""
        hay, starts = self.text, self.starts
        found = hay.find(key)
        while found != -1:
            number = bisect_right(starts, found) - 1
            start = starts[number]
            end = starts[number + 1] - 1 if number + 1 < len(starts) else len(hay)
            yield number, found == start, found == start and end - start == len(key)
            found = hay.find(key, end + 1)


@dataclass(frozen=True)
class _Passage:
    iri: str
    quote: str
    section: str | None
    citation: Citation


class SearchIndex:
    """Every name and passage of one snapshot, folded; built on the first search and kept in snapshot.memo."""

    def __init__(self, graph: Graph, tables: Tables) -> None:
        self.tables = tables
        self.types: dict[str, str] = {}
        self.labels: dict[str, Text] = {}
        # names: one entry per (resource, literal); the haystack holds their folded forms in the same order
        self.name_iris: list[str] = []
        self.name_texts: list[str] = []
        self.name_order: list[int] = []
        preferred: dict[str, dict[str, str]] = {}
        for order, predicate in enumerate(NAME_PREDICATES):
            for subject, value in graph.subject_objects(predicate):
                iri = str(subject)
                if not isinstance(subject, URIRef) or not iri.startswith(BASE) or not isinstance(value, Literal):
                    continue
                if not self._type_of(graph, iri):
                    continue  # a resource with no type at all has no hit to give
                text = str(value)
                if predicate not in (SKOS.altLabel, SKOS.hiddenLabel):
                    # the hit's label when the tables have none (a document's title)
                    preferred.setdefault(iri, {}).setdefault(value.language or "en", text)
                self.name_iris.append(iri)
                self.name_texts.append(text)
                self.name_order.append(order)
        for iri in set(self.name_iris):
            self.labels[iri] = _both_languages(tables.labels.get(iri) or preferred.get(iri) or {})
        self.names = _Haystack([fold(t) for t in self.name_texts])

        self.passages: list[_Passage] = sorted(_passages(graph), key=lambda p: p.iri)
        self.passage_citations: dict[str, tuple[Citation, ...]] = {}
        for passage in self.passages:
            self.types[passage.iri] = tables.types.get(passage.iri) or "Passage"
            self.labels[passage.iri] = _passage_label(passage)
            self.passage_citations[passage.iri] = (passage.citation,)
        self.quotes = _Haystack([fold(p.quote) for p in self.passages])
        # a heading is shared by many passages: each folded heading once, with the passages under it
        sections: dict[str, list[int]] = {}
        for number, passage in enumerate(self.passages):
            if passage.section:
                sections.setdefault(fold(passage.section), []).append(number)
        self.section_passages = list(sections.values())
        self.sections = _Haystack(list(sections))

    def _type_of(self, graph: Graph, iri: str) -> str:
        """The resource's most specific hv: class (the tables' types), else the local name of its rdf:type
        (an ontology term: Class, ObjectProperty, ...); "" when it has none."""
        kind = self.types.get(iri)
        if kind is None:
            kind = self.tables.types.get(iri) or min(
                (_local_name(str(t)) for t in graph.objects(URIRef(iri), RDF.type)), default=""
            )
            self.types[iri] = kind
        return kind

    def search(self, text: str, first: int) -> tuple[SearchHit, ...]:
        key = fold(text)
        if not key or first < 1:
            return ()
        # per resource its best match: (score, preference of the predicate, the text as written)
        best: dict[str, tuple[float, int, str]] = {}

        def offer(iri: str, score: float, order: int, matched: str) -> None:
            held = best.get(iri)
            if held is None or (-score, order, matched) < (-held[0], held[1], held[2]):
                best[iri] = (score, order, matched)

        for number, prefix, exact in self.names.find(key):
            score = EXACT if exact else PREFIX if prefix else NAME
            offer(self.name_iris[number], score, self.name_order[number], self.name_texts[number])
        for number, _, _ in self.quotes.find(key):
            passage = self.passages[number]
            offer(passage.iri, QUOTE, 0, passage.quote)
        for number, _, _ in self.sections.find(key):
            for passage_number in self.section_passages[number]:
                passage = self.passages[passage_number]
                offer(passage.iri, SECTION, 0, passage.section or "")
        ranked = heapq.nsmallest(first, best, key=lambda iri: (-best[iri][0], self.types[iri], local_id(iri)))
        return tuple(self._hit(iri, *best[iri]) for iri in ranked)

    def _hit(self, iri: str, score: float, order: int, matched: str) -> SearchHit:
        evidence = self.passage_citations.get(iri)
        return SearchHit(
            id=local_id(iri),
            iri=iri,
            type=self.types[iri],
            label=self.labels[iri],
            score=score,
            matched=matched,
            evidence=evidence if evidence is not None else self.tables.cite(iri),
        )


def search_index(snapshot: Snapshot) -> SearchIndex:
    index: SearchIndex | None = snapshot.memo.get("search_index")
    if index is None:
        index = snapshot.memo.setdefault("search_index", SearchIndex(snapshot.graph, snapshot.tables))
    return index


def search(snapshot: Snapshot, text: str, first: int = 20) -> tuple[SearchHit, ...]:
    """The `first` best hits for the text; () when the text folds to nothing."""
    return search_index(snapshot).search(text, first)


def _passages(graph: Graph) -> Iterable[_Passage]:
    titles: dict[str, str] = {}
    for subject, quote in graph.subject_objects(HV_QUOTE):
        iri = str(subject)
        if not isinstance(subject, URIRef) or not iri.startswith(BASE):
            continue
        section = graph.value(subject, HV_SECTION)
        document = graph.value(subject, DCTERMS.isPartOf)
        document_iri = str(document) if document is not None else ""
        if document_iri not in titles:
            titles[document_iri] = _title(graph, document)
        as_of = graph.value(document, HV_AS_OF) if document is not None else None
        yield _Passage(
            iri,
            str(quote),
            str(section) if section is not None else None,
            Citation(
                iri=iri,
                quote=str(quote),
                section=str(section) if section is not None else None,
                document=titles[document_iri],
                document_iri=document_iri,
                as_of=str(as_of) if as_of is not None else None,
            ),
        )


def _title(graph: Graph, document: object) -> str:
    """The document's Japanese (or untagged) title, as queries/citations.rq picks it; else its id."""
    if not isinstance(document, URIRef):
        return ""
    titles = sorted(
        str(t) for t in graph.objects(document, DCTERMS.title) if isinstance(t, Literal) and t.language in ("ja", None)
    )
    return titles[0] if titles else local_id(str(document))


def _passage_label(passage: _Passage) -> Text:
    start = passage.quote[:LABEL_QUOTE_LENGTH] + ("…" if len(passage.quote) > LABEL_QUOTE_LENGTH else "")
    if not passage.section:
        return {"en": f"Passage: “{start}”", "ja": f"出典:「{start}」"}
    return {"en": f"Passage under “{passage.section}”: “{start}”", "ja": f"「{passage.section}」の一節:「{start}」"}


def _both_languages(label: Text) -> Text:
    """A label in English and Japanese: the one language stands for the other when only one is given."""
    en = label.get("en") or next(iter(label.values()), "")
    ja = label.get("ja") or en
    return {"en": en, "ja": ja}


def _local_name(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
