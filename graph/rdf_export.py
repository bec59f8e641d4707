"""The whole graph in an RDF format, byte-identical for the same graph in every run (`hvkg export`, the downloads).

rdflib's serializers write triples in the order of its in-memory store and name unbound namespaces ns1, ns2 in
the order it meets them, both of which change with the process (PYTHONHASHSEED), and a blank node's id changes
with every parse. So the export is canonical:
- blank nodes are named from their content (`blank_labels`): colour refinement over the blank nodes'
  statements, out and in, until the colours stop splitting;
- triples are sorted by their N-Triples form, and written in that order (pyoxigraph's writers keep it), or
  by rdflib's Turtle writer, which sorts subjects, predicates and objects itself;
- prefixes are the graph's own, then rdflib's well-known name of a namespace the data uses, then ns1, ns2
  in the order of the namespace IRIs;
- JSON-LD is compacted with those prefixes as its @context, its nodes and values sorted (never an @list).
TriG and N-Quads hold the named graphs of graph.named_graphs (one per source), graph by graph in its order.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from rdflib import RDF, BNode, Graph, URIRef
from rdflib.term import Node

if TYPE_CHECKING:
    from graph.snapshot import Snapshot

Triple = tuple[Node, Node, Node]
FORMATS = ("turtle", "json-ld", "nt", "xml", "trig", "nquads")


def blank_labels(triples: Iterable[Triple]) -> dict[Node, BNode]:
    """A name for every blank node, from what is said of it and what it is said of (recursively, through other
    blank nodes): the same graph names them the same whatever ids a parse gave them.

    Blank nodes that refinement cannot tell apart are, in data like ours (selectors, axioms, lists), each
    other's image under an automorphism: whichever takes which name, the sorted output is the same."""
    out: dict[Node, list[tuple[str, Node]]] = defaultdict(list)
    into: dict[Node, list[tuple[Node, str]]] = defaultdict(list)
    for s, p, o in triples:
        if isinstance(s, BNode):
            out[s].append((p.n3(), o))
        if isinstance(o, BNode):
            into[o].append((s, p.n3()))
    nodes = sorted(set(out) | set(into), key=str)
    colour: dict[Node, str] = dict.fromkeys(nodes, "")

    def of(term: Node) -> str:
        return colour[term] if isinstance(term, BNode) else term.n3()

    distinct = 1 if nodes else 0
    for _ in range(len(nodes)):
        colour = {
            node: hashlib.sha256(
                repr(
                    (
                        colour[node],
                        sorted([("o", p, of(o)) for p, o in out[node]] + [("i", p, of(s)) for s, p in into[node]]),
                    )
                ).encode("utf-8")
            ).hexdigest()
            for node in nodes
        }
        count = len(set(colour.values()))
        if count == distinct:
            break
        distinct = count
    names: dict[Node, BNode] = {}
    seen: dict[str, int] = defaultdict(int)
    for node in sorted(nodes, key=lambda n: colour[n]):
        tie = seen[colour[node]]
        seen[colour[node]] += 1
        names[node] = BNode(f"b{colour[node][:24]}" + (f"x{tie}" if tie else ""))
    return names


def _key(triple: tuple[Node, ...]) -> tuple[str, ...]:
    return tuple(term.n3() for term in triple)


def canonical_triples(graph: Graph, names: Mapping[Node, BNode]) -> list[Triple]:
    return sorted(((names.get(s, s), names.get(p, p), names.get(o, o)) for s, p, o in graph), key=_key)


def prefixes_for(graph: Graph, triples: Iterable[Triple]) -> dict[str, str]:
    """The graph's prefixes, then names for the other namespaces of its predicates and classes: rdflib's
    well-known one (void:, vann:) when it has one, else ns1, ns2, ... in the order of the namespace IRIs."""
    from rdflib.namespace import split_uri

    own = {prefix: str(ns) for prefix, ns in graph.namespaces() if prefix}
    known = {str(ns): prefix for prefix, ns in Graph(bind_namespaces="rdflib").namespaces() if prefix}
    used = set()
    for _, p, o in triples:
        for term in (p, o) if p == RDF.type else (p,):
            if isinstance(term, URIRef):
                try:
                    used.add(split_uri(str(term))[0])
                except ValueError:
                    continue  # no namespace to split off: written as a full IRI
    others = sorted(ns for ns in used if ns not in own.values())
    generated = 0
    for namespace in others:
        prefix = known.get(namespace)
        if prefix is None or prefix in own:
            generated += 1
            while f"ns{generated}" in own:
                generated += 1
            prefix = f"ns{generated}"
        own[prefix] = namespace
    return dict(sorted(own.items()))


def _graph(triples: Iterable[Triple], prefixes: Mapping[str, str], into: Graph | None = None) -> Graph:
    out = Graph(bind_namespaces="none") if into is None else into
    for prefix, namespace in prefixes.items():
        out.bind(prefix, namespace)
    for triple in triples:
        out.add(triple)
    # a predicate of a namespace the prefixes split differently gets its generated prefix now, in a fixed
    # order, not when a writer meets it
    for predicate in sorted(set(out.predicates()), key=lambda term: term.n3()):
        try:
            out.namespace_manager.compute_qname_strict(str(predicate))
        except ValueError:
            continue  # no prefixed name possible: written as a full IRI
    return out


def _sorted_json(value: Any, ordered: bool = False) -> Any:
    """Every JSON-LD array sorted by its members' JSON, except an @list's, whose order is the data's."""
    if isinstance(value, dict):
        return {key: _sorted_json(item, key == "@list") for key, item in value.items()}
    if isinstance(value, list):
        items = [_sorted_json(item) for item in value]
        return items if ordered else sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return value


def jsonld(triples: Iterable[Triple], prefixes: Mapping[str, str]) -> bytes:
    """JSON-LD compacted with the prefixes as its @context, sorted and indented: the same bytes every run."""
    graph = _graph(triples, prefixes)
    context = dict(prefixes)
    data = json.loads(graph.serialize(format="json-ld", context=context, auto_compact=True))
    if isinstance(data, list):  # no @graph to hold several nodes: rdflib gives a bare array of one or none
        data = {"@context": context, "@graph": data}
    return (json.dumps(_sorted_json(data), ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def graph_jsonld(graph: Graph, prefixes_of: Graph) -> bytes:
    """A graph (a CONSTRUCT's answer) as canonical JSON-LD, compacted with the prefixes of another."""
    triples = canonical_triples(graph, blank_labels(graph))
    return jsonld(triples, prefixes_for(prefixes_of, triples))


class _Sorted(Graph):
    """A graph whose subjects, and each subject's statements, come in N-Triples order: rdflib's RDF/XML writer
    walks them in the order its store gives, which changes with the process."""

    def subjects(self, predicate: Any = None, object: Any = None, unique: bool = False) -> Iterator[Any]:  # type: ignore[override]
        yield from sorted(set(super().subjects(predicate, object)), key=lambda term: term.n3())

    def predicate_objects(self, subject: Any = None, unique: bool = False) -> Iterator[Any]:  # type: ignore[override]
        yield from sorted(set(super().predicate_objects(subject)), key=_key)


def _lines(graph: Graph) -> list[str]:
    """A graph's N-Triples lines, sorted (a line per triple, so the order is the text's)."""
    written = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    return sorted(line for line in written.splitlines() if line.strip())


def _named_graphs(snapshot: Snapshot, names: Mapping[Node, BNode]) -> dict[str, list[Triple]]:
    """Each named graph's triples (blank nodes by their canonical names), in graph.named_graphs' order."""
    from graph.named_graphs import quads

    by_graph: dict[str, list[Triple]] = defaultdict(list)
    for s, p, o, name in quads(snapshot):  # graph by graph already, in their order
        by_graph[name].append((names.get(s, s), p, names.get(o, o)))
    return {name: sorted(triples, key=_key) for name, triples in by_graph.items()}


def _nquads(graphs: Mapping[str, list[Triple]]) -> bytes:
    lines: list[str] = []
    for name, triples in graphs.items():
        suffix = f" {URIRef(name).n3()} ."
        lines.extend(line.removesuffix(" .") + suffix for line in _lines(_graph(triples, {})))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _trig(graphs: Mapping[str, list[Triple]], prefixes: Mapping[str, str]) -> bytes:
    """TriG with one statement a line: a blank node keeps its label in every graph that names it (Turtle's
    [ ] would make it a new node in each)."""
    names = _graph((), prefixes).namespace_manager
    out = [f"@prefix {prefix}: {URIRef(namespace).n3()} ." for prefix, namespace in prefixes.items()]
    for name, triples in graphs.items():
        out.append(f"\n{URIRef(name).n3(names)} {{")
        out.extend(f"    {s.n3(names)} {p.n3(names)} {o.n3(names)} ." for s, p, o in triples)
        out.append("}")
    return ("\n".join(out) + "\n").encode("utf-8")


def export(snapshot: Snapshot, fmt: str) -> bytes:
    """The whole graph in one of FORMATS, canonical (see the module's docstring)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    names = blank_labels(snapshot.graph)
    triples = canonical_triples(snapshot.graph, names)
    prefixes = prefixes_for(snapshot.graph, triples)
    if fmt == "turtle":
        return _graph(triples, prefixes).serialize(format="turtle", encoding="utf-8")
    if fmt == "json-ld":
        return jsonld(triples, prefixes)
    if fmt == "nt":
        return ("\n".join(_lines(_graph(triples, {}))) + "\n").encode("utf-8")
    if fmt == "xml":
        graph = _graph(triples, prefixes, _Sorted(bind_namespaces="none"))
        return graph.serialize(format="xml", encoding="utf-8")
    graphs = _named_graphs(snapshot, names)
    return _nquads(graphs) if fmt == "nquads" else _trig(graphs, prefixes)
