"""Anything the graph names: the Node interface, its statements, and `node_of`, which gives an IRI its type.

The types that wrap a graph.model record register here (`wraps`, `plain_fact`) when their module is
imported, so `node_of` can build a Product, a Rule, ... without this module importing theirs (those
modules import this one). server.graphql.query imports them all before the schema is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry

from graph import knowledge, nodes
from graph import model as m
from graph.layout import BASE
from graph.snapshot import Snapshot
from server.graphql.types import (
    Basis,
    Citation,
    Info,
    Lang,
    as_of_field,
    cite,
    convert,
    evidence_field,
    field,
    id_field,
    iri_field,
    label_field,
    text,
)

T = TypeVar("T")

# The GraphQL type of each graph.model record class (m.Product -> Product, m.Comparison -> Comparison, ...).
WRAPPERS: dict[type, Callable[..., Node]] = {}
# The same for the records of facts with more to them than a plain m.Fact (m.Comparison, m.Release, ...).
FACT_RECORDS: dict[type, Callable[..., Node]] = {}
# The GraphQL type of a plain m.Fact, by its class in the graph (Fact.type: "Rule", "Advice", ...).
PLAIN_FACTS: dict[str, Callable[..., Node]] = {}
OTHER = ""  # PLAIN_FACTS' key for a fact of no type of its own


def wraps(model: type, *, fact: bool = False) -> Callable[[type[T]], type[T]]:
    """Registers the decorated GraphQL type as the one that wraps records of `model` (in `data`); `fact`: a
    record of a fact, which `fact_of` gives this type."""

    def register(cls: type[T]) -> type[T]:
        WRAPPERS[model] = cls  # type: ignore[assignment]  # every registered type is a Node
        if fact:
            FACT_RECORDS[model] = cls  # type: ignore[assignment]
        return cls

    return register


def plain_fact(type_name: str) -> Callable[[type[T]], type[T]]:
    """Registers the decorated GraphQL type as the one for plain facts of this class in the graph."""

    def register(cls: type[T]) -> type[T]:
        PLAIN_FACTS[type_name] = cls  # type: ignore[assignment]  # every registered type is a Node
        return cls

    return register


def _node_view(info: Info, iri: str) -> nodes.NodeView | None:
    return nodes.node(info.context.snapshot, iri)


@strawberry.type(description="A property of the graph's vocabulary.")
class Predicate:
    data: strawberry.Private[m.Named]

    id = id_field("The property's local name, e.g. maxVirtualProcessors: stable, for code to switch on.")
    iri = iri_field()
    label = label_field()


@strawberry.type(
    description="One statement of the graph: what it says, in words and as data, and the passages it rests on."
)
class Statement:
    data: strawberry.Private[nodes.NodeStatement]

    @strawberry.field
    def predicate(self) -> Predicate:
        return Predicate(data=self.data.predicate)

    @field("The property, in words.")
    def relation(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.predicate.label, lang)

    @field("The value, as text: a literal, or the label of the thing it points to (see object).")
    def value(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.value, lang)

    @strawberry.field
    def object(self, info: Info) -> Node | None:
        return None if self.data.object is None else node_of(info, self.data.object)

    @field("The XML Schema datatype of a literal value (e.g. xsd:integer); null when the value is a thing.")
    def datatype(self) -> str | None:
        return self.data.datatype

    evidence = evidence_field()

    @field("How the graph knows it.")
    def basis(self) -> Basis:
        return convert(self.data.basis, Basis)

    @field("For an INFERRED statement, the rule it was read by (itself a node, with its own evidence).")
    def rule(self, info: Info) -> Node | None:
        return None if self.data.rule is None else node_of(info, self.data.rule)

    as_of = as_of_field("The date the statement holds as of, e.g. 2008-08.")


@strawberry.interface(description="Anything the graph names, with what the graph says about it.")
class Node:
    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.node_iri()[len(BASE) :])

    @strawberry.field
    def iri(self) -> str:
        return self.node_iri()

    @field("The kind of thing, e.g. Product, Rule, Advice, GuestSupport.")
    def type(self, info: Info) -> str:
        view = _node_view(info, self.node_iri())
        return view.named.type if view else ""

    @strawberry.field
    def label(self, info: Info, lang: Lang | None = Lang.EN) -> str:
        view = _node_view(info, self.node_iri())
        return text(view.named.label, lang) if view else self.node_iri()

    @field("Every statement whose subject this is, each with its evidence.")
    def statements(self, info: Info) -> list[Statement]:
        view = _node_view(info, self.node_iri())
        return [Statement(data=s) for s in view.statements] if view else []

    @field("The passages this thing itself rests on (empty for a pure term).")
    def evidence(self, info: Info) -> list[Citation]:
        view = _node_view(info, self.node_iri())
        return cite(view.evidence) if view else []

    def node_iri(self) -> str:
        raise NotImplementedError


@strawberry.type(description="A thing of the graph that has no type of its own in this schema.")
class Thing(Node):
    node: strawberry.Private[str]

    def node_iri(self) -> str:
        return self.node


@strawberry.type
class SearchHit:
    data: strawberry.Private[m.SearchHit]

    id = id_field()
    iri = iri_field()

    @field("The kind of thing, e.g. Product, Component, OperatingSystem.")
    def type(self) -> str:
        return self.data.type

    label = label_field()

    @field("The thing itself, for its statements and evidence.")
    def node(self, info: Info) -> Node | None:
        return node_of(info, self.data.iri)

    @field("The name or passage text that matched.")
    def matched(self) -> str:
        return self.data.matched


# --- from an IRI or a record to its GraphQL type --------------------------------------------------------


def fact_of(snapshot: Snapshot, found: m.Fact) -> Any:
    """A fact as its most specific GraphQL type (a Fact)."""
    typed = knowledge.typed(snapshot, found.iri)
    wrapper = FACT_RECORDS.get(type(typed))
    if wrapper is not None:
        return wrapper(data=typed)
    return PLAIN_FACTS.get(found.type, PLAIN_FACTS[OTHER])(data=found)


def node_of(info: Info, iri: str) -> Node | None:
    """The node of this IRI as its most specific type in the schema: a Product, a Component, a Rule, ..., a Fact of
    no type of its own, else a Thing."""
    snapshot = info.context.snapshot
    local = iri[len(BASE) :] if iri.startswith(BASE) else iri
    product = snapshot.tables.products.get(local)
    if product is not None:
        return WRAPPERS[m.Product](data=product)
    component = snapshot.tables.components.get(local)
    if component is not None:
        return WRAPPERS[m.Component](data=component)
    full = BASE + local
    found = knowledge.fact(snapshot, full)
    if found is not None:
        node: Node = fact_of(snapshot, found)
        return node
    relation = knowledge.typed(snapshot, full)
    if isinstance(relation, m.SourceRelation):
        return WRAPPERS[m.SourceRelation](data=relation)
    view = nodes.node(snapshot, local)
    return None if view is None else Thing(node=view.named.iri)


def nodes_of(info: Info, iris: tuple[str, ...]) -> list[Node]:
    return [found for iri in iris if (found := node_of(info, iri)) is not None]
