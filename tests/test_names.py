"""Name resolution (graph.names) as the question functions use it: every form a person types."""

from __future__ import annotations

import pytest

from graph import catalog, names
from graph.build import build_snapshot
from graph.model import Architecture, InstallationMode, IoMode, ReasonCode
from graph.snapshot import Snapshot
from graph.verdicts import check_guest, check_host

BASE = "https://hyperv-kg.example.org/id/"
OS = "OperatingSystem"


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return build_snapshot()


def resolved(snapshot: Snapshot, name: str) -> str | None:
    found = snapshot.names.resolve(name, OS)
    return found.id if found else None


def os_ids(snapshot: Snapshot) -> list[str]:
    return sorted(iri[len(BASE) :] for iri, kind in snapshot.tables.types.items() if kind == OS)


NAME_FORMS = [
    # ids
    ("windows-xp", "windows-xp"),
    ("windows-server-2008", "windows-server-2008"),
    ("sles-10", "sles-10"),
    ("windows-2000-server", "windows-2000-server"),
    # English labels
    ("Windows XP", "windows-xp"),
    ("Windows Server 2003", "windows-server-2003"),
    ("SUSE Linux Enterprise Server 10", "sles-10"),
    ("Windows 2000 Server", "windows-2000-server"),
    ("Windows NT", "windows-nt"),
    # short forms and alternative labels
    ("SLES 10", "sles-10"),
    ("SLES10", "sles-10"),
    ("Win2000", "windows-2000-server"),
    ("Windows 2000", "windows-2000-server"),
    ("XP", "windows-xp"),
    ("W2K8", "windows-server-2008"),
    ("W2K3", "windows-server-2003"),
    ("Vista", "windows-vista"),
    ("NT", "windows-nt"),
    ("Windows XP Professional x64 Edition", "windows-xp"),
    # letter case, spaces, punctuation, full-width forms
    ("  windows   XP ", "windows-xp"),
    ("WINDOWS-XP", "windows-xp"),
    ("windows_xp", "windows-xp"),
    ("windows.xp", "windows-xp"),
    ("sles 10", "sles-10"),
    ("w2k8", "windows-server-2008"),
    ("vIsTa", "windows-vista"),
    ("\tWindows\u3000Server 2003\n", "windows-server-2003"),
    ("Ｗｉｎｄｏｗｓ　ＸＰ", "windows-xp"),
    # an OS and one of its editions
    ("windows xp professional", "windows-xp"),
    ("Windows XP Pro", "windows-xp"),
    ("Windows Server 2008 Enterprise", "windows-server-2008"),
    ("Windows Server 2003 Web", "windows-server-2003"),
    ("Windows Vista Ultimate", "windows-vista"),
    ("Windows 2000 Server Advanced Server", "windows-2000-server"),
]


@pytest.mark.parametrize(("name", "expected"), NAME_FORMS)
def test_name_forms_resolve(snapshot: Snapshot, name: str, expected: str) -> None:
    assert resolved(snapshot, name) == expected


@pytest.mark.parametrize(("name", "expected"), NAME_FORMS)
def test_check_guest_accepts_every_name_form(snapshot: Snapshot, name: str, expected: str) -> None:
    # a name that carries its architecture is asked with that architecture (the other one contradicts it)
    arch = Architecture.X64 if "x64" in name else Architecture.X86
    verdict = check_guest(snapshot, "hyper-v", name, None, 0, arch, 1)
    assert verdict.operating_system is not None
    assert verdict.operating_system.id == expected
    assert ReasonCode.UNKNOWN_OPERATING_SYSTEM not in [r.code for r in verdict.reasons]


def test_every_os_by_id_label_and_alt_label_in_any_case(snapshot: Snapshot) -> None:
    ids = os_ids(snapshot)
    assert len(ids) == 7
    for os_id in ids:
        iri = BASE + os_id
        label = snapshot.tables.labels[iri]
        names = [os_id, label["en"], label["ja"], *snapshot.tables.alt_labels.get(iri, ())]
        for name in names:
            for form in (name, name.upper(), name.lower(), f"  {name.swapcase()}  ", name.replace(" ", "  ")):
                assert resolved(snapshot, form) == os_id, form


def test_every_os_and_edition_combination_names_the_os(snapshot: Snapshot) -> None:
    count = 0
    for os_id in os_ids(snapshot):
        os_label = snapshot.tables.labels[BASE + os_id]["en"]
        for edition in snapshot.tables.editions.get(BASE + os_id, ()):
            for lang in ("en", "ja"):
                assert resolved(snapshot, f"{os_label} {edition.label[lang]}") == os_id
                assert resolved(snapshot, f"{os_label.lower()}  {edition.label[lang].upper()}") == os_id
            count += 1
    assert count >= 18


def test_names_of_other_kinds_are_not_operating_systems(snapshot: Snapshot) -> None:
    for name in ("hyper-v", "Standard", "vsc", "x64", "Professional", "VMBus"):
        assert resolved(snapshot, name) is None, name


EDITIONS = [
    ("windows-server-2003", "Web", "windows-server-2003-web"),
    ("windows-server-2008", "web", "windows-server-2008-web"),
    ("windows-server-2008", "Windows Web Server 2008", "windows-server-2008-web"),
    ("windows-server-2008", "ENTERPRISE", "windows-server-2008-enterprise"),
    ("windows-server-2008", "windows-server-2008-enterprise", "windows-server-2008-enterprise"),
    ("windows-server-2008", "Standard without Hyper-V", "windows-server-2008-standard-without-hyper-v"),
    ("windows-vista", "Enterprise", "windows-vista-enterprise"),
    ("windows-xp", "pro", "windows-xp-professional"),
    ("windows-xp", " Professional ", "windows-xp-professional"),
    ("windows-2000-server", "advanced server", "windows-2000-advanced-server"),
    ("windows-2000-server", "Advanced-Server", "windows-2000-advanced-server"),
    ("windows-2000-server", "Server", "windows-2000-server-server"),
    ("windows-xp", "Standard", None),
    ("windows-vista", "Home Premium", "windows-vista-home-premium"),
    ("windows-vista", "Home Premium x64", "windows-vista-home-premium"),
    ("windows-xp", "Home Premium", None),
    ("windows-server-2003", "Business", None),
    ("windows-vista", "Web", None),
]


@pytest.mark.parametrize(("os_id", "name", "expected"), EDITIONS)
def test_editions_resolve_per_os(snapshot: Snapshot, os_id: str, name: str, expected: str | None) -> None:
    found = snapshot.names.resolve_edition(BASE + os_id, name)
    assert (found.id if found else None) == expected


@pytest.mark.parametrize(
    ("os", "edition", "sp", "arch", "vcpus", "supported"),
    [
        ("Windows Server 2003", "web", 2, Architecture.X86, 2, True),
        ("Windows Server 2003", "WEB", 2, Architecture.X64, 1, False),
        ("Windows Server 2008", "Windows Web Server 2008", 0, Architecture.X64, 4, True),
        ("windows xp", "pro", 3, Architecture.X86, 2, True),
        ("windows xp", "standard", 3, Architecture.X86, 1, False),
        ("Vista", "  business ", 1, Architecture.X64, 2, True),
        ("Win2000", "Advanced Server", 4, Architecture.X86, 1, True),
        ("Win2000", "Datacenter Server", 4, Architecture.X86, 1, False),
    ],
)
def test_edition_names_in_check_guest(
    snapshot: Snapshot, os: str, edition: str, sp: int, arch: Architecture, vcpus: int, supported: bool
) -> None:
    verdict = check_guest(snapshot, "hyper-v", os, edition, sp, arch, vcpus)
    assert verdict.supported is supported
    if not supported:
        assert [r.code for r in verdict.reasons] == [ReasonCode.EDITION_NOT_SUPPORTED]


def test_edition_names_in_check_host(snapshot: Snapshot) -> None:
    for edition in ("standard", "ENTERPRISE", " Datacenter ", "windows-server-2008-datacenter"):
        verdict = check_host(snapshot, "hyper-v", "W2K8", edition, Architecture.X64, InstallationMode.FULL)
        assert verdict.supported, edition


# ---- names that match nothing -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Windows 7", "Solaris", "Windows 95", "Red Hat Enterprise Linux 5", "Windows 2080"])
def test_unknown_names_suggest_the_closest_known_names(snapshot: Snapshot, name: str) -> None:
    verdict = check_guest(snapshot, "hyper-v", name, None, 0, Architecture.X64, 1)
    assert [r.code for r in verdict.reasons] == [ReasonCode.UNKNOWN_OPERATING_SYSTEM]
    assert verdict.supported is False
    assert verdict.max_virtual_processors is None
    assert verdict.integration_services is False
    assert verdict.io_path.mode is IoMode.EMULATED
    unknown = verdict.reasons[0]
    assert unknown.evidence
    suggestions = snapshot.names.suggest(name, OS)
    assert suggestions
    assert name in unknown.message["en"]
    # the message names the suggestions, best first, in each language
    for lang in ("en", "ja"):
        shown = [unknown.message[lang].find(s.label[lang]) for s in suggestions]
        assert all(i >= 0 for i in shown), (lang, unknown.message[lang])
    assert unknown.message["en"] != unknown.message["ja"]


@pytest.mark.parametrize(
    ("name", "first"),
    [
        # 2080 is 2008 with two digits swapped; 2003 differs in two digits
        ("Windows Server 2080", "windows-server-2008"),
        ("Windows Server 2008 R3", "windows-server-2008"),
        ("Vist", "windows-vista"),
        ("Windows Vsta", "windows-vista"),
        ("SLES 11", "sles-10"),
        ("Windows XP Professionl", "windows-xp"),
        ("Windows 2000 Sever", "windows-2000-server"),
        ("Windows NT 3.51", "windows-nt"),
    ],
)
def test_suggestions_are_ranked(snapshot: Snapshot, name: str, first: str) -> None:
    assert resolved(snapshot, name) is None
    suggestions = snapshot.names.suggest(name, OS)
    assert suggestions[0].id == first, [s.id for s in suggestions]
    assert all(s.type == OS for s in suggestions)
    message = check_guest(snapshot, "hyper-v", name, None, 0, Architecture.X64, 1).reasons[0].message["en"]
    best = message.find(snapshot.tables.labels[BASE + first]["en"])
    others = [message.find(s.label["en"]) for s in suggestions[1:] if s.id != first]
    assert best >= 0
    assert all(best < i for i in others if i >= 0), message


def test_unknown_host_os_suggests_names(snapshot: Snapshot) -> None:
    verdict = check_host(
        snapshot, "hyper-v", "Windows Server 2012", "Standard", Architecture.X64, InstallationMode.FULL
    )
    assert [r.code for r in verdict.reasons] == [ReasonCode.UNKNOWN_OPERATING_SYSTEM]
    assert "Windows Server 2008" in verdict.reasons[0].message["en"]


# ---- products by name ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("hyper-v", "hyper-v"),
        ("Hyper-V", "hyper-v"),
        ("HYPERV", "hyper-v"),
        ("Microsoft Hyper-V", "hyper-v"),
        ("virtual-server-2005-r2", "virtual-server-2005-r2"),
        ("Virtual Server 2005 R2", "virtual-server-2005-r2"),
        ("vmware esx", "vmware-esx"),
    ],
)
def test_products_by_id_or_name(snapshot: Snapshot, name: str, expected: str) -> None:
    assert catalog.require_product(snapshot, name).id == expected


# Misspellings that share letter pairs with every name they should bring up. (A name sharing none with the
# asked one is never shortlisted, by design: "Vista" then lists fewer names on a large catalogue.)
@pytest.mark.parametrize("name", ["Windws XP", "windows server 2080", "SUSE 10", "Widnows 2000 Server", "xp pro"])
def test_the_letter_pair_shortlist_of_a_large_catalogue_ranks_as_scoring_every_name(
    snapshot: Snapshot, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above EXHAUSTIVE_NAMES a kind's names are packed with their letter-pair postings and only a shortlist is
    scored: on the article's graph (fewer names than the shortlist holds) that must rank exactly as scoring all."""
    every = build_snapshot().names.suggest(name, OS)
    monkeypatch.setattr(names, "EXHAUSTIVE_NAMES", 3)
    index = build_snapshot().names
    shortlisted = index.suggest(name, OS)
    assert len(index._kind(OS).postings) > 10  # the packed postings were built and used
    assert shortlisted == every
