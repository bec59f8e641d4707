"""Every command the README shows after `$ ` runs as pasted, against a live server, and prints what it shows.

A README example once failed when pasted (a JSON body spanning lines); the tests knew the forms they were written
for, not the README. Here the README is the test's input: each `$ ` line of a ```console or ```sh block (with
its `\\` continuation lines) runs in bash from the checkout's root, with the README's address (localhost:8000,
127.0.0.1:8000) swapped for a live server's. The lines shown under a command, up to a `...` line, must be the
first lines it prints (JSON compared as JSON, since the README wraps it); a command shown answering "not supported"
must exit 1 (the README's exit-status table), every other 0; no command may print a traceback.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from graph.layout import ROOT
from server.app import create_app
from tests.live import serve

README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\s*$")
ADDRESS = re.compile(r"\b(?:localhost|127\.0\.0\.1):8000\b")
SHELL_BLOCKS = {"console", "sh", "shell", "bash"}


@dataclass(frozen=True)
class Example:
    line: int  # where the command starts in README.md, for the failure message
    command: str
    shown: tuple[str, ...]  # the lines the README shows it printing, up to a "..." line


def examples(text: str) -> list[Example]:
    """The `$ ` commands of the README's shell blocks, each with the lines shown after it."""
    found: list[Example] = []
    block: str | None = None
    command: list[str] = []
    start = 0
    shown: list[str] = []
    cut = False

    def close() -> None:
        if command:
            found.append(Example(start, "\n".join(command), tuple(shown)))

    for number, line in enumerate(text.splitlines(), start=1):
        fence = FENCE.match(line)
        if fence:
            if block is None:
                block = fence.group(1)
                command, shown, cut = [], [], False
            else:
                close()
                block, command = None, []
            continue
        if block not in SHELL_BLOCKS:
            continue
        if line.startswith("$ "):
            close()
            command, shown, cut, start = [line[2:]], [], False, number
        elif command and command[-1].endswith("\\") and not shown:
            command.append(line)
        elif command and not cut:
            if line.strip() == "...":
                cut = True
            else:
                shown.append(line.rstrip())
    return found


EXAMPLES = examples(README.read_text(encoding="utf-8"))


def test_the_readme_shows_commands_to_run() -> None:
    """The reader's first examples: the CLI, GraphQL and SPARQL each have at least one."""
    commands = [e.command for e in EXAMPLES]
    assert len(commands) >= 10
    assert any("hvkg check guest" in c for c in commands)
    assert any("/graphql" in c for c in commands)
    assert any("/sparql" in c for c in commands)


def test_examples_are_read_with_their_continuations_and_output() -> None:
    """The reader of the README itself: a continued command is one command; shown lines stop at `...`."""
    text = "```console\n$ echo a \\\n  b\nshown\n...\nnot shown\n$ true\n```\n```python\n$ not a command\n```\n"
    assert examples(text) == [Example(2, "echo a \\\n  b", ("shown",)), Example(7, "true", ())]


@pytest.fixture(scope="module")
def live() -> Iterator[str]:
    with serve(create_app()) as base:
        yield base


def expected_status(example: Example) -> int:
    return 1 if example.shown and example.shown[0].startswith("not supported") else 0


def same_output(shown: tuple[str, ...], printed: str) -> bool:
    if shown[0].lstrip().startswith(("{", "[")):
        return bool(json.loads("".join(shown)) == json.loads(printed))
    return printed.splitlines()[: len(shown)] == list(shown)


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"README.md:{e.line}" for e in EXAMPLES])
def test_the_readme_command_runs_as_pasted(example: Example, live: str) -> None:
    command = ADDRESS.sub(live.removeprefix("http://"), example.command)
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    where = (
        f"README.md:{example.line}: {example.command}\nstdout: {result.stdout[-1500:]}\nstderr: {result.stderr[-1500:]}"
    )
    assert "Traceback" not in result.stderr, where
    assert result.returncode == expected_status(example), where
    assert result.stdout.strip(), where
    if example.shown:
        assert same_output(example.shown, result.stdout), where


def test_the_address_is_swapped_only_where_the_readme_names_the_service() -> None:
    assert ADDRESS.sub("127.0.0.1:1234", "curl localhost:8000/x 127.0.0.1:8000 localhost:80001") == (
        "curl 127.0.0.1:1234/x 127.0.0.1:1234 localhost:80001"
    )


def test_the_examples_file_is_one_json_document() -> None:
    """`-d @docs/examples/…` posts the file as is: it must be one JSON document, as the server reads it."""
    for path in sorted(Path(ROOT / "docs" / "examples").glob("*.json")):
        assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict), path
