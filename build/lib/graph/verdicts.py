"""Compatibility verdicts: can this guest run, can this OS host the product, and why.

The reading of the article that these functions apply (docs/decisions.md says it for users):
- a guest row covers exactly the service packs it names; one below the lowest listed is
  SERVICE_PACK_TOO_OLD (integration services refuse to install), one above is NOT_DOCUMENTED, because a
  table of 2008-08 cannot speak for later service packs;
- the processor column is a maximum per virtual machine: any count from 1 up to it is within the row;
- a configuration that the table does not support has no integration services, so its I/O is emulated;
- every reason that applies is given, each with the passages it rests on.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from graph.catalog import require_product
from graph.layout import BASE, VOCAB
from graph.model import (
    Architecture,
    ArchitecturePath,
    BadInput,
    Citation,
    GuestQuestion,
    GuestRow,
    GuestVerdict,
    HostRow,
    HostVerdict,
    InstallationMode,
    IoMode,
    Named,
    NotSupported,
    Reason,
    ReasonCode,
)
from graph.names import MAX_NAME_LENGTH
from graph.nodes import statement_evidence
from graph.paths import io_path

if TYPE_CHECKING:
    from graph.snapshot import Snapshot

# Rules that the verdicts cite by name (graph/facts/guest-rules.ttl).
RULE_SERVICE_PACK = BASE + "rule-integration-services-service-pack"
RULE_PROCESSORS = BASE + "rule-processors-per-guest"
RULE_VMBUS = BASE + "rule-vmbus-needs-integration-services"


def require_name(argument: str, value: str) -> str:
    if not value.strip():
        raise BadInput(argument, {"en": f"{argument}: must not be empty", "ja": f"{argument}: 空にはできません"})
    if len(value) > MAX_NAME_LENGTH:
        raise BadInput(
            argument,
            {
                "en": f"{argument}: at most {MAX_NAME_LENGTH} characters (got {len(value)})",
                "ja": f"{argument}: {MAX_NAME_LENGTH}文字以内で指定してください({len(value)}文字)",
            },
        )
    return value


def _names(items: tuple[Named, ...] | list[Named], lang: str) -> str:
    return ", ".join(n.label.get(lang) or n.label.get("en", n.id) for n in items) or (
        "none" if lang == "en" else "なし"
    )


def _sp(number: int, lang: str = "en") -> str:
    if number == 0:
        return "no service pack" if lang == "en" else "SPなし"
    return f"SP{number}"


class _Index:
    """The rows and statements of each product and operating system, and each product's table evidence.

    Built on a snapshot's first verdict and kept in snapshot.memo: a verdict then reads a few dictionary
    entries instead of scanning every row, so it costs the same on the article's graph and on a large one.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        tables = snapshot.tables
        self.guest_rows: dict[str, list[GuestRow]] = defaultdict(list)
        self.guest_rows_of: dict[tuple[str, str], list[GuestRow]] = defaultdict(list)
        for row in tables.guest_rows:
            self.guest_rows[row.product].append(row)
            self.guest_rows_of[(row.product, row.operating_system.iri)].append(row)
        self.host_rows: dict[str, list[HostRow]] = defaultdict(list)
        for host in tables.host_rows:
            self.host_rows[host.product].append(host)
        self.statements: dict[tuple[str, str, str], list[NotSupported]] = defaultdict(list)
        for statement in tables.not_supported:
            self.statements[(statement.role, statement.product, statement.operating_system)].append(statement)
        self.evidence: dict[tuple[str, str], tuple[Citation, ...]] = {}

    def table_evidence(self, snapshot: Snapshot, role: str, product: str, product_iri: str) -> tuple[Citation, ...]:
        """What the product's table rests on; for a product with no table, what the source says of the product."""
        key = (role, product)
        if key not in self.evidence:
            rows = self.guest_rows[product] if role == "guest" else self.host_rows[product]
            tables = snapshot.tables
            self.evidence[key] = tables.shared_citations([r.iri for r in rows]) or tables.cite(product_iri)
        return self.evidence[key]


def _index(snapshot: Snapshot) -> _Index:
    index: _Index | None = snapshot.memo.get("verdict_index")
    if index is None:
        index = snapshot.memo.setdefault("verdict_index", _Index(snapshot))
    return index


def _evidence(snapshot: Snapshot, *iris: str) -> tuple[Citation, ...]:
    return snapshot.tables.cite(*iris)


def _unknown_os(snapshot: Snapshot, name: str, evidence: tuple[Citation, ...]) -> Reason:
    close = snapshot.names.suggest(name, "OperatingSystem")
    shown = name[:60]
    return Reason(
        ReasonCode.UNKNOWN_OPERATING_SYSTEM,
        {
            "en": f"No operating system is called {shown!r}. Closest known names: {_names(close, 'en')}",
            "ja": f"{shown!r} という名前のOSはありません。近い名前: {_names(close, 'ja')}",
        },
        evidence,
    )


def _empty_path(mode: IoMode) -> ArchitecturePath:
    return ArchitecturePath(mode, (), ())


def _contradiction(what: str, in_name: str, argument: str, given: str) -> BadInput:
    return BadInput(
        argument,
        {
            "en": f"operatingSystem names {what} {in_name}, but {argument} is {given}: give one or make them agree",
            "ja": f"operatingSystem は{what} {in_name} を示していますが、{argument} は {given} です。"
            "どちらか一方にするか、一致させてください",
        },
    )


def read_question(
    snapshot: Snapshot,
    operating_system: str,
    edition: str | None,
    service_pack: int,
    architecture: Architecture,
    virtual_processors: int,
) -> tuple[GuestQuestion, bool]:
    """The question as the names say it: the OS name read into its parts, the edition argument read within
    that OS, each part checked against the separate arguments (a contradiction is bad input, naming both).
    The second value says whether an edition was asked for (given, but perhaps not a known one)."""
    reading = snapshot.names.read(operating_system)
    if reading is None:
        return GuestQuestion(None, None, service_pack, architecture, virtual_processors), edition is not None
    named_edition = reading.edition
    sp = service_pack
    argument = snapshot.names.read_edition(reading.operating_system.iri, edition) if edition is not None else None
    for part in (reading, argument):
        if part is None:
            continue
        if part.service_pack is not None and part.service_pack != sp:
            # a service pack in a name counts when servicePack is left at 0; another non-zero one contradicts it
            if sp != 0:
                raise _contradiction("service pack", _sp(part.service_pack), "servicePack", str(sp))
            sp = part.service_pack
        if part.architecture is not None and part.architecture is not architecture:
            raise _contradiction("architecture", part.architecture.value, "architecture", architecture.name)
    if edition is not None:
        given = argument.edition if argument is not None else None
        if named_edition is not None and (given is None or given.iri != named_edition.iri):
            raise _contradiction("edition", named_edition.label["en"], "edition", repr(edition[:60]))
        named_edition = given
    if sp == 0:
        # no Service Pack named: the OS's first release, at the level it reports itself at (Windows Server
        # 2008's first release is at SP1), so "SP0" and "SP1" of it are the same release
        initial = snapshot.tables.initial_releases.get(reading.operating_system.iri)
        sp = initial[1] if initial is not None else 0
    question = GuestQuestion(reading.operating_system, named_edition, sp, architecture, virtual_processors)
    return question, edition is not None or reading.edition is not None


def check_guest(
    snapshot: Snapshot,
    product: str,
    operating_system: str,
    edition: str | None,
    service_pack: int,
    architecture: Architecture,
    virtual_processors: int,
) -> GuestVerdict:
    prod = require_product(snapshot, product)
    require_name("operatingSystem", operating_system)
    if edition is not None:
        require_name("edition", edition)
    if virtual_processors < 1:
        raise BadInput(
            "virtualProcessors",
            {
                "en": f"virtualProcessors: must be 1 or more (got {virtual_processors})",
                "ja": f"virtualProcessors: 1以上を指定してください({virtual_processors})",
            },
        )
    if service_pack < 0:
        raise BadInput(
            "servicePack",
            {
                "en": f"servicePack: must be 0 (none) or more (got {service_pack})",
                "ja": f"servicePack: 0(SPなし)以上を指定してください({service_pack})",
            },
        )
    index = _index(snapshot)
    emulated = io_path(snapshot, prod.id, IoMode.EMULATED) or _empty_path(IoMode.EMULATED)
    # what the table rests on; for a product with no table, what the source says of the product itself
    table_evidence = index.table_evidence(snapshot, "guest", prod.id, prod.iri)

    question, edition_asked = read_question(
        snapshot, operating_system, edition, service_pack, architecture, virtual_processors
    )
    os = question.operating_system
    if os is None:
        reason = _unknown_os(snapshot, operating_system, table_evidence)
        return GuestVerdict(False, None, False, emulated, (reason,), None, None, question)
    service_pack = question.service_pack

    rows = index.guest_rows_of.get((prod.id, os.iri), [])
    statements = index.statements.get(("guest", prod.id, os.iri), [])
    reasons: list[Reason] = []
    os_name = {lang: os.label.get(lang) or os.id for lang in ("en", "ja")}

    for statement in statements:
        if not statement.service_packs and not statement.editions and statement.architecture is None:
            reasons.append(
                Reason(
                    ReasonCode.OPERATING_SYSTEM_NOT_SUPPORTED,
                    {
                        "en": f"{os_name['en']} is not supported as a guest of {prod.label['en']}.",
                        "ja": f"{os_name['ja']}は{prod.label['ja']}のゲストOSとしてサポート対象外です。",
                    },
                    statement.evidence,
                )
            )
    if not rows:
        if not reasons:
            reasons.append(
                Reason(
                    ReasonCode.NOT_DOCUMENTED,
                    {
                        "en": f"The source has no statement about {os_name['en']} as a guest of {prod.label['en']}.",
                        "ja": f"{prod.label['ja']}のゲストOSとしての{os_name['ja']}について、資料に記述がありません。",
                    },
                    table_evidence,
                )
            )
        return GuestVerdict(False, None, False, emulated, tuple(reasons), os, None, question)

    # The edition's own words when it is not one the graph knows for this OS, for the message.
    edition_text = None if not edition_asked else (question.edition.label["en"] if question.edition else edition)
    matched, cap = _match_guest_row(
        snapshot,
        rows,
        os_name,
        edition_asked,
        question.edition,
        edition_text,
        service_pack,
        architecture,
        reasons,
        statements,
    )
    limit = matched.max_virtual_processors if matched else None
    # Integration services install on exactly the rows' OS, editions, service packs and architectures: the
    # number of virtual processors does not change that (too many makes the configuration unsupported only).
    installs = matched is not None
    synthetic = io_path(snapshot, prod.id, IoMode.SYNTHETIC) if installs else None
    path = synthetic if synthetic is not None else emulated
    if virtual_processors > cap:
        evidence = _evidence(snapshot, *([matched.iri] if matched else [r.iri for r in rows]), RULE_PROCESSORS)
        reasons.append(
            Reason(
                ReasonCode.TOO_MANY_VIRTUAL_PROCESSORS,
                {
                    "en": f"{os_name['en']} may have at most {cap} virtual processor(s) here; "
                    f"{virtual_processors} were asked for.",
                    "ja": f"この{os_name['ja']}に割り当て可能なプロセッサは最大{cap}です"
                    f"({virtual_processors}が指定されました)。",
                },
                evidence,
            )
        )
    if reasons or matched is None:
        return GuestVerdict(False, limit, synthetic is not None, path, tuple(reasons), os, matched, question)
    supported = Reason(
        ReasonCode.SUPPORTED,
        {
            "en": f"Supported: {matched.operating_system.label['en']} {_row_sps(matched, 'en')} "
            f"({matched.architecture.value}), up to {matched.max_virtual_processors} virtual processor(s), "
            f"as of {matched.as_of}.",
            "ja": f"サポート対象: {matched.operating_system.label['ja']} {_row_sps(matched, 'ja')}"
            f"({matched.architecture.value})、最大{matched.max_virtual_processors}プロセッサ({matched.as_of}現在)。",
        },
        _evidence(snapshot, matched.iri) + _release_evidence(snapshot, question),
    )
    return GuestVerdict(True, limit, synthetic is not None, path, (supported,), os, matched, question)


def _release_evidence(snapshot: Snapshot, question: GuestQuestion) -> tuple[Citation, ...]:
    """When the question was read as an OS's first release at its own level (no Service Pack named, or the
    level it reports), the passages that say the release is at that level."""
    os = question.operating_system
    initial = snapshot.tables.initial_releases.get(os.iri) if os is not None else None
    if initial is None or question.service_pack != initial[1]:
        return ()
    return statement_evidence(snapshot, initial[0], VOCAB + "servicePackLevel")


def _row_sps(row: GuestRow, lang: str) -> str:
    return "/".join(_sp(n, lang) for n in row.service_packs)


def _match_guest_row(
    snapshot: Snapshot,
    rows: list[GuestRow],
    os_name: dict[str, str],
    edition_asked: bool,
    edition: Named | None,
    edition_text: str | None,
    service_pack: int,
    architecture: Architecture,
    reasons: list[Reason],
    statements: list[NotSupported],
) -> tuple[GuestRow | None, int]:
    """Narrow the OS's rows by architecture, edition and service pack, adding a reason for each miss.

    Returns the matching row (None after any miss) and the processor cap that the closest rows allow.
    """
    failed = False
    candidates = [r for r in rows if r.architecture is architecture]
    if not candidates:
        failed = True
        listed = sorted({r.architecture.value for r in rows})
        reasons.append(
            Reason(
                ReasonCode.ARCHITECTURE_NOT_SUPPORTED,
                {
                    "en": f"{os_name['en']} is listed for {', '.join(listed)} only, not {architecture.value}.",
                    "ja": f"{os_name['ja']}は{', '.join(listed)}のみが対象で、{architecture.value}は対象外です。",
                },
                _evidence(snapshot, *(r.iri for r in rows)),
            )
        )
        candidates = rows
    if edition_asked:
        with_edition = [r for r in candidates if edition is not None and edition in r.editions]
        if not with_edition:
            failed = True
            listed_editions: list[Named] = []
            for r in candidates:
                listed_editions.extend(e for e in r.editions if e not in listed_editions)
            shown = (edition_text or "")[:60]
            reasons.append(
                Reason(
                    ReasonCode.EDITION_NOT_SUPPORTED,
                    {
                        "en": f"Edition {shown!r} is not listed for {os_name['en']} ({architecture.value}); "
                        f"listed: {_names(listed_editions, 'en')}.",
                        "ja": f"エディション {shown!r} は{os_name['ja']}({architecture.value})の対象ではありません。"
                        f"対象: {_names(listed_editions, 'ja')}",
                    },
                    _evidence(snapshot, *(r.iri for r in candidates)),
                )
            )
        else:
            candidates = with_edition
    with_sp = [r for r in candidates if service_pack in r.service_packs]
    if not with_sp:
        failed = True
        lowest = min(min(r.service_packs) for r in candidates)
        listed_sps = sorted({n for r in candidates for n in r.service_packs})
        listed_en = ", ".join(_sp(n) for n in listed_sps)
        listed_ja = "、".join(_sp(n, "ja") for n in listed_sps)
        if service_pack < lowest:
            said = [s.iri for s in statements if service_pack in s.service_packs]
            evidence = _evidence(snapshot, *(r.iri for r in candidates), *said, RULE_SERVICE_PACK)
            reasons.append(
                Reason(
                    ReasonCode.SERVICE_PACK_TOO_OLD,
                    {
                        "en": f"{os_name['en']} with {_sp(service_pack)} is below the supported level ({listed_en}); "
                        "integration services refuse to install.",
                        "ja": f"{os_name['ja']}({_sp(service_pack, 'ja')})はサポート対象のSPレベル({listed_ja})に"
                        "満たないため、統合サービスのインストールは拒否されます。",
                    },
                    evidence,
                )
            )
        else:
            reasons.append(
                Reason(
                    ReasonCode.NOT_DOCUMENTED,
                    {
                        "en": f"The table (as of {candidates[0].as_of}) lists {os_name['en']} with {listed_en}; "
                        f"{_sp(service_pack)} is not documented.",
                        "ja": f"表({candidates[0].as_of}現在)の{os_name['ja']}は{listed_ja}のみで、"
                        f"{_sp(service_pack, 'ja')}については記述がありません。",
                    },
                    _evidence(snapshot, *(r.iri for r in candidates)),
                )
            )
        with_sp = candidates
    cap = max(r.max_virtual_processors for r in with_sp)
    return (None if failed else with_sp[0]), cap


def _host_reason(code: ReasonCode, en: str, ja: str, evidence: tuple[Citation, ...]) -> Reason:
    return Reason(code, {"en": en, "ja": ja}, evidence)


def check_host(
    snapshot: Snapshot,
    product: str,
    operating_system: str,
    edition: str,
    architecture: Architecture,
    installation: InstallationMode,
) -> HostVerdict:
    prod = require_product(snapshot, product)
    require_name("operatingSystem", operating_system)
    require_name("edition", edition)
    tables = snapshot.tables
    index = _index(snapshot)
    product_rows = index.host_rows.get(prod.id, [])
    table_evidence = index.table_evidence(snapshot, "host", prod.id, prod.iri)
    # the OS name read into parts, checked against the edition and architecture arguments, as for a guest
    question, _ = read_question(snapshot, operating_system, edition, 0, architecture, 1)
    os = question.operating_system
    if os is None:
        return HostVerdict(False, (_unknown_os(snapshot, operating_system, table_evidence),))
    if not product_rows:
        return HostVerdict(
            False,
            (
                _host_reason(
                    ReasonCode.NOT_DOCUMENTED,
                    f"The source has no host OS table for {prod.label['en']}.",
                    f"{prod.label['ja']}のホストOSについて、資料に記述がありません。",
                    table_evidence,
                ),
            ),
            os,
        )
    os_en, os_ja = os.label.get("en", os.id), os.label.get("ja", os.id)
    rows = [r for r in product_rows if r.operating_system.iri == os.iri]
    if not rows:
        hosts = sorted({r.operating_system.label["en"] for r in product_rows})
        return HostVerdict(
            False,
            (
                _host_reason(
                    ReasonCode.OPERATING_SYSTEM_NOT_SUPPORTED,
                    f"{os_en} cannot host {prod.label['en']}; the host OS must be {', '.join(hosts)}.",
                    f"{os_ja}は{prod.label['ja']}のホストOSにできません。ホストOSは{'、'.join(hosts)}が必要です。",
                    table_evidence,
                ),
            ),
            os,
        )
    statements = index.statements.get(("host", prod.id, os.iri), [])
    reasons: list[Reason] = []
    candidates = [r for r in rows if r.architecture is architecture]
    if not candidates:
        said = [s.iri for s in statements if s.architecture is architecture]
        listed = ", ".join(sorted({r.architecture.value for r in rows}))
        reasons.append(
            _host_reason(
                ReasonCode.ARCHITECTURE_NOT_SUPPORTED,
                f"The host OS must be {os_en} {listed}, not {architecture.value}.",
                f"ホストOSには{listed}版の{os_ja}が必要です({architecture.value}は対象外)。",
                _evidence(snapshot, *said, *(r.iri for r in rows)),
            )
        )
        candidates = rows
    found = question.edition
    with_edition = [r for r in candidates if found is not None and found in r.editions]
    if not with_edition:
        said = [s.iri for s in statements if found is not None and found.iri in s.editions]
        listed_editions: list[Named] = []
        for r in candidates:
            listed_editions.extend(e for e in r.editions if e not in listed_editions)
        shown = edition[:60]
        reasons.append(
            _host_reason(
                ReasonCode.EDITION_NOT_SUPPORTED,
                f"Edition {shown!r} of {os_en} cannot host {prod.label['en']}; "
                f"listed: {_names(listed_editions, 'en')}.",
                f"{os_ja}のエディション {shown!r} は{prod.label['ja']}のホストOSにできません。"
                f"対象: {_names(listed_editions, 'ja')}",
                _evidence(snapshot, *said, *(r.iri for r in candidates)),
            )
        )
        with_edition = candidates
    # the host table names the OS's first release, at whatever level that release reports (WS2008 RTM: SP1)
    initial = tables.initial_releases.get(os.iri)
    if question.service_pack != (initial[1] if initial is not None else 0):
        reasons.append(
            _host_reason(
                ReasonCode.NOT_DOCUMENTED,
                f"The host table names no service pack; {_sp(question.service_pack)} is not documented.",
                f"ホストOSの表にSPの記載はなく、{_sp(question.service_pack, 'ja')}については記述がありません。",
                _evidence(snapshot, *(r.iri for r in with_edition)),
            )
        )
    with_mode = [r for r in with_edition if installation in r.installations]
    if not with_mode:
        reasons.append(
            _host_reason(
                ReasonCode.NOT_DOCUMENTED,
                f"The source does not list the {installation.name} installation for this host.",
                f"このホストの{installation.name}インストールについて、資料に記述がありません。",
                _evidence(snapshot, *(r.iri for r in with_edition)),
            )
        )
    if reasons:
        return HostVerdict(False, tuple(reasons), os)
    row: HostRow = with_mode[0]
    mode_label = tables.labels.get(BASE + installation.value, {"en": installation.name, "ja": installation.name})
    return HostVerdict(
        True,
        (
            _host_reason(
                ReasonCode.SUPPORTED,
                # an edition's name is its full name ("Windows Server 2008 Standard"), the OS's name included
                f"Supported: {found.label['en'] if found else f'{os_en} {edition}'} ({architecture.value}), "
                f"{mode_label['en']}, as of {row.as_of}.",
                f"サポート対象: {found.label['ja'] if found else f'{os_ja} {edition}'}({architecture.value})、"
                f"{mode_label['ja']}({row.as_of}現在)。",
                _evidence(snapshot, row.iri),
            ),
        ),
        os,
    )
