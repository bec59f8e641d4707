"""The question commands (licensing, storage, unsupported, features, search, node), `hvkg query`'s table and
`--help` (issue 16).

The answers are built in process from the session's snapshot, where hypothesis can ask many of them cheaply;
a handful of commands run as the user runs them, through the `hvkg` console script, a few at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Literal, URIRef

from graph import catalog
from graph.model import BadInput, text
from graph.snapshot import Snapshot
from server.cli.listings import features_answer, licensing_answer, storage_answer, unsupported_answer
from server.cli.lookup import node_answer, search_answer
from server.cli.parser import build_parser
from server.cli.query import result_table
from server.cli.tables import Answer, Prefixes, Table, dump, render, width
from server.cli.text import WORDS

ROOT = Path(__file__).resolve().parent.parent
HVKG = str(Path(sys.executable).with_name("hvkg"))
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
LANGS = ("en", "ja")
OTHER = {"en": "ja", "ja": "en"}
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def words(lang: str) -> set[str]:
    return {w[lang] for w in WORDS.values()}


def expand(snapshot: Snapshot, name: str) -> str:
    """A prefixed name of a table back to its IRI, by the graph's own prefixes (not the code under test's)."""
    prefix, _, local = name.partition(":")
    namespaces = {p: str(ns) for p, ns in snapshot.graph.namespaces()}
    assert prefix in namespaces, name
    return namespaces[prefix] + local


def tables_in(out: str) -> list[list[list[str]]]:
    """Every table of a command's output (blocks apart by a blank line, with a rule line), read back."""
    blocks = [block.splitlines() for block in out.split("\n\n")]
    return [columns(b) for b in blocks if any(line and set(line) <= {"-", " "} for line in b)]


def columns(lines: list[str]) -> list[list[str]]:
    """The cells of a rendered table, read back by the display columns its rule line marks (a CJK character
    takes two): the headings first, then every row."""
    rule_at = next(i for i, line in enumerate(lines) if line and set(line) <= {"-", " "})
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[rule_at])]
    out = []
    for line in [lines[rule_at - 1], *lines[rule_at + 1 :]]:
        at, cells, starts = 0, [""] * len(spans), [s for s, _ in spans]
        for char in line:
            column = max(i for i, s in enumerate(starts) if s <= at)
            cells[column] += char
            at += width(char)
        out.append([c.strip() for c in cells])
    return out


# ---- the answers, in process --------------------------------------------------------------------------------


@st.composite
def answers(draw: st.DrawFn, snapshot: Snapshot) -> tuple[str, Answer]:
    lang = draw(st.sampled_from(LANGS))
    products = [p.id for p in catalog.products(snapshot)]
    kind = draw(st.sampled_from(["licensing", "storage", "unsupported", "features", "search"]))
    if kind == "licensing":
        return lang, licensing_answer(snapshot, lang)
    if kind == "storage":
        return lang, storage_answer(snapshot, draw(st.sampled_from(products)), lang)
    if kind == "unsupported":
        product = draw(st.sampled_from([None, *products]))
        return lang, unsupported_answer(snapshot, product, draw(st.sampled_from([None, "guest", "host"])), lang)
    if kind == "features":
        return lang, features_answer(snapshot, draw(st.sampled_from([None, *products])), lang)
    names = sorted({text(label, lang) for label in snapshot.tables.labels.values()})
    query = draw(st.sampled_from(names).map(lambda n: n[:20]) | st.text(min_size=1, max_size=12).filter(str.strip))
    return lang, search_answer(snapshot, query, draw(st.integers(1, 100)), lang)


@SETTINGS
@given(data=st.data())
def test_the_json_has_the_same_rows_as_the_table(snapshot: Snapshot, data: st.DataObject) -> None:
    """Every table row is one row of the JSON list its table names, in the same order, by the row's IRI."""
    lang, answer = data.draw(answers(snapshot))
    assert json.loads(dump(answer.data)) == answer.data  # plain JSON, nothing lost on the way
    for table in answer.tables:
        column = table.headings.index(WORDS["id"][lang])
        shown = [expand(snapshot, row[column]) for row in table.rows]
        assert shown == [row["iri"] for row in answer.data[table.key]]


@SETTINGS
@given(data=st.data())
def test_every_word_hvkg_prints_is_in_the_language_asked(snapshot: Snapshot, data: st.DataObject) -> None:
    """Headings and titles are the CLI's words in that language; no cell is a word of the other language."""
    lang, answer = data.draw(answers(snapshot))
    mine, others = words(lang), words(OTHER[lang]) - words(lang)
    for table in answer.tables:
        assert set(table.headings) <= mine, table.headings
        assert table.title.split(":")[0] in mine
        for row in table.rows:
            leaked = [c for c in row if c in others or c.split(":")[0] in others]
            assert not leaked, (lang, row)
    if lang == "en":
        assert not any(CJK.search(h) for t in answer.tables for h in t.headings)


@SETTINGS
@given(data=st.data())
def test_each_row_cites_passages_that_are_listed_below(snapshot: Snapshot, data: st.DataObject) -> None:
    lang, answer = data.draw(answers(snapshot))
    listed = {number for number, _ in answer.sources.cited.values()}
    for table in answer.tables:
        column = table.headings.index(WORDS["sources"][lang])
        for row in table.rows:
            cited = {int(n) for n in row[column].split(",") if n}
            assert cited <= listed
    for row in answer.data.get("licensing", []) + answer.data.get("storageFormats", []):
        assert row["evidence"], row["iri"]  # every licence row and storage format rests on a passage


@settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_guest_row_prints_in_both_languages(snapshot: Snapshot, data: st.DataObject) -> None:
    """`hvkg node` of any row of the guest table: its label in the language asked, its maximum, and the quote
    of every passage it cites."""
    row = data.draw(st.sampled_from(snapshot.tables.guest_rows))
    lang = data.draw(st.sampled_from(LANGS))
    answer = node_answer(snapshot, row.iri.rsplit("/", 1)[-1], lang)
    (table,) = answer.tables
    assert table.title.startswith(snapshot.tables.labels[row.iri][lang])
    values = [r[table.headings.index(WORDS["value"][lang])] for r in table.rows]
    assert str(row.max_virtual_processors) in values
    printed = "\n".join(answer.sources.lines(lang))
    assert all(f"「{c.quote}」" in printed for c in row.evidence)
    assert printed.startswith(WORDS["sources_title"][lang])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_node_table_shows_every_statement_but_the_other_languages_twins(
    snapshot: Snapshot, data: st.DataObject
) -> None:
    """The JSON has every statement; the table all of them except a literal in the other language beside one
    of the same property in this language (prefLabel "Hyper-V"@en beside "Hyper-V"@ja)."""
    iri = data.draw(st.sampled_from(sorted(snapshot.descriptions)))
    lang = data.draw(st.sampled_from(LANGS))
    answer = node_answer(snapshot, iri, lang)
    statements = answer.data["statements"]

    def tag(statement: dict[str, Any]) -> str | None:
        value = statement["value"]
        return next(iter(value)) if len(value) == 1 else None

    ours = {s["predicate"]["iri"] for s in statements if (t := tag(s)) and t.split("-")[0] == lang}
    kept = [s for s in statements if not ((t := tag(s)) and t.split("-")[0] != lang and s["predicate"]["iri"] in ours)]
    (table,) = answer.tables
    assert len(table.rows) == len(kept)
    column = table.headings.index(WORDS["value"][lang])
    for row, statement in zip(table.rows, kept, strict=True):
        said = statement["value"].get(lang) or next(iter(statement["value"].values()))
        assert row[column].startswith(" ".join(said.split())[:20]) or said.startswith("http"), (row, said)


def test_bad_input_says_what_in_both_languages(snapshot: Snapshot) -> None:
    builds: list[Callable[[], Answer]] = [
        lambda: node_answer(snapshot, "no-such-node", "en"),
        lambda: node_answer(snapshot, "  ", "en"),
        lambda: search_answer(snapshot, " ", 20, "en"),
        lambda: search_answer(snapshot, "VMBus", 0, "en"),
        lambda: storage_answer(snapshot, "no-such-product", "en"),
        lambda: features_answer(snapshot, "no-such-product", "en"),
    ]
    for build in builds:
        with pytest.raises(BadInput) as raised:
            build()
        message = raised.value.message
        assert message["en"] and CJK.search(message["ja"])
        assert "\n" not in message["en"] and "\n" not in message["ja"]


# ---- rendering ------------------------------------------------------------------------------------------------

cells = st.text(alphabet=st.sampled_from("ab -x仮想ハードディスク表VMBus「」"), max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5).flatmap(lambda n: st.lists(st.lists(cells, min_size=n, max_size=n), min_size=1, max_size=6)))
def test_columns_line_up_by_display_width(rows: list[list[str]]) -> None:
    """Reading a rendered table back by the columns of its rule line gives every cell back (Japanese counts
    two cells wide)."""
    headings = tuple(f"h{i}" for i in range(len(rows[0])))
    table = Table(headings, tuple(tuple(r) for r in rows))
    read = columns(render(table))
    assert read[0] == list(headings)
    assert read[1:] == [[" ".join(c.split()) for c in r] for r in rows]


def test_width_counts_wide_characters_twice() -> None:
    assert (width("VMBus"), width("仮想"), width("ｶ"), width("「x」")) == (5, 4, 1, 5)


# ---- hvkg query: prefixed names and literal values -------------------------------------------------------------

SELECTS = ["guest-table", "host-table", "licensing", "storage-formats", "features", "not-supported", "relations"]


@pytest.mark.parametrize("name", SELECTS)
def test_query_rows_print_prefixed_names_and_literal_values(snapshot: Snapshot, name: str) -> None:
    result = snapshot.graph.query(snapshot.queries[name])
    table = result_table(result, Prefixes.of(snapshot))
    rows: list[Any] = list(result)
    assert len(table.rows) == len(rows) > 0
    for shown, row in zip(table.rows, rows, strict=True):
        for cell, term in zip(shown, row, strict=True):
            if isinstance(term, URIRef):
                assert not cell.startswith("<") and expand(snapshot, cell) == str(term)
            elif isinstance(term, Literal):
                assert cell == " ".join(str(term).split())
                assert "^^" not in cell
            else:
                assert cell == ""


# ---- --help ---------------------------------------------------------------------------------------------------


def parsers(parser: argparse.ArgumentParser, path: str = "hvkg") -> list[tuple[str, argparse.ArgumentParser]]:
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.extend(parsers(child, f"{path} {name}"))
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_every_option_explains_itself_and_its_choices(lang: str) -> None:
    every = parsers(build_parser(lang))
    assert {"hvkg licensing", "hvkg storage", "hvkg unsupported", "hvkg features", "hvkg search", "hvkg node"} <= {
        p for p, _ in every
    }
    for path, parser in every:
        shown = parser.format_help()
        assert parser.description and parser.description.strip(), path
        if path != "hvkg check":
            assert parser.epilog and "  hvkg " in parser.epilog, path
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and action.help.strip(), (path, action.dest)
            for choice in action.choices or ():
                assert str(choice) in shown, (path, action.dest, choice)
        prose = (parser.description or "") + " ".join(a.help or "" for a in parser._actions)
        if lang == "en":
            assert not CJK.search(prose), path
        else:
            assert CJK.search(prose), path


# ---- the console script ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


RUNS: dict[str, list[str]] = {
    "licensing-ja": ["licensing", "--lang", "ja"],
    "licensing-json": ["licensing", "--json"],
    "storage-ja": ["storage", "--lang", "ja"],
    "node-json": ["node", "kg:vhd", "--json"],
    "search-empty-ja": ["search", " ", "--lang", "ja"],
    "search-nothing": ["search", "zqxjkvw"],
    "node-unknown": ["node", "no-such-thing"],
    "storage-unknown-ja": ["storage", "--product", "no-such-product", "--lang", "ja"],
    "query": ["query", "guest-table"],
    "query-json": ["query", "guest-table", "--json"],
    "help-ja": ["storage", "--help", "--lang", "ja"],
    "missing-text-ja": ["search", "--lang", "ja"],
}


@pytest.fixture(scope="module")
def runs(snapshot: Snapshot) -> dict[str, Run]:
    assert snapshot.triple_count  # validated and cached: the commands read the cache

    def run(argv: list[str]) -> Run:
        done = subprocess.run(
            [HVKG, *argv], cwd=ROOT, env=ENV, capture_output=True, encoding="utf-8", timeout=300, check=False
        )
        return Run(done.returncode, done.stdout, done.stderr)

    with ThreadPoolExecutor(4) as pool:  # a few at a time: the machine is shared
        return dict(zip(RUNS, pool.map(run, RUNS.values()), strict=True))


def no_traceback(run: Run) -> None:
    assert "Traceback" not in run.err + run.out, run.err


def test_the_console_script_prints_aligned_tables(runs: dict[str, Run], snapshot: Snapshot) -> None:
    run = runs["licensing-ja"]
    no_traceback(run)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == WORDS["licensing_title"]["ja"]
    table = tables_in(run.out)[0]
    assert table[0] == [WORDS[k]["ja"] for k in ("edition", "virtual_instances", "as_of", "id", "sources")]
    rows = catalog.licensing(snapshot)
    assert [r[3] for r in table[1:]] == [f"kg:{r.iri.rsplit('/', 1)[-1]}" for r in rows]
    assert [r[0] for r in table[1:]] == [r.edition.label["ja"] for r in rows]
    assert WORDS["unlimited"]["ja"] in {r[1] for r in table[1:]}
    assert f"\n{WORDS['sources_title']['ja']}\n" in run.out


def test_json_for_scripts_is_stable_and_has_the_table_rows(runs: dict[str, Run], snapshot: Snapshot) -> None:
    run = runs["licensing-json"]
    assert run.code == 0, run.err
    data = json.loads(run.out)
    assert run.out == json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    assert [r["iri"] for r in data["licensing"]] == [r.iri for r in catalog.licensing(snapshot)]
    assert all(r["evidence"] and r["edition"]["label"].keys() == {"en", "ja"} for r in data["licensing"])
    node = json.loads(runs["node-json"].out)
    assert node["node"]["iri"] == expand(snapshot, "kg:vhd")
    assert node["statements"] and all("basis" in s for s in node["statements"])


def test_the_japanese_table_is_japanese(runs: dict[str, Run]) -> None:
    run = runs["storage-ja"]
    no_traceback(run)
    assert run.code == 0, run.err
    english = words("en") - words("ja")
    tables = tables_in(run.out)
    assert len(tables) == 2  # the formats, then their prerequisites and migration notes
    printed = {c for table in tables for row in table for c in row}
    assert not printed & english
    assert {WORDS["format"]["ja"], WORDS["yes"]["ja"], WORDS["no"]["ja"]} <= printed


@pytest.mark.parametrize(
    ("name", "lang", "argument"),
    [
        ("search-empty-ja", "ja", "TEXT"),
        ("node-unknown", "en", "ID"),
        ("storage-unknown-ja", "ja", "--product"),
    ],
)
def test_bad_input_is_one_line_in_the_language_asked_and_exit_2(
    runs: dict[str, Run], name: str, lang: str, argument: str
) -> None:
    run = runs[name]
    no_traceback(run)
    assert run.code == 2
    assert run.out == ""
    assert len(run.err.strip().splitlines()) == 1, run.err
    assert run.err.startswith(f"{WORDS['error'][lang]}: {argument}: ")
    assert bool(CJK.search(run.err)) == (lang == "ja")


def test_nothing_found_is_said_and_exit_1(runs: dict[str, Run]) -> None:
    run = runs["search-nothing"]
    no_traceback(run)
    assert (run.code, run.out.strip()) == (1, WORDS["nothing_found"]["en"])


def test_query_prints_a_table_or_the_sparql_json(runs: dict[str, Run], snapshot: Snapshot) -> None:
    table, as_json = runs["query"], runs["query-json"]
    assert table.code == as_json.code == 0, table.err + as_json.err
    data = json.loads(as_json.out)
    bindings = data["results"]["bindings"]
    (read,) = tables_in(table.out)
    assert read[0] == [f"?{v}" for v in data["head"]["vars"]]
    assert len(read) - 1 == len(bindings) > 0
    assert "^^" not in table.out and "https://" not in table.out
    first = dict(zip(data["head"]["vars"], read[1], strict=True))
    assert expand(snapshot, first["row"]) == bindings[0]["row"]["value"]
    assert first["max"] == bindings[0]["max"]["value"]


def test_help_and_argparse_errors_in_japanese(runs: dict[str, Run]) -> None:
    shown = runs["help-ja"]
    assert shown.code == 0, shown.err
    assert shown.out.startswith("使い方: hvkg storage")
    assert "--product PRODUCT" in shown.out and "例:" in shown.out
    missing = runs["missing-text-ja"]
    assert missing.code == 2
    assert "次の引数を指定してください: TEXT" in missing.err
