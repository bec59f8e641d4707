"""SPARQL result writers, ours against the libraries': `python bench/sparql_formats.py [--repeat 1000]`.

For the guest-table query's results (queries/guest-table.rq), each format is written `--repeat` times:

pyoxigraph's answer  service: server/sparql/formats.py `_ox_select_outcome` (terms read one by one, cut at the
                     row limit), the service's path when a cut is possible; pyoxigraph's own
                     `QuerySolutions.serialize(format=QueryResultsFormat.X)`. A QuerySolutions is read once, so
                     each write evaluates the query again: these figures are query to bytes, the worker's whole
                     cost (pyoxigraph evaluates lazily, while it is read).
rdflib's answer      service: `_select_outcome` on rdflib's bindings (since issue 15 rdflib's own writers for JSON
                     and CSV, through the service's rows); rdflib's own `Result.serialize(format=x)`
                     (rdflib has no TSV writer).

Then every output is read back with rdflib's result parsers and compared with the answer (CSV keeps only
lexical forms, as the format says), and one literal holding U+0001 (legal in a SPARQL string, not in XML 1.0)
is written as XML by each writer and parsed as XML. Figures in microseconds per result; the decision they
support is in docs/decisions.md ("SPARQL result writers").
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import cast
from xml.parsers.expat import ExpatError, ParserCreate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402
from rdflib import Literal, Variable  # noqa: E402
from rdflib.query import Result  # noqa: E402
from rdflib.term import Node  # noqa: E402

from graph.build import build_snapshot  # noqa: E402
from graph.snapshot import Snapshot  # noqa: E402
from server.sparql.formats import _ox_select_outcome, _select_outcome  # noqa: E402

FORMATS = ("json", "xml", "csv", "tsv")
OX_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
ROW_LIMIT = 10_000  # the service's default: the guest table is far below it, nothing is cut


def per_call_us(variants: Mapping[str, Callable[[], object]], repeat: int, rounds: int = 10) -> dict[str, float]:
    """Microseconds per call of each variant: `rounds` rounds, each running every variant repeat/rounds times
    in turn (A, B, A, B, ...), so that a busy machine slows all alike; the best round of each counts (as timeit's)."""
    each = max(1, repeat // rounds)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for run in variants.values():
        run()  # warm up
    for _ in range(rounds):
        for name, run in variants.items():
            started = time.perf_counter()
            for _ in range(each):
                run()
            times[name].append((time.perf_counter() - started) / each * 1e6)
    return {name: min(values) for name, values in times.items()}


def rows_of(body: bytes, fmt: str) -> list[dict[str, str]]:
    """The rows of a written result as {variable: term}, read back by rdflib (CSV: lexical forms only)."""
    parsed = Result.parse(io.BytesIO(body), format=fmt)
    lexical = fmt == "csv"
    return [
        {str(k): (str(v) if lexical else v.n3()) for k, v in row.items() if v is not None} for row in parsed.bindings
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=1000)
    args = parser.parse_args()
    snapshot = build_snapshot()
    store = snapshot.store
    assert store is not None, "the snapshot holds its triples in a pyoxigraph store"
    text = snapshot.queries["guest-table"]

    def solutions() -> ox.QuerySolutions:
        found = store.query(text)
        assert isinstance(found, ox.QuerySolutions)
        return found

    answer = snapshot.graph.query(text)
    variables: list[Node] = list(answer.vars or [])
    bindings = cast("list[Mapping[Node, Node]]", list(answer.bindings))
    result = Result("SELECT")
    result.vars, result.bindings = list(answer.vars or []), list(answer.bindings)
    print(f"guest-table: {len(bindings)} rows x {len(variables)} variables; {args.repeat} writes each (us per write)")
    print("pyoxigraph's answer: query to bytes; rdflib's answer: bindings to bytes")
    print(f"{'format':8}{'service(ox)':>12}{'ox own':>10}{'service(rdflib)':>17}{'rdflib own':>12}  read back alike")
    for fmt in FORMATS:
        variants: dict[str, Callable[[], bytes]] = {
            "service(ox)": lambda: _ox_select_outcome(fmt, solutions(), ROW_LIMIT).body,  # noqa: B023
            "ox": lambda: solutions().serialize(format=OX_FORMATS[fmt]) or b"",  # noqa: B023
            "service(rdflib)": lambda: _select_outcome(fmt, variables, bindings, ROW_LIMIT).body,  # noqa: B023
        }
        if fmt != "tsv":  # rdflib has no TSV writer
            variants["rdflib"] = lambda: result.serialize(format=fmt) or b""  # noqa: B023
        figures = per_call_us(variants, args.repeat)
        expected = rows_of(variants["service(rdflib)"](), fmt)
        alike = [name for name, run in variants.items() if rows_of(run(), fmt) == expected]
        rdflib_own = f"{figures['rdflib']:.0f}" if "rdflib" in figures else "-"
        service = f"{figures['service(ox)']:12.0f}{figures['ox']:10.0f}{figures['service(rdflib)']:17.0f}"
        print(f"{fmt:8}{service}{rdflib_own:>12}  " + ", ".join(alike))
    print("JSON bytes of the Japanese labels:", ", ".join(f"{k} {v}" for k, v in japanese_json(snapshot).items()))
    print("XML with U+0001 in a literal, well-formed:", ", ".join(f"{k} {v}" for k, v in control_character().items()))
    return 0


JAPANESE = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?s ?label WHERE { ?s skos:prefLabel ?label FILTER(LANG(?label) = "ja") }"""


def japanese_json(snapshot: Snapshot) -> dict[str, int]:
    """The size of each JSON writer's output for text that is mostly Japanese (rdflib escapes it as \\uXXXX)."""
    answer = snapshot.graph.query(JAPANESE)
    variables: list[Node] = list(answer.vars or [])
    bindings = cast("list[Mapping[Node, Node]]", list(answer.bindings))
    assert snapshot.store is not None
    found = snapshot.store.query(JAPANESE)
    assert isinstance(found, ox.QuerySolutions)
    return {
        "service": len(_select_outcome("json", variables, bindings, ROW_LIMIT).body),
        "ox": len(found.serialize(format=ox.QueryResultsFormat.JSON) or b""),
        "rdflib": len(answer.serialize(format="json") or b""),
    }


def control_character() -> dict[str, bool]:
    """Whether each XML writer's output parses as XML 1.0 when a literal holds U+0001."""
    value = "a\x01b"
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal(value)))
    found = store.query("SELECT ?o WHERE { ?s ?p ?o }")
    assert isinstance(found, ox.QuerySolutions)
    row: Mapping[Node, Node] = {Variable("o"): Literal(value)}
    result = Result("SELECT")
    result.vars, result.bindings = [Variable("o")], [{Variable("o"): Literal(value)}]
    bodies = {
        "service": _select_outcome("xml", [Variable("o")], [row], ROW_LIMIT).body,
        "ox": found.serialize(format=ox.QueryResultsFormat.XML) or b"",
        "rdflib": result.serialize(format="xml") or b"",
    }
    verdict = {}
    for name, body in bodies.items():
        try:
            ParserCreate().Parse(body, True)  # our own writers' output, not a stranger's
        except ExpatError:
            verdict[name] = False
        else:
            verdict[name] = True
    return verdict


if __name__ == "__main__":
    raise SystemExit(main())
