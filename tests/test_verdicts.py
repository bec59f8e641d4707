"""Compatibility verdicts (graph.verdicts) and the listings (graph.catalog), checked against the article.

The expected values of the guest and host tables are parsed here from graph/sources/article-ja.txt, not read
from the graph, so that every row test is an independent derivation of what the article says.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdflib import Graph, Namespace, URIRef

from graph import catalog
from graph.build import build_snapshot
from graph.model import (
    Architecture,
    BadInput,
    GuestRow,
    GuestVerdict,
    HostVerdict,
    InstallationMode,
    IoMode,
    Named,
    Reason,
    ReasonCode,
)
from graph.paths import io_path
from graph.snapshot import Snapshot
from graph.verdicts import check_guest, check_host

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (ROOT / "graph" / "sources" / "article-ja.txt").read_text(encoding="utf-8")
EXTERNAL = (ROOT / "graph" / "sources" / "external-facts.md").read_text(encoding="utf-8")
RESEARCH = (ROOT / "graph" / "sources" / "release-research.md").read_text(encoding="utf-8")
ARTICLE_DOCUMENT = "https://hyperv-kg.example.org/id/doc-article"

# The article's OS names (as its tables write them) -> the ids the graph mints.
OS_IDS = {
    "Windows Server 2008": "windows-server-2008",
    "Windows Server 2003": "windows-server-2003",
    "Windows 2000 Server": "windows-2000-server",
    "Windows Vista": "windows-vista",
    "Windows XP": "windows-xp",
    "SUSE Linux Enterprise Server 10": "sles-10",
}
SYNTHETIC_IDS = ["hyper-v-virtual-machine", "vsc", "vmbus", "vsp", "host-device-driver", "physical-hardware"]
REFUSED = "統合サービスのインストールは拒否される"
OTHER = {Architecture.X86: Architecture.X64, Architecture.X64: Architecture.X86}


def _section(heading: str) -> list[str]:
    """The lines after ■heading, up to the next ■ heading."""
    lines = ARTICLE.splitlines()
    start = lines.index("■" + heading) + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("■"))
    return lines[start:end]


@dataclass(frozen=True)
class ArticleGuestRow:
    number: int
    line: str
    os_name: str
    os_id: str
    service_packs: tuple[int, ...]
    architecture: Architecture
    editions: tuple[str, ...]
    max_vcpus: int


# "Windows Server 2003 SP2(x86) Standard/Enterprise/Datacenter/Web | 2 |", "Windows XP SP3 Professional(x86) | 2 |",
# "SUSE Linux Enterprise Server 10 SP1/SP2(x64) | 1 |": editions come after the architecture, or (XP) before it.
GUEST_LINE = re.compile(
    r"^(?P<os>.+?)(?: (?P<sps>SP\d+(?:/SP\d+)*))?(?: (?P<before>[A-Za-z]+))?\((?P<arch>x86|x64)\)"
    r"(?: (?P<after>[^|]+?))? \| (?P<max>\d+) \|$"
)


def _parse_guest_table() -> tuple[ArticleGuestRow, ...]:
    rows = []
    for line in _section("対応ゲストOS"):
        match = GUEST_LINE.match(line)
        if match is None:
            continue
        sps = tuple(int(sp) for sp in re.findall(r"SP(\d+)", match["sps"] or "")) or (0,)
        editions = (
            tuple(match["after"].split("/")) if match["after"] else ((match["before"],) if match["before"] else ())
        )
        rows.append(
            ArticleGuestRow(
                len(rows) + 1,
                line,
                match["os"],
                OS_IDS[match["os"]],
                sps,
                Architecture(match["arch"]),
                editions,
                int(match["max"]),
            )
        )
    return tuple(rows)


def _parse_host_table() -> dict[str, str]:
    """Installation mode (as the article writes it) -> the host table's row line."""
    rows = {}
    for line in _section("対応ホストOS"):
        match = re.match(r"^Windows Server 2008\(x64\) Standard/Enterprise/Datacenter \| (.+?) \|$", line)
        if match:
            rows[match[1]] = line
    return rows


GUEST_ROWS = _parse_guest_table()
HOST_ROWS = _parse_host_table()
ROW_IDS = [f"row{r.number:02d}-{r.os_id}-{r.architecture.value}" for r in GUEST_ROWS]


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return build_snapshot()


def guest(
    snapshot: Snapshot,
    os: str,
    edition: str | None = None,
    sp: int = 0,
    arch: Architecture = Architecture.X86,
    vcpus: int = 1,
    product: str = "hyper-v",
) -> GuestVerdict:
    return check_guest(snapshot, product, os, edition, sp, arch, vcpus)


def host(
    snapshot: Snapshot,
    os: str = "Windows Server 2008",
    edition: str = "Standard",
    arch: Architecture = Architecture.X64,
    installation: InstallationMode = InstallationMode.FULL,
) -> HostVerdict:
    return check_host(snapshot, "hyper-v", os, edition, arch, installation)


def codes(verdict: GuestVerdict | HostVerdict) -> list[ReasonCode]:
    return [r.code for r in verdict.reasons]


def reason(verdict: GuestVerdict | HostVerdict, code: ReasonCode) -> Reason:
    found = [r for r in verdict.reasons if r.code is code]
    assert found, f"no {code.name} among {codes(verdict)}"
    return found[0]


def quotes(r: Reason) -> list[str]:
    return [c.quote for c in r.evidence]


def assert_emulated(snapshot: Snapshot, verdict: GuestVerdict) -> None:
    assert verdict.supported is False
    assert verdict.integration_services is False
    assert verdict.io_path.mode is IoMode.EMULATED
    assert verdict.io_path == io_path(snapshot, "hyper-v", IoMode.EMULATED)
    assert "vmbus" not in [c.id for c in verdict.io_path.components]


def rows_of(os_id: str, arch: Architecture) -> list[ArticleGuestRow]:
    return [r for r in GUEST_ROWS if r.os_id == os_id and r.architecture is arch]


# ---- the independent reading of the article ------------------------------------------------------------


def test_the_article_guest_table_parses_to_twelve_rows() -> None:
    assert len(GUEST_ROWS) == 12
    assert [r.max_vcpus for r in GUEST_ROWS] == [4, 4, 2, 2, 1, 2, 2, 2, 1, 2, 1, 1]
    assert GUEST_ROWS[4].editions == ("Server", "Advanced Server")
    assert GUEST_ROWS[7].editions == ("Professional",)
    assert GUEST_ROWS[10].service_packs == (1, 2)
    assert GUEST_ROWS[10].editions == ()
    assert GUEST_ROWS[0].service_packs == (0,)
    assert set(HOST_ROWS) == {"完全", "Server Core"}


# ---- every row of the guest table ----------------------------------------------------------------------


@pytest.mark.parametrize("row", GUEST_ROWS, ids=ROW_IDS)
def test_row_is_supported_up_to_its_limit(snapshot: Snapshot, row: ArticleGuestRow) -> None:
    for sp, edition in itertools.product(row.service_packs, (None, *row.editions)):
        for vcpus in range(1, row.max_vcpus + 1):
            verdict = guest(snapshot, row.os_name, edition, sp, row.architecture, vcpus)
            assert verdict.supported, (sp, edition, vcpus, verdict.reasons)
            assert verdict.max_virtual_processors == row.max_vcpus
        # at the limit, everything the verdict says
        verdict = guest(snapshot, row.os_name, edition, sp, row.architecture, row.max_vcpus)
        assert verdict.operating_system is not None
        assert verdict.operating_system.id == row.os_id
        assert verdict.integration_services is True
        assert verdict.io_path.mode is IoMode.SYNTHETIC
        assert [c.id for c in verdict.io_path.components] == SYNTHETIC_IDS
        assert codes(verdict) == [ReasonCode.SUPPORTED]
        supported = verdict.reasons[0]
        assert row.line in quotes(supported)
        # the row's own passage, and no other row's
        other_lines = {r.line for r in GUEST_ROWS if r is not row}
        assert not other_lines & set(quotes(supported))
        assert verdict.row is not None
        assert verdict.row.row_number == row.number


@pytest.mark.parametrize("row", GUEST_ROWS, ids=ROW_IDS)
def test_row_one_processor_above_its_limit(snapshot: Snapshot, row: ArticleGuestRow) -> None:
    edition = row.editions[0] if row.editions else None
    verdict = guest(snapshot, row.os_name, edition, row.service_packs[-1], row.architecture, row.max_vcpus + 1)
    assert codes(verdict) == [ReasonCode.TOO_MANY_VIRTUAL_PROCESSORS]
    assert verdict.max_virtual_processors == row.max_vcpus
    # too many processors makes the configuration unsupported, nothing more: integration services still install
    assert verdict.supported is False
    assert verdict.integration_services is True
    assert verdict.io_path == io_path(snapshot, "hyper-v", IoMode.SYNTHETIC)
    too_many = verdict.reasons[0]
    assert row.line in quotes(too_many)
    assert str(row.max_vcpus) in too_many.message["en"]
    assert str(row.max_vcpus + 1) in too_many.message["en"]


BELOW = [r for r in GUEST_ROWS if min(s for x in rows_of(r.os_id, r.architecture) for s in x.service_packs) > 0]


@pytest.mark.parametrize("row", BELOW, ids=[f"row{r.number:02d}-{r.os_id}-{r.architecture.value}" for r in BELOW])
def test_row_one_service_pack_below_the_lowest_listed(snapshot: Snapshot, row: ArticleGuestRow) -> None:
    lowest = min(sp for r in rows_of(row.os_id, row.architecture) for sp in r.service_packs)
    verdict = guest(snapshot, row.os_name, None, lowest - 1, row.architecture, 1)
    assert codes(verdict) == [ReasonCode.SERVICE_PACK_TOO_OLD]
    assert_emulated(snapshot, verdict)
    too_old = verdict.reasons[0]
    assert any(REFUSED in q for q in quotes(too_old))
    assert row.line in quotes(too_old)


def test_every_os_with_a_service_pack_has_a_below_the_lowest_test() -> None:
    # Windows Server 2008's rows name no service pack: there is nothing below them.
    assert {r.os_id for r in GUEST_ROWS} - {r.os_id for r in BELOW} == {"windows-server-2008"}
    assert len(BELOW) == 10


@pytest.mark.parametrize("row", GUEST_ROWS, ids=ROW_IDS)
def test_row_on_the_other_architecture(snapshot: Snapshot, row: ArticleGuestRow) -> None:
    other = OTHER[row.architecture]
    other_rows = rows_of(row.os_id, other)
    sp = row.service_packs[0]
    if not other_rows:
        verdict = guest(snapshot, row.os_name, None, sp, other, 1)
        assert codes(verdict) == [ReasonCode.ARCHITECTURE_NOT_SUPPORTED]
        assert_emulated(snapshot, verdict)
        assert row.line in quotes(verdict.reasons[0])
        assert other.value in verdict.reasons[0].message["en"]
        return
    same_sp = [r for r in other_rows if sp in r.service_packs]
    if same_sp:
        applies = same_sp[0]
        verdict = guest(snapshot, row.os_name, None, sp, other, applies.max_vcpus)
        assert verdict.supported
        assert verdict.max_virtual_processors == applies.max_vcpus
        assert applies.line in quotes(verdict.reasons[0])
        assert row.line not in quotes(verdict.reasons[0])
        above = guest(snapshot, row.os_name, None, sp, other, applies.max_vcpus + 1)
        assert codes(above) == [ReasonCode.TOO_MANY_VIRTUAL_PROCESSORS]
        assert above.max_virtual_processors == applies.max_vcpus
        return
    # the OS has a row for the other architecture, but not with this service pack (XP SP3 on x64)
    listed = [s for r in other_rows for s in r.service_packs]
    expected = ReasonCode.NOT_DOCUMENTED if sp > max(listed) else ReasonCode.SERVICE_PACK_TOO_OLD
    verdict = guest(snapshot, row.os_name, None, sp, other, 1)
    assert codes(verdict) == [expected]
    assert_emulated(snapshot, verdict)


@pytest.mark.parametrize("row", GUEST_ROWS, ids=ROW_IDS)
def test_row_with_an_unlisted_edition(snapshot: Snapshot, row: ArticleGuestRow) -> None:
    verdict = guest(snapshot, row.os_name, "Home Premium", row.service_packs[0], row.architecture, 1)
    assert codes(verdict) == [ReasonCode.EDITION_NOT_SUPPORTED]
    assert_emulated(snapshot, verdict)
    assert "Home Premium" in verdict.reasons[0].message["en"]
    assert row.line in quotes(verdict.reasons[0])


def test_web_edition_of_windows_server_2003_x64_is_not_listed(snapshot: Snapshot) -> None:
    x64 = guest(snapshot, "Windows Server 2003", "Web", 2, Architecture.X64, 1)
    assert codes(x64) == [ReasonCode.EDITION_NOT_SUPPORTED]
    assert_emulated(snapshot, x64)
    assert "Windows Server 2003 SP2(x64) Standard/Enterprise/Datacenter | 2 |" in quotes(x64.reasons[0])
    x86 = guest(snapshot, "Windows Server 2003", "Web", 2, Architecture.X86, 2)
    assert x86.supported


# ---- what the article says is not supported ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sp", "arch"),
    [
        ("Windows NT", 6, Architecture.X86),
        ("Windows NT", 0, Architecture.X64),
        ("NT", 3, Architecture.X86),
        ("windows-nt", 6, Architecture.X86),
        ("Windows NT 4.0", 6, Architecture.X86),
    ],
)
def test_windows_nt_is_not_supported(snapshot: Snapshot, name: str, sp: int, arch: Architecture) -> None:
    verdict = guest(snapshot, name, None, sp, arch, 1)
    assert codes(verdict) == [ReasonCode.OPERATING_SYSTEM_NOT_SUPPORTED]
    assert verdict.max_virtual_processors is None
    assert_emulated(snapshot, verdict)
    assert any("Windows NT" in q and "サポート対象外" in q for q in quotes(verdict.reasons[0]))


def test_windows_server_2003_sp1_is_too_old(snapshot: Snapshot) -> None:
    for arch in Architecture:
        verdict = guest(snapshot, "Windows Server 2003", "Standard", 1, arch, 1)
        assert codes(verdict) == [ReasonCode.SERVICE_PACK_TOO_OLD]
        assert_emulated(snapshot, verdict)
        said = quotes(verdict.reasons[0])
        assert any("Windows Server 2003 SP1" in q and REFUSED in q for q in said)


def test_windows_xp_without_a_service_pack_is_too_old(snapshot: Snapshot) -> None:
    for arch in Architecture:
        verdict = guest(snapshot, "Windows XP", "Professional", 0, arch, 1)
        assert codes(verdict) == [ReasonCode.SERVICE_PACK_TOO_OLD]
        assert verdict.max_virtual_processors is None
        assert_emulated(snapshot, verdict)
        assert any("SPを当てていないWindows XP" in q for q in quotes(verdict.reasons[0]))
        assert verdict.reasons[0].message["en"] != verdict.reasons[0].message["ja"]


@pytest.mark.parametrize(
    ("name", "sp", "arch"),
    [
        ("Windows Vista", 2, Architecture.X86),
        ("Windows Vista", 2, Architecture.X64),
        ("Windows XP", 4, Architecture.X86),
        ("Windows XP", 3, Architecture.X64),
        ("Windows Server 2003", 3, Architecture.X86),
        ("Windows 2000 Server", 5, Architecture.X86),
        ("SLES 10", 3, Architecture.X64),
        # SP1 is the release the table lists (its first release reports SP1: tests/test_releases.py)
        ("Windows Server 2008", 2, Architecture.X64),
    ],
)
def test_a_later_service_pack_than_listed_is_not_documented(
    snapshot: Snapshot, name: str, sp: int, arch: Architecture
) -> None:
    verdict = guest(snapshot, name, None, sp, arch, 1)
    assert codes(verdict) == [ReasonCode.NOT_DOCUMENTED]
    assert verdict.reasons[0].evidence
    assert_emulated(snapshot, verdict)
    assert f"SP{sp}" in verdict.reasons[0].message["en"]


@pytest.mark.parametrize(
    ("os", "edition", "sp", "arch", "vcpus", "expected"),
    [
        (
            "Windows 2000 Server",
            None,
            4,
            Architecture.X64,
            2,
            [ReasonCode.ARCHITECTURE_NOT_SUPPORTED, ReasonCode.TOO_MANY_VIRTUAL_PROCESSORS],
        ),
        (
            "Windows 2000 Server",
            "Datacenter Server",
            3,
            Architecture.X64,
            2,
            [
                ReasonCode.ARCHITECTURE_NOT_SUPPORTED,
                ReasonCode.EDITION_NOT_SUPPORTED,
                ReasonCode.SERVICE_PACK_TOO_OLD,
                ReasonCode.TOO_MANY_VIRTUAL_PROCESSORS,
            ],
        ),
        (
            "Windows XP",
            None,
            0,
            Architecture.X64,
            3,
            [ReasonCode.SERVICE_PACK_TOO_OLD, ReasonCode.TOO_MANY_VIRTUAL_PROCESSORS],
        ),
        (
            "Windows Vista",
            "Home Premium",
            0,
            Architecture.X86,
            1,
            [ReasonCode.EDITION_NOT_SUPPORTED, ReasonCode.SERVICE_PACK_TOO_OLD],
        ),
    ],
)
def test_every_reason_that_applies_is_given(
    snapshot: Snapshot,
    os: str,
    edition: str | None,
    sp: int,
    arch: Architecture,
    vcpus: int,
    expected: list[ReasonCode],
) -> None:
    verdict = guest(snapshot, os, edition, sp, arch, vcpus)
    assert sorted(codes(verdict), key=lambda c: c.name) == sorted(expected, key=lambda c: c.name)
    assert_emulated(snapshot, verdict)
    assert all(r.evidence for r in verdict.reasons)


# ---- host ------------------------------------------------------------------------------------------------

HOST_MODES = {"完全": InstallationMode.FULL, "Server Core": InstallationMode.SERVER_CORE}


@pytest.mark.parametrize("installation", ["完全", "Server Core"])
@pytest.mark.parametrize("edition", ["Standard", "Enterprise", "Datacenter"])
def test_the_six_supported_host_combinations(snapshot: Snapshot, edition: str, installation: str) -> None:
    verdict = host(snapshot, "Windows Server 2008", edition, Architecture.X64, HOST_MODES[installation])
    assert verdict.supported
    assert codes(verdict) == [ReasonCode.SUPPORTED]
    said = quotes(verdict.reasons[0])
    assert HOST_ROWS[installation] in said
    other = next(line for mode, line in HOST_ROWS.items() if mode != installation)
    assert other not in said
    assert edition in verdict.reasons[0].message["en"]


@pytest.mark.parametrize("installation", list(InstallationMode))
@pytest.mark.parametrize("edition", ["Standard", "Enterprise", "Datacenter"])
def test_without_hyper_v_editions_cannot_host(snapshot: Snapshot, edition: str, installation: InstallationMode) -> None:
    verdict = host(snapshot, "Windows Server 2008", f"{edition} without Hyper-V", Architecture.X64, installation)
    assert not verdict.supported
    assert codes(verdict) == [ReasonCode.EDITION_NOT_SUPPORTED]
    assert any("without Hyper-V" in q for q in quotes(verdict.reasons[0]))


@pytest.mark.parametrize("edition", ["Standard", "Enterprise", "Datacenter"])
def test_an_x86_host_is_not_supported(snapshot: Snapshot, edition: str) -> None:
    verdict = host(snapshot, "Windows Server 2008", edition, Architecture.X86)
    assert not verdict.supported
    assert codes(verdict) == [ReasonCode.ARCHITECTURE_NOT_SUPPORTED]
    assert any("64bit版(x64版)のWindows Server 2008が必要" in q for q in quotes(verdict.reasons[0]))


def test_an_x86_without_hyper_v_host_has_two_reasons(snapshot: Snapshot) -> None:
    verdict = host(snapshot, "Windows Server 2008", "Standard without Hyper-V", Architecture.X86)
    assert sorted(c.name for c in codes(verdict)) == ["ARCHITECTURE_NOT_SUPPORTED", "EDITION_NOT_SUPPORTED"]


@pytest.mark.parametrize("os", ["Windows Server 2003", "Windows XP", "Windows Vista", "SLES 10"])
def test_other_operating_systems_cannot_host(snapshot: Snapshot, os: str) -> None:
    verdict = host(snapshot, os, "Standard", Architecture.X64)
    assert not verdict.supported
    assert codes(verdict) == [ReasonCode.OPERATING_SYSTEM_NOT_SUPPORTED]
    assert any("64bit版(x64版)のWindows Server 2008が必要" in q for q in quotes(verdict.reasons[0]))
    assert "Windows Server 2008" in verdict.reasons[0].message["en"]


def test_web_edition_cannot_host_and_says_its_source_is_not_the_article(snapshot: Snapshot) -> None:
    verdict = host(snapshot, "Windows Server 2008", "Web")
    assert codes(verdict) == [ReasonCode.EDITION_NOT_SUPPORTED]
    outside = [c for c in verdict.reasons[0].evidence if "Hyper-V runs only on the x64" in c.quote]
    assert outside
    assert all(c.document_iri != ARTICLE_DOCUMENT for c in outside)
    assert all(c.quote in EXTERNAL for c in outside)


def test_an_unknown_host_os(snapshot: Snapshot) -> None:
    verdict = host(snapshot, "Solaris", "Standard")
    assert codes(verdict) == [ReasonCode.UNKNOWN_OPERATING_SYSTEM]
    assert verdict.reasons[0].evidence


# ---- every reason explains itself -----------------------------------------------------------------------

OS_NAMES = [
    "Windows XP",
    "Windows NT",
    "Windows Server 2003",
    "Windows Server 2008",
    "Windows 2000 Server",
    "Windows Vista",
    "SLES 10",
    "Windows 7",
    "Solaris",
]
EDITIONS = [None, "Standard", "Web", "Professional", "Home Premium", "Advanced Server", "Business"]
PRODUCTS = ["hyper-v", "virtual-server-2005-r2", "vmware-esx"]


def _all_reasons(snapshot: Snapshot, product: str) -> list[tuple[str, Reason]]:
    found: list[tuple[str, Reason]] = []
    # products without tables take one branch whatever the numbers: fewer combinations for them
    editions, vcpu_counts = (EDITIONS, (1, 2, 5)) if product == "hyper-v" else (EDITIONS[:2], (1,))
    for os, edition, sp, arch, vcpus in itertools.product(OS_NAMES, editions, range(5), Architecture, vcpu_counts):
        verdict = check_guest(snapshot, product, os, edition, sp, arch, vcpus)
        assert verdict.reasons, (product, os, edition, sp, arch, vcpus)
        found.extend((f"guest {product} {os!r}", r) for r in verdict.reasons)
    host_editions = ["Standard", "Enterprise", "Datacenter", "Web", "Standard without Hyper-V", "Home"]
    for os, edition, arch, mode in itertools.product(OS_NAMES, host_editions, Architecture, InstallationMode):
        verdict = check_host(snapshot, product, os, edition, arch, mode)
        assert verdict.reasons, (product, os, edition, arch, mode)
        found.extend((f"host {product} {os!r}", r) for r in verdict.reasons)
    return found


@pytest.fixture(scope="module")
def all_reasons(snapshot: Snapshot) -> dict[str, list[tuple[str, Reason]]]:
    return {product: _all_reasons(snapshot, product) for product in PRODUCTS}


@pytest.mark.parametrize("product", PRODUCTS)
def test_every_reason_has_evidence(all_reasons: dict[str, list[tuple[str, Reason]]], product: str) -> None:
    without = sorted({f"{where}: {r.code.name}" for where, r in all_reasons[product] if not r.evidence})
    assert not without, f"{len(without)} reasons without evidence, e.g. {without[:5]}"


@pytest.mark.parametrize("product", PRODUCTS)
def test_every_quote_is_verbatim_and_every_message_is_in_both_languages(
    all_reasons: dict[str, list[tuple[str, Reason]]], product: str
) -> None:
    assert len(all_reasons[product]) > 100
    problems = set()
    for where, r in all_reasons[product]:
        for citation in r.evidence:
            if all(citation.quote not in text for text in (ARTICLE, EXTERNAL, RESEARCH)):
                problems.add(f"{where}: quote not verbatim: {citation.quote[:60]}")
            if not citation.document or not citation.section:
                problems.add(f"{where}: citation without document or section: {citation.iri}")
        en, ja = r.message.get("en", ""), r.message.get("ja", "")
        if not en.strip() or not ja.strip() or en == ja:
            problems.add(f"{where}: {r.code.name} message en={en!r} ja={ja!r}")
    assert not problems, sorted(problems)[:10]


def test_article_quotes_name_the_article_and_its_sections(snapshot: Snapshot) -> None:
    verdict = guest(snapshot, "Windows XP", "Professional", 2, Architecture.X86, 2)
    for citation in verdict.reasons[0].evidence:
        assert citation.quote in ARTICLE
        assert citation.document_iri == ARTICLE_DOCUMENT
        assert citation.section == "対応ゲストOS"
        assert citation.as_of == "2008-08"


def test_an_unsupported_guest_of_virtual_server_gets_its_emulated_path(snapshot: Snapshot) -> None:
    verdict = guest(snapshot, "Windows XP", None, 3, Architecture.X86, 1, product="virtual-server-2005-r2")
    assert not verdict.supported
    assert verdict.io_path == io_path(snapshot, "virtual-server-2005-r2", IoMode.EMULATED)


def test_product_by_name(snapshot: Snapshot) -> None:
    assert guest(snapshot, "Windows XP", None, 3, Architecture.X86, 2, product="Hyper-V").supported


# ---- bad input --------------------------------------------------------------------------------------------

X86 = Architecture.X86
X64 = Architecture.X64
FULL = InstallationMode.FULL
LONG = "x" * 10_000


BAD_INPUTS: list[tuple[str, Callable[[Snapshot], object], str, str]] = [
    ("guest-unknown-product", lambda s: check_guest(s, "nope", "XP", None, 3, X86, 1), "product", "nope"),
    ("guest-long-product", lambda s: check_guest(s, LONG, "XP", None, 3, X86, 1), "product", "unknown product"),
    (
        "host-unknown-product",
        lambda s: check_host(s, "nope", "Windows Server 2008", "Standard", X64, FULL),
        "product",
        "nope",
    ),
    ("guest-table-unknown-product", lambda s: catalog.guest_support(s, "nope"), "product", "nope"),
    ("host-table-unknown-product", lambda s: catalog.host_support(s, "nope"), "product", "nope"),
    ("storage-unknown-product", lambda s: catalog.storage_formats(s, "nope"), "product", "nope"),
    ("guest-empty-os", lambda s: check_guest(s, "hyper-v", "", None, 3, X86, 1), "operatingSystem", "empty"),
    ("guest-blank-os", lambda s: check_guest(s, "hyper-v", "   \t ", None, 3, X86, 1), "operatingSystem", "empty"),
    ("guest-long-os", lambda s: check_guest(s, "hyper-v", LONG, None, 3, X86, 1), "operatingSystem", "10000"),
    ("guest-empty-edition", lambda s: check_guest(s, "hyper-v", "XP", "", 3, X86, 1), "edition", "empty"),
    ("guest-long-edition", lambda s: check_guest(s, "hyper-v", "XP", LONG, 3, X86, 1), "edition", "10000"),
    ("guest-zero-vcpus", lambda s: check_guest(s, "hyper-v", "XP", None, 3, X86, 0), "virtualProcessors", "1 or more"),
    ("guest-negative-vcpus", lambda s: check_guest(s, "hyper-v", "XP", None, 3, X86, -1), "virtualProcessors", "-1"),
    ("guest-negative-sp", lambda s: check_guest(s, "hyper-v", "XP", None, -1, X86, 1), "servicePack", "-1"),
    ("host-empty-os", lambda s: check_host(s, "hyper-v", "", "Standard", X64, FULL), "operatingSystem", "empty"),
    (
        "host-blank-edition",
        lambda s: check_host(s, "hyper-v", "Windows Server 2008", "  ", X64, FULL),
        "edition",
        "empty",
    ),
    ("host-long-os", lambda s: check_host(s, "hyper-v", LONG, "Standard", X64, FULL), "operatingSystem", "10000"),
    ("search-long", lambda s: catalog.search(s, LONG), "text", "10000"),
]


@pytest.mark.parametrize(("call", "argument", "says"), [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_names_the_argument_and_what_is_wrong(
    snapshot: Snapshot, call: Callable[[Snapshot], object], argument: str, says: str
) -> None:
    with pytest.raises(BadInput) as raised:
        call(snapshot)
    error = raised.value
    assert error.argument == argument
    assert argument in error.message["en"]
    assert says in error.message["en"]
    assert error.message["ja"]
    assert error.message["ja"] != error.message["en"]
    assert len(error.message["en"]) < 500  # a 10,000-character input is not echoed back whole


# ---- the contract's examples, from the question functions -------------------------------------------------


def test_example_ws2008_enterprise_x64_4_vcpus(snapshot: Snapshot) -> None:
    verdict = guest(snapshot, "Windows Server 2008", "Enterprise", 0, Architecture.X64, 4)
    assert verdict.supported
    assert verdict.max_virtual_processors == 4
    assert verdict.integration_services
    assert verdict.io_path.mode is IoMode.SYNTHETIC
    labels = [c.label["en"] for c in verdict.io_path.components]
    positions = [next(i for i, label in enumerate(labels) if word in label) for word in ("VSC", "VMBus", "VSP")]
    assert positions == sorted(positions)
    assert reason(verdict, ReasonCode.SUPPORTED).evidence


def test_example_xp_sp2_x86_too_many_vcpus(snapshot: Snapshot) -> None:
    verdict = guest(snapshot, "Windows XP", "Professional", 2, Architecture.X86, 2)
    assert not verdict.supported
    assert verdict.max_virtual_processors == 1
    assert reason(verdict, ReasonCode.TOO_MANY_VIRTUAL_PROCESSORS).evidence


def test_example_windows_nt_not_supported_japanese(snapshot: Snapshot) -> None:
    verdict = guest(snapshot, "Windows NT", None, 6, Architecture.X86, 1)
    assert not verdict.supported
    assert verdict.max_virtual_processors is None
    assert not verdict.integration_services
    assert verdict.io_path.mode is IoMode.EMULATED
    nt = reason(verdict, ReasonCode.OPERATING_SYSTEM_NOT_SUPPORTED)
    assert any("Windows NT" in q for q in quotes(nt))
    assert "サポート対象外" in nt.message["ja"]


def test_example_ws2008_standard_server_core_host(snapshot: Snapshot) -> None:
    assert host(snapshot, "Windows Server 2008", "Standard", Architecture.X64, InstallationMode.SERVER_CORE).supported


def first_release_level(graph: Graph, os_iri: str) -> int | None:
    """The Service Pack level the Turtle gives the OS's first release (Windows Server 2008: 1); None when it
    gives none. Read with rdflib's own SPARQL, not from the tables the verdicts use."""
    found = graph.query(
        "SELECT ?n WHERE { ?r hv:initialRelease true ; hv:releaseOf ?os ;"
        " hv:servicePackLevel/hv:servicePackNumber ?n }",
        initNs={"hv": Namespace("https://hyperv-kg.example.org/id/ontology/")},
        initBindings={"os": URIRef(os_iri)},
    )
    return next((int(r.n) for r in found), None)  # type: ignore[union-attr]


def initial_level(snapshot: Snapshot, row: GuestRow) -> int:
    """The level of the first release of the row's OS, 0 when the Turtle gives none."""
    return first_release_level(snapshot.graph, row.operating_system.iri) or 0


def table_word(snapshot: Snapshot, edition: Named, words: list[str]) -> str:
    """The one of the article's table words ("Standard") that names this edition, by its English names."""
    names = {edition.label["en"], *snapshot.tables.alt_labels.get(edition.iri, ())}
    (word,) = [w for w in words if w in names]
    return word


def test_example_guest_table_has_twelve_rows_as_in_the_article(snapshot: Snapshot) -> None:
    rows = catalog.guest_support(snapshot, "hyper-v")
    assert len(rows) == 12
    for row, expected in zip(rows, GUEST_ROWS, strict=True):
        assert row.operating_system.id == expected.os_id
        assert row.architecture is expected.architecture
        # a row that names no service pack covers the OS's first release, at the level that release reports
        named = expected.service_packs if expected.service_packs != (0,) else (initial_level(snapshot, row),)
        assert row.service_packs == named
        assert row.max_virtual_processors == expected.max_vcpus
        assert sorted(table_word(snapshot, e, expected.editions) for e in row.editions) == sorted(expected.editions)
        assert expected.line in [c.quote for c in row.evidence]
        assert row.as_of == "2008-08"


def test_host_table_has_the_articles_two_rows(snapshot: Snapshot) -> None:
    rows = catalog.host_support(snapshot, "hyper-v")
    assert [next(c.quote for c in r.evidence if c.quote in HOST_ROWS.values()) for r in rows] == list(
        HOST_ROWS.values()
    )
    assert [r.installations for r in rows] == [(InstallationMode.FULL,), (InstallationMode.SERVER_CORE,)]
    for r in rows:
        words = ["Datacenter", "Enterprise", "Standard"]
        assert sorted(table_word(snapshot, e, words) for e in r.editions) == words
        assert r.architecture is Architecture.X64


def test_other_products_have_no_guest_table(snapshot: Snapshot) -> None:
    assert catalog.guest_support(snapshot, "virtual-server-2005-r2") == ()
    assert catalog.guest_support(snapshot, "vmware-esx") == ()


def test_example_storage_formats(snapshot: Snapshot) -> None:
    formats = {f.id: f for f in catalog.storage_formats(snapshot, "hyper-v")}
    assert set(formats) == {"vhd", "pass-through-disk"}
    vhd, passthrough = formats["vhd"], formats["pass-through-disk"]
    assert vhd.max_size_gb == 2040
    assert vhd.supports_snapshots is True
    assert vhd.file_extension == ".VHD"
    assert any("2040Gbytes" in c.quote for c in vhd.evidence)
    assert passthrough.max_size_gb is None
    assert passthrough.supports_snapshots is False
    assert [p.id for p in passthrough.prerequisites] == ["pass-through-volume-offline"]
    assert "offline" in passthrough.prerequisites[0].label["en"]
    assert "オフライン" in passthrough.prerequisites[0].label["ja"]
    assert any("容量的な制約もない" in c.quote and "スナップショット" in c.quote for c in passthrough.evidence)
    assert any("ボリュームをオフラインにしておく必要がある" in c.quote for c in passthrough.evidence)
    for f in formats.values():
        assert all(c.quote in ARTICLE for c in f.evidence)


def test_example_licensing(snapshot: Snapshot) -> None:
    words = ["Standard", "Enterprise", "Datacenter"]
    rows = {table_word(snapshot, r.edition, words): r for r in catalog.licensing(snapshot)}
    assert set(rows) == {"Standard", "Enterprise", "Datacenter"}
    assert (rows["Standard"].virtual_instances, rows["Standard"].unlimited) == (1, False)
    assert (rows["Enterprise"].virtual_instances, rows["Enterprise"].unlimited) == (4, False)
    assert (rows["Datacenter"].virtual_instances, rows["Datacenter"].unlimited) == (None, True)
    sentence = "Standardでは「1」、Enterpriseでは「4」、Datacenterでは「無制限」"
    for r in rows.values():
        assert r.operating_system.id == "windows-server-2008"
        assert any(sentence in c.quote for c in r.evidence)
