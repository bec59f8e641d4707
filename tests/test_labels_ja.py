"""Japanese names and SKOS label integrity (issue 19, "Japanese").

- Every Japanese name with kanji of a named thing has a kana reading, a skos:hiddenLabel tagged @ja-Hira made of
  hiragana and ー only, and the reading agrees with the name: its kana are the name's kana, a kanji run reads as
  one or more kana, Latin letters and signs may be read out or left out (checked by a pattern built from the name,
  not from the reading).
- Every hidden label finds its resource through search (graph.catalog.search), and so do the long-vowel and
  katakana spellings the issue names.
- SKOS integrity (S13, S14 of the SKOS reference): at most one prefLabel per language per resource;
  prefLabel, altLabel and hiddenLabel pairwise disjoint on one resource. And no two resources of one class share
  a prefLabel in a language: a page or a listing could not tell them apart.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import RDF, Literal, URIRef
from rdflib.namespace import SKOS

from graph import catalog
from graph.build import build_snapshot
from graph.layout import BASE, VOCAB
from graph.snapshot import Snapshot

HV = VOCAB
KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3005\u3006]")
HIRAGANA_ONLY = re.compile(r"^[\u3041-\u3096ー]+$")
LABELS = (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel)

# The things whose labels are names people look up (not statements such as rules, rows or advice, whose
# labels are sentences): these must have readings. Subclasses are reached through rdfs:subClassOf.
NAMED_CLASSES = (
    "Product",
    "Component",
    "OperatingSystem",
    "Edition",
    "Feature",
    "StorageFormat",
    "ArchitectureStyle",
    "CpuArchitecture",
    "InstallationMode",
    "IoMode",
)
FOAF_ORGANIZATION = "http://xmlns.com/foaf/0.1/Organization"

# What the finding named as missing: each must find the resource it spells.
LONG_VOWEL_FORMS = {
    "ハイパーバイザー": "windows-hypervisor",
    "仮想化サービス・プロバイダー": "vsp",
    "バーチャル・サーバー": "virtual-server-2005-r2",
    "ウィンドウズ サーバー 2008": "windows-server-2008",
    "統合コンポーネント": "integration-services",
    "デバイス・ドライバー": "host-device-driver",
}


@cache
def shipped() -> Snapshot:
    return build_snapshot()


def named_things(snapshot: Snapshot) -> list[URIRef]:
    values = " ".join(f"<{HV}{c}>" for c in NAMED_CLASSES) + f" <{FOAF_ORGANIZATION}>"
    query = f"""
        SELECT DISTINCT ?thing WHERE {{
            VALUES ?top {{ {values} }}
            ?class <http://www.w3.org/2000/01/rdf-schema#subClassOf>* ?top .
            ?thing a ?class .
            FILTER(STRSTARTS(STR(?thing), "{BASE}"))
        }}"""
    return sorted(URIRef(str(row[0])) for row in snapshot.graph.query(query))  # type: ignore[index]


def japanese_names(snapshot: Snapshot, thing: URIRef) -> list[str]:
    return sorted(
        str(o)
        for p in LABELS
        for o in snapshot.graph.objects(thing, p)
        if isinstance(o, Literal) and (o.language or "").lower() == "ja"
    )


def readings(snapshot: Snapshot, thing: URIRef) -> list[str]:
    return sorted(
        str(o)
        for o in snapshot.graph.objects(thing, SKOS.hiddenLabel)
        if isinstance(o, Literal) and (o.language or "").lower() == "ja-hira"
    )


def to_hiragana(ch: str) -> str:
    """Katakana to hiragana (ァ..ヶ are 0x60 above ぁ..ゖ); ー and everything else unchanged."""
    return chr(ord(ch) - 0x60) if "\u30a1" <= ch <= "\u30f6" else ch


def reading_pattern(name: str) -> re.Pattern[str]:
    """What a reading of `name` may be: its kana as hiragana, one or more kana for each kanji run, and for each
    other character (Latin, digits, signs, spaces) its spoken kana or nothing."""
    parts: list[str] = []
    for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\u3005\u3006]+|.", name):
        if KANJI.match(run):
            parts.append("[\u3041-\u3096ー]+")
        elif "\u3041" <= run <= "\u3096" or "\u30a1" <= run <= "\u30f6" or run == "ー":
            parts.append(re.escape(to_hiragana(run)))
        else:
            parts.append("[\u3041-\u3096ー]*")
    return re.compile("^" + "".join(parts) + "$")


# ---- the reading pattern itself (it is what gives the data test its teeth) ------------------------------


def test_the_reading_pattern_accepts_a_true_reading_and_refuses_wrong_ones() -> None:
    assert reading_pattern("仮想マシン").match("かそうましん")
    assert reading_pattern("仮想マシン(Hyper-V)").match("かそうましん")
    assert reading_pattern("VMBus経由(VSC・VMBus・VSP)").match("ぶいえむばすけいゆ")
    assert not reading_pattern("仮想マシン").match("かそうばす")  # the kana part must be the name's
    assert not reading_pattern("仮想マシン").match("ましん")  # the kanji must be read
    assert not reading_pattern("統合サービス").match("とうごうさーびすこんぽーねんと")


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.characters(min_codepoint=0x30A1, max_codepoint=0x30F6), min_size=1, max_size=12),
    st.characters(min_codepoint=0x3041, max_codepoint=0x3096),
)
def test_a_katakana_name_reads_as_its_own_hiragana(katakana: str, other: str) -> None:
    hiragana = "".join(map(to_hiragana, katakana))
    assert reading_pattern("仮" + katakana).match("か" + hiragana)
    # a reading whose last kana is not the name's last kana is refused
    if other != hiragana[-1]:
        assert not reading_pattern("仮" + katakana).match("か" + hiragana[:-1] + other)


# ---- readings in the data ---------------------------------------------------------------------------------


def test_named_things_are_found() -> None:
    things = {str(t)[len(BASE) :] for t in named_things(shipped())}
    assert {"hyper-v", "vmbus", "integration-services", "windows-xp", "vhd", "digital-advantage"} <= things


@pytest.mark.parametrize("thing", named_things(shipped()), ids=lambda t: str(t)[len(BASE) :])
def test_every_japanese_name_with_kanji_has_a_matching_kana_reading(thing: URIRef) -> None:
    snapshot = shipped()
    have = readings(snapshot, thing)
    for name in japanese_names(snapshot, thing):
        if KANJI.search(name):
            pattern = reading_pattern(name)
            assert any(pattern.match(r) for r in have), (name, have)


def test_every_reading_is_hiragana_only() -> None:
    graph = shipped().graph
    found = 0
    for p in LABELS:
        for value in graph.objects(None, p):
            if isinstance(value, Literal) and (value.language or "").lower() == "ja-hira":
                found += 1
                assert HIRAGANA_ONLY.match(str(value)), str(value)
    assert found >= 10


# ---- search finds hidden labels ----------------------------------------------------------------------------


def hidden_labels() -> list[tuple[str, str]]:
    graph = shipped().graph
    return sorted(
        (str(s), str(o))
        for s, o in graph.subject_objects(SKOS.hiddenLabel)
        if str(s).startswith(BASE) and not str(s).startswith(VOCAB) and (s, RDF.type, None) in graph
    )


@pytest.mark.parametrize(("iri", "label"), hidden_labels())
def test_searching_a_hidden_label_finds_its_resource(iri: str, label: str) -> None:
    hits = catalog.search(shipped(), label, first=100)
    assert iri in {h.iri for h in hits}, label


@pytest.mark.parametrize(("spelling", "thing"), sorted(LONG_VOWEL_FORMS.items()))
def test_the_long_vowel_forms_of_the_finding_are_found(spelling: str, thing: str) -> None:
    hits = catalog.search(shipped(), spelling, first=100)
    assert BASE + thing in {h.iri for h in hits}, spelling


# ---- SKOS integrity ----------------------------------------------------------------------------------------


def labels_by_resource(predicate: URIRef) -> dict[str, set[Literal]]:
    found: dict[str, set[Literal]] = defaultdict(set)
    for s, o in shipped().graph.subject_objects(predicate):
        if isinstance(o, Literal):
            found[str(s)].add(o)
    return found


def test_at_most_one_preferred_label_per_language() -> None:
    for iri, labels in labels_by_resource(SKOS.prefLabel).items():
        languages = [(label.language or "").lower() for label in labels]
        assert len(languages) == len(set(languages)), (iri, sorted(map(str, labels)))


def test_preferred_alternative_and_hidden_labels_are_disjoint() -> None:
    pref, alt, hidden = (labels_by_resource(p) for p in LABELS)
    for iri in set(pref) | set(alt) | set(hidden):
        p, a, h = pref.get(iri, set()), alt.get(iri, set()), hidden.get(iri, set())
        assert not (p & a) and not (p & h) and not (a & h), (iri, p & a, p & h, a & h)


def test_no_two_named_things_of_one_class_share_a_preferred_label() -> None:
    """Over the named things (NAMED_CLASSES and their subclasses): a listing or a page tells each apart."""
    graph = shipped().graph
    seen: dict[tuple[str, str, str], str] = {}
    for thing in named_things(shipped()):
        for label in graph.objects(thing, SKOS.prefLabel):
            for cls in graph.objects(thing, RDF.type):
                key = (str(cls), (label.language or "").lower() if isinstance(label, Literal) else "", str(label))
                assert seen.setdefault(key, str(thing)) == str(thing), (key, seen[key], str(thing))
    assert len(seen) > 50


def test_the_editions_that_shared_enterprise_now_differ() -> None:
    """The finding: "Enterprise" was the prefLabel of three editions. Each keeps it as an altLabel."""
    graph = shipped().graph
    for edition in ("windows-server-2008-enterprise", "windows-server-2003-enterprise", "windows-vista-enterprise"):
        iri = URIRef(BASE + edition)
        assert Literal("Enterprise", lang="en") in set(graph.objects(iri, SKOS.altLabel))
        assert Literal("Enterprise", lang="en") not in set(graph.objects(iri, SKOS.prefLabel))
