"""Rendering answers: aligned tables, numbered sources, prefixed names, and the `--json` form.

A question command builds an `Answer`: one or more `Table`s of words (headings from server/cli/text.py, cells
from the graph, in one language), the passages its rows cite, numbered in order of first use, and the same
rows as JSON-able data. `emit` prints either the tables and their sources, or the JSON.

Columns are aligned by display width: a Japanese character takes two terminal cells, so padding counts
`unicodedata.east_asian_width`, not characters. JSON is stable: indented, keys sorted, labels in both
languages (it does not change with `--lang`), UTF-8 as written.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graph.model import Citation, Named, Text
from server.cli.text import word

if TYPE_CHECKING:
    from graph.snapshot import Snapshot

GAP = "  "
RULE = "-"
# What may follow "prefix:" in a name a table shows: Turtle's PN_LOCAL kept simple (no final "."), and "/" as
# well, so that a passage of a document without a prefix of its own reads kg:doc-release-research/p-r-001-en
# (a name for people and for `hvkg node`; the RDF exports write IRIs their own way).
_LOCAL = re.compile(r"(?:[\w-](?:[\w./-]*[\w-])?)?")
_SPACES = re.compile(r"\s+")


def width(value: str) -> int:
    """Terminal cells: two for a wide (CJK) character, none for a combining mark, one otherwise."""
    cells = 0
    for char in value:
        if unicodedata.combining(char):
            continue
        cells += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return cells


def cell(value: object) -> str:
    """One line of text for a table cell: runs of white space (newlines too) become one space."""
    return _SPACES.sub(" ", str(value)).strip()


def cut(value: str, cells: int) -> str:
    """At most `cells` terminal cells, ending with … when cut."""
    if width(value) <= cells:
        return value
    out, used = "", 0
    for char in value:
        used += width(char)
        if used > cells - 1:
            break
        out += char
    return out + "…"


@dataclass(frozen=True)
class Table:
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    title: str = ""
    # the list of the answer's JSON that holds the same rows
    key: str = ""


def render(table: Table) -> list[str]:
    """The table's lines: title, headings, a rule, the rows; each column as wide as its widest cell."""
    rows = [tuple(cell(c) for c in row) for row in table.rows]
    headings = tuple(cell(h) for h in table.headings)
    widths = [max(width(r[i]) for r in (headings, *rows)) for i in range(len(headings))]
    lines = [table.title] if table.title else []

    def line(values: Sequence[str]) -> str:
        padded = [v + " " * (w - width(v)) for v, w in zip(values, widths, strict=True)]
        return GAP.join(padded).rstrip()

    lines.append(line(headings))
    lines.append(GAP.join(RULE * w for w in widths))
    lines.extend(line(r) for r in rows)
    return lines


class Prefixes:
    """IRIs as prefixed names of the graph's own prefixes (kg:vhd, hv:asOf, article:p-lic-01)."""

    def __init__(self, namespaces: Iterable[tuple[str, object]]) -> None:
        # the longest namespace first: article: (…/id/doc-article/) before kg: (…/id/)
        pairs = {str(ns): prefix for prefix, ns in namespaces if prefix}
        self.namespaces = sorted(pairs.items(), key=lambda item: (-len(item[0]), item[1]))

    @classmethod
    def of(cls, snapshot: Snapshot) -> Prefixes:
        return cls(snapshot.graph.namespaces())

    def name(self, iri: str) -> str:
        for namespace, prefix in self.namespaces:
            if iri.startswith(namespace) and _LOCAL.fullmatch(iri[len(namespace) :]):
                return f"{prefix}:{iri[len(namespace) :]}"
        return f"<{iri}>"


@dataclass
class Sources:
    """The passages an answer cites, numbered in order of first use."""

    prefixes: Prefixes
    cited: dict[str, tuple[int, Citation]] = field(default_factory=dict)

    def ref(self, evidence: Iterable[Citation]) -> str:
        """`1,2`: the numbers of these passages (numbering the new ones)."""
        numbers = []
        for citation in evidence:
            if citation.iri not in self.cited:
                self.cited[citation.iri] = (len(self.cited) + 1, citation)
            numbers.append(self.cited[citation.iri][0])
        return ",".join(str(n) for n in sorted(set(numbers)))

    def lines(self, lang: str) -> list[str]:
        if not self.cited:
            return []
        lines = [word("sources_title", lang)]
        for number, citation in self.cited.values():
            where = f" — {citation.section}" if citation.section else ""
            lines.append(f"[{number}] {self.prefixes.name(citation.iri)}{where}")
            lines.append(f"    「{cell(citation.quote)}」")
        return lines


@dataclass(frozen=True)
class Answer:
    tables: tuple[Table, ...]
    sources: Sources
    data: Any
    # said after the tables when they have no rows at all (exit status 1)
    empty: str = ""


def emit(answer: Answer, as_json: bool, lang: str) -> int:
    """Print the answer; 1 when it has no rows (the JSON is then an empty list), else 0."""
    found = any(t.rows for t in answer.tables)
    if as_json:
        write(dump(answer.data))
        return 0 if found else 1
    blocks = [render(t) for t in answer.tables if t.rows]
    if not found:
        blocks = [[answer.empty or word("no_rows", lang)]]
    sources = answer.sources.lines(lang)
    if sources:
        blocks.append(sources)
    write("\n\n".join("\n".join(b) for b in blocks) + "\n")
    return 0 if found else 1


def write(value: str) -> None:
    """Text as UTF-8 whatever the terminal's locale (the graph is Japanese and English)."""
    sys.stdout.flush()
    sys.stdout.buffer.write(value.encode("utf-8"))


def write_bytes(data: bytes) -> None:
    """RDF and SPARQL results are UTF-8 whatever the terminal's locale: write them as bytes."""
    sys.stdout.flush()
    sys.stdout.buffer.write(data)


def dump(data: Any) -> str:
    """Stable, pretty JSON: the same answer gives the same bytes."""
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


# ---- the JSON form of the graph's records (names as the GraphQL API spells them) ----------------------------


def labels(value: Text | None) -> dict[str, str] | None:
    return None if value is None else {lang: value[lang] for lang in sorted(value)}


def citation_json(citation: Citation) -> dict[str, Any]:
    return {
        "iri": citation.iri,
        "quote": citation.quote,
        "section": citation.section,
        "document": citation.document,
        "documentIri": citation.document_iri,
        "asOf": citation.as_of,
    }


def evidence_json(evidence: Iterable[Citation]) -> list[dict[str, Any]]:
    return [citation_json(c) for c in evidence]


def named_json(named: Named) -> dict[str, Any]:
    return {"id": named.id, "iri": named.iri, "label": labels(named.label)}
