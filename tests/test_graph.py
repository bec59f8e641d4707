"""The shipped graph: counts per kind, the ontology's names, and facts from outside beside the article's."""

from __future__ import annotations

from rdflib import OWL, RDF, RDFS, Namespace

from graph.model import Architecture, InstallationMode
from graph.snapshot import Snapshot

HV = Namespace("https://hyperv-kg.example.org/id/ontology/")


def test_counts_per_kind(snapshot: Snapshot) -> None:
    t = snapshot.tables
    assert len(t.guest_rows) == 12
    combinations = {(e.id, m) for r in t.host_rows for e in r.editions for m in r.installations}
    assert len(combinations) == 6
    assert {m for _, m in combinations} == {InstallationMode.FULL, InstallationMode.SERVER_CORE}
    assert all(r.architecture is Architecture.X64 for r in t.host_rows)
    assert len(t.license_rows) == 3
    assert len(t.storage_formats) == 2
    assert set(t.products) == {"hyper-v", "virtual-server-2005-r2", "vmware-esx"}
    guest_statements = [n for n in t.not_supported if n.role == "guest"]
    assert len(guest_statements) == 3
    assert len(t.io_paths) == 3


def test_guest_rows_follow_the_article_order_and_values(snapshot: Snapshot) -> None:
    rows = snapshot.tables.guest_rows
    assert [r.row_number for r in rows] == list(range(1, 13))
    assert [r.max_virtual_processors for r in rows] == [4, 4, 2, 2, 1, 2, 2, 2, 1, 2, 1, 1]
    sles = [r for r in rows if r.operating_system.id == "sles-10"]
    assert [r.service_packs for r in sles] == [(1, 2), (1, 2)]
    assert {e.id for e in rows[3].editions} == {
        "windows-server-2003-standard",
        "windows-server-2003-enterprise",
        "windows-server-2003-datacenter",
    }


def test_host_rows_exclude_without_hyper_v_editions(snapshot: Snapshot) -> None:
    editions = {e.id for r in snapshot.tables.host_rows for e in r.editions}
    assert not any("without-hyper-v" in e for e in editions)
    excluded = [n for n in snapshot.tables.not_supported if n.role == "host" and n.editions]
    assert any(all("without-hyper-v" in e for e in n.editions) and len(n.editions) == 3 for n in excluded)


def test_licensing_and_downgrade_right(snapshot: Snapshot) -> None:
    # editions go by their full names ("Windows Server 2008 Standard"); the table writes the last word
    rows = {r.edition.label["en"].split()[-1]: r for r in snapshot.tables.license_rows}
    assert rows["Standard"].virtual_instances == 1
    assert rows["Enterprise"].virtual_instances == 4
    assert rows["Datacenter"].unlimited and rows["Datacenter"].virtual_instances is None
    for row in rows.values():
        assert len(snapshot.tables.downgrade_rights[row.iri]) == 1
        assert any("「無制限」" in c.quote for c in row.evidence)


def test_storage_formats(snapshot: Snapshot) -> None:
    formats = {f.id: f for f in snapshot.tables.storage_formats}
    vhd, passthrough = formats["vhd"], formats["pass-through-disk"]
    assert (vhd.max_size_gb, vhd.supports_snapshots, vhd.file_extension) == (2040, True, ".VHD")
    assert len(vhd.migration_notes) == 2
    assert any("アンインストール" in n.label["ja"] for n in vhd.migration_notes)
    assert (passthrough.max_size_gb, passthrough.supports_snapshots, passthrough.allocation_unit) == (
        None,
        False,
        "volume",
    )
    assert [p.label["ja"] for p in passthrough.prerequisites] == [
        "ホストOS上で提供するボリュームをオフラインにしておく"
    ]


def test_outside_facts_stand_beside_the_article(snapshot: Snapshot) -> None:
    features = [f for f in snapshot.tables.products["hyper-v"].features if f.feature["en"] == "live migration"]
    by_date = {f.as_of: f for f in features}
    assert not by_date["2008-08"].available
    assert by_date["2008-08"].evidence[0].document_iri.endswith("doc-article")
    assert by_date["2009-01"].available and "Windows Server 2008 R2" in str(by_date["2009-01"].product_version)
    assert by_date["2009-01"].evidence[0].document_iri.endswith("doc-external-facts")
    requirements = [iri for iri, kind in snapshot.tables.types.items() if kind == "HardwareRequirement"]
    # the article's announcement; the three listed outside it (E-001..E-003), the BIOS note (E-004), R2's two (E-006)
    assert len(requirements) == 7
    outside = [i for i in requirements if snapshot.tables.citations[i][0].document_iri.endswith("external-facts")]
    assert len(outside) == 6


def test_every_ontology_term_is_named_and_defined_in_both_languages(snapshot: Snapshot) -> None:
    graph = snapshot.graph
    terms = [
        t
        for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
        for t in graph.subjects(RDF.type, kind)
        if str(t).startswith(str(HV))
    ]
    assert len(terms) > 80
    for term in terms:
        for predicate in (RDFS.label, RDFS.comment):
            languages = sorted(v.language for v in graph.objects(term, predicate))  # type: ignore[attr-defined]
            assert languages == ["en", "ja"], (term, predicate)


def test_every_named_thing_has_both_labels(snapshot: Snapshot) -> None:
    for iri, label in snapshot.tables.labels.items():
        if iri.startswith("https://hyperv-kg.example.org/id/") and "/ontology" not in iri:
            assert label.get("en") and label.get("ja"), iri
