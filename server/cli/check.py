"""`hvkg check guest|host`: a compatibility verdict (graph.verdicts), how the question was read, and each
reason with the passages it rests on. Exit 0 supported, 1 not supported, 2 for a name that means nothing."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from graph.model import GuestQuestion, Reason, ReasonCode, text
from server.cli.data import snapshot_of
from server.cli.errors import EXIT_BAD_INPUT, lang_of, print_error
from server.cli.paths import print_citations, print_path
from server.cli.reading import architecture, installation, parse_count, parse_service_pack
from server.cli.text import word


def describe_question(question: GuestQuestion, lang: str) -> str:
    """ "Windows Vista Ultimate SP1 x64": what the verdict took each name and number to mean."""
    # an edition's name is its full name ("Windows Vista Ultimate"), the OS's name included
    named = question.edition or question.operating_system
    parts = [text(named.label, lang)] if named else []
    sp = question.service_pack
    parts.append(f"SP{sp}" if sp else f"({word('no_service_pack', lang)})")
    parts.append(question.architecture.value)
    return " ".join(parts)


def _print_reasons(reasons: Sequence[Reason], lang: str) -> None:
    for reason in reasons:
        print(f"  {reason.code.name}: {text(reason.message, lang)}")
        print_citations(reason.evidence)


def _unknown_name(reasons: Sequence[Reason]) -> Reason | None:
    return next((r for r in reasons if r.code is ReasonCode.UNKNOWN_OPERATING_SYSTEM), None)


def _verdict_line(supported: bool, lang: str) -> str:
    return word("supported" if supported else "not_supported", lang)


def cmd_check(args: argparse.Namespace) -> int:
    return check_guest(args) if args.kind == "guest" else check_host(args)


def check_guest(args: argparse.Namespace) -> int:
    from graph.verdicts import check_guest as verdict_of

    lang = lang_of(args)
    # the numbers first: a typo in them is answered before the graph is loaded
    service_pack = parse_service_pack(args.sp)
    virtual_processors = parse_count(args.vcpus)
    snapshot = snapshot_of(args)
    arch = architecture(snapshot, args.arch)
    verdict = verdict_of(snapshot, args.product, args.os, args.edition, service_pack, arch, virtual_processors)
    unknown = _unknown_name(verdict.reasons)
    if unknown is not None:
        # no verdict for a name that means nothing: the closest names, and the status of bad input
        print_error(unknown.message, lang, "operatingSystem")
        return EXIT_BAD_INPUT
    print(_verdict_line(verdict.supported, lang))
    if verdict.question is not None:
        print(f"  {word('read_as', lang)}: {describe_question(verdict.question, lang)}")
    if verdict.max_virtual_processors is not None:
        print(f"  {word('max_virtual_processors', lang)}: {verdict.max_virtual_processors}")
    services = word("available" if verdict.integration_services else "unavailable", lang)
    print(f"  {word('integration_services', lang)}: {services}")
    _print_reasons(verdict.reasons, lang)
    if verdict.io_path.components:
        print(f"{word('io_path', lang)}:")
        print_path(verdict.io_path, lang, snapshot.tables.labels)
    return 0 if verdict.supported else 1


def check_host(args: argparse.Namespace) -> int:
    from graph.verdicts import check_host as verdict_of

    lang = lang_of(args)
    snapshot = snapshot_of(args)
    arch = architecture(snapshot, args.arch)
    mode = installation(snapshot, args.installation)
    verdict = verdict_of(snapshot, args.product, args.os, args.edition, arch, mode)
    unknown = _unknown_name(verdict.reasons)
    if unknown is not None:
        print_error(unknown.message, lang, "operatingSystem")
        return EXIT_BAD_INPUT
    print(_verdict_line(verdict.supported, lang))
    _print_reasons(verdict.reasons, lang)
    return 0 if verdict.supported else 1
