"""Compatibility verdicts: can this guest run, can this OS host the product, and why.

The module the adapters call: check_guest lives here, check_host in graph/host_check.py (re-exported below);
both read the question with graph/question_reading.py, look rows up in graph/verdict_index.py and word their
reasons with graph/verdict_reasons.py, all of them below this module.

The reading of the article that check_guest applies (docs/decisions.md says it for users):
- a guest row covers exactly the service packs it names; one below the lowest listed is
  SERVICE_PACK_TOO_OLD (integration services refuse to install), one above is NOT_DOCUMENTED, because a
  table of 2008-08 cannot speak for later service packs;
- the processor column is a maximum per virtual machine: any count from 1 up to it is within the row;
- a configuration that the table does not support has no integration services, so its I/O is emulated;
- every reason that applies is given, each with the passages it rests on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph.catalog import require_product
from graph.host_check import check_host
from graph.model import (
    Architecture,
    ArchitecturePath,
    BadInput,
    GuestRow,
    GuestVerdict,
    IoMode,
    Named,
    NotSupported,
    Reason,
    ReasonCode,
)
from graph.paths import io_path
from graph.question_reading import read_question, require_name
from graph.verdict_index import verdict_index
from graph.verdict_reasons import (
    RULE_PROCESSORS,
    RULE_SERVICE_PACK,
    cite,
    names_text,
    release_evidence,
    row_sps_text,
    sp_text,
    unknown_os_reason,
)

if TYPE_CHECKING:
    from graph.snapshot import Snapshot

# Re-exported so that server/, tests/ and bench/ keep calling one module (mypy strict wants them named here).
__all__ = ["check_guest", "check_host", "read_question", "require_name"]


def _empty_path(mode: IoMode) -> ArchitecturePath:
    return ArchitecturePath(mode, (), ())


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
    index = verdict_index(snapshot)
    emulated = io_path(snapshot, prod.id, IoMode.EMULATED) or _empty_path(IoMode.EMULATED)
    # what the table rests on; for a product with no table, what the source says of the product itself
    table_evidence = index.table_evidence(snapshot, "guest", prod.id, prod.iri)

    question, edition_asked = read_question(
        snapshot, operating_system, edition, service_pack, architecture, virtual_processors
    )
    os = question.operating_system
    if os is None:
        reason = unknown_os_reason(snapshot, operating_system, table_evidence)
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
        evidence = cite(snapshot, *([matched.iri] if matched else [r.iri for r in rows]), RULE_PROCESSORS)
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
            "en": f"Supported: {matched.operating_system.label['en']} {row_sps_text(matched, 'en')} "
            f"({matched.architecture.value}), up to {matched.max_virtual_processors} virtual processor(s), "
            f"as of {matched.as_of}.",
            "ja": f"サポート対象: {matched.operating_system.label['ja']} {row_sps_text(matched, 'ja')}"
            f"({matched.architecture.value})、最大{matched.max_virtual_processors}プロセッサ({matched.as_of}現在)。",
        },
        cite(snapshot, matched.iri) + release_evidence(snapshot, question),
    )
    return GuestVerdict(True, limit, synthetic is not None, path, (supported,), os, matched, question)


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
                cite(snapshot, *(r.iri for r in rows)),
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
                        f"listed: {names_text(listed_editions, 'en')}.",
                        "ja": f"エディション {shown!r} は{os_name['ja']}({architecture.value})の対象ではありません。"
                        f"対象: {names_text(listed_editions, 'ja')}",
                    },
                    cite(snapshot, *(r.iri for r in candidates)),
                )
            )
        else:
            candidates = with_edition
    with_sp = [r for r in candidates if service_pack in r.service_packs]
    if not with_sp:
        failed = True
        lowest = min(min(r.service_packs) for r in candidates)
        listed_sps = sorted({n for r in candidates for n in r.service_packs})
        listed_en = ", ".join(sp_text(n) for n in listed_sps)
        listed_ja = "、".join(sp_text(n, "ja") for n in listed_sps)
        if service_pack < lowest:
            said = [s.iri for s in statements if service_pack in s.service_packs]
            evidence = cite(snapshot, *(r.iri for r in candidates), *said, RULE_SERVICE_PACK)
            reasons.append(
                Reason(
                    ReasonCode.SERVICE_PACK_TOO_OLD,
                    {
                        "en": f"{os_name['en']} with {sp_text(service_pack)} is below the supported level "
                        f"({listed_en}); integration services refuse to install.",
                        "ja": f"{os_name['ja']}({sp_text(service_pack, 'ja')})はサポート対象のSPレベル({listed_ja})に"
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
                        f"{sp_text(service_pack)} is not documented.",
                        "ja": f"表({candidates[0].as_of}現在)の{os_name['ja']}は{listed_ja}のみで、"
                        f"{sp_text(service_pack, 'ja')}については記述がありません。",
                    },
                    cite(snapshot, *(r.iri for r in candidates)),
                )
            )
        with_sp = candidates
    cap = max(r.max_virtual_processors for r in with_sp)
    return (None if failed else with_sp[0]), cap
