"""`hvkg`: serve, validate, export, check, path, query. Exit 0 on success / supported, 1 when not, 2 on bad input."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from graph.layout import DataLayout
from graph.model import (
    Architecture,
    ArchitecturePath,
    BadInput,
    Citation,
    InstallationMode,
    IoMode,
    Reason,
    text,
)
from graph.problems import InvalidGraph
from graph.snapshot import Snapshot, build_snapshot

EXPORT_FORMATS = {"turtle": "turtle", "json-ld": "json-ld", "nt": "nt", "xml": "xml"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hvkg", description="The Hyper-V knowledge graph (2008-08).")
    parser.add_argument("--data", type=Path, default=None, help="the project root holding ontology/, graph/, queries/")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="start the service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)

    sub.add_parser("validate", help="load and validate the graph; exit 1 on any violation")

    export = sub.add_parser("export", help="write the whole graph")
    export.add_argument("--format", choices=sorted(EXPORT_FORMATS), default="turtle")
    export.add_argument("--output", "-o", type=Path, default=None)

    check = sub.add_parser("check", help="a compatibility verdict with its reasons and quotes")
    kinds = check.add_subparsers(dest="kind", required=True)
    guest = kinds.add_parser("guest")
    guest.add_argument("--product", default="hyper-v")
    guest.add_argument("--os", required=True)
    guest.add_argument("--edition", default=None)
    guest.add_argument("--sp", type=int, default=0)
    guest.add_argument("--arch", required=True, type=str.lower, choices=["x86", "x64"])
    guest.add_argument("--vcpus", type=int, default=1)
    guest.add_argument("--lang", choices=["en", "ja"], default="en")
    host = kinds.add_parser("host")
    host.add_argument("--product", default="hyper-v")
    host.add_argument("--os", required=True)
    host.add_argument("--edition", required=True)
    host.add_argument("--arch", required=True, type=str.lower, choices=["x86", "x64"])
    host.add_argument("--installation", type=str.lower, choices=["full", "server-core"], default="full")
    host.add_argument("--lang", choices=["en", "ja"], default="en")

    path = sub.add_parser("path", help="the hops between two components, or a product's I/O path")
    path.add_argument("source", nargs="?")
    path.add_argument("target", nargs="?")
    path.add_argument("--product", default=None)
    path.add_argument("--mode", type=str.lower, choices=["synthetic", "emulated"], default="synthetic")
    path.add_argument("--lang", choices=["en", "ja"], default="en")

    query = sub.add_parser("query", help="run a SPARQL query (text, or @file, or a named query of queries/)")
    query.add_argument("query")

    docs = sub.add_parser("docs", help="write the static documentation site")
    docs.add_argument("out", type=Path)
    docs.add_argument("--lang", choices=["ja", "en", "both"], default="both")

    reload = sub.add_parser("reload", help="ask a running server to load the data again (SIGHUP)")
    reload.add_argument("--pid", type=int, default=None, help="the server's process id (default: its pid file)")
    return parser


def _snapshot(args: argparse.Namespace) -> Snapshot:
    return build_snapshot(DataLayout(args.data) if args.data else DataLayout())


def _print_citations(evidence: Sequence[Citation], indent: str = "    ") -> None:
    for citation in evidence:
        where = f" ({citation.section})" if citation.section else ""
        print(f"{indent}「{citation.quote}」{where}")
        print(f"{indent}  — {citation.document} <{citation.iri}>")


def _print_reasons(reasons: Sequence[Reason], lang: str) -> None:
    for reason in reasons:
        print(f"  {reason.code.name}: {text(reason.message, lang)}")
        _print_citations(reason.evidence)


def _print_path(found: ArchitecturePath, lang: str) -> None:
    print(" → ".join(text(c.label, lang) for c in found.components))
    for hop in found.hops:
        print(f"  {text(hop.source.label, lang)} —[{text(hop.relation, lang)}]→ {text(hop.target.label, lang)}")
        _print_citations(hop.evidence, "      ")


def cmd_check(args: argparse.Namespace) -> int:
    from graph.verdicts import check_guest, check_host

    snapshot = _snapshot(args)
    yes, no = ("supported", "not supported") if args.lang == "en" else ("サポート対象", "サポート対象外")
    if args.kind == "guest":
        verdict = check_guest(
            snapshot, args.product, args.os, args.edition, args.sp, Architecture(args.arch), args.vcpus
        )
        print(yes if verdict.supported else no)
        if verdict.max_virtual_processors is not None:
            label = "max virtual processors" if args.lang == "en" else "最大プロセッサ数"
            print(f"  {label}: {verdict.max_virtual_processors}")
        label = "integration services" if args.lang == "en" else "統合サービス"
        print(f"  {label}: {'yes' if verdict.integration_services else 'no'}")
        _print_reasons(verdict.reasons, args.lang)
        if verdict.io_path.components:
            print("I/O path:" if args.lang == "en" else "I/O経路:")
            _print_path(verdict.io_path, args.lang)
        return 0 if verdict.supported else 1
    mode = InstallationMode.FULL if args.installation == "full" else InstallationMode.SERVER_CORE
    host_verdict = check_host(snapshot, args.product, args.os, args.edition, Architecture(args.arch), mode)
    print(yes if host_verdict.supported else no)
    _print_reasons(host_verdict.reasons, args.lang)
    return 0 if host_verdict.supported else 1


def cmd_path(args: argparse.Namespace) -> int:
    from graph.catalog import require_product
    from graph.paths import io_path, path

    snapshot = _snapshot(args)
    if args.source and args.target:
        found = path(snapshot, args.source, args.target)
    elif args.product and not args.source:
        product = require_product(snapshot, args.product)
        found = io_path(snapshot, product.id, IoMode[args.mode.upper()])
    else:
        raise BadInput(
            "path",
            {"en": "give FROM and TO, or --product (and --mode)", "ja": "FROMとTO、または--productを指定"},
        )
    if found is None:
        print("no path" if args.lang == "en" else "経路なし")
        return 1
    _print_path(found, args.lang)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    # validate always means validating: never read a cached snapshot here
    snapshot = build_snapshot(DataLayout(args.data) if args.data else DataLayout(), cache_dir=None)
    tables = snapshot.tables
    print(f"valid: {snapshot.triple_count} triples, content hash {snapshot.content_hash[:16]}")
    print(
        f"  guest rows {len(tables.guest_rows)}, host rows {len(tables.host_rows)}, "
        f"licence rows {len(tables.license_rows)}, storage formats {len(tables.storage_formats)}, "
        f"components {len(tables.components)}, relations {len(tables.relations)}"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    snapshot = _snapshot(args)
    data = snapshot.graph.serialize(format=EXPORT_FORMATS[args.format])
    if args.output:
        args.output.write_text(data, encoding="utf-8")
    else:
        sys.stdout.write(data)
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    snapshot = _snapshot(args)
    source: str = args.query
    if source.startswith("@"):
        source = Path(source[1:]).read_text(encoding="utf-8")
    elif source in snapshot.queries:
        source = snapshot.queries[source]
    result = snapshot.graph.query(source)
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        sys.stdout.write(result.serialize(format="turtle").decode("utf-8"))  # type: ignore[union-attr]
    else:
        sys.stdout.write(result.serialize(format="json").decode("utf-8"))  # type: ignore[union-attr]
        print()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from server.config import Config
    from server.logs import uvicorn_log_config

    if args.data:
        os.environ["HVKG_DATA"] = str(args.data.resolve())
    config = Config.from_env()  # a bad HVKG_* value stops here, with a message naming it (exit 2)
    uvicorn.run(
        "server.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=uvicorn_log_config(config),
        log_level=config.log_level,
        timeout_graceful_shutdown=30,
        # a new worker loads and validates the graph before it counts as started; give a busy machine time
        timeout_worker_healthcheck=60,
    )
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from server.docs import write_site

    written = write_site(_snapshot(args), args.out, args.lang)
    print(f"wrote {len(written)} files to {args.out}")
    return 0


def cmd_reload(args: argparse.Namespace) -> int:
    from server.reload import signal_reload

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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InvalidGraph as error:
        print("INVALID: the graph is not served.", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except BadInput as error:
        print(f"error: {error.message['en']}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as error:
        print(f"error: {' '.join(str(error).split())[:500]}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
