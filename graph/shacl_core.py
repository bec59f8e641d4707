"""The SHACL core constraints of ontology/shapes.ttl, checked over pyoxigraph's store in one pass over its subjects.

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

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

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


@dataclass(frozen=True)
class ValueTest:
    """pyshacl's rule for one value node: `exact` judges the rdflib term; `quick`, where given, judges the
    pyoxigraph term of the common cases (a string, a plain integer) the same way without building the rdflib
    term, and answers None for anything else."""

    exact: Callable[[Node], bool]
    quick: Callable[[Any], bool | None] | None = None


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
            yield _datatype_test(datatype)
        for component, strict, above in (
            (SH.minInclusive, False, True),
            (SH.minExclusive, True, True),
            (SH.maxInclusive, False, False),
            (SH.maxExclusive, True, False),
        ):
            for bound in g.objects(node, component):
                if not isinstance(bound, Literal):
                    raise Unsupported(f"{component} is not a literal")
                yield _range_test(bound, strict=strict, above=above)
        for component, longest in ((SH.minLength, False), (SH.maxLength, True)):
            length = self.integer(node, component)
            if length is not None:
                yield _length_test(length, longest=longest)
        flags = next(iter(g.objects(node, SH.flags)), None)
        for pattern in g.objects(node, SH.pattern):
            if not isinstance(pattern, Literal):
                raise Unsupported("sh:pattern is not a literal")
            yield _pattern_test(pattern, flags)
        for listed in g.objects(node, SH["in"]):
            yield _in_test(set(self.items(listed)))
        for listed in g.objects(node, SH.languageIn):
            languages = {str(item.value).lower() for item in self.items(listed) if isinstance(item, Literal)}
            yield _language_test(languages)


def _python_types() -> dict[URIRef, type]:
    from datetime import date, datetime, time
    from decimal import Decimal

    return {
        XSD.integer: int,
        XSD.float: float,
        XSD.decimal: Decimal,
        XSD.boolean: bool,
        XSD.date: date,
        XSD.time: time,
        XSD.dateTime: datetime,
    }


_PYTHON_TYPES = _python_types()


_STRING, _LANG_STRING, _LITERAL, _DATATYPE, _INTEGER = (
    XSD.string,
    RDF.langString,
    RDFS.Literal,
    RDFS.Datatype,
    XSD.integer,
)
_STRINGS = (None, _STRING, _LANG_STRING)
_STRING_IRI, _INTEGER_IRI = str(XSD.string), str(XSD.integer)  # plain str: what pyoxigraph's IRIs compare with
_DIGITS = re.compile(r"[0-9]+")


def _text(term: Any) -> str | None:
    """The text of a pyoxigraph string literal (xsd:string or language-tagged), else None: for such a literal
    rdflib's value is that text, and what pyshacl measures and matches."""
    if isinstance(term, ox.Literal) and (term.language or term.datatype.value == _STRING_IRI):
        return term.value
    return None


def _plain_integer(term: Any) -> int | None:
    """The value of a pyoxigraph xsd:integer written with digits only, else None (rdflib reads it the same)."""
    if isinstance(term, ox.Literal) and term.datatype.value == _INTEGER_IRI and _DIGITS.fullmatch(term.value):
        return int(term.value)
    return None


def _datatype_test(datatype: URIRef) -> ValueTest:
    """pyshacl's DatatypeConstraintComponent: the same IRI and a well-typed value (rdflib's reading of it)."""
    python = _PYTHON_TYPES.get(datatype)

    def actual(value: Literal) -> bool:
        if datatype in _STRINGS:
            return isinstance(value.value, (str, bytes))
        return python is None or isinstance(value.value, python)

    def exact(value: Node) -> bool:
        if not isinstance(value, Literal):
            return False
        if value.datatype == datatype:
            return getattr(value, "ill_typed", None) is not True and actual(value)
        if datatype == _LITERAL or (datatype == _DATATYPE and value.datatype):
            return True
        if value.datatype is None and value.language is None and datatype == _STRING:
            return actual(value)
        return bool(datatype == _LANG_STRING and value.language and actual(value))

    def quick(term: Any) -> bool | None:
        if datatype == _STRING and _text(term) is not None:
            return not term.language
        if datatype == _LANG_STRING and _text(term) is not None:
            return bool(term.language)
        if datatype == _INTEGER and _plain_integer(term) is not None:
            return True
        return None

    return ValueTest(exact, quick)


def _range_test(bound: Literal, *, strict: bool, above: bool) -> ValueTest:
    """pyshacl's value range components: a literal comparable with the bound, on the right side of it."""
    bound_is_string = isinstance(bound.value, str)
    integer = bound.value if bound.datatype == _INTEGER and isinstance(bound.value, int) else None

    def exact(value: Node) -> bool:
        if not isinstance(value, Literal) or isinstance(value.value, str) != bound_is_string:
            return False
        from pyshacl.rdfutil.compare import compare_literal

        try:
            order: int = compare_literal(value, bound) if above else compare_literal(bound, value)  # type: ignore[no-untyped-call]
        except (TypeError, NotImplementedError):
            return False
        return order > 0 or (order == 0 and not strict)

    def quick(term: Any) -> bool | None:
        number = _plain_integer(term) if integer is not None else None
        if number is None or integer is None:
            return None
        order = (number > integer) - (number < integer) if above else (integer > number) - (integer < number)
        return order > 0 or (order == 0 and not strict)

    return ValueTest(exact, quick)


def _string_of(value: Node) -> str:
    """What pyshacl measures and matches: a string's value, or the node's text."""
    if isinstance(value, Literal) and value.value is not None and value.datatype in _STRINGS:
        return str(value.value)
    return str(value)


def _length_test(length: int, *, longest: bool) -> ValueTest:
    def exact(value: Node) -> bool:
        if isinstance(value, BNode):
            return not longest and length == 0
        size = len(_string_of(value))
        return size <= length if longest else size >= length

    def quick(term: Any) -> bool | None:
        text = _text(term)
        if text is None:
            return None
        return len(text) <= length if longest else len(text) >= length

    return ValueTest(exact, quick)


def _pattern_test(pattern: Literal, flags: Node | None) -> ValueTest:
    options = 0
    if flags is not None:
        letters = str(flags.value if isinstance(flags, Literal) else flags).lower()
        options |= re.IGNORECASE if "i" in letters else 0
        options |= re.MULTILINE if "m" in letters else 0
    text = str(pattern.value) if pattern.value is not None and len(pattern.value) > 1 else str(pattern)
    matcher = re.compile(text, options)

    def exact(value: Node) -> bool:
        return not isinstance(value, BNode) and matcher.search(_string_of(value)) is not None

    def quick(term: Any) -> bool | None:
        string = _text(term)
        return None if string is None else matcher.search(string) is not None

    return ValueTest(exact, quick)


def _in_test(allowed: set[Node]) -> ValueTest:
    return ValueTest(lambda value: value in allowed)


def _language_test(languages: set[str]) -> ValueTest:
    def exact(value: Node) -> bool:
        if not isinstance(value, Literal) or not value.language:
            return False
        tag = str(value.language).lower()
        return "*" in languages or tag in languages or tag.split("-")[0] in languages

    return ValueTest(exact)


# --- the scan ---------------------------------------------------------------------------------------------------------

Triples = Mapping[Any, list[Any]]  # a subject's triples: predicate -> objects (pyoxigraph terms)
_COUNTS, _EACH, _WHOLE = 0, 1, 2  # what a property shape checks beyond the number of values (_Run.inline)


def run(compiled: Plan, store: ox.Store, subjects: Iterable[Any] | None = None) -> list[Result]:
    """Every result of the compiled shapes on the store's default graph; with `subjects` (pyoxigraph terms), only
    the results on those focus nodes."""
    checking = _Run(compiled, store)
    if subjects is None:
        return checking.scan()
    found = []
    for node in subjects:
        found.extend(checking.check(node, checking.triples(node)))
    return found


class _Run:
    def __init__(self, compiled: Plan, store: ox.Store) -> None:
        self.store = store
        self.graph = ox.DefaultGraph()
        self.type = ox.NamedNode(str(RDF.type))
        self.resource = ox.NamedNode(str(RDFS.Resource))
        # every node's classes, each distinct set of classes one frozenset
        alike: dict[frozenset[Any], frozenset[Any]] = {}
        classes: dict[Any, set[Any]] = {}
        for quad in store.quads_for_pattern(None, self.type, None, self.graph):
            classes.setdefault(quad.subject, set()).add(quad.object)
        self.types = {node: alike.setdefault(frozenset(found), frozenset(found)) for node, found in classes.items()}
        del classes
        self.focus = Focus(store, ())
        # per shape (by id): the classes of its sh:class as sets of pyoxigraph terms, and the verdicts on its values
        self.classes: dict[int, tuple[frozenset[Any], ...]] = {}
        self.verdicts: dict[int, dict[Any, bool]] = {}
        for shape in (member for top in compiled.shapes for member in top.members()):
            self.classes[id(shape)] = tuple(self.focus.closure(cls) for cls in shape.classes)
            self.verdicts[id(shape)] = {}
        self.terms: dict[Any, Node] = {}  # pyoxigraph term -> rdflib term, converted once
        self.datatypes: dict[str, URIRef] = {}
        self.by_type: dict[Any, list[Shape]] = {}
        self.by_predicate: dict[Any, list[Shape]] = {}
        self.by_node: dict[Any, list[Shape]] = {}
        self.signatures: dict[tuple[frozenset[Any], tuple[Any, ...]], list[Shape]] = {}
        # per node shape: its property shapes as (path, fewest, most, what else is checked, the verdicts on
        # each value, the shape): counts only, each value by itself, or all values together (uniqueLang, hasValue)
        self.inline: dict[int, list[tuple[Any, int, float, int, dict[Any, bool], Shape]]] = {}
        for shape in compiled.shapes:
            if not shape.deactivated:
                self._index(shape)
                self.inline[id(shape)] = [
                    (
                        prop.path_term,
                        prop.min_count,
                        float("inf") if prop.max_count is None else prop.max_count,
                        _WHOLE if prop.unique_lang or prop.has_values else _EACH if prop.per_value else _COUNTS,
                        self.verdicts[id(prop)],
                        prop,
                    )
                    for prop in shape.properties
                    if not prop.deactivated
                ]

    def _index(self, shape: Shape) -> None:
        for target, value in shape.targets:
            term = _term(value)
            if target == SH.targetClass:
                assert isinstance(value, URIRef)
                for cls in self.focus.closure(value):
                    self.by_type.setdefault(cls, []).append(shape)
            elif target == SH.targetSubjectsOf:
                self.by_predicate.setdefault(term, []).append(shape)
            elif target == SH.targetObjectsOf:
                for quad in self.store.quads_for_pattern(None, term, None, self.graph):
                    self.by_node.setdefault(quad.object, []).append(shape)
            else:
                self.by_node.setdefault(term, []).append(shape)

    def rdflib(self, term: Any) -> Node:
        """The rdflib term pyshacl would see for a pyoxigraph term (as oxrdflib converts it), made once."""
        node = self.terms.get(term)
        if node is None:
            if isinstance(term, ox.Literal):
                if term.language:
                    node = Literal(term.value, lang=term.language)
                else:
                    iri = term.datatype.value
                    datatype = self.datatypes.get(iri) or self.datatypes.setdefault(iri, URIRef(iri))
                    node = Literal(term.value, datatype=datatype)
            elif isinstance(term, ox.BlankNode):
                node = BNode(term.value)
            else:
                node = URIRef(term.value)
            self.terms[term] = node
        return node

    def triples(self, node: Any) -> dict[Any, list[Any]]:
        found: dict[Any, list[Any]] = {}
        if isinstance(node, ox.Literal):
            return found
        for quad in self.store.quads_for_pattern(node, None, None, self.graph):
            found.setdefault(quad.predicate, []).append(quad.object)
        return found

    def scan(self) -> list[Result]:
        """Each subject's triples once, in the store's order, which keeps a subject's triples together; a subject
        met again later is checked again with all of its triples, and its first results dropped."""
        results: dict[Any, list[Result]] = {}
        seen: set[Any] = set()
        again: set[Any] = set()
        subject: Any = None
        triples: dict[Any, list[Any]] = {}
        check = self.check
        for quad in self.store.quads_for_pattern(None, None, None, self.graph):
            if quad.subject != subject:
                if subject is not None:
                    found = check(subject, triples)
                    if found:
                        results[subject] = found
                subject, triples = quad.subject, {}
                if subject in seen:
                    again.add(subject)
                seen.add(subject)
            objects = triples.get(quad.predicate)
            if objects is None:
                triples[quad.predicate] = [quad.object]
            else:
                objects.append(quad.object)
        if subject is not None:
            results[subject] = check(subject, triples)
        for node in again:
            results[node] = check(node, self.triples(node))
        for node in self.by_node.keys() - seen:  # targeted, with no triples of its own
            results[node] = check(node, {})
        return [result for found in results.values() for result in found]

    def shapes_of(self, node: Any, triples: Triples) -> list[Shape]:
        """The shapes that target a node: its classes and predicates decide, so subjects alike share the answer."""
        types = self.types.get(node, frozenset())
        by_predicate = self.by_predicate
        signature = (types, tuple(p for p in triples if p in by_predicate))
        shapes = self.signatures.get(signature)
        if shapes is None:
            chosen: dict[int, Shape] = {}
            for shape in (s for cls in types for s in self.by_type.get(cls, ())):
                chosen.setdefault(id(shape), shape)
            for shape in (s for p in signature[1] for s in by_predicate[p]):
                chosen.setdefault(id(shape), shape)
            shapes = self.signatures[signature] = list(chosen.values())
        if node in self.by_node:
            shapes = list({id(s): s for s in [*shapes, *self.by_node[node]]}.values())
        return shapes

    def check(self, node: Any, triples: Triples) -> list[Result]:  # noqa: PLR0912 - one loop, inline on purpose
        """What a focus node fails, each result under the shape whose constraint it is."""
        found = []
        get = triples.get
        for shape in self.shapes_of(node, triples):
            if shape.path is not None:
                if not self.property_holds(shape, node, triples):
                    found.append(Result(node, shape.node, shape.path, shape.severity))
                continue
            # each property shape inline (a million triples make a million checks): counts first, then each value
            # by its verdict, made once per value; the rarer components go through property_holds
            for path, low, high, mode, verdicts, prop in self.inline[id(shape)]:
                values = get(path)
                count = 0 if values is None else len(values)
                holds = low <= count <= high
                if holds and mode == _EACH and values:
                    for value in values:
                        verdict = verdicts.get(value)
                        if verdict is None:
                            verdict = verdicts[value] = self.value_verdict(prop, value)
                        if not verdict:
                            holds = False
                            break
                elif holds and mode == _WHOLE:
                    holds = self.property_holds(prop, node, triples)
                if not holds:
                    found.append(Result(node, prop.node, prop.path, prop.severity))
            if shape.closed is not None:
                for predicate in self.outside(shape, triples):
                    found.append(Result(node, shape.node, predicate, shape.severity))
            if shape.on_each_value and not self.value_holds(shape, node, triples):
                found.append(Result(node, shape.node, None, shape.severity))
        return found

    def outside(self, shape: Shape, triples: Triples) -> list[URIRef]:
        """The predicates a closed shape does not allow (rdf:type rdfs:Resource is always allowed, as in pyshacl)."""
        allowed = shape.closed_terms
        return [
            URIRef(predicate.value)
            for predicate, objects in triples.items()
            if predicate not in allowed and not (predicate == self.type and all(o == self.resource for o in objects))
        ]

    def conforms(self, shape: Shape, node: Any, triples: Triples | None = None) -> bool:
        """Whether a node conforms to a shape: what sh:and, or, xone, not and node ask of their members."""
        if shape.deactivated:
            return True
        if triples is None:
            triples = self.triples(node)
        if shape.path is not None:
            return self.property_holds(shape, node, triples)
        return (
            all(p.deactivated or self.property_holds(p, node, triples) for p in shape.properties)
            and (shape.closed is None or not self.outside(shape, triples))
            and self.value_holds(shape, node, triples)
        )

    def property_holds(self, shape: Shape, node: Any, triples: Triples) -> bool:
        """A property shape on a node: the number of values, what they say together, and each value."""
        values = triples.get(shape.path_term)
        if values is None:
            return shape.min_count == 0 and not shape.has_values
        if len(values) < shape.min_count or (shape.max_count is not None and len(values) > shape.max_count):
            return False
        if shape.unique_lang and not self.unique_languages(values):
            return False
        for wanted in shape.has_values:
            if not any(self.rdflib(value) == wanted for value in values):
                return False
        if shape.per_value:
            verdicts = self.verdicts[id(shape)]
            for value in values:
                holds = verdicts.get(value)
                if holds is None:
                    holds = verdicts[value] = self.value_verdict(shape, value)
                if not holds:
                    return False
        return True

    def value_verdict(self, shape: Shape, value: Any) -> bool:
        """Whether one value of a property shape passes its checks on each value."""
        return self.value_holds(shape, value, None) and self.holds_as_node(shape, value)

    def holds_as_node(self, shape: Shape, value: Any) -> bool:
        """A property shape's own sh:property and sh:closed, on one of its values."""
        if not shape.properties and shape.closed is None:
            return True
        triples = self.triples(value)
        return all(p.deactivated or self.property_holds(p, value, triples) for p in shape.properties) and (
            shape.closed is None or not self.outside(shape, triples)
        )

    def unique_languages(self, values: Iterable[Any]) -> bool:
        seen = set()
        for value in values:
            language = value.language if isinstance(value, ox.Literal) else None
            if language:
                if language.lower() in seen:
                    return False
                seen.add(language.lower())
        return True

    def value_holds(self, shape: Shape, value: Any, triples: Triples | None) -> bool:
        """The constraints on one value node: its kind, its class, the value tests, and sh:and / or / xone / not."""
        if shape.node_kind is not None:
            iri, blank, literal = shape.node_kind
            if not (
                (iri and isinstance(value, ox.NamedNode))
                or (blank and isinstance(value, ox.BlankNode))
                or (literal and isinstance(value, ox.Literal))
            ):
                return False
        for classes in self.classes[id(shape)]:
            if isinstance(value, ox.Literal) or classes.isdisjoint(self.types.get(value, ())):
                return False
        for test in shape.value_tests:
            verdict = test.quick(value) if test.quick is not None else None
            if not (test.exact(self.rdflib(value)) if verdict is None else verdict):
                return False
        return all(self.logic_holds(word, members, value, triples) for word, members in shape.logic)

    def logic_holds(self, word: str, members: tuple[Shape, ...], value: Any, triples: Triples | None) -> bool:
        if triples is None and any(m.reads_triples for m in members):
            triples = self.triples(value)
        holding = (self.conforms(member, value, triples or {}) for member in members)
        if word in ("and", "node"):
            return all(holding)
        if word == "or":
            return any(holding)
        if word == "not":
            return not next(holding)
        return sum(holding) == 1  # xone


def _term(node: Node) -> Any:
    """An rdflib term of the shapes graph as a pyoxigraph term."""
    if isinstance(node, Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype or XSD.string)))
    if isinstance(node, BNode):
        return ox.BlankNode(str(node))
    return ox.NamedNode(str(node))


@dataclass
class _Targets:
    nodes: set[Any]
    classes: frozenset[Any]
    subjects_of: tuple[Any, ...]
    objects_of: tuple[Any, ...]


class Focus:
    """Whether a node is a focus node of a shape, asked of the store: the rows of a SPARQL constraint count only
    for the shape's focus nodes (SHACL binds $this to each of them in turn)."""

    def __init__(self, store: ox.Store, shapes: Iterable[tuple[Node, tuple[tuple[URIRef, Node], ...]]]) -> None:
        self.store = store
        self.graph = ox.DefaultGraph()
        self.type = ox.NamedNode(str(RDF.type))
        self.closures: dict[URIRef, frozenset[Any]] = {}
        self.targets: dict[Node, _Targets] = {}
        for shape, targets in shapes:
            chosen = [(t, v) for t, v in targets]
            self.targets[shape] = _Targets(
                nodes={_term(v) for t, v in chosen if t == SH.targetNode},
                classes=frozenset().union(*(self.closure(v) for t, v in chosen if t == SH.targetClass)),  # type: ignore[arg-type]
                subjects_of=tuple(_term(v) for t, v in chosen if t == SH.targetSubjectsOf),
                objects_of=tuple(_term(v) for t, v in chosen if t == SH.targetObjectsOf),
            )

    def closure(self, cls: URIRef) -> frozenset[Any]:
        """The classes whose instances are SHACL instances of `cls`: itself and its rdfs:subClassOf* in the data."""
        if cls not in self.closures:
            query = f"SELECT DISTINCT ?c WHERE {{ ?c <{RDFS.subClassOf}>* {cls.n3()} }}"
            found = {solution[0] for solution in self.store.query(query)}  # type: ignore[union-attr]
            self.closures[cls] = frozenset(found | {ox.NamedNode(str(cls))})
        return self.closures[cls]

    def __call__(self, shape: Node, node: Any) -> bool:
        targets = self.targets.get(shape)
        if targets is None:
            return False
        if node in targets.nodes:
            return True
        store, graph = self.store, self.graph
        if not isinstance(node, ox.Literal):
            if targets.classes and any(
                q.object in targets.classes for q in store.quads_for_pattern(node, self.type, None, graph)
            ):
                return True
            for predicate in targets.subjects_of:
                if next(store.quads_for_pattern(node, predicate, None, graph), None) is not None:
                    return True
        return any(
            next(store.quads_for_pattern(None, predicate, node, graph), None) is not None
            for predicate in targets.objects_of
        )


def targets_of(shapes: Graph, shape: Node) -> tuple[tuple[URIRef, Node], ...]:
    """A shape's targets as (target predicate, value), for `Focus`."""
    return tuple((t, v) for t in TARGETS for v in sorted(shapes.objects(shape, t), key=str) if isinstance(t, URIRef))
