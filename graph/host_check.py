"""Can this operating system host the product, and why: the host OS table read for one question.

Apart from the guest check (graph/verdicts.py) because a host row is another table with other columns (edition
and installation mode, no service pack, no processor count); both share the question's reading
(graph/question_reading.py), the index (graph/verdict_index.py) and the wording (graph/verdict_reasons.py).
graph/verdicts.py re-exports check_host, so the adapters call both checks through one module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph.catalog import require_product
from graph.layout import BASE
from graph.model import Architecture, Citation, HostRow, HostVerdict, InstallationMode, Named, Reason, ReasonCode
from graph.question_reading import read_question, require_name
from graph.verdict_index import verdict_index
from graph.verdict_reasons import cite, names_text, sp_text, unknown_os_reason

if TYPE_CHECKING:
    from graph.snapshot import Snapshot


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
    index = verdict_index(snapshot)
    product_rows = index.host_rows.get(prod.id, [])
    table_evidence = index.table_evidence(snapshot, "host", prod.id, prod.iri)
    # the OS name read into parts, checked against the edition and architecture arguments, as for a guest
    question, _ = read_question(snapshot, operating_system, edition, 0, architecture, 1)
    os = question.operating_system
    if os is None:
        return HostVerdict(False, (unknown_os_reason(snapshot, operating_system, table_evidence),))
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
                cite(snapshot, *said, *(r.iri for r in rows)),
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
                f"listed: {names_text(listed_editions, 'en')}.",
                f"{os_ja}のエディション {shown!r} は{prod.label['ja']}のホストOSにできません。"
                f"対象: {names_text(listed_editions, 'ja')}",
                cite(snapshot, *said, *(r.iri for r in candidates)),
            )
        )
        with_edition = candidates
    # the host table names the OS's first release, at whatever level that release reports (WS2008 RTM: SP1)
    initial = tables.initial_releases.get(os.iri)
    if question.service_pack != (initial[1] if initial is not None else 0):
        reasons.append(
            _host_reason(
                ReasonCode.NOT_DOCUMENTED,
                f"The host table names no service pack; {sp_text(question.service_pack)} is not documented.",
                f"ホストOSの表にSPの記載はなく、{sp_text(question.service_pack, 'ja')}については記述がありません。",
                cite(snapshot, *(r.iri for r in with_edition)),
            )
        )
    with_mode = [r for r in with_edition if installation in r.installations]
    if not with_mode:
        reasons.append(
            _host_reason(
                ReasonCode.NOT_DOCUMENTED,
                f"The source does not list the {installation.name} installation for this host.",
                f"このホストの{installation.name}インストールについて、資料に記述がありません。",
                cite(snapshot, *(r.iri for r in with_edition)),
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
                cite(snapshot, row.iri),
            ),
        ),
        os,
    )
