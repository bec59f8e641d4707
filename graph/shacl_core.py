"""The SHACL core constraints of ontology/shapes.ttl, checked over pyoxigraph's store in one pass over its subjects.

The shapes are compiled once (graph/shacl_shapes.py: `plan`, with the reasons a shape is left to pyshacl, and why
this exists beside pyshacl); one scan of the store here reads each subject's triples once and checks them against
every shape that targets it. Counts, node kinds, sh:class and sh:closed are answered on pyoxigraph's terms
(sh:class from one table of every node's rdf:type, built before the scan); one value's tests are pyshacl's own
rules (graph/shacl_values.py), run once per distinct value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

from graph.shacl_shapes import SH, TARGETS, Plan, Result, Shape

# --- the scan ---------------------------------------------------------------------------------------------------------

Triples = Mapping[Any, list[Any]]  # a subject's triples: predicate -> objects (pyoxigraph terms)
_COUNTS, _EACH, _WHOLE = 0, 1, 2  # what a property shape checks beyond the number of values (_Run.inline)


def run(compiled: Plan, store: ox.Store, subjects: Iterable[Any] | None = None) -> list[Result]:
    """Every result of the compiled shapes on the store's default graph; with `subjects` (pyoxigraph terms), only
    the results on those focus nodes."""
    if subjects is None:
        return _Run(compiled, store).scan()
    checking = _Run(compiled, store, every_type=False)
    found = []
    for node in subjects:
        found.extend(checking.check(node, checking.triples(node)))
    return found


class _TypesOnDemand:
    """Each node's classes, read from the store when first asked: a check after an edit looks at a few nodes,
    and the table of every node's classes took 0.44 s at a million triples."""

    def __init__(self, store: ox.Store, type_: Any, graph: Any) -> None:
        self.store, self.type, self.graph = store, type_, graph
        self.known: dict[Any, frozenset[Any]] = {}

    def get(self, node: Any, default: frozenset[Any] = frozenset()) -> frozenset[Any]:
        found = self.known.get(node)
        if found is None:
            quads = self.store.quads_for_pattern(node, self.type, None, self.graph)
            found = self.known[node] = frozenset(quad.object for quad in quads)
        return found or default


class _Run:
    def __init__(self, compiled: Plan, store: ox.Store, *, every_type: bool = True) -> None:
        self.store = store
        self.graph = ox.DefaultGraph()
        self.type = ox.NamedNode(str(RDF.type))
        self.resource = ox.NamedNode(str(RDFS.Resource))
        # every node's classes, each distinct set of classes one frozenset (a scan asks for all of them)
        self.types: dict[Any, frozenset[Any]] | _TypesOnDemand = _TypesOnDemand(store, self.type, self.graph)
        if every_type:
            alike: dict[frozenset[Any], frozenset[Any]] = {}
            classes: dict[Any, set[Any]] = {}
            for quad in store.quads_for_pattern(None, self.type, None, self.graph):
                classes.setdefault(quad.subject, set()).add(quad.object)
            self.types = {node: alike.setdefault(frozenset(f), frozenset(f)) for node, f in classes.items()}
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
            if isinstance(value, ox.Literal) or classes.isdisjoint(self.types.get(value, frozenset())):
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
