"""Facts from outside the article stand beside it, each quoting its record; every statement says how it is known.

The records are read here from the notes themselves (graph/sources/external-facts.md, Part B), not from the
graph, so a passage that misquotes its record, names the wrong record or is missing fails.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Literal, Namespace, URIRef

from graph.build import build_snapshot
from graph.layout import BASE, ROOT, DataLayout
from graph.nodes import Basis, NodeStatement, node
from graph.problems import InvalidGraph
from graph.snapshot import Snapshot

HV = Namespace("https://hyperv-kg.example.org/id/ontology/")
KG = Namespace(BASE)
DCTERMS = Namespace("http://purl.org/dc/terms/")
PROV = Namespace("http://www.w3.org/ns/prov#")
NOTES = ROOT / "graph" / "sources" / "external-facts.md"
DECISIONS = ROOT / "docs" / "decisions.md"
ARTICLE = BASE + "doc-article"
OUTSIDE_DOC = BASE + "doc-external-facts"


RELEASE_NOTES = "https://hyperv-kg.example.org/id/doc-release-research"


def records() -> dict[str, str]:
    """Part B's records by id, each the whole text of its block (header line, relation, sources)."""
    part_b = NOTES.read_text(encoding="utf-8").split("## Part B")[1].split("## Part C")[0]
    blocks = re.split(r"\n(?=\*\*E-\d{3}\*\*)", part_b)
    found = {}
    for block in blocks:
        match = re.match(r"\*\*(E-\d{3})\*\*", block)
        if match:
            found[match.group(1)] = block
    return found


def outside_passages(snapshot: Snapshot) -> dict[str, list[URIRef]]:
    """Passages of the notes' document, by the record id their section names."""
    by_record: dict[str, list[URIRef]] = defaultdict(list)
    for passage in snapshot.graph.subjects(DCTERMS.isPartOf, URIRef(OUTSIDE_DOC)):
        section = str(snapshot.graph.value(passage, HV.section))
        match = re.match(r"(E-\d{3}) - ", section)
        assert match, (passage, section)
        by_record[match.group(1)].append(passage)  # type: ignore[arg-type]
    return by_record


def all_statements(snapshot: Snapshot) -> list[tuple[str, NodeStatement]]:
    result: list[tuple[str, NodeStatement]] = []
    for iri in snapshot.descriptions:
        view = node(snapshot, iri)
        assert view is not None, iri
        result.extend((iri, s) for s in view.statements)
    return result


# ---- the records --------------------------------------------------------------------------------------------


def test_part_b_has_the_37_records_the_notes_announce() -> None:
    assert len(records()) == 37


def test_each_record_in_the_graph_is_one_passage_quoting_it(snapshot: Snapshot) -> None:
    notes = records()
    by_record = outside_passages(snapshot)
    assert len(by_record) >= 30
    for record, passages in by_record.items():
        assert record in notes, record
        assert len(passages) == 1, (record, passages)
        passage = passages[0]
        block = notes[record]
        header = block.splitlines()[0]
        quote = str(snapshot.graph.value(passage, HV.quote))
        # the record's statement: what follows its *predicate* marker on the header line
        assert header.endswith("* - " + quote), (record, quote)
        section = str(snapshot.graph.value(passage, HV.section))
        assert header.startswith(f"**{record}** - {section.removeprefix(record + ' - ')} - *"), (record, section)
        sources = [str(s) for s in snapshot.graph.objects(passage, DCTERMS.source)]
        assert sources, record
        for source in sources:
            assert re.sub(r"^https?://", "", source) in block, (record, source)


def test_every_record_passage_is_cited_by_a_named_fact(snapshot: Snapshot) -> None:
    for record, passages in outside_passages(snapshot).items():
        citing = [s for s in snapshot.graph.subjects(PROV.wasDerivedFrom, passages[0]) if isinstance(s, URIRef)]
        assert citing, record


def test_records_left_out_are_listed_with_a_reason_in_both_languages(snapshot: Snapshot) -> None:
    text = DECISIONS.read_text(encoding="utf-8")
    heading = "## Outside records left out / 記事外レコードで採らなかったもの"
    assert heading in text
    section = text.split(heading)[1].split("\n## ")[0]
    missing = set(records()) - set(outside_passages(snapshot))
    for record in missing:
        rows = [line for line in section.splitlines() if line.startswith(f"| {record} ")]
        assert len(rows) == 1, record
        cells = [c.strip() for c in rows[0].strip("|").split("|")]
        assert len(cells) == 3 and re.search(r"[a-z]{3}", cells[1]) and re.search(r"[ぁ-んァ-ン一-龥]", cells[2])
    # and nothing is listed as left out that is in the graph
    listed = set(re.findall(r"^\| (E-\d{3}) ", section, flags=re.MULTILINE))
    assert listed == missing


# ---- outside facts: beside the article, with their own record and date --------------------------------------


def test_outside_facts_cite_their_record_and_have_their_own_date(snapshot: Snapshot) -> None:
    graph = snapshot.graph
    outside = set(graph.subjects(HV.relationToArticle, None))
    assert len(outside) >= 30
    for fact in outside:
        documents = {graph.value(p, DCTERMS.isPartOf) for p in graph.objects(fact, PROV.wasDerivedFrom)}
        assert URIRef(OUTSIDE_DOC) in documents, fact
        dates = list(graph.objects(fact, HV.asOf))
        assert len(dates) == 1 and re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", str(dates[0])), fact


def test_a_fact_resting_only_on_outside_passages_says_how_it_stands_to_the_article(snapshot: Snapshot) -> None:
    graph = snapshot.graph
    for iri, citations in snapshot.tables.citations.items():
        if citations and all(c.document_iri != ARTICLE for c in citations):
            kind = snapshot.tables.types.get(iri)
            if kind in ("Edition", "Feature", "Passage"):  # names and definitions, not dated facts
                continue
            assert graph.value(URIRef(iri), HV.relationToArticle) is not None, iri


def test_outside_facts_never_become_rows_of_the_article_tables(snapshot: Snapshot) -> None:
    t = snapshot.tables
    rows = [r.iri for r in t.guest_rows] + [r.iri for r in t.host_rows] + [r.iri for r in t.license_rows]
    for row in rows:
        assert any(c.document_iri == ARTICLE for c in t.citations[row]), row
    assert len(t.guest_rows) == 12 and len(t.host_rows) == 2 and len(t.license_rows) == 3


# ---- the basis of each statement --------------------------------------------------------------------------------


def test_each_basis_occurs_in_node_statements(snapshot: Snapshot) -> None:
    seen = {s.basis for _, s in all_statements(snapshot)}
    assert seen == set(Basis)


def test_each_inferred_statement_names_a_rule_that_has_evidence_from_the_article(snapshot: Snapshot) -> None:
    inferred = [(iri, s) for iri, s in all_statements(snapshot) if s.basis is Basis.INFERRED]
    assert len(inferred) >= 4
    for iri, statement in inferred:
        assert statement.rule is not None, (iri, statement.predicate.id)
        assert statement.evidence, (iri, statement.predicate.id)
        rule = node(snapshot, statement.rule)
        assert rule is not None and rule.named.type == "Rule", statement.rule
        assert any(c.document_iri == ARTICLE for c in rule.evidence), statement.rule
    # and only statements with a rule are inferred
    assert all(s.rule is None for _, s in all_statements(snapshot) if s.basis is not Basis.INFERRED)


def test_the_vhd_snapshot_statement_is_inferred_by_its_rule(snapshot: Snapshot) -> None:
    view = node(snapshot, "vhd")
    assert view is not None
    snapshots = [s for s in view.statements if s.predicate.iri == str(HV.supportsSnapshots)]
    assert len(snapshots) == 1 and snapshots[0].basis is Basis.INFERRED
    assert snapshots[0].rule is not None
    # the rule rests on what the article says of pass-through disks, which lose snapshots
    rule = node(snapshot, snapshots[0].rule)
    passthrough = node(snapshot, "pass-through-disk")
    assert rule is not None and passthrough is not None
    lost = [s for s in passthrough.statements if s.predicate.iri == str(HV.supportsSnapshots)]
    assert lost[0].basis is Basis.STATED and lost[0].value["en"] == "false"
    assert {c.iri for c in rule.evidence} & {c.iri for c in lost[0].evidence}
    # the VHD's other statements are the article's own
    others = [s for s in view.statements if s.predicate.iri != str(HV.supportsSnapshots)]
    assert others and all(s.basis is Basis.STATED for s in others)


def test_esx_style_rests_on_its_own_passages_not_on_esx_s_node(snapshot: Snapshot) -> None:
    view = node(snapshot, "vmware-esx")
    assert view is not None
    style = next(s for s in view.statements if s.predicate.iri == str(HV.architectureStyle))
    assert style.basis is Basis.INFERRED and style.rule is not None
    assert {c.iri for c in style.evidence} != {c.iri for c in view.evidence}


def test_an_outside_statement_rests_on_the_notes_only(snapshot: Snapshot) -> None:
    outside = [(iri, s) for iri, s in all_statements(snapshot) if s.basis is Basis.OUTSIDE]
    assert outside
    for iri, statement in outside:
        assert statement.evidence, iri
        # the research notes or the project's release notes, never the article
        assert all(c.document_iri in (OUTSIDE_DOC, RELEASE_NOTES) for c in statement.evidence), iri
        assert statement.rule is None


def test_a_passage_is_the_evidence_of_its_own_words(snapshot: Snapshot) -> None:
    for passages, basis in (
        ([p for ps in outside_passages(snapshot).values() for p in ps], Basis.OUTSIDE),
        (list(snapshot.graph.subjects(DCTERMS.isPartOf, URIRef(ARTICLE))), Basis.STATED),
    ):
        assert passages
        for passage in passages:
            view = node(snapshot, str(passage))
            assert view is not None
            quote = next(s for s in view.statements if s.predicate.iri == str(HV.quote))
            assert quote.basis is basis, passage
            assert [c.iri for c in quote.evidence] == [str(passage)]


def test_a_statement_s_date_is_its_subject_s_or_its_document_s(snapshot: Snapshot) -> None:
    graph = snapshot.graph
    for iri, statement in all_statements(snapshot):
        own = graph.value(URIRef(iri), HV.asOf)
        if own is not None:
            assert statement.as_of == str(own), iri
        elif statement.evidence:
            assert statement.as_of in {c.as_of for c in statement.evidence}, iri


# ---- "as of": both dates stand ----------------------------------------------------------------------------------

AS_OF = """
PREFIX hv: <https://hyperv-kg.example.org/id/ontology/>
PREFIX kg: <https://hyperv-kg.example.org/id/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?fact ?available ?asOf ?version WHERE {
  ?fact hv:product kg:hyper-v ; hv:feature kg:live-migration ; hv:available ?available ; hv:asOf ?asOf .
  OPTIONAL { ?fact hv:productVersion/skos:prefLabel ?version . FILTER(LANG(?version) = "en") }
  FILTER(STR(?asOf) <= STR(?date))  # months typed xsd:gYearMonth compare as text "YYYY-MM"
}
"""


def live_migration_as_of(snapshot: Snapshot, date: str) -> list[tuple[str, bool, str, str | None]]:
    rows = snapshot.graph.query(AS_OF, initBindings={"date": Literal(date)})
    return [
        (str(r.fact), bool(r.available.toPython()), str(r.asOf), None if r.version is None else str(r.version))  # type: ignore[union-attr]
        for r in rows
    ]


def test_live_migration_as_of_the_article_and_as_of_r2(snapshot: Snapshot) -> None:
    then = live_migration_as_of(snapshot, "2008-08")
    assert [(available, as_of) for _, available, as_of, _ in then] == [(False, "2008-08")]
    later = live_migration_as_of(snapshot, "2009-01")
    assert {(available, as_of, version) for _, available, as_of, version in later} == {
        (False, "2008-08", None),
        (True, "2009-01", "Hyper-V in Windows Server 2008 R2"),
    }
    for fact, available, as_of, _ in later:
        view = node(snapshot, fact)
        assert view is not None
        statement = next(s for s in view.statements if s.predicate.iri == str(HV.available))
        assert statement.as_of == as_of
        assert statement.basis is (Basis.OUTSIDE if available else Basis.STATED)


@settings(max_examples=40, deadline=None)
@given(year=st.integers(2008, 2030), month=st.integers(1, 12))
def test_the_article_s_statement_is_never_overwritten(snapshot: Snapshot, year: int, month: int) -> None:
    """As of any date from the article on, its 2008-08 statement still stands, beside whatever came later."""
    date = f"{year:04d}-{month:02d}"
    facts = live_migration_as_of(snapshot, date)
    assert all(as_of <= date for _, _, as_of, _ in facts)
    if date >= "2008-08":
        assert (False, "2008-08") in {(available, as_of) for _, available, as_of, _ in facts}
    else:
        assert facts == []


# ---- validation refuses a broken basis ------------------------------------------------------------------------


def problems_of(layout: DataLayout) -> list[str]:
    with pytest.raises(InvalidGraph) as caught:
        build_snapshot(layout, cache_dir=None)
    return [str(p) for p in caught.value.problems]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_inferred_statement_naming_no_rule_of_the_graph_is_refused(data_copy: DataLayout) -> None:
    edit(
        data_copy.root / "graph/facts/storage.ttl",
        "    hv:inferredBy kg:rule-snapshots-lost-only-on-pass-through ;\n",
        "    hv:inferredBy kg:rule-nobody-wrote ;\n",
    )
    problems = problems_of(data_copy)
    assert any("kg:vhd" in p and "hv:InferredByRuleShape" in p for p in problems), problems


def test_a_rule_citing_no_article_passage_is_refused(data_copy: DataLayout) -> None:
    edit(
        data_copy.root / "graph/facts/storage.ttl",
        '    hv:asOf "2008-08"^^xsd:gYearMonth ;\n    prov:wasDerivedFrom article:p-arch-16 , article:p-arch-22 .\n',
        '    hv:asOf "2008-08"^^xsd:gYearMonth ;\n    prov:wasDerivedFrom notes:p-ext-e-051 .\n',
    )
    problems = problems_of(data_copy)
    assert any("kg:vhd" in p and "cites no passage of the article" in p for p in problems), problems


def test_an_outside_fact_citing_the_article_only_is_refused(data_copy: DataLayout) -> None:
    edit(
        data_copy.root / "graph/facts/outside.ttl",
        '    hv:asOf "2008-06"^^xsd:gYearMonth ;\n    prov:wasDerivedFrom notes:p-ext-e-010 .',
        '    hv:asOf "2008-06"^^xsd:gYearMonth ;\n    prov:wasDerivedFrom article:p-arch-01 .',
    )
    problems = problems_of(data_copy)
    assert any("kg:release-hyper-v-rtm" in p and "hv:OutsideFactRecordShape" in p for p in problems), problems


def test_an_outside_fact_without_a_date_is_refused(data_copy: DataLayout) -> None:
    edit(
        data_copy.root / "graph/facts/outside.ttl",
        '    hv:asOf "2008-06"^^xsd:gYearMonth ;\n    prov:wasDerivedFrom notes:p-ext-e-010 .',
        "    prov:wasDerivedFrom notes:p-ext-e-010 .",
    )
    problems = problems_of(data_copy)
    assert any("kg:release-hyper-v-rtm" in p and "hv:asOf" in p for p in problems), problems


def test_an_axiom_about_a_missing_triple_is_refused(data_copy: DataLayout) -> None:
    edit(
        data_copy.root / "graph/facts/products.ttl",
        "    owl:annotatedTarget kg:hypervisor-style ;",
        "    owl:annotatedTarget kg:hosted-style ;",
    )
    problems = problems_of(data_copy)
    assert any("kg:vmware-esx" in p and "hv:AxiomTripleShape" in p for p in problems), problems
