"""The SPARQL constraints of ontology/shapes.ttl (sh:sparql), each run as one query over the whole graph on
pyoxigraph, its rows kept for the shape's focus nodes (which graph/shacl_core.py's scan records).

pyshacl would run each query once per focus node: tens of thousands of queries on a large catalogue. The shapes are
written so that both give the same results (see the header of shapes.ttl; tests/test_shape_mutations.py compares
them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rdflib import Graph, Literal
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from graph.findings import SH, Finding, file_of, filled, message, rule, severity_of, short_name
from graph.loading import Loaded
from graph.problems import Problem

if TYPE_CHECKING:
    pass


def focus_nodes(graph: Graph, shapes: Graph, shape: Node) -> set[Node]:
    """The nodes a shape's targets select (SHACL's sh:targetNode / targetClass / targetSubjectsOf / targetObjectsOf;
    a class reaches the instances of its subclasses through the data graph's rdfs:subClassOf)."""
    nodes: set[Node] = set(shapes.objects(shape, SH.targetNode))
    for target in shapes.objects(shape, SH.targetClass):
        for cls in graph.transitive_subjects(RDFS.subClassOf, target):
            nodes.update(graph.subjects(RDF.type, cls))
    for predicate in shapes.objects(shape, SH.targetSubjectsOf):
        nodes.update(graph.subjects(predicate, None))
    for predicate in shapes.objects(shape, SH.targetObjectsOf):
        nodes.update(graph.objects(None, predicate))
    return nodes


def _prologue(shapes: Graph, constraint: Node) -> str:
    lines = []
    for declarations in shapes.objects(constraint, SH.prefixes):
        for declaration in shapes.objects(declarations, SH.declare):
            prefix = shapes.value(declaration, SH.prefix)
            namespace = shapes.value(declaration, SH.namespace)
            if prefix is not None and namespace is not None:
                lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(sorted(set(lines))) + "\n"


def _active(shapes: Graph, node: Node) -> bool:
    return not any(isinstance(v, Literal) and v.value is True for v in shapes.objects(node, SH.deactivated))


def sparql_constraints(shapes: Graph) -> list[tuple[Node, Node, str, str]]:
    """Every active SPARQL constraint as (shape, constraint, its query with the prefixes, a key that names it
    across parses of the shapes: the shape and the query's hash)."""
    found = []
    for shape in sorted(set(shapes.subjects(SH.sparql, None)), key=str):
        if not _active(shapes, shape):
            continue
        for constraint in shapes.objects(shape, SH.sparql):
            select = shapes.value(constraint, SH.select)
            if select is None or not _active(shapes, constraint):
                continue
            query = _prologue(shapes, constraint) + str(select)
            found.append((shape, constraint, query, f"{shape}\0{hashlib.sha256(query.encode()).hexdigest()}"))
    return found


def check_sparql_constraints(
    loaded: Loaded,
    lang: str = "en",
    *,
    reuse: Mapping[str, list[Finding]] | None = None,
) -> list[Finding]:
    """Each SPARQL constraint as one query over the whole graph; a row counts when its $this is a focus node of
    the shape, as when SHACL binds $this to each focus node in turn. A constraint whose key is in `reuse` is not
    run: its findings are those given (graph/validation_cache.py knows when they cannot have changed)."""
    from oxrdflib._converter import from_ox

    from graph.shacl_core import Focus, targets_of

    shapes = loaded.shapes
    store = loaded.oxigraph()
    constraints = sparql_constraints(shapes)
    focus = Focus(store, [(shape, targets_of(shapes, shape)) for shape in {c[0] for c in constraints}])
    findings = []
    for shape, constraint, query, key in constraints:
        if reuse is not None and key in reuse:
            findings.extend(reuse[key])
            continue
        severity = severity_of(shapes.value(shape, SH.severity))
        template = message(shapes, constraint, lang) or message(shapes, shape, lang) or "violates a shape"
        solutions = store.query(query)
        names = [variable.value for variable in solutions.variables]  # type: ignore[union-attr]
        for solution in solutions:  # type: ignore[union-attr]
            if solution["this"] is None or not focus(shape, solution["this"]):
                continue
            bindings: dict[str, Node] = {}
            for name in names:
                value = from_ox(solution[name]) if solution[name] is not None else None
                if isinstance(value, Node):
                    bindings[name] = value
            this = bindings["this"]
            problem = Problem(file_of(loaded, this), short_name(this), rule(shapes, shape), filled(template, bindings))
            findings.append(Finding(problem, severity, str(solution["this"]), key))
    return findings
