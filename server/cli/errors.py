"""Exit statuses and errors: one or two lines on stderr, in the language of `--lang`, never a traceback.

Exit status: 0 on success / supported, 1 when not supported / invalid graph / nothing found, 2 on bad input (an
unknown name or id, a service pack that is not one, an empty search, a SPARQL syntax error, a missing @file,
an option argparse refuses), 130 on Ctrl-C, 70 on a bug.

A closed pipe (`hvkg export | head -1`) ends quietly with exit status 141, what a shell reports for a program
that SIGPIPE stopped: `set -o pipefail` scripts still see that the output was cut, and no status that means
"supported" or "not supported" is given for an answer that was not read whole.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from graph.model import BadInput, Text, text
from graph.problems import InvalidGraph
from server.cli.text import word

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
    "text": "TEXT",
    "first": "--first",
    "id": "ID",
}


def lang_of(args: argparse.Namespace) -> str:
    return "ja" if getattr(args, "lang", "en") == "ja" else "en"


def print_error(message: Text, lang: str, argument: str | None = None) -> None:
    """`error: --sp: ...`: the option as typed here, where graph/ names the contract's argument."""
    said = text(message, lang)
    if argument:
        option = OPTIONS.get(argument, argument)
        if said.startswith(f"{argument}:"):
            said = option + said[len(argument) :]
        elif not said.startswith(option):
            said = f"{option}: {said}"
    print(f"{word('error', lang)}: {said}", file=sys.stderr)


def run(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """The command's exit status; every error it raises as its status and a message."""
    lang = lang_of(args)
    try:
        return command(args)
    except BrokenPipeError:
        raise  # an OSError, but not bad input: main() ends quietly
    except InvalidGraph as error:
        print(word("invalid_graph", lang), file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    except BadInput as error:
        print_error(error.message, lang, error.argument)
        return EXIT_BAD_INPUT
    except (OSError, ValueError) as error:
        detail = " ".join(str(error).split())[:500]
        print_error({"en": detail, "ja": detail}, lang)
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


def checked_base(args: argparse.Namespace) -> int:
    """EXIT_BAD_INPUT, saying why, when HVKG_BASE_IRI cannot be a base (graph.layout fell back on the default
    so that importing could not fail); 0 when it is usable or unset."""
    from graph.layout import BaseIRIError, base_iri

    try:
        base_iri()
    except BaseIRIError as error:
        english, _, japanese = str(error).partition(" / ")
        print_error({"en": english, "ja": japanese or english}, lang_of(args))
        return EXIT_BAD_INPUT
    return 0


def stdout_to_devnull() -> None:
    """The reader is gone: send what is still buffered, and the interpreter's last flush, nowhere, so that
    Python prints no "Exception ignored ... BrokenPipeError" on the way out."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is no file (a test's capture): nothing will be flushed to a pipe
