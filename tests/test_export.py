"""`hvkg export` writes the same bytes for the same graph, in every format (issue 16).

Two runs of the console script per format, in separate processes with different PYTHONHASHSEED: one reads
the suite's cached snapshot, the other builds its own (a fresh parse: every blank node has another id). Then
what the bytes hold: the graph itself, the named graphs for TriG and N-Quads, JSON-LD compacted with the
graph's prefixes. The blank nodes' names are checked on small graphs of the shapes the data has (selectors,
axioms, lists: trees of blank nodes), renamed at random.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from graph.named_graphs import describe
from graph.rdf_export import FORMATS, blank_labels, canonical_triples
from graph.snapshot import Snapshot

ROOT = Path(__file__).resolve().parent.parent
HVKG = str(Path(sys.executable).with_name("hvkg"))


def export(fmt: str, seed: str, cache: str) -> bytes:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed, "HVKG_CACHE_DIR": cache}
    done = subprocess.run(
        [HVKG, "export", "--format", fmt], cwd=ROOT, env=env, capture_output=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def exports(snapshot: Snapshot, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], bytes]:
    """(format, "cached" | "fresh") -> the bytes written."""
    assert snapshot.triple_count  # the suite's cache holds the validated snapshot
    cached = os.environ["HVKG_CACHE_DIR"]
    fresh = str(tmp_path_factory.mktemp("export-cache"))
    found = {("nquads", "fresh"): export("nquads", "2", fresh)}  # builds the fresh cache the others then read
    jobs = [(f, "cached", "1", cached) for f in FORMATS] + [(f, "fresh", "2", fresh) for f in FORMATS if f != "nquads"]
    with ThreadPoolExecutor(3) as pool:  # a few at a time: the machine is shared
        written = pool.map(lambda job: export(job[0], job[2], job[3]), jobs)
        found.update(((fmt, run), data) for (fmt, run, *_), data in zip(jobs, written, strict=True))
    return found


@pytest.mark.parametrize("fmt", FORMATS)
def test_two_runs_write_the_same_bytes(exports: dict[tuple[str, str], bytes], fmt: str) -> None:
    cached, fresh = exports[fmt, "cached"], exports[fmt, "fresh"]
    assert len(cached) > 100_000
    assert cached == fresh


def test_n_quads_are_the_n_triples_filed_by_source(exports: dict[tuple[str, str], bytes], snapshot: Snapshot) -> None:
    """Every statement of the graph in the named graph(s) of its source, with the same blank node names: the
    N-Quads lines without their graph are the N-Triples lines (whose graph test_cli.py parses back)."""
    quads = exports["nquads", "cached"].decode("utf-8").splitlines()
    triples = set(exports["nt", "cached"].decode("utf-8").splitlines())
    split = [line.rsplit(" ", 2) for line in quads]
    assert {f"{statement} ." for statement, _, _ in split} == triples
    assert {name.strip("<>") for _, name, _ in split} == {g.iri for g in describe(snapshot)}


def test_trig_holds_one_named_graph_per_source(exports: dict[tuple[str, str], bytes], snapshot: Snapshot) -> None:
    dataset = Dataset()
    dataset.parse(data=exports["trig", "cached"], format="trig")
    names = {str(g.identifier) for g in dataset.graphs() if len(g)}
    assert names == {g.iri for g in describe(snapshot)}
    union = Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        union.add((s, p, o))
    # the same statements (isomorphism proper is test_cli.py's, for the triple formats: it is slow)
    assert len(union) == len(snapshot.graph)
    assert set(named(union)) == set(named(snapshot.graph))
    assert len(blanks(union)) == len(blanks(snapshot.graph))


def named(graph: Graph) -> list[tuple[object, ...]]:
    return [t for t in graph if not any(isinstance(x, BNode) for x in t)]


def blanks(graph: Graph) -> set[object]:
    return {x for t in graph for x in t if isinstance(x, BNode)}


def test_json_ld_is_compacted_with_the_graphs_prefixes(
    exports: dict[tuple[str, str], bytes], snapshot: Snapshot
) -> None:
    data = json.loads(exports["json-ld", "cached"])
    context = data["@context"]
    assert {p: str(ns) for p, ns in snapshot.graph.namespaces() if p}.items() <= context.items()
    ids = {node["@id"] for node in data["@graph"]}
    assert "kg:vhd" in ids
    # an IRI of a prefix's namespace is written with the prefix (but for a rest that holds a "/": no term)
    full = [i for i in ids for ns in context.values() if i.startswith(ns) and "/" not in i[len(ns) :]]
    assert full == []
    assert len(Graph().parse(data=exports["json-ld", "cached"], format="json-ld")) == len(snapshot.graph)


# ---- blank nodes named by their content ------------------------------------------------------------------------

EX = "https://example.org/"
words = st.sampled_from(["a", "b", "ja"])


@st.composite
def trees(draw: st.DrawFn) -> list[tuple[object, ...]]:
    """Triples whose blank nodes (numbers here) form trees under named things, as selectors, axioms and lists
    do, with look-alike siblings (the same statements under the same parent) drawn often."""
    count = draw(st.integers(1, 12))
    triples: list[tuple[object, ...]] = []
    for i in range(count):
        parent = draw(st.sampled_from([URIRef(EX + "s"), URIRef(EX + "t"), *range(i)]))
        triples.append((parent, URIRef(EX + draw(words)), i))
        for _ in range(draw(st.integers(0, 2))):
            triples.append((i, URIRef(EX + draw(words)), Literal(draw(words))))
    return triples


def with_ids(triples: list[tuple[object, ...]], ids: dict[int, str]) -> Graph:
    graph = Graph()
    for triple in triples:
        graph.add(tuple(BNode(ids[t]) if isinstance(t, int) else t for t in triple))  # type: ignore[arg-type]
    return graph


@settings(max_examples=150, deadline=None)
@given(trees(), st.randoms(use_true_random=False))
def test_blank_node_names_depend_on_content_not_on_ids(triples: list[tuple[object, ...]], rng: object) -> None:
    nodes = sorted({t for triple in triples for t in triple if isinstance(t, int)})
    shuffled = list(nodes)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    one = with_ids(triples, {n: f"x{n}" for n in nodes})
    other = with_ids(triples, {n: f"{s}y" for n, s in zip(nodes, shuffled, strict=True)})
    first = [tuple(t.n3() for t in triple) for triple in canonical_triples(one, blank_labels(one))]
    second = [tuple(t.n3() for t in triple) for triple in canonical_triples(other, blank_labels(other))]
    assert first == second
    # no two blank nodes share a name: the canonical triples are the same graph
    renamed = Graph()
    for triple in canonical_triples(one, blank_labels(one)):
        renamed.add(triple)
    assert isomorphic(renamed, one)
