"""How a verdict words its reasons and which passages it cites: shared by the guest and the host checks.

One place for the wording of names and service packs and for the evidence a reason rests on, so that a guest
verdict and a host verdict say the same thing the same way (an unknown OS, "SP2", "no service pack", ...).
It builds text and citations only; which reasons apply is decided by graph/verdicts.py and graph/host_check.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph.layout import BASE, VOCAB
from graph.model import Citation, GuestQuestion, GuestRow, Named, Reason, ReasonCode
from graph.nodes import statement_evidence

if TYPE_CHECKING:
    from graph.snapshot import Snapshot

# Rules that the verdicts cite by name (graph/facts/guest-rules.ttl).
RULE_SERVICE_PACK = BASE + "rule-integration-services-service-pack"
RULE_PROCESSORS = BASE + "rule-processors-per-guest"


def names_text(items: tuple[Named, ...] | list[Named], lang: str) -> str:
    return ", ".join(n.label.get(lang) or n.label.get("en", n.id) for n in items) or (
        "none" if lang == "en" else "なし"
    )


def sp_text(number: int, lang: str = "en") -> str:
    if number == 0:
        return "no service pack" if lang == "en" else "SPなし"
    return f"SP{number}"


def row_sps_text(row: GuestRow, lang: str) -> str:
    return "/".join(sp_text(n, lang) for n in row.service_packs)


def cite(snapshot: Snapshot, *iris: str) -> tuple[Citation, ...]:
    return snapshot.tables.cite(*iris)


def unknown_os_reason(snapshot: Snapshot, name: str, evidence: tuple[Citation, ...]) -> Reason:
    close = snapshot.names.suggest(name, "OperatingSystem")
    shown = name[:60]
    return Reason(
        ReasonCode.UNKNOWN_OPERATING_SYSTEM,
        {
            "en": f"No operating system is called {shown!r}. Closest known names: {names_text(close, 'en')}",
            "ja": f"{shown!r} という名前のOSはありません。近い名前: {names_text(close, 'ja')}",
        },
        evidence,
    )


def release_evidence(snapshot: Snapshot, question: GuestQuestion) -> tuple[Citation, ...]:
    """When the question was read as an OS's first release at its own level (no Service Pack named, or the
    level it reports), the passages that say the release is at that level."""
    os = question.operating_system
    initial = snapshot.tables.initial_releases.get(os.iri) if os is not None else None
    if initial is None or question.service_pack != initial[1]:
        return ()
    return statement_evidence(snapshot, initial[0], VOCAB + "servicePackLevel")
