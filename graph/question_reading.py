"""Reading a compatibility question: the OS name into its parts, checked against the separate arguments.

Both checks ask the same question first (which OS, edition, service pack and architecture was meant), so the
reading lives here, below graph/verdicts.py and graph/host_check.py, and the two cannot read a name differently.
Only the reading: whether the table supports what was read is for the checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph.model import Architecture, BadInput, GuestQuestion
from graph.names import MAX_NAME_LENGTH
from graph.verdict_reasons import sp_text

if TYPE_CHECKING:
    from graph.snapshot import Snapshot


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
                raise _contradiction("service pack", sp_text(part.service_pack), "servicePack", str(sp))
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
