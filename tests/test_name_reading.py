"""Names as people type them, read into their parts: property tests over every spelling the data knows.

The truth is the article's guest table as tests/test_verdicts.py parses it from the article's text (never from
the graph); the spellings are the graph's own names (labels, alternative and hidden labels, ids), placed in the
operating-system name or in the separate arguments, in any order, case, spacing and width. Invariants:
- a combination in the table is supported, however it is spelt and wherever its parts are given;
- no combination outside the table is ever supported, whatever the name (also names that are no name at all);
- integration services follow the OS, edition, service pack and architecture, never the processor count;
- a name that contradicts a separate argument is bad input that names both.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rdflib import URIRef
from rdflib.namespace import SKOS

from graph.build import build_snapshot
from graph.layout import BASE, VOCAB
from graph.model import Architecture, BadInput, ReasonCode
from graph.names import fold
from graph.snapshot import Snapshot
from graph.verdicts import check_guest, check_host
from tests.test_verdicts import GUEST_ROWS, OS_IDS, first_release_level

SNAPSHOT = build_snapshot()
GRAPH = SNAPSHOT.graph
EDITION_OF = URIRef(VOCAB + "editionOf")
NAMES = (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def spellings(iri: str) -> list[str]:
    """Every name the data gives this resource, and its id."""
    found = {str(o) for p in NAMES for o in GRAPH.objects(URIRef(iri), p)}
    return sorted(found | {iri[len(BASE) :]})


OPERATING_SYSTEMS = sorted({*OS_IDS.values(), "windows-nt"})
EDITIONS = {
    os_id: sorted(str(e) for e in GRAPH.subjects(EDITION_OF, URIRef(BASE + os_id))) for os_id in OPERATING_SYSTEMS
}
ARCH_WORDS = {arch: spellings(BASE + arch.value) for arch in Architecture}
SP_WORDS = sorted(str(o) for o in GRAPH.objects(URIRef(VOCAB + "servicePack"), SKOS.hiddenLabel))


def english(iri: str) -> str:
    return next(str(o) for o in GRAPH.objects(URIRef(iri), SKOS.prefLabel) if o.language == "en")


def initial_level(os_id: str) -> int:
    """The Service Pack level the Turtle gives the OS's first release (Windows Server 2008: 1), else 0."""
    return first_release_level(GRAPH, BASE + os_id) or 0


def level(os_id: str, sp: int) -> int:
    """No Service Pack named (0) is the OS's first release, at the level that release reports itself at."""
    return initial_level(os_id) if sp == 0 else sp


def in_table(os_id: str, edition: str | None, sp: int, arch: Architecture) -> int | None:
    """The article's maximum of virtual processors for this combination, None when no row lists it. A row that
    names no service pack lists the OS's first release; an edition is found by any of its names (the article
    writes "Standard", the edition's own name is "Windows Server 2008 Standard")."""
    for row in GUEST_ROWS:
        if (
            row.os_id == os_id
            and row.architecture is arch
            and level(os_id, sp) in {level(os_id, n) for n in row.service_packs}
            and (edition is None or any(n in row.editions for n in spellings(edition)))
        ):
            return row.max_vcpus
    return None


@dataclass(frozen=True)
class Asked:
    os_id: str
    edition: str | None
    sp: int
    arch: Architecture
    vcpus: int
    name: str
    edition_argument: str | None
    sp_argument: int


def styled(draw: st.DrawFn, text: str) -> str:
    """The same words as a person may type them: letter case, spaces, full-width forms."""
    style = draw(st.sampled_from(["as is", "lower", "upper", "spaced", "wide"]))
    if style == "lower":
        return text.lower()
    if style == "upper":
        return text.upper()
    if style == "spaced":
        return "  " + text.replace(" ", "   ") + " "
    if style == "wide":  # ASCII to full width: NFKC folds it back
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
    return text


@st.composite
def questions(draw: st.DrawFn, table_only: bool = False) -> Asked:
    if table_only:
        row = draw(st.sampled_from(GUEST_ROWS))
        os_id, arch, sp = row.os_id, row.architecture, draw(st.sampled_from(row.service_packs))
        listed = [e for e in EDITIONS[os_id] if any(n in row.editions for n in spellings(e))]
        edition = draw(st.none() | st.sampled_from(listed)) if listed else None
        vcpus = draw(st.integers(1, row.max_vcpus))
    else:
        os_id = draw(st.sampled_from(OPERATING_SYSTEMS))
        edition = draw(st.none() | st.sampled_from(EDITIONS[os_id])) if EDITIONS[os_id] else None
        sp = draw(st.integers(0, 4))
        arch = draw(st.sampled_from(list(Architecture)))
        vcpus = draw(st.integers(1, 5))
    parts: list[str] = []
    edition_argument = None
    os_spelt = draw(st.sampled_from(spellings(BASE + os_id)))
    if edition is not None:
        spelt = draw(st.sampled_from(spellings(edition)))
        # "Windows 2000" + "Server" is the OS's own name "Windows 2000 Server": that edition goes in its argument
        whole = {fold(n) for n in spellings(BASE + os_id)}
        if draw(st.booleans()) and fold(os_spelt + spelt) not in whole and fold(spelt + os_spelt) not in whole:
            parts.append(spelt)
        else:
            edition_argument = styled(draw, spelt)
    sp_argument = sp
    if sp and draw(st.booleans()):
        word = draw(st.sampled_from(SP_WORDS))
        parts.append(f"{word}{draw(st.sampled_from(['', ' ']))}{sp}")
        sp_argument = draw(st.sampled_from([0, sp]))  # left at 0, or the same number again
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(ARCH_WORDS[arch])))
    order = draw(st.permutations(parts))
    name = " ".join([os_spelt, *order])
    return Asked(os_id, edition, sp, arch, vcpus, styled(draw, name), edition_argument, sp_argument)


def ask(snapshot: Snapshot, asked: Asked):  # type: ignore[no-untyped-def]
    return check_guest(
        snapshot, "hyper-v", asked.name, asked.edition_argument, asked.sp_argument, asked.arch, asked.vcpus
    )


@SETTINGS
@given(questions(table_only=True))
def test_every_combination_of_the_table_is_supported_however_it_is_spelt(asked: Asked) -> None:
    verdict = ask(SNAPSHOT, asked)
    assert verdict.supported, (asked, [r.message["en"] for r in verdict.reasons])
    assert verdict.integration_services
    question = verdict.question
    assert question is not None and question.operating_system is not None
    assert question.operating_system.id == asked.os_id
    assert question.service_pack == level(asked.os_id, asked.sp)
    assert question.architecture is asked.arch
    # the edition is read from wherever it was given, and only then
    if asked.edition is None:
        assert question.edition is None
    else:
        assert question.edition is not None and question.edition.iri == asked.edition


@SETTINGS
@given(questions())
def test_no_combination_outside_the_table_is_ever_supported(asked: Asked) -> None:
    try:
        verdict = ask(SNAPSHOT, asked)
    except BadInput:
        # only when one spelling of a part reads as another part (never for these generated names)
        pytest.fail(f"bad input for a consistent question: {asked}")
    limit = in_table(asked.os_id, asked.edition, asked.sp, asked.arch)
    assert verdict.supported is (limit is not None and asked.vcpus <= limit), asked
    # integration services and the I/O path follow the combination, not the processor count
    assert verdict.integration_services is (limit is not None), asked
    assert (verdict.io_path.mode.name if verdict.io_path.mode else None) == (
        "SYNTHETIC" if limit is not None else "EMULATED"
    )
    if not verdict.supported:
        assert verdict.reasons
        assert all(r.evidence for r in verdict.reasons), asked
        assert ReasonCode.UNKNOWN_OPERATING_SYSTEM not in [r.code for r in verdict.reasons], asked


KNOWN_WORDS = [w for os_id in OPERATING_SYSTEMS for w in spellings(BASE + os_id)] + [
    w for editions in EDITIONS.values() for e in editions for w in spellings(e)
]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(KNOWN_WORDS) | st.text(min_size=1, max_size=6), min_size=1, max_size=4),
    st.integers(0, 4),
    st.sampled_from(list(Architecture)),
    st.integers(1, 5),
)
def test_whatever_the_name_a_supported_answer_is_a_row_of_the_table(
    words: list[str], sp: int, arch: Architecture, vcpus: int
) -> None:
    name = " ".join(words)
    assume(name.strip() and len(name) <= 200)
    try:
        verdict = check_guest(SNAPSHOT, "hyper-v", name, None, sp, arch, vcpus)
    except BadInput:
        return  # a name that contradicts the arguments: refused, never supported
    if verdict.supported:
        question = verdict.question
        assert question is not None and question.operating_system is not None
        edition = question.edition.iri if question.edition else None
        limit = in_table(question.operating_system.id, edition, question.service_pack, question.architecture)
        assert limit is not None and vcpus <= limit, (name, question)


# ---- the defects as they were reported -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sp", "arch", "code"),
    [
        ("Windows 2000 Datacenter Server", 4, Architecture.X86, ReasonCode.EDITION_NOT_SUPPORTED),
        ("Windows Server 2003 Web x64", 2, Architecture.X64, ReasonCode.EDITION_NOT_SUPPORTED),
        ("Windows Server 2008 Datacenter without Hyper-V", 0, Architecture.X64, ReasonCode.EDITION_NOT_SUPPORTED),
        ("Windows XP Home Edition", 3, Architecture.X86, ReasonCode.EDITION_NOT_SUPPORTED),
        ("Vista Home Premium", 1, Architecture.X64, ReasonCode.EDITION_NOT_SUPPORTED),
        ("Windows NT 4.0", 6, Architecture.X86, ReasonCode.OPERATING_SYSTEM_NOT_SUPPORTED),
        ("ウィンドウズ NT", 6, Architecture.X86, ReasonCode.OPERATING_SYSTEM_NOT_SUPPORTED),
        ("Windows XP SP1", 0, Architecture.X86, ReasonCode.SERVICE_PACK_TOO_OLD),
    ],
)
def test_names_that_carry_their_edition_are_not_supported(
    name: str, sp: int, arch: Architecture, code: ReasonCode
) -> None:
    verdict = check_guest(SNAPSHOT, "hyper-v", name, None, sp, arch, 1)
    assert not verdict.supported
    assert code in [r.code for r in verdict.reasons]
    assert all(r.evidence for r in verdict.reasons)


def test_an_unlisted_edition_cites_the_table() -> None:
    verdict = check_guest(SNAPSHOT, "hyper-v", "Windows XP Home Edition", None, 3, Architecture.X86, 1)
    (reason,) = verdict.reasons
    assert "Windows XP SP3 Professional(x86) | 2 |" in [c.quote for c in reason.evidence]


@pytest.mark.parametrize(
    ("name", "edition", "sp", "arch", "argument"),
    [
        ("Windows XP SP3", None, 2, Architecture.X86, "servicePack"),
        ("Windows XP SP2 x64", None, 0, Architecture.X86, "architecture"),
        ("Windows Vista Ultimate", "Business", 1, Architecture.X86, "edition"),
        ("Windows Server 2003 x86", "Standard x64", 2, Architecture.X86, "architecture"),
        ("ウィンドウズ サーバー 2008 エンタープライズ", "Standard", 0, Architecture.X64, "edition"),
    ],
)
def test_a_name_that_contradicts_an_argument_is_bad_input_naming_both(
    name: str, edition: str | None, sp: int, arch: Architecture, argument: str
) -> None:
    with pytest.raises(BadInput) as raised:
        check_guest(SNAPSHOT, "hyper-v", name, edition, sp, arch, 1)
    assert raised.value.argument == argument
    assert "operatingSystem" in raised.value.message["en"]
    assert argument in raised.value.message["en"]
    assert argument in raised.value.message["ja"]


def test_a_host_name_is_read_into_parts_too() -> None:
    from graph.model import InstallationMode

    ok = check_host(
        SNAPSHOT, "hyper-v", "Windows Server 2008 Enterprise x64", "Enterprise", Architecture.X64, InstallationMode.FULL
    )
    assert ok.supported
    with pytest.raises(BadInput):
        check_host(SNAPSHOT, "hyper-v", "Windows Server 2008 x86", "Standard", Architecture.X64, InstallationMode.FULL)
    web = check_host(SNAPSHOT, "hyper-v", "Web Server 2008", "Web", Architecture.X64, InstallationMode.FULL)
    assert [r.code for r in web.reasons] == [ReasonCode.EDITION_NOT_SUPPORTED]


@pytest.mark.parametrize(
    ("name", "family_member"),
    [("Red Hat Enterprise Linux 5", "sles-10"), ("CentOS 5", "sles-10"), ("Ubuntu 8.04", "sles-10")],
)
def test_an_unknown_name_suggests_its_own_family_first(name: str, family_member: str) -> None:
    verdict = check_guest(SNAPSHOT, "hyper-v", name, None, 0, Architecture.X64, 1)
    assert [r.code for r in verdict.reasons] == [ReasonCode.UNKNOWN_OPERATING_SYSTEM]
    suggestions = SNAPSHOT.names.suggest(name, "OperatingSystem")
    assert suggestions[0].id == family_member
    assert all(s.id.startswith("sles") for s in suggestions)  # no Windows name for a Linux one


def test_width_and_case_do_not_change_a_reading() -> None:
    for name in ("Windows Vista SP1 Ultimate", "ウィンドウズ サーバー 2008 エンタープライズ x64版"):
        wide = unicodedata.normalize("NFKC", name)
        assert SNAPSHOT.names.read(name) == SNAPSHOT.names.read(wide.upper()) == SNAPSHOT.names.read(f"  {name}  ")
