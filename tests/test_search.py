"""Search (graph.search, through graph.catalog.search): what people type, in English and Japanese, over
names and the passages' own words, never inside IRIs.

The expectations are read from the graph's triples by a small model written here (every literal name of a
typed resource under the base, every passage's quote and heading, folded and compared by substring), not
from the index under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.namespace import DCTERMS, SKOS

from graph import catalog
from graph.build import build_snapshot
from graph.layout import BASE, VOCAB
from graph.model import BadInput, SearchHit
from graph.names import MAX_NAME_LENGTH, fold
from graph.search import search as search_all
from graph.snapshot import Snapshot

NAME_PREDICATES = (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel, RDFS.label, DCTERMS.title)
QUOTE, SECTION = URIRef(VOCAB + "quote"), URIRef(VOCAB + "section")
# Larger than the number of things and passages in the graph: every hit there is.
EVERYTHING = 1_000_000


@dataclass(frozen=True)
class Model:
    """What the graph holds to be found: each typed resource's literal names, each passage's words."""

    names: dict[str, tuple[str, ...]]
    quotes: dict[str, str]
    sections: dict[str, str]

    def texts(self, iri: str) -> set[str]:
        return set(self.names.get(iri, ())) | {t for t in (self.quotes.get(iri), self.sections.get(iri)) if t}

    def expected_scores(self, text: str) -> dict[str, float]:
        """IRI -> score of its best match: 4 exact name, 3 name prefix, 2 name substring, 1 passage quote,
        0.5 passage heading."""
        key = fold(text)
        scores: dict[str, float] = {}
        for iri, names in self.names.items():
            folded = [fold(n) for n in names]
            if key in folded:
                scores[iri] = 4.0
            elif any(f.startswith(key) for f in folded):
                scores[iri] = 3.0
            elif any(key in f for f in folded):
                scores[iri] = 2.0
        for iri, quote in self.quotes.items():
            if key in fold(quote):
                scores[iri] = max(scores.get(iri, 0.0), 1.0)
            elif key in fold(self.sections.get(iri, "")):
                scores[iri] = max(scores.get(iri, 0.0), 0.5)
        return scores


def build_model(snapshot: Snapshot) -> Model:
    graph = snapshot.graph
    names: dict[str, list[str]] = {}
    for predicate in NAME_PREDICATES:
        for subject, value in graph.subject_objects(predicate):
            typed = (subject, RDF.type, None) in graph
            if str(subject).startswith(BASE) and isinstance(value, Literal) and typed:
                names.setdefault(str(subject), []).append(str(value))
    quotes = {str(s): str(q) for s, q in graph.subject_objects(QUOTE) if str(s).startswith(BASE)}
    sections = {str(s): str(q) for s, q in graph.subject_objects(SECTION) if str(s) in quotes}
    return Model({k: tuple(v) for k, v in names.items()}, quotes, sections)


@pytest.fixture(scope="module")
def model(snapshot: Snapshot) -> Model:
    return build_model(snapshot)


# The property tests draw from the data, so they hold their own snapshot (the session fixture is not there
# when the strategies are built).
@cache
def shipped() -> Snapshot:
    return build_snapshot()


@cache
def shipped_model() -> Model:
    return build_model(shipped())


def ids(hits: tuple[SearchHit, ...]) -> list[str]:
    return [h.id for h in hits]


def top(hits: tuple[SearchHit, ...]) -> list[str]:
    return [h.id for h in hits if h.score == hits[0].score]


# ---- the defects of issue 12 -------------------------------------------------------------------------------


def test_nt_finds_windows_nt_first_and_the_passages_that_say_nt(snapshot: Snapshot, model: Model) -> None:
    hits = catalog.search(snapshot, "NT", first=100)
    assert hits[0].id == "windows-nt"
    assert hits[0].type == "OperatingSystem"
    assert hits[0].matched == "NT"  # the altLabel, as written
    said = {iri for iri, quote in model.quotes.items() if "NT" in quote}
    assert said, "the article names Windows NT"
    assert said <= {h.iri for h in search_all(snapshot, "NT", EVERYTHING)}
    passages = [h for h in hits if h.iri in said]
    assert passages and all(h.type == "Passage" for h in passages)


@pytest.mark.parametrize("text", ["NT", "ontology", "id", "hyperv-kg.example.org", "https", "p-arch", "guest-row", "x"])
def test_no_hit_matches_inside_an_iri(snapshot: Snapshot, model: Model, text: str) -> None:
    for hit in search_all(snapshot, text, EVERYTHING):
        assert hit.matched in model.texts(hit.iri), (text, hit.id, hit.matched)
        assert fold(text) in fold(hit.matched)
        assert not hit.matched.startswith(("http://", "https://"))


def test_an_id_is_not_a_name(snapshot: Snapshot, model: Model) -> None:
    # The old index held every resource's local id as one of its names: "guest-row-01" found guest-row-01.
    # An id that none of the graph's literals holds now finds nothing by that id.
    every_text = "\n".join(fold(t) for iri in model.names.keys() | model.quotes.keys() for t in model.texts(iri))
    bare = [iri for iri in sorted(model.names) if fold(iri[len(BASE) :]) not in every_text]
    assert len(bare) > 10
    for iri in bare:
        assert iri not in {h.iri for h in search_all(snapshot, iri[len(BASE) :], EVERYTHING)}, iri


@pytest.mark.parametrize("text", ["NT", "ontology", "ハイパーバイザー", "component", "SP", "版", "Windows"])
def test_every_hit_has_a_type(snapshot: Snapshot, text: str) -> None:
    hits = search_all(snapshot, text, EVERYTHING)
    assert hits
    assert all(h.type for h in hits), [h.id for h in hits if not h.type]
    for hit in hits:
        kind = snapshot.tables.types.get(hit.iri)
        assert kind is None or hit.type == kind  # the most specific hv: class where there is one


def test_katakana_windows_finds_every_windows_operating_system(snapshot: Snapshot) -> None:
    windows = {
        iri
        for iri, kind in snapshot.tables.types.items()
        if kind == "OperatingSystem" and snapshot.tables.labels[iri]["en"].startswith("Windows")
    }
    assert len(windows) >= 5
    for spelling in ("ウィンドウズ", "ウインドウズ", "ｳｨﾝﾄﾞｳｽﾞ"):
        found = {h.iri for h in catalog.search(snapshot, spelling, first=100)}
        assert windows <= found, (spelling, windows - found)


@pytest.mark.parametrize("text", ["仮想マシン・バス", "仮想マシンバス", "仮想マシン バス", "VMバス", "vmbus"])
def test_vmbus_in_words(snapshot: Snapshot, text: str) -> None:
    hits = catalog.search(snapshot, text)
    assert hits[0].id == "vmbus"
    assert hits[0].type == "VirtualBus"


@pytest.mark.parametrize(
    "text", ["ハイパーバイザー", "ハイパーバイザ", "ﾊｲﾊﾟｰﾊﾞｲｻﾞｰ", "hypervisor", "ウィンドウズ ハイパーバイザー"]
)
def test_the_hypervisor_with_and_without_the_long_vowel(snapshot: Snapshot, text: str) -> None:
    hits = catalog.search(snapshot, text)
    assert "windows-hypervisor" in top(hits), [(h.id, h.score) for h in hits[:5]]


def test_japanese_words_find_the_passages_that_use_them(snapshot: Snapshot, model: Model) -> None:
    hits = catalog.search(snapshot, "統合サービス", first=100)
    using = {iri for iri, quote in model.quotes.items() if "統合サービス" in quote}
    assert using
    found = [h for h in hits if h.type == "Passage"]
    assert {h.iri for h in found} == using
    assert all("統合サービス" in h.matched for h in found)
    assert "integration-services" in top(hits)


# ---- what a hit carries --------------------------------------------------------------------------------------


def test_a_passage_hit_is_the_passage_with_its_quote(snapshot: Snapshot, model: Model) -> None:
    hits = [h for h in catalog.search(snapshot, "VMBus", first=100) if h.type == "Passage"]
    assert hits
    for hit in hits:
        assert hit.matched == model.quotes[hit.iri]
        (citation,) = hit.evidence
        assert citation.iri == hit.iri
        assert citation.quote == model.quotes[hit.iri]
        assert citation.section == model.sections.get(hit.iri)
        assert citation.document and citation.document_iri.startswith(BASE)
        assert hit.label["en"] and hit.label["ja"] and hit.label["en"] != hit.label["ja"]
        assert model.quotes[hit.iri][:10] in hit.label["en"]
        assert model.sections.get(hit.iri, "") in hit.label["ja"]


def test_a_passage_found_by_its_heading_says_the_heading(snapshot: Snapshot, model: Model) -> None:
    sections = list(model.sections.values())
    heading = max(set(sections), key=lambda s: (sections.count(s), s))  # the heading over the most passages
    hits = search_all(snapshot, heading, EVERYTHING)
    under = {iri for iri, section in model.sections.items() if fold(heading) in fold(section)}
    assert under <= {h.iri for h in hits}
    for hit in hits:
        if hit.iri in under and fold(heading) not in fold(model.quotes[hit.iri]):
            assert hit.matched == model.sections[hit.iri]


def test_a_named_hit_carries_the_name_that_matched_and_the_things_evidence(snapshot: Snapshot, model: Model) -> None:
    for text in ("VSC", "仮想ハードディスク", "Windows Server", "ライブマイグレーション", "SLES"):
        hits = [h for h in catalog.search(snapshot, text, first=100) if h.type != "Passage"]
        assert hits, text
        for hit in hits:
            assert hit.matched in model.names[hit.iri]
            assert fold(text) in fold(hit.matched)
            assert hit.evidence == snapshot.tables.cite(hit.iri)
            assert hit.label["en"] and hit.label["ja"]


# Kept from tests/test_names.py, where the old search lived: names in both languages find their thing first.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vmbus", "vmbus"),
        ("VMBUS", "vmbus"),
        ("  VMBus ", "vmbus"),
        ("仮想的な高速のバス", "vmbus"),
        ("VSC", "vsc"),
        ("Virtualization Service Provider", "vsp"),
        ("統合サービス", "integration-services"),
        ("integration services", "integration-services"),
        ("ハイパーバイザ", "windows-hypervisor"),
        ("パス・スルー形式", "pass-through-disk"),
        ("VHD", "vhd"),
        ("Windows XP", "windows-xp"),
    ],
)
def test_names_in_both_languages_find_their_thing_first(snapshot: Snapshot, text: str, expected: str) -> None:
    hits = catalog.search(snapshot, text)
    assert expected in top(hits), [(h.id, h.score) for h in hits[:5]]
    found = next(h for h in hits if h.id == expected)
    assert found.iri == BASE + expected
    assert found.label["en"] and found.label["ja"]


def test_nothing_known_finds_nothing(snapshot: Snapshot) -> None:
    assert catalog.search(snapshot, "zzqxj-nothing-like-this") == ()


# ---- input ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\t\n", "\u3000"])
def test_blank_text_answers_no_hits(snapshot: Snapshot, text: str) -> None:
    assert catalog.search(snapshot, text) == ()


@pytest.mark.parametrize("text", ["・", "!?", "---", "「」", "(　)"])
def test_text_with_nothing_to_match_answers_no_hits(snapshot: Snapshot, text: str) -> None:
    assert fold(text) == ""
    assert catalog.search(snapshot, text) == ()


def test_over_long_text_is_bad_input(snapshot: Snapshot) -> None:
    with pytest.raises(BadInput) as raised:
        catalog.search(snapshot, "x" * (MAX_NAME_LENGTH + 1))
    assert raised.value.argument == "text"
    assert str(MAX_NAME_LENGTH + 1) in raised.value.message["en"]
    assert raised.value.message["ja"] != raised.value.message["en"]


@pytest.mark.parametrize("first", [0, -1, catalog.MAX_HITS + 1, 10**9])
def test_first_out_of_range_is_bad_input(snapshot: Snapshot, first: int) -> None:
    with pytest.raises(BadInput) as raised:
        catalog.search(snapshot, "Windows", first=first)
    assert raised.value.argument == "first"
    assert str(first) in raised.value.message["en"]
    assert str(catalog.MAX_HITS) in raised.value.message["ja"]


def test_first_bounds_the_count_and_keeps_the_order(snapshot: Snapshot) -> None:
    every = catalog.search(snapshot, "Windows", first=catalog.MAX_HITS)
    assert len(every) > 20
    assert len(catalog.search(snapshot, "Windows")) == 20  # the default
    for first in (1, 2, 5, 20, len(every)):
        assert catalog.search(snapshot, "Windows", first=first) == every[:first]


# ---- properties ----------------------------------------------------------------------------------------------


@cache
def pieces() -> list[tuple[str, str]]:
    """(IRI, folded text) for every name and every passage quote in the graph, two characters or more."""
    model = shipped_model()
    found = [(iri, fold(name)) for iri, names in sorted(model.names.items()) for name in names]
    found += [(iri, fold(quote)) for iri, quote in sorted(model.quotes.items())]
    return [(iri, text) for iri, text in found if len(text) >= 2]


@st.composite
def piece_of_a_text(draw: st.DrawFn) -> tuple[str, str]:
    """A thing or passage, and a piece of its folded name or quote (2 to 30 characters)."""
    iri, text = draw(st.deferred(lambda: st.sampled_from(pieces())))
    start = draw(st.integers(0, len(text) - 2))
    end = draw(st.integers(start + 2, min(len(text), start + 30)))
    return iri, text[start:end]


@settings(max_examples=300, deadline=None)
@given(piece_of_a_text())
def test_any_piece_of_a_name_or_passage_finds_it(piece: tuple[str, str]) -> None:
    iri, text = piece
    assert iri in {h.iri for h in search_all(shipped(), text, EVERYTHING)}


QUERIES = st.one_of(
    piece_of_a_text().map(lambda p: p[1]),
    st.text(alphabet="abcdeinostvwxABNTX0128 -・ーハイパーバイザ統合仮想サービス", min_size=1, max_size=6),
)


@settings(max_examples=200, deadline=None)
@given(QUERIES)
def test_hits_are_exactly_the_matches_ranked_exact_prefix_substring_passage(text: str) -> None:
    snapshot = shipped()
    hits = search_all(snapshot, text, EVERYTHING)
    expected = shipped_model().expected_scores(text) if fold(text) else {}
    assert {h.iri: h.score for h in hits} == expected
    assert all(h.type for h in hits)
    keys = [(-h.score, h.type, h.id) for h in hits]
    assert keys == sorted(keys)
    assert len(set(ids(hits))) == len(hits)


@settings(max_examples=50, deadline=None)
@given(QUERIES, st.integers(1, catalog.MAX_HITS))
def test_first_is_a_prefix_of_the_full_ranking(text: str, first: int) -> None:
    snapshot = shipped()
    assert catalog.search(snapshot, text, first=first) == search_all(snapshot, text, EVERYTHING)[:first]
