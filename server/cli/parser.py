"""The command line's grammar: every command, its options, what each means and the choices it takes.

Each command has a one-line help (listed by `hvkg --help`), a description and examples (`hvkg COMMAND --help`);
each option a help text that names its choices and default from the option itself (`%(choices)s`). The words
are server/cli/help_text.py's, in the language of `--lang` when it is given on the command line: `hvkg storage
--help --lang ja` explains itself in Japanese, and argparse's own words and errors are put into Japanese too
(server/cli/text.py, ARGPARSE_JA), for the time the parser is built and run.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from graph.model import text
from graph.rdf_export import FORMATS
from server.cli.help_text import EXAMPLES, HELP
from server.cli.text import ARGPARSE_JA

if TYPE_CHECKING:
    # what add_subparsers() returns
    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

LANGS = ("en", "ja")
MODES = ("synthetic", "emulated")
ROLES = ("guest", "host")
DOCS_LANGS = ("ja", "en", "both")
# the commands whose first example `hvkg --help` shows
TOP_EXAMPLES = ("licensing", "storage", "unsupported", "features", "search", "node", "check", "query")


def requested_lang(argv: Sequence[str]) -> str:
    """The language `--lang` asks for on this command line (the last one given), before argparse reads it."""
    lang = "en"
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            lang = argv[i + 1]
        elif arg.startswith("--lang="):
            lang = arg.partition("=")[2]
    return "ja" if lang == "ja" else "en"


@contextmanager
def argparse_words(lang: str) -> Iterator[None]:
    """argparse's own words ("usage:", "error:", "invalid choice") in the language asked, while it runs."""
    original: Callable[[str], str] = getattr(argparse, "_")  # noqa: B009  # argparse's gettext, not public
    if lang != "ja":
        yield
        return

    def translated(message: str) -> str:
        return ARGPARSE_JA.get(message) or original(message)

    setattr(argparse, "_", translated)  # noqa: B010
    try:
        yield
    finally:
        setattr(argparse, "_", original)  # noqa: B010


class _Formatter(argparse.HelpFormatter):
    """A description (one paragraph) is wrapped to the terminal; the examples keep their lines."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


@dataclass(frozen=True)
class _Words:
    """The help texts in one language, and the pieces every command is made of."""

    lang: str

    def say(self, key: str) -> str:
        return text(HELP[key], self.lang)

    def examples(self, lines: Sequence[str]) -> str:
        return self.say("examples") + "\n" + "\n".join(f"  {line}" for line in lines)

    def command(self, parent: Commands, name: str, help_key: str | None = None) -> argparse.ArgumentParser:
        """A command with its one-line help, its description and its examples (check's kinds share check's)."""
        described = name if help_key is None else "check"
        parser: argparse.ArgumentParser = parent.add_parser(
            name,
            help=self.say(help_key or name),
            description=self.say(f"{described}.description"),
            epilog=self.examples(EXAMPLES[described]),
            formatter_class=_Formatter,
        )
        return parser

    def lang_option(self, parser: argparse.ArgumentParser, json: str | None = None) -> None:
        parser.add_argument("--lang", choices=LANGS, default="en", metavar="LANG", help=self.say("lang"))
        if json is not None:
            parser.add_argument("--json", action="store_true", help=self.say(json))


def _questions(sub: Commands, w: _Words) -> None:
    """The questions of the GraphQL API, as tables."""
    w.lang_option(w.command(sub, "licensing"), "json")

    storage = w.command(sub, "storage")
    storage.add_argument("--product", default="hyper-v", metavar="PRODUCT", help=w.say("product"))
    w.lang_option(storage, "json")

    unsupported = w.command(sub, "unsupported")
    unsupported.add_argument("--product", default=None, metavar="PRODUCT", help=w.say("unsupported_product"))
    unsupported.add_argument("--role", choices=ROLES, default=None, metavar="ROLE", help=w.say("role"))
    w.lang_option(unsupported, "json")

    features = w.command(sub, "features")
    features.add_argument("--product", default=None, metavar="PRODUCT", help=w.say("features_product"))
    w.lang_option(features, "json")

    search = w.command(sub, "search")
    search.add_argument("text", nargs="+", metavar="TEXT", help=w.say("search_text"))
    search.add_argument("--first", type=int, default=20, metavar="N", help=w.say("first"))
    w.lang_option(search, "json")

    node = w.command(sub, "node")
    node.add_argument("id", metavar="ID", help=w.say("node_id"))
    w.lang_option(node, "json")


def _check(sub: Commands, w: _Words) -> None:
    """Verdicts: check guest, check host."""
    kinds = w.command(sub, "check").add_subparsers(dest="kind", required=True, metavar="KIND", help=w.say("kind"))
    guest = w.command(kinds, "guest", "check_guest")
    guest.add_argument("--product", default="hyper-v", metavar="PRODUCT", help=w.say("product"))
    guest.add_argument("--os", required=True, metavar="NAME", help=w.say("os"))
    guest.add_argument("--edition", default=None, metavar="EDITION", help=w.say("guest_edition"))
    guest.add_argument("--sp", default="0", metavar="SP", help=w.say("sp"))
    guest.add_argument("--arch", required=True, metavar="ARCH", help=w.say("arch"))
    guest.add_argument("--vcpus", default="1", metavar="N", help=w.say("vcpus"))
    w.lang_option(guest)
    host = w.command(kinds, "host", "check_host")
    host.add_argument("--product", default="hyper-v", metavar="PRODUCT", help=w.say("product"))
    host.add_argument("--os", required=True, metavar="NAME", help=w.say("os"))
    host.add_argument("--edition", required=True, metavar="EDITION", help=w.say("host_edition"))
    host.add_argument("--arch", required=True, metavar="ARCH", help=w.say("arch"))
    host.add_argument("--installation", default="full", metavar="MODE", help=w.say("installation"))
    w.lang_option(host)


def _graph(sub: Commands, w: _Words) -> None:
    """Paths and SPARQL."""
    path = w.command(sub, "path")
    path.add_argument("source", nargs="?", metavar="FROM", help=w.say("from"))
    path.add_argument("target", nargs="?", metavar="TO", help=w.say("to"))
    path.add_argument("--product", default=None, metavar="PRODUCT", help=w.say("path_product"))
    path.add_argument("--mode", type=str.lower, choices=MODES, default=None, metavar="MODE", help=w.say("mode"))
    path.add_argument("--undirected", action="store_true", help=w.say("undirected"))
    w.lang_option(path)

    query = w.command(sub, "query")
    query.add_argument("query", metavar="QUERY", help=w.say("query_text"))
    w.lang_option(query, "query_json")


def _data(sub: Commands, w: _Words) -> None:
    """The data and the service: validate, export, docs, serve, reload, publish."""
    w.lang_option(w.command(sub, "validate"))

    export = w.command(sub, "export")
    export.add_argument("--format", choices=FORMATS, default="turtle", metavar="FORMAT", help=w.say("export_format"))
    export.add_argument("--output", "-o", type=Path, default=None, metavar="FILE", help=w.say("output"))

    docs = w.command(sub, "docs")
    docs.add_argument("out", type=Path, metavar="OUT", help=w.say("docs_out"))
    docs.add_argument("--lang", choices=DOCS_LANGS, default="both", metavar="LANG", help=w.say("docs_lang"))

    serve = w.command(sub, "serve")
    serve.add_argument("--host", default="127.0.0.1", metavar="ADDRESS", help=w.say("host_address"))
    serve.add_argument("--port", type=int, default=8000, metavar="PORT", help=w.say("port"))
    serve.add_argument("--workers", type=int, default=1, metavar="N", help=w.say("workers"))

    reload = w.command(sub, "reload")
    reload.add_argument("--pid", type=int, default=None, metavar="PID", help=w.say("pid"))

    publish = w.command(sub, "publish")
    publish.add_argument("url", metavar="URL", help=w.say("store_url"))
    publish.add_argument("--keep", type=int, default=None, metavar="N", help=w.say("keep"))
    w.lang_option(publish)


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    w = _Words(lang)
    parser = argparse.ArgumentParser(
        prog="hvkg",
        description=w.say("hvkg"),
        epilog=w.examples([EXAMPLES[name][0] for name in TOP_EXAMPLES]),
        formatter_class=_Formatter,
    )
    parser.add_argument("--data", type=Path, default=None, metavar="DIR", help=w.say("data"))
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help=w.say("command"))
    for add in (_questions, _check, _graph, _data):
        add(sub, w)
    return parser


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The command line read; argparse exits 2 with a message in the language asked for what it refuses."""
    lang = requested_lang(argv)
    with argparse_words(lang):
        args = build_parser(lang).parse_args(argv)
    if args.command == "search":
        args.text = " ".join(args.text)
    return args
