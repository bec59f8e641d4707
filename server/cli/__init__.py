"""`hvkg`, the command line: the graph's questions as tables (licensing, storage, unsupported, features,
search, node), compatibility checks and paths, SPARQL, exports, validation, the docs site and the service.

It sits at the top of the code, beside server/app.py: it may import graph/ (the question functions), server.ops
and the adapters (server.sparql's gate for `query`, server.web for `docs`); nothing imports it. Its rooms:
- parser.py: the commands and options, help_text.py: the words of `--help`, text.py: the words it prints;
- reading.py: input as people type it; errors.py: exit statuses and error messages; tables.py: rendering;
- one module per group of commands: check.py, paths.py, listings.py (licensing, storage, unsupported,
  features), lookup.py (search, node), query.py, export.py, data.py (validate), site.py (docs),
  service.py (serve, reload, publish).

Exit status: 0 on success / supported, 1 when not supported / invalid graph / nothing found, 2 on bad input,
130 on Ctrl-C, 141 when the reader of a pipe stops early, 70 on a bug (server/cli/errors.py). `--lang ja`
prints Japanese throughout, `--help` included; `--json` gives a question's answer to scripts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from server.cli.check import cmd_check
from server.cli.data import cmd_validate
from server.cli.errors import EXIT_BAD_INPUT, EXIT_CLOSED_PIPE, checked_base, run, stdout_to_devnull
from server.cli.export import cmd_export
from server.cli.listings import cmd_features, cmd_licensing, cmd_storage, cmd_unsupported
from server.cli.lookup import cmd_node, cmd_search
from server.cli.parser import parse
from server.cli.paths import cmd_path
from server.cli.query import cmd_query
from server.cli.reading import NO_SERVICE_PACK, parse_service_pack
from server.cli.service import cmd_publish, cmd_reload, cmd_serve
from server.cli.site import cmd_docs

__all__ = ["EXIT_BAD_INPUT", "NO_SERVICE_PACK", "main", "parse_service_pack"]

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "licensing": cmd_licensing,
    "storage": cmd_storage,
    "unsupported": cmd_unsupported,
    "features": cmd_features,
    "search": cmd_search,
    "node": cmd_node,
    "check": cmd_check,
    "path": cmd_path,
    "query": cmd_query,
    "validate": cmd_validate,
    "export": cmd_export,
    "docs": cmd_docs,
    "serve": cmd_serve,
    "reload": cmd_reload,
    "publish": cmd_publish,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            args = parse(sys.argv[1:] if argv is None else list(argv))
        finally:
            sys.stdout.flush()  # `hvkg --help | head -0`: the closed pipe shows here, where it is caught
        code = checked_base(args) or run(COMMANDS[args.command], args)
        sys.stdout.flush()  # and here, not in the interpreter's final flush, which could only complain
    except BrokenPipeError:
        stdout_to_devnull()
        return EXIT_CLOSED_PIPE
    return code
