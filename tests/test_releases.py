"""Releases, Service Pack levels, sizes, dates and passage IRIs as the model publishes them (issue 19).

The expectations are read from the Turtle with rdflib's own SPARQL, never from the tables the answers are built
from, so a change in the question functions cannot make both sides agree by accident.
"""

from __future__ import annotations

import re
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD

from graph.build import build_snapshot
from graph.catalog import storage_formats
from graph.layout import BASE
from graph.model import Architecture, BadInput
from graph.nodes import Basis, node
from graph.snapshot import Snapshot
from graph.verdicts import check_guest
from tests.test_verdicts import first_release_level

HV = Namespace(BASE + "ontology/")
KG = Namespace(BASE)
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
QUDT = Namespace("http://qudt.org/schema/qudt/")
UNIT = Namespace("http://qudt.org/vocab/unit/")
RESEARCH = BASE + "doc-release-research"


@cache
def snapshot() -> Snapshot:
    return build_snapshot(cache_dir=False)


@cache
def graph() -> Graph:
    return snapshot().graph


def _rows() -> list[dict[str, object]]:
    """Each guest row as the Turtle says it: OS, architecture, editions, and the levels of its releases."""
    found: dict[str, dict[str, object]] = {}
    for r in graph().query(
        """SELECT ?row ?os ?arch ?edition ?level ?max WHERE {
             ?row a hv:GuestSupport ; hv:operatingSystem ?os ; hv:architecture ?arch ; hv:maxVirtualProcessors ?max ;
                  hv:coversRelease/hv:servicePackLevel/hv:servicePackNumber ?level .
             OPTIONAL { ?row hv:edition ?edition } }""",
        initNs={"hv": HV},
    ):
        row = found.setdefault(
            str(r.row),
            {"os": str(r.os), "arch": str(r.arch), "editions": set(), "levels": set(), "max": int(r.max)},
        )
        if r.edition is not None:
            row["editions"].add(str(r.edition))  # type: ignore[attr-defined]
        row["levels"].add(int(r.level))  # type: ignore[attr-defined]
    return list(found.values())


def _initial_level(os: str) -> int | None:
    return first_release_level(graph(), os)


def _systems() -> list[str]:
    return sorted({str(os) for os in graph().objects(None, HV.operatingSystem)})


def _editions(os: str) -> list[str]:
    return sorted(str(e) for e in graph().subjects(HV.editionOf, URIRef(os)))


ARCH = {BASE + "x86": Architecture.X86, BASE + "x64": Architecture.X64}


# --- "Windows Server 2008 SP1" is the release the table lists -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sp"), [("Windows Server 2008", 1), ("Windows Server 2008 SP1", 0), ("WS2008 sp1", 0), ("ws2008", 0)]
)
def test_windows_server_2008_sp1_is_the_release_the_guest_table_lists(name: str, sp: int) -> None:
    verdict = check_guest(snapshot(), "hyper-v", name, "Enterprise", sp, Architecture.X64, 4)
    assert verdict.supported, verdict.reasons
    assert verdict.question.service_pack == 1
    cited = {c.document_iri for r in verdict.reasons for c in r.evidence}
    # the table says the row, the research notes say why SP1 is that release
    assert {BASE + "doc-article", RESEARCH} <= cited


def test_windows_server_2008_sp2_is_not_what_the_2008_table_lists() -> None:
    verdict = check_guest(snapshot(), "hyper-v", "Windows Server 2008", None, 2, Architecture.X64, 1)
    assert not verdict.supported


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_no_service_pack_named_asks_about_the_initial_release(data: st.DataObject) -> None:
    """For an OS whose first release reports a Service Pack level, 0 and that level are one question."""
    systems = [os for os in _systems() if _initial_level(os)]
    assert systems, "no operating system has an initial release at a Service Pack level"
    os = data.draw(st.sampled_from(systems))
    arch = data.draw(st.sampled_from(list(Architecture)))
    edition = data.draw(st.sampled_from([None, *_editions(os)]))
    name = str(graph().value(URIRef(os), SKOS.prefLabel))
    asked = [
        check_guest(snapshot(), "hyper-v", name, edition and edition[len(BASE) :], sp, arch, 1)
        for sp in (0, _initial_level(os))
    ]
    assert asked[0].supported == asked[1].supported
    assert (asked[0].row and asked[0].row.iri) == (asked[1].row and asked[1].row.iri)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_no_combination_outside_the_table_is_ever_supported(data: st.DataObject) -> None:
    """Supported only when a row has the OS, the architecture, the edition (if one is asked) and a release at
    the Service Pack level asked (0: the OS's initial release's level) and allows the processors."""
    os = data.draw(st.sampled_from(_systems()))
    arch = data.draw(st.sampled_from(list(Architecture)))
    edition = data.draw(st.sampled_from([None, *_editions(os)]))
    sp = data.draw(st.integers(min_value=0, max_value=5))
    vcpus = data.draw(st.integers(min_value=1, max_value=8))
    name = str(graph().value(URIRef(os), SKOS.prefLabel))
    try:
        verdict = check_guest(snapshot(), "hyper-v", name, edition and edition[len(BASE) :], sp, arch, vcpus)
    except BadInput:
        return
    level = (_initial_level(os) or 0) if sp == 0 else sp
    allowed = any(
        row["os"] == os
        and ARCH[str(row["arch"])] is arch
        and (edition is None or edition in row["editions"])  # type: ignore[operator]
        and level in row["levels"]  # type: ignore[operator]
        and vcpus <= row["max"]  # type: ignore[operator]
        for row in _rows()
    )
    assert verdict.supported == allowed, (name, edition, sp, arch, vcpus, verdict.reasons)


# --- releases as resources -----------------------------------------------------------------------------------

CPE = re.compile(r"cpe:2\.3:[aho](?::(?:\\.|[^:\\])+){10}")


def test_every_guest_row_covers_named_releases_with_cpe_names() -> None:
    rows = set(graph().subjects(RDF.type, HV.GuestSupport))
    assert len(rows) == 12
    for row in rows:
        releases = list(graph().objects(row, HV.coversRelease))
        assert releases, row
        for release in releases:
            assert graph().value(release, HV.releaseOf) == graph().value(row, HV.operatingSystem)
            labels = {o.language for o in graph().objects(release, SKOS.prefLabel)}
            assert {"en", "ja"} <= labels, release
            cpe = str(graph().value(release, HV.cpeName))
            assert CPE.fullmatch(cpe), (release, cpe)
            level = int(graph().value(graph().value(release, HV.servicePackLevel), HV.servicePackNumber))
            update = cpe.split(":")[6]  # cpe, 2.3, part, vendor, product, version, update
            initial = (release, HV.initialRelease, Literal(True)) in graph()
            assert update == ("-" if initial else f"sp{level}"), (release, cpe)


def test_service_pack_levels_are_concepts_of_one_scheme_with_distinct_numbers() -> None:
    levels = list(graph().subjects(RDF.type, HV.ServicePackLevel))
    numbers = [int(graph().value(level, HV.servicePackNumber)) for level in levels]
    assert sorted(numbers) == list(range(len(numbers)))
    assert all((level, SKOS.inScheme, KG["service-pack-levels"]) in graph() for level in levels)


def test_every_product_version_is_a_release_with_names_in_both_languages() -> None:
    versions = set(graph().objects(None, HV.productVersion))
    assert versions
    for release in versions:
        assert isinstance(release, URIRef) and (release, RDF.type, HV.Release) in graph()
        assert {o.language for o in graph().objects(release, SKOS.prefLabel)} == {"en", "ja"}


def test_the_level_of_windows_server_2008s_first_release_cites_only_the_research_notes() -> None:
    """Each statement cites only passages that say it: the RTM node's own passage (its date) does not say its
    Service Pack level, and the research notes say nothing of its date."""
    view = node(snapshot(), "release-windows-server-2008-rtm")
    assert view is not None
    level = [s for s in view.statements if s.predicate.iri == str(HV.servicePackLevel)]
    assert len(level) == 1
    assert level[0].basis is Basis.OUTSIDE
    assert {c.document_iri for c in level[0].evidence} == {RESEARCH}
    date = [s for s in view.statements if s.predicate.iri == str(HV.releaseDate)]
    assert date and all(c.document_iri != RESEARCH for s in date for c in s.evidence)


# --- sizes, units and the allocation unit ---------------------------------------------------------------------


def test_sizes_are_quantities_with_a_unit_and_the_answer_reads_them() -> None:
    answered = {f.iri: f for f in storage_formats(snapshot(), "hyper-v")}
    sized = list(graph().subject_objects(HV.maxSize))
    assert sized
    for storage, quantity in sized:
        assert graph().value(quantity, QUDT.unit) == UNIT.GibiBYTE
        assert answered[str(storage)].max_size_gb == int(graph().value(quantity, QUDT.numericValue))
    assert not list(graph().subjects(HV.maxSizeGB, None)) or all(
        (s, RDF.type, HV.CapacityLimit) in graph() for s in graph().subjects(HV.maxSizeGB, None)
    )


def test_the_allocation_unit_is_a_concept_and_the_answer_is_its_notation() -> None:
    answered = {f.iri: f for f in storage_formats(snapshot(), "hyper-v")}
    for storage, unit in graph().subject_objects(HV.allocationUnit):
        assert (unit, RDF.type, HV.AllocationUnit) in graph()
        assert (unit, SKOS.inScheme, KG["allocation-units"]) in graph()
        assert answered[str(storage)].allocation_unit == str(graph().value(unit, SKOS.notation))


# --- dates ------------------------------------------------------------------------------------------------------

FACT_CLASSES = [
    "GuestSupport", "HostSupport", "GuestNotSupported", "HostNotSupported", "LicenseRights", "LicenseTerm",
    "DowngradeRight", "FeatureSupport", "Comparison", "Advice", "Rule", "MigrationNote", "Prerequisite",
    "HardwareRequirement", "CapacityLimit", "Release", "GuestList", "GuestListEntry", "StorageFormat",
]  # fmt: skip


def test_every_date_is_a_typed_month() -> None:
    dates = list(graph().objects(None, HV.asOf))
    assert len(dates) > 100
    for date in dates:
        assert isinstance(date, Literal) and date.datatype == XSD.gYearMonth, date
        assert re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", str(date)), date


@pytest.mark.parametrize("name", FACT_CLASSES)
def test_every_fact_has_its_month(name: str) -> None:
    facts = list(graph().subjects(RDF.type, HV[name]))
    assert facts, name
    assert [f for f in facts if len(list(graph().objects(f, HV.asOf))) != 1] == []


# --- passages minted under their document, old IRIs kept ---------------------------------------------------------


def test_every_passage_is_minted_under_its_document() -> None:
    passages = list(graph().subjects(RDF.type, HV.Passage))
    assert len(passages) > 90
    for passage in passages:
        document = graph().value(passage, DCTERMS.isPartOf)
        assert str(passage).startswith(str(document) + "/"), passage


def test_every_deprecated_iri_names_a_replacement_the_graph_mints() -> None:
    deprecated = list(graph().subjects(OWL.deprecated, Literal(True)))
    assert len(deprecated) >= 90  # 89 passages and one relation
    for old in deprecated:
        (new,) = graph().objects(old, DCTERMS.isReplacedBy)
        assert (new, RDF.type, None) in graph(), (old, new)
        assert (old, RDF.type, None) not in graph(), old  # an old IRI describes nothing of its own
