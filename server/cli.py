"""`hvkg`: serve, validate, export, check, path, query.

Exit status: 0 on success / supported, 1 when not supported / invalid graph, 2 on bad input (an unknown name,
a service pack that is not one, a SPARQL syntax error, a missing @file), 130 on Ctrl-C, 70 on a bug.

Input is read the way people type it: `--sp SP2`, `sp2`, `2`, `SP 2`, `Service Pack 2` (0, `none`, `RTM`,
`なし` for no service pack), `--arch` and `--installation` by any name the graph gives them (`amd64`, `64bit`,
`server core`). Errors go to stderr as one or two lines, in the language of `--lang`, never as a traceback.

A closed pipe (`hvkg export | head -1`) ends quietly with exit status 141, what a shell reports for a program
that SIGPIPE stopped: `set -o pipefail` scripts still see that the output was cut, and no status that means
"supported" or "not supported" is given for an answer that was not read whole.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from graph.build import build_snapshot
from graph.layout import DataLayout
from graph.model import (
    Architecture,
    ArchitecturePath,
    BadInput,
    Citation,
    GuestQuestion,
    InstallationMode,
    IoMode,
    Reason,
    ReasonCode,
    Text,
    text,
)
from graph.problems import InvalidGraph
from graph.snapshot import Snapshot
from server.cli_text import word

if TYPE_CHECKING:
    from graph.model import Named
    from server.sparql.lexer import Refused

EXPORT_FORMATS = {"turtle": "turtle", "json-ld": "json-ld", "nt": "nt", "xml": "xml"}
EXIT_BAD_INPUT = 2
EXIT_BUG = 70  # EX_SOFTWARE of sysexits.h
EXIT_INTERRUPTED = 130
EXIT_CLOSED_PIPE = 141  # 128 + SIGPIPE

# The contract's argument names (in BadInput and in graph/'s messages) as this command line spells them.
OPTIONS = {
    "operatingSystem": "--os",
    "edition": "--edition",
    "servicePack": "--sp",
    "architecture": "--arch",
    "virtualProcessors": "--vcpus",
    "product": "--product",
    "installation": "--installation",
    "from": "FROM",
    "to": "TO",
    "query": "QUERY",
}

# Ways of writing "no service pack" (after NFKC, lower case, no spaces); a number is read by _SERVICE_PACK.
NO_SERVICE_PACK = frozenset({"none", "rtm", "nosp", "なし", "spなし"})
# "sp2", "servicepack2", "サービスパック2", "2", "-1" (which the verdict refuses, naming the value). Nine digits at
# most: a longer number is no service pack anyone has, and int() of thousands of digits is refused by Python.
_SERVICE_PACK = re.compile(r"(?:sp|servicepack|サービスパック)?(-?\d{1,9})")
_COUNT = re.compile(r"\+?(-?\d{1,9})")
# A named query's name: what is not one of these is SPARQL text (a query always has a brace)
_QUERY_NAME = re.compile(r"[\w.\s-]{1,100}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hvkg", description="The Hyper-V knowledge graph (2008-08).")
    parser.add_argument("--data", type=Path, default=None, help="the project root holding ontology/, graph/, queries/")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="start the service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)

    validate = sub.add_parser("validate", help="load and validate the graph; exit 1 on any violation")
    validate.add_argument("--lang", choices=["en", "ja"], default="en")

    export = sub.add_parser("export", help="write the whole graph")
    export.add_argument("--format", choices=sorted(EXPORT_FORMATS), default="turtle")
    export.add_argument("--output", "-o", type=Path, default=None)

    check = sub.add_parser("check", help="a compatibility verdict with its reasons and quotes")
    kinds = check.add_subparsers(dest="kind", required=True)
    arch_help = "x86 or x64, or another name of them (32-bit, 64-bit, amd64, ...)"
    guest = kinds.add_parser("guest")
    guest.add_argument("--product", default="hyper-v")
    guest.add_argument("--os", required=True, help="a name as people write it: 'Windows XP', 'XP SP3', ...")
    guest.add_argument("--edition", default=None)
    guest.add_argument("--sp", default="0", help="2, SP2, 'Service Pack 2'; 0, none or RTM for none (default 0)")
    guest.add_argument("--arch", required=True, help=arch_help)
    guest.add_argument("--vcpus", default="1", help="virtual processors (default 1)")
    guest.add_argument("--lang", choices=["en", "ja"], default="en")
    host = kinds.add_parser("host")
    host.add_argument("--product", default="hyper-v")
    host.add_argument("--os", required=True)
    host.add_argument("--edition", required=True)
    host.add_argument("--arch", required=True, help=arch_help)
    host.add_argument("--installation", default="full", help="full or server-core (default full)")
    host.add_argument("--lang", choices=["en", "ja"], default="en")

    path = sub.add_parser("path", help="the hops between two components, or a product's I/O path")
    path.add_argument("source", nargs="?", metavar="FROM")
    path.add_argument("target", nargs="?", metavar="TO")
    path.add_argument("--product", default=None)
    path.add_argument(
        "--mode", type=str.lower, choices=["synthetic", "emulated"], default=None, help="default: the product's own"
    )
    path.add_argument("--undirected", action="store_true", help="FROM TO: also walk relations backwards (marked ←)")
    path.add_argument("--lang", choices=["en", "ja"], default="en")

    query = sub.add_parser("query", help="run a SPARQL query (text, or @file, or a named query of queries/)")
    query.add_argument("query")
    query.add_argument("--lang", choices=["en", "ja"], default="en")

    docs = sub.add_parser("docs", help="write the static documentation site")
    docs.add_argument("out", type=Path)
    docs.add_argument("--lang", choices=["ja", "en", "both"], default="both")

    reload = sub.add_parser("reload", help="ask a running server to load the data again (SIGHUP)")
    reload.add_argument("--pid", type=int, default=None, help="the server's process id (default: its pid file)")
    return parser


def _lang(args: argparse.Namespace) -> str:
    return "ja" if getattr(args, "lang", "en") == "ja" else "en"


def _snapshot(args: argparse.Namespace) -> Snapshot:
    return build_snapshot(DataLayout(args.data) if args.data else DataLayout())


def _shown(value: str) -> str:
    return repr(value[:60] + ("…" if len(value) > 60 else ""))


# ---- reading input as people type it ---------------------------------------------------------------------


def parse_service_pack(value: str) -> int:
    """`--sp` as people write it; a negative number is returned for the verdict to refuse with its own words."""
    key = "".join(unicodedata.normalize("NFKC", value).casefold().split())
    if key in NO_SERVICE_PACK:
        return 0
    found = _SERVICE_PACK.fullmatch(key)
    if found is None:
        raise BadInput(
            "servicePack",
            {
                "en": f"servicePack: {_shown(value)} is not a service pack; write a number (2), SP2 or "
                "'Service Pack 2', and 0, none or RTM for none",
                "ja": f"servicePack: {_shown(value)} はService Packとして読めません。数字(2)、SP2、"
                "'Service Pack 2' のように、SPなしは 0、none、なし で指定してください",
            },
        )
    return int(found[1])


def parse_count(value: str) -> int:
    """`--vcpus`: a whole number (full-width digits too); below 1 is for the verdict to refuse."""
    found = _COUNT.fullmatch(unicodedata.normalize("NFKC", value).strip())
    if found is None:
        raise BadInput(
            "virtualProcessors",
            {
                "en": f"virtualProcessors: {_shown(value)} is not a number of virtual processors (1, 2, 4)",
                "ja": f"virtualProcessors: {_shown(value)} は仮想プロセッサ数として読めません(1、2、4 など)",
            },
        )
    return int(found[1])


def _resolve(snapshot: Snapshot, value: str, kind: str, argument: str, what: Text) -> Named:
    """A name of a small fixed kind (architecture, installation), by any of the names the graph gives it."""
    found = snapshot.names.resolve(value, kind) if value.strip() else None
    if found is None:
        close = snapshot.names.suggest(value, kind) or tuple(
            snapshot.tables.named(iri) for iri, type_ in sorted(snapshot.tables.types.items()) if type_ == kind
        )
        en = ", ".join(text(n.label, "en") for n in close)
        ja = "、".join(text(n.label, "ja") for n in close)
        raise BadInput(
            argument,
            {
                "en": f"{argument}: {_shown(value)} is not a known {what['en']}; known: {en}",
                "ja": f"{argument}: {_shown(value)} という{what['ja']}はありません。既知の名前: {ja}",
            },
        )
    return found


def _architecture(snapshot: Snapshot, value: str) -> Architecture:
    named = _resolve(snapshot, value, "CpuArchitecture", "architecture", {"en": "architecture", "ja": "アーキテクチャ"})
    return Architecture(named.id)


def _installation(snapshot: Snapshot, value: str) -> InstallationMode:
    what = {"en": "installation", "ja": "インストール形態"}
    return InstallationMode(_resolve(snapshot, value, "InstallationMode", "installation", what).id)


# ---- printing answers --------------------------------------------------------------------------------------


def _print_citations(evidence: Sequence[Citation], indent: str = "    ") -> None:
    for citation in evidence:
        where = f" ({citation.section})" if citation.section else ""
        print(f"{indent}「{citation.quote}」{where}")
        print(f"{indent}  — {citation.document} <{citation.iri}>")


def _print_reasons(reasons: Sequence[Reason], lang: str) -> None:
    for reason in reasons:
        print(f"  {reason.code.name}: {text(reason.message, lang)}")
        _print_citations(reason.evidence)


def _print_path(found: ArchitecturePath, lang: str, relation_labels: Mapping[str, Text]) -> None:
    """The route on one line, then each hop with its quotes. A hop walked against its relation (only with
    --undirected) is drawn as the relation runs: `A ←[sends I/O to]— B` says that B sends I/O to A."""
    if found.components:
        route = text(found.components[0].label, lang)
        for hop in found.hops:
            route += (" → " if hop.forward else " ← ") + text(hop.target.label, lang)
        print(route)
    for hop in found.hops:
        source, target = text(hop.source.label, lang), text(hop.target.label, lang)
        if hop.forward:
            print(f"  {source} —[{text(hop.relation, lang)}]→ {target}")
        else:
            documented = relation_labels.get(hop.relation_iri, hop.relation)
            print(f"  {source} ←[{text(documented, lang)}]— {target}")
        _print_citations(hop.evidence, "      ")


def describe_question(question: GuestQuestion, lang: str) -> str:
    """ "Windows Vista Ultimate SP1 x64": what the verdict took each name and number to mean."""
    # an edition's name is its full name ("Windows Vista Ultimate"), the OS's name included
    named = question.edition or question.operating_system
    parts = [text(named.label, lang)] if named else []
    sp = question.service_pack
    parts.append(f"SP{sp}" if sp else f"({word('no_service_pack', lang)})")
    parts.append(question.architecture.value)
    return " ".join(parts)


def _unknown_name(reasons: Sequence[Reason]) -> Reason | None:
    return next((r for r in reasons if r.code is ReasonCode.UNKNOWN_OPERATING_SYSTEM), None)


def _verdict_line(supported: bool, lang: str) -> str:
    return word("supported" if supported else "not_supported", lang)


# ---- commands ---------------------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from graph.verdicts import check_guest, check_host

    lang = _lang(args)
    if args.kind == "guest":
        # the numbers first: a typo in them is answered before the graph is loaded
        service_pack = parse_service_pack(args.sp)
        virtual_processors = parse_count(args.vcpus)
        snapshot = _snapshot(args)
        architecture = _architecture(snapshot, args.arch)
        verdict = check_guest(
            snapshot, args.product, args.os, args.edition, service_pack, architecture, virtual_processors
        )
        unknown = _unknown_name(verdict.reasons)
        if unknown is not None:
            # no verdict for a name that means nothing: the closest names, and the status of bad input
            _print_error(unknown.message, lang, "operatingSystem")
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
            _print_path(verdict.io_path, lang, snapshot.tables.labels)
        return 0 if verdict.supported else 1
    snapshot = _snapshot(args)
    architecture = _architecture(snapshot, args.arch)
    installation = _installation(snapshot, args.installation)
    host_verdict = check_host(snapshot, args.product, args.os, args.edition, architecture, installation)
    unknown = _unknown_name(host_verdict.reasons)
    if unknown is not None:
        _print_error(unknown.message, lang, "operatingSystem")
        return EXIT_BAD_INPUT
    print(_verdict_line(host_verdict.supported, lang))
    _print_reasons(host_verdict.reasons, lang)
    return 0 if host_verdict.supported else 1


def cmd_path(args: argparse.Namespace) -> int:
    from graph.catalog import require_product
    from graph.paths import io_path, path

    lang = _lang(args)
    if args.source and args.target and not args.product and args.mode is None:
        snapshot = _snapshot(args)
        found = path(snapshot, args.source, args.target, directed=not args.undirected)
    elif args.product and not args.source and not args.undirected:
        snapshot = _snapshot(args)
        product = require_product(snapshot, args.product)
        # no --mode: the product's own path (Virtual Server 2005 R2 has only the emulated one)
        found = io_path(snapshot, product.id, IoMode[args.mode.upper()] if args.mode else None)
    else:
        raise BadInput(
            "path",
            {
                "en": "give FROM and TO (and --undirected), or --product (and --mode), not both",
                "ja": "FROMとTO(と--undirected)か、--product(と--mode)のどちらかを指定してください",
            },
        )
    if found is None:
        print(word("no_path", lang))
        return 1
    _print_path(found, lang, snapshot.tables.labels)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from graph.validation import messages_in

    lang = _lang(args)
    # validate always means validating: never read a cached snapshot here; its messages in the asked language
    with messages_in(lang):
        snapshot = build_snapshot(DataLayout(args.data) if args.data else DataLayout(), cache_dir=None)
    tables = snapshot.tables
    counts = (
        len(tables.guest_rows),
        len(tables.host_rows),
        len(tables.license_rows),
        len(tables.storage_formats),
        len(tables.components),
        len(tables.relations),
    )
    if lang == "ja":
        print(f"有効: {snapshot.triple_count} トリプル、内容ハッシュ {snapshot.content_hash[:16]}")
        print(
            "  ゲストOSの行 {}、ホストOSの行 {}、ライセンスの行 {}、記憶装置の形式 {}、構成要素 {}、関係 {}".format(
                *counts
            )
        )
        return 0
    print(f"valid: {snapshot.triple_count} triples, content hash {snapshot.content_hash[:16]}")
    print(
        "  guest rows {}, host rows {}, licence rows {}, storage formats {}, components {}, relations {}".format(
            *counts
        )
    )
    return 0


def _write_bytes(data: bytes) -> None:
    """RDF and SPARQL results are UTF-8 whatever the terminal's locale: write them as bytes."""
    sys.stdout.flush()
    sys.stdout.buffer.write(data)


def cmd_export(args: argparse.Namespace) -> int:
    snapshot = _snapshot(args)
    data = snapshot.graph.serialize(format=EXPORT_FORMATS[args.format], encoding="utf-8")
    if args.output:
        args.output.write_bytes(data)
    else:
        _write_bytes(data)
    return 0


def _read_query_file(name: str) -> str:
    shown = _shown(name)
    try:
        if not name.strip():
            en, ja = "give a file name after @ (@query.rq)", "@ の後にファイル名を指定してください(@query.rq)"
        else:
            return Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        en, ja = f"no such file: {shown}", f"ファイル {shown} がありません"
    except IsADirectoryError:
        en, ja = (
            f"{shown} is a directory, not a query file",
            f"{shown} はディレクトリです(クエリのファイルではありません)",
        )
    except UnicodeDecodeError:
        en, ja = f"{shown} is not UTF-8 text", f"{shown} はUTF-8のテキストではありません"
    except OSError as error:
        reason = error.strerror or type(error).__name__
        en, ja = f"cannot read {shown}: {reason}", f"{shown} を読めません: {reason}"
    raise BadInput("query", {"en": f"query: @FILE: {en}", "ja": f"query: @FILE: {ja}"})


def _query_name(name: str) -> str:
    """'Guest Table', 'guest_table' and 'guest-table.rq' name the query guest-table."""
    folded = unicodedata.normalize("NFKC", name).casefold().strip().removesuffix(".rq")
    return re.sub(r"[\s_]+", "-", folded)


def _query_text(snapshot: Snapshot, given: str) -> str:
    if not given.strip():
        raise BadInput(
            "query",
            {
                "en": "query: empty; give a named query (guest-table), SPARQL text or @FILE.rq",
                "ja": "query: 空です。名前付きクエリ(guest-table)、SPARQLの本文、@FILE.rq のどれかを指定してください",
            },
        )
    if given.startswith("@"):
        return _read_query_file(given[1:])
    named = snapshot.queries.get(given) or snapshot.queries.get(_query_name(given))
    if named is not None:
        return named
    if not _QUERY_NAME.fullmatch(given):
        return given
    # a word with no braces is meant as a name: say which names there are, the closest first
    names = sorted(snapshot.queries)
    close = difflib.get_close_matches(_query_name(given), names, n=3, cutoff=0.5)
    listed = ", ".join(n for n in names if not n.endswith("-violation"))
    guess_en = f"; did you mean {' or '.join(close)}?" if close else ""
    guess_ja = f"。もしかして: {'、'.join(close)}" if close else ""
    raise BadInput(
        "query",
        {
            "en": f"query: no named query is called {_shown(given)}{guess_en}\n"
            f"  named queries: {listed} (or SPARQL text, or @FILE.rq)",
            "ja": f"query: {_shown(given)} という名前付きクエリはありません{guess_ja}\n"
            f"  名前付きクエリ: {listed}(SPARQLの本文、@FILE.rq も指定できます)",
        },
    )


def _syntax_error(error: Exception) -> BadInput:
    """One line: where the parser stopped (line, column, the text there) and what it expected."""
    from pyparsing import ParseBaseException

    if isinstance(error, ParseBaseException):
        near = error.line[max(error.col - 1, 0) :].strip()[:40] or "(end)"
        expected = " ".join(str(error.msg).split())[:200]
        return BadInput(
            "query",
            {
                "en": f"query: SPARQL syntax error at line {error.lineno}, column {error.col}, near {near!r}: "
                f"{expected}",
                "ja": f"query: SPARQLの構文エラー({error.lineno}行{error.col}桁目、{near!r} の付近): {expected}",
            },
        )
    detail = " ".join(str(error).split())[:200] or type(error).__name__
    return BadInput(
        "query",
        {
            "en": f"query: not a valid SPARQL query: {detail}",
            "ja": f"query: SPARQLのクエリとして正しくありません: {detail}",
        },
    )


def _refused(refusal: Refused) -> BadInput:
    """The gate's refusal as this command words it: a syntax error by its line and column, else as said."""
    from pyparsing import ParseBaseException

    if isinstance(refusal.cause, ParseBaseException):
        return _syntax_error(refusal.cause)
    return BadInput("query", {"en": f"query: {refusal.english}", "ja": f"query: {refusal.japanese}"})


def cmd_query(args: argparse.Namespace) -> int:
    from server.sparql.gate import inspect
    from server.sparql.guard import allow_deep_queries, lock_rdflib, mend_rdflib
    from server.sparql.lexer import Refused

    snapshot = _snapshot(args)
    source = _query_text(snapshot, args.query)
    lock_rdflib()  # whatever slipped past the gate, rdflib here fetches nothing either
    mend_rdflib()
    allow_deep_queries()
    try:
        # the endpoint's own gate: updates, SERVICE anywhere and deep nesting refused on the parse, not the text
        gated = inspect(source, prefixes=dict(snapshot.graph.namespaces()))
    except Refused as refusal:
        raise _refused(refusal) from None
    try:
        # rdflib evaluates the gate's parse: the text itself goes to no engine, not even the graph's store
        result = snapshot.graph.query(gated.query, use_store_provided=False)
        form = "turtle" if result.type in ("CONSTRUCT", "DESCRIBE") else "json"
        data = result.serialize(format=form)
    except Exception as error:
        detail = " ".join(str(error).split())[:200] or type(error).__name__
        raise BadInput(
            "query",
            {
                "en": f"query: the query could not be run: {detail}",
                "ja": f"query: クエリを実行できませんでした: {detail}",
            },
        ) from None
    if data is not None:
        _write_bytes(data if form == "turtle" else data + b"\n")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.ops.config import Config
    from server.ops.http_limits import BoundedHttpToolsProtocol, HTTPLimits
    from server.ops.logs import uvicorn_log_config
    from server.ops.supervisor import metrics_directory, pid_file

    if args.data:
        os.environ["HVKG_DATA"] = str(args.data.resolve())
    config = Config.from_env()  # a bad HVKG_* value stops here, with a message naming it (exit 2)
    HTTPLimits.from_env()  # and so does a bad HTTP limit, before any worker starts
    # the pid file is removed on a clean exit (a killed server's is replaced); with several workers, one
    # directory where each worker's metrics are written and every scrape sums them (prometheus_client)
    with pid_file(config.pid_file), metrics_directory(args.workers):
        uvicorn.run(
            "server.main:app",
            host=args.host,
            port=args.port,
            workers=args.workers,
            # request heads bounded in size and time, clients that do not read disconnected (server.ops.http_limits)
            http=BoundedHttpToolsProtocol,
            log_config=uvicorn_log_config(config),
            log_level=config.log_level,
            timeout_graceful_shutdown=30,
            # a new worker loads and validates the graph before it counts as started; give a busy machine time
            timeout_worker_healthcheck=60,
        )
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from server.web.docs import write_site

    written = write_site(_snapshot(args), args.out, args.lang)
    print(f"wrote {len(written)} files to {args.out}")
    return 0


def cmd_reload(args: argparse.Namespace) -> int:
    from server.ops.reload import signal_reload

    return signal_reload(args.pid)


COMMANDS = {
    "serve": cmd_serve,
    "validate": cmd_validate,
    "export": cmd_export,
    "check": cmd_check,
    "path": cmd_path,
    "query": cmd_query,
    "docs": cmd_docs,
    "reload": cmd_reload,
}


# ---- errors and the closed pipe ---------------------------------------------------------------------------


def _print_error(message: Text, lang: str, argument: str | None = None) -> None:
    """`error: --sp: ...`: the option as typed here, where graph/ names the contract's argument."""
    said = text(message, lang)
    if argument:
        option = OPTIONS.get(argument, argument)
        if said.startswith(f"{argument}:"):
            said = option + said[len(argument) :]
        elif not said.startswith(option):
            said = f"{option}: {said}"
    print(f"{word('error', lang)}: {said}", file=sys.stderr)


def _stdout_to_devnull() -> None:
    """The reader is gone: send what is still buffered, and the interpreter's last flush, nowhere, so that
    Python prints no "Exception ignored ... BrokenPipeError" on the way out."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is no file (a test's capture): nothing will be flushed to a pipe


def _run(args: argparse.Namespace) -> int:
    lang = _lang(args)
    try:
        return COMMANDS[args.command](args)
    except BrokenPipeError:
        raise  # an OSError, but not bad input: main() ends quietly
    except InvalidGraph as error:
        print(word("invalid_graph", lang), file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except BadInput as error:
        _print_error(error.message, lang, error.argument)
        return EXIT_BAD_INPUT
    except (OSError, ValueError) as error:
        detail = " ".join(str(error).split())[:500]
        _print_error({"en": detail, "ja": detail}, lang)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(word("interrupted", lang), file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        if os.environ.get("HVKG_DEBUG"):
            raise
        # a bug: one line saying so, never a traceback in a user's terminal
        detail = " ".join(f"{type(error).__name__}: {error}".split())[:300]
        print(f"{word('internal_error', lang)}\n  {detail}", file=sys.stderr)
        return EXIT_BUG


def _checked_base(args: argparse.Namespace) -> int:
    """EXIT_BAD_INPUT, saying why, when HVKG_BASE_IRI cannot be a base (graph.layout fell back on the default
    so that importing could not fail); 0 when it is usable or unset."""
    from graph.layout import BaseIRIError, base_iri

    try:
        base_iri()
    except BaseIRIError as error:
        message = str(error)
        english, _, japanese = message.partition(" / ")
        _print_error({"en": english, "ja": japanese or english}, _lang(args))
        return EXIT_BAD_INPUT
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            args = _parser().parse_args(argv)
        finally:
            sys.stdout.flush()  # `hvkg --help | head -0`: the closed pipe shows here, where it is caught
        code = _checked_base(args) or _run(args)
        sys.stdout.flush()  # and here, not in the interpreter's final flush, which could only complain
    except BrokenPipeError:
        _stdout_to_devnull()
        return EXIT_CLOSED_PIPE
    return code


if __name__ == "__main__":
    sys.exit(main())
