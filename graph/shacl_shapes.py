"""The shapes of ontology/shapes.ttl compiled for graph/shacl_core.py, which checks them over pyoxigraph's store
in one pass over its subjects.

pyshacl took 83 s of a first start at a million triples (bench/README.md), walking every focus node of every
shape through rdflib's API. Here the shapes are compiled once (`plan`), and one scan of the store reads each
subject's triples once and checks them against every shape that targets it: the same results, a few seconds.
Same means: for every result, the same focus node, source shape, result path and severity as pyshacl's
(tests/test_validation_speed.py runs both on the shipped graph, on the mutation families of
tests/test_shape_mutations.py and on generated values). pyshacl stays the reference; graph/validation.py can
run either (`engine=`).

What is compiled: shapes with targets (sh:targetClass, which reaches subclasses through the data's
rdfs:subClassOf as pyshacl does without inference; sh:targetSubjectsOf, sh:targetObjectsOf, sh:targetNode);
property shapes with an IRI path; the components sh:minCount, maxCount, class, datatype, nodeKind, in, hasValue,
min/maxInclusive, min/maxExclusive, min/maxLength, pattern (with flags), languageIn, uniqueLang, closed (with
ignoredProperties), property, node, and, or, xone and not. A shape that uses anything else (a path expression,
sh:qualifiedValueShape, sh:equals, SHACL-AF, an implicit class target, a recursion) is left over (`Plan.left_over`)
and graph/validation.py gives it to pyshacl: nothing is guessed. sh:sparql constraints are not core:
graph/validation.py runs them, over the focus nodes this scan records for them (`Outcome.focus`).

The tests on one value (datatype, ranges, lengths, pattern, sh:in, languageIn, hasValue's equality) are pyshacl's
own rules on rdflib terms, run once per distinct value: an ill-typed literal, a lexical form rdflib normalises or
a regular expression is judged as pyshacl judges it. Counts, node kinds, sh:class and sh:closed are answered on
pyoxigraph's terms (sh:class from one table of every node's rdf:type, built before the scan).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF
from rdflib.term import Node

from graph.shacl_values import (
    ValueTest,
    datatype_test,
    in_test,
    language_test,
    length_test,
    pattern_test,
    range_test,
)

SH = Namespace("http://www.w3.org/ns/shacl#")

TARGETS = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)
# What a shape may say and still be compiled; a shape saying any other sh: term is left to pyshacl.
_UNDERSTOOD = {
    *TARGETS,
    *(SH[name] for name in ("property", "path", "minCount", "maxCount", "class", "datatype", "nodeKind", "in")),
    *(SH[name] for name in ("hasValue", "minInclusive", "minExclusive", "maxInclusive", "maxExclusive")),
    *(SH[name] for name in ("minLength", "maxLength", "pattern", "flags", "languageIn", "uniqueLang", "closed")),
    *(SH[name] for name in ("ignoredProperties", "and", "or", "xone", "not", "node", "severity", "message")),
    *(SH[name] for name in ("deactivated", "name", "description", "order", "group", "defaultValue")),
    SH.sparql,  # not core: graph/validation.py runs the SPARQL constraints
}
_SHAPE_TYPES = {SH.NodeShape, SH.PropertyShape, SH.Shape}
# Which kinds of node each sh:nodeKind lets through: (IRI, blank node, literal).
_NODE_KINDS = {
    SH.IRI: (True, False, False),
    SH.BlankNode: (False, True, False),
    SH.Literal: (False, False, True),
    SH.BlankNodeOrIRI: (True, True, False),
    SH.BlankNodeOrLiteral: (False, True, True),
    SH.IRIOrLiteral: (True, False, True),
}


class Unsupported(ValueError):
    """A shape uses something this module does not compile: pyshacl checks it instead."""


@dataclass(frozen=True)
class Result:
    """One validation result as pyshacl reports it: sh:focusNode, sh:sourceShape, sh:resultPath, sh:resultSeverity."""

    focus: Any  # a pyoxigraph term
    shape: Node
    path: URIRef | None
    severity: URIRef


@dataclass(eq=False)
class Shape:
    """A shape of the shapes graph, compiled: the constraints on its value nodes (the focus node itself for a node
    shape, the values of `path` for a property shape). Compared by identity: one object per shape node."""

    node: Node
    severity: URIRef = SH.Violation
    path: URIRef | None = None
    deactivated: bool = False
    min_count: int = 0
    max_count: int | None = None
    classes: tuple[URIRef, ...] = ()
    node_kind: tuple[bool, bool, bool] | None = None
    value_tests: tuple[ValueTest, ...] = ()
    has_values: tuple[Node, ...] = ()
    unique_lang: bool = False
    properties: tuple[Shape, ...] = ()
    closed: frozenset[URIRef] | None = None  # the predicates allowed, when closed
    logic: tuple[tuple[str, tuple[Shape, ...]], ...] = ()  # ("and" | "or" | "xone" | "not" | "node", members)
    targets: tuple[tuple[URIRef, Node], ...] = ()
    # the same IRIs as pyoxigraph terms, for the scan
    path_term: Any = None
    closed_terms: frozenset[Any] = frozenset()
    # whether each value node is checked itself (its kind, class, value tests, sh:and / or / xone / not / node),
    # and whether that or a nested sh:property / sh:closed makes the values be looked at one by one
    on_each_value: bool = False
    per_value: bool = False
    reads_triples: bool = False  # whether checking a node reads its triples (not only its types)

    def __post_init__(self) -> None:
        self.path_term = ox.NamedNode(str(self.path)) if self.path is not None else None
        self.closed_terms = frozenset(ox.NamedNode(str(p)) for p in self.closed or ())
        self.on_each_value = bool(self.node_kind or self.classes or self.value_tests or self.logic)
        self.per_value = self.on_each_value or bool(self.properties) or self.closed is not None
        self.reads_triples = (
            self.path is not None
            or bool(self.properties)
            or self.closed is not None
            or any(m.reads_triples for _, ms in self.logic for m in ms)
        )

    @property
    def reach(self) -> int:
        """How many links away from the node it checks this shape reads triples: 0 for what the node's own
        triples (its values, counts and types) decide, 1 when the types or triples of its values count, and so
        on. A node is checked again when something within this reach of it changed (graph/validation_cache.py)."""
        own = max([p.reach for p in self.properties] + [m.reach for _, ms in self.logic for m in ms], default=0)
        if self.path is None:
            return own
        if self.classes or self.logic or self.properties or self.closed is not None:
            return 1 + own
        return 0

    def members(self) -> Iterator[Shape]:
        """This shape and every shape it refers to."""
        yield self
        for prop in self.properties:
            yield from prop.members()
        for _, members in self.logic:
            for member in members:
                yield from member.members()


@dataclass(frozen=True)
class Plan:
    """The shapes with targets that run here, and those left to pyshacl (with the reason)."""

    shapes: tuple[Shape, ...]
    left_over: tuple[tuple[Node, str], ...] = ()


# --- compiling the shapes graph ---------------------------------------------------------------------------------------


def plan(shapes: Graph) -> Plan:
    """Compile every shape with targets; a shape that cannot be compiled is left over, not guessed at."""
    compiled, left = [], []
    targeted = {s for t in TARGETS for s in shapes.subjects(t, None)}
    for node in sorted(targeted, key=lambda n: (isinstance(n, BNode), str(n))):
        try:
            shape = _Compiler(shapes).shape(node)
            if shape.path is not None and (shape.properties or shape.closed is not None):
                # pyshacl reports the results of a value node's own shapes under them: not mirrored here
                raise Unsupported("sh:property or sh:closed inside a property shape with targets")
            compiled.append(shape)
        except Unsupported as reason:
            left.append((node, str(reason)))
    return Plan(tuple(compiled), tuple(left))


class _Compiler:
    def __init__(self, shapes: Graph) -> None:
        self.graph = shapes
        self.compiled: dict[Node, Shape] = {}
        self.compiling: set[Node] = set()

    def one(self, node: Node, predicate: URIRef) -> Node | None:
        values = list(self.graph.objects(node, predicate))
        if len(values) > 1:
            raise Unsupported(f"more than one {predicate}")
        return values[0] if values else None

    def integer(self, node: Node, predicate: URIRef) -> int | None:
        value = self.one(node, predicate)
        if value is None:
            return None
        if not isinstance(value, Literal) or not isinstance(value.value, int) or isinstance(value.value, bool):
            raise Unsupported(f"{predicate} is not an integer")
        return value.value

    def items(self, node: Node) -> list[Node]:
        if not isinstance(node, (BNode, URIRef)):
            raise Unsupported("not a list")
        return list(Collection(self.graph, node))

    def shape(self, node: Node) -> Shape:
        if node in self.compiled:
            return self.compiled[node]
        if node in self.compiling:
            raise Unsupported("a recursive shape")
        self.compiling.add(node)
        try:
            shape = self._shape(node)
        finally:
            self.compiling.discard(node)
        self.compiled[node] = shape
        return shape

    def _shape(self, node: Node) -> Shape:
        g = self.graph
        for predicate, value in g.predicate_objects(node):
            if predicate == RDF.type and value not in _SHAPE_TYPES:
                raise Unsupported(f"typed {value} (an implicit class target?)")
            if str(predicate).startswith(str(SH)) and predicate not in _UNDERSTOOD:
                raise Unsupported(f"uses {predicate}")
        path = self.one(node, SH.path)
        if path is not None and not isinstance(path, URIRef):
            raise Unsupported("a path expression")
        kind = self.one(node, SH.nodeKind)
        if kind is not None and kind not in _NODE_KINDS:
            raise Unsupported(f"node kind {kind}")
        if path is None and any((node, p, None) in g for p in (SH.minCount, SH.maxCount, SH.uniqueLang, SH.hasValue)):
            raise Unsupported("a count, uniqueLang or hasValue on a node shape")
        if any(not isinstance(c, URIRef) for c in g.objects(node, SH["class"])):
            raise Unsupported("sh:class is not an IRI")
        if any(isinstance(v, BNode) for v in g.objects(node, SH.hasValue)):
            raise Unsupported("sh:hasValue is a blank node")
        properties = tuple(self.shape(p) for p in sorted(g.objects(node, SH.property), key=str))
        closed = self.one(node, SH.closed)
        allowed = None
        if isinstance(closed, Literal) and closed.value is True:
            ignored = {item for listed in g.objects(node, SH.ignoredProperties) for item in self.items(listed)}
            allowed = frozenset(p for p in {s.path for s in properties} | ignored if isinstance(p, URIRef))
        severity, deactivated, unique = (self.one(node, p) for p in (SH.severity, SH.deactivated, SH.uniqueLang))
        return Shape(
            node=node,
            severity=severity if isinstance(severity, URIRef) else SH.Violation,
            path=path,
            deactivated=isinstance(deactivated, Literal) and deactivated.value is True,
            min_count=self.integer(node, SH.minCount) or 0,
            max_count=self.integer(node, SH.maxCount),
            classes=tuple(sorted(c for c in g.objects(node, SH["class"]) if isinstance(c, URIRef))),
            node_kind=_NODE_KINDS[kind] if isinstance(kind, URIRef) else None,
            value_tests=tuple(self.value_tests(node)),
            has_values=tuple(g.objects(node, SH.hasValue)),
            unique_lang=isinstance(unique, Literal) and unique.value is True,
            properties=properties,
            closed=allowed,
            logic=tuple(self.logic(node)),
            targets=tuple(self.targets(node)),
        )

    def logic(self, node: Node) -> Iterator[tuple[str, tuple[Shape, ...]]]:
        for word in ("and", "or", "xone"):
            for members in self.graph.objects(node, SH[word]):
                yield word, tuple(self.shape(m) for m in self.items(members))
        for word in ("not", "node"):
            for member in self.graph.objects(node, SH[word]):
                yield word, (self.shape(member),)

    def targets(self, node: Node) -> Iterator[tuple[URIRef, Node]]:
        for target in TARGETS:
            for value in sorted(self.graph.objects(node, target), key=str):
                if isinstance(value, BNode) or (target != SH.targetNode and not isinstance(value, URIRef)):
                    raise Unsupported(f"{target} {value}")
                yield target, value

    def value_tests(self, node: Node) -> Iterator[ValueTest]:
        """pyshacl's rules for one value (pyshacl/constraints/core), as functions of an rdflib term."""
        g = self.graph
        datatype = self.one(node, SH.datatype)
        if datatype is not None:
            if not isinstance(datatype, URIRef):
                raise Unsupported("sh:datatype is not an IRI")
            yield datatype_test(datatype)
        for component, strict, above in (
            (SH.minInclusive, False, True),
            (SH.minExclusive, True, True),
            (SH.maxInclusive, False, False),
            (SH.maxExclusive, True, False),
        ):
            for bound in g.objects(node, component):
                if not isinstance(bound, Literal):
                    raise Unsupported(f"{component} is not a literal")
                yield range_test(bound, strict=strict, above=above)
        for component, longest in ((SH.minLength, False), (SH.maxLength, True)):
            length = self.integer(node, component)
            if length is not None:
                yield length_test(length, longest=longest)
        flags = next(iter(g.objects(node, SH.flags)), None)
        for pattern in g.objects(node, SH.pattern):
            if not isinstance(pattern, Literal):
                raise Unsupported("sh:pattern is not a literal")
            yield pattern_test(pattern, flags)
        for listed in g.objects(node, SH["in"]):
            yield in_test(set(self.items(listed)))
        for listed in g.objects(node, SH.languageIn):
            languages = {str(item.value).lower() for item in self.items(listed) if isinstance(item, Literal)}
            yield language_test(languages)
