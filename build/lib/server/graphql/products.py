"""Products and their architecture: components, layers, I/O paths and their hops, features."""

from __future__ import annotations

import strawberry

from graph import catalog, knowledge, paths
from graph import model as m
from graph.layout import VOCAB
from server.graphql.facts import (
    Fact,
    HardwareRequirement,
    Rule,
    SourceRelation,
    outside_facts_field,
    statement_basis,
    statement_rule,
)
from server.graphql.nodes import Node, node_of, nodes_of, wraps
from server.graphql.tables import GuestSupport, HostSupport, StorageFormat
from server.graphql.types import (
    AVAILABLE,
    OUTSIDE_FACTS,
    Architecture,
    ArchitectureStyle,
    Basis,
    HopDirection,
    Info,
    IoMode,
    Lang,
    as_of_field,
    convert,
    definition_of,
    evidence_field,
    field,
    id_field,
    iri_field,
    label_field,
    row_id_field,
    text,
)


@wraps(m.Component)
@strawberry.type
class Component(Node):
    data: strawberry.Private[m.Component]

    def node_iri(self) -> str:
        return self.data.iri

    id = id_field()
    iri = iri_field()
    label = label_field()

    @strawberry.field
    def description(self, lang: Lang | None = Lang.EN) -> str | None:
        return None if self.data.description is None else text(self.data.description, lang)

    @field("What the component is, in the graph's words (the same text as description).")
    def definition(self, lang: Lang | None = Lang.EN) -> str | None:
        return None if self.data.description is None else text(self.data.description, lang)


@strawberry.type
class Hop:
    data: strawberry.Private[m.Hop]

    @field(name="from")
    def source(self) -> Component:
        return Component(data=self.data.source)

    @field(name="to")
    def target(self) -> Component:
        return Component(data=self.data.target)

    @field("What the link means, in words.")
    def relation(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.relation, lang)

    evidence = evidence_field()

    @strawberry.field
    def direction(self) -> HopDirection:
        return HopDirection.FORWARD if self.data.forward else HopDirection.BACKWARD


@strawberry.type
class ArchitecturePath:
    data: strawberry.Private[m.ArchitecturePath]

    @strawberry.field
    def mode(self) -> IoMode | None:
        return None if self.data.mode is None else convert(self.data.mode, IoMode)

    @field("Components in order, from the first to the last.")
    def components(self) -> list[Component]:
        return [Component(data=c) for c in self.data.components]

    @strawberry.field
    def hops(self) -> list[Hop]:
        return [Hop(data=h) for h in self.data.hops]


def architecture_path(found: m.ArchitecturePath | None) -> ArchitecturePath | None:
    return None if found is None else ArchitecturePath(data=found)


@strawberry.type
class FeatureSupport:
    data: strawberry.Private[m.FeatureSupport]

    @strawberry.field
    def feature(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.feature, lang)

    @strawberry.field
    def available(self) -> bool:
        return self.data.available

    as_of = as_of_field("The date the statement holds for, as written in the source (e.g. 2008-08).")
    evidence = evidence_field()
    id = row_id_field()

    @field("How the graph knows the availability: STATED, INFERRED (see rule) or OUTSIDE.")
    def basis(self, info: Info) -> Basis | None:
        return statement_basis(info, self.data.iri, AVAILABLE)

    @field("For an inferred availability, the rule it is read by.")
    def rule(self, info: Info) -> Rule | None:
        return statement_rule(info, self.data.iri, AVAILABLE)

    @field("The version of the product the statement is about, when the source names one.")
    def product_version(self) -> str | None:
        return self.data.product_version

    @field("For a statement from another document: how it stands to the article (empty for the article's).")
    def relation_to_article(self, info: Info) -> list[SourceRelation]:
        found = knowledge.fact(info.context.snapshot, self.data.iri)
        return [SourceRelation(data=r) for r in found.relation_to_article] if found else []

    outside_facts = outside_facts_field(OUTSIDE_FACTS + ".")


@strawberry.type(description="One layer of a product's architecture, counted from the hardware up.")
class Layer:
    data: strawberry.Private[m.Layer]

    @field("1 is the bottom (the hardware).")
    def position(self) -> int:
        return self.data.position

    label = label_field()

    @strawberry.field
    def components(self) -> list[Component]:
        return [Component(data=c) for c in self.data.components]

    evidence = evidence_field()


@wraps(m.Product)
@strawberry.type
class Product(Node):
    data: strawberry.Private[m.Product]

    def node_iri(self) -> str:
        return self.data.iri

    id = id_field()
    iri = iri_field()
    label = label_field()

    @strawberry.field
    def architecture_style(self) -> ArchitectureStyle:
        return convert(self.data.style, ArchitectureStyle)

    @strawberry.field
    def components(self) -> list[Component]:
        return [Component(data=c) for c in self.data.components]

    @strawberry.field
    def features(self) -> list[FeatureSupport]:
        return [FeatureSupport(data=f) for f in self.data.features]

    @field("The product's layers from the hardware up; empty when the source draws none.")
    def layers(self, info: Info) -> list[Layer]:
        return [Layer(data=x) for x in paths.layers(info.context.snapshot, self.data.id)]

    @field("The product's guest OS support table (as Query.guestSupport).")
    def guest_support(self, info: Info) -> list[GuestSupport]:
        return [GuestSupport(data=r) for r in catalog.guest_support(info.context.snapshot, self.data.id)]

    @field("The product's host OS support table (as Query.hostSupport).")
    def host_support(self, info: Info) -> list[HostSupport]:
        return [HostSupport(data=r) for r in catalog.host_support(info.context.snapshot, self.data.id)]

    @field("The product's virtual disk formats (as Query.storageFormats).")
    def storage_formats(self, info: Info) -> list[StorageFormat]:
        return [StorageFormat(data=f) for f in catalog.storage_formats(info.context.snapshot, self.data.id)]

    @field("What the product is, in the graph's words (its definition).")
    def description(self, info: Info, lang: Lang | None = Lang.EN) -> str | None:
        return definition_of(info, self.data.iri, lang)

    @field("What the product is, in the graph's words (the same text as description).")
    def definition(self, info: Info, lang: Lang | None = Lang.EN) -> str | None:
        return definition_of(info, self.data.iri, lang)

    @field("How the graph knows architectureStyle: STATED, or INFERRED by a rule (see architectureStyleRule).")
    def architecture_style_basis(self, info: Info) -> Basis | None:
        return statement_basis(info, self.data.iri, VOCAB + "architectureStyle")

    @field("For an inferred architectureStyle, the rule it is read by.")
    def architecture_style_rule(self, info: Info) -> Rule | None:
        return statement_rule(info, self.data.iri, VOCAB + "architectureStyle")

    @field("The product's hardware requirements (as Query.hardwareRequirements).")
    def hardware_requirements(self, info: Info) -> list[HardwareRequirement]:
        found = knowledge.hardware_requirements(info.context.snapshot, self.data.id)
        return [HardwareRequirement(data=f) for f in found]

    outside_facts = outside_facts_field(OUTSIDE_FACTS + " (releases, requirements, guest lists, ...).")


def product_of(info: Info, product_id: str | None) -> Product | None:
    """The Product of this id, or None."""
    found = None if product_id is None else catalog.product(info.context.snapshot, product_id)
    return None if found is None else Product(data=found)


# --- facts about products: comparisons and outside guest lists ------------------------------------------


@wraps(m.Comparison, fact=True)
@strawberry.type(description="A comparison of products: which one the source judges ahead, and why.")
class Comparison(Fact):
    data: strawberry.Private[m.Comparison]

    @field("The product judged to be ahead.")
    def favors(self, info: Info) -> Product | None:
        return product_of(info, self.data.favors)

    @field("The products it is compared with and judged to be behind.")
    def compared_with(self, info: Info) -> list[Product]:
        return [found for p in self.data.compared_with if (found := product_of(info, p)) is not None]

    @field("Why, in the graph's words (its definition); the article's words are in evidence.")
    def reasons(self, lang: Lang | None = Lang.EN) -> str | None:
        found = self.data.fact.definition
        return None if found is None else text(found, lang)


@wraps(m.GuestList, fact=True)
@strawberry.type(description="A list of supported guest operating systems published outside the article.")
class GuestList(Fact):
    data: strawberry.Private[m.GuestList]

    @strawberry.field
    def product(self, info: Info) -> Product | None:
        return product_of(info, self.data.product)

    @field("Its entries; they stand beside the article's guest table and never change a verdict.")
    def entries(self, info: Info) -> list[GuestListEntry]:
        return [GuestListEntry(data=e) for e in knowledge.entries(info.context.snapshot, self.data)]


@wraps(m.GuestListEntry, fact=True)
@strawberry.type(description="One entry of an outside guest OS list.")
class GuestListEntry(Fact):
    data: strawberry.Private[m.GuestListEntry]

    @field(name="list", description="The list it belongs to.")
    def in_list(self, info: Info) -> GuestList | None:
        found = knowledge.typed_as(info.context.snapshot, self.data.in_list, m.GuestList)
        return None if found is None else GuestList(data=found)

    @field("The name the list uses, as written, when the graph names no operating system for it.")
    def listed_as(self) -> list[str]:
        return list(self.data.listed_as)

    @strawberry.field
    def operating_system(self, info: Info) -> Node | None:
        return None if self.data.operating_system is None else node_of(info, self.data.operating_system)

    @strawberry.field
    def editions(self, info: Info) -> list[Node]:
        return nodes_of(info, self.data.editions)

    @strawberry.field
    def architectures(self) -> list[Architecture]:
        return [convert(a, Architecture) for a in self.data.architectures]

    @field("Service pack numbers the entry lists, 0 for none.")
    def service_packs(self) -> list[int]:
        return list(self.data.service_packs)

    @field("The numbers of virtual processors the list allows, when it gives them one by one.")
    def allowed_virtual_processors(self) -> list[int]:
        return list(self.data.allowed_virtual_processors)

    @field("The most virtual processors the list allows, when it gives only a maximum.")
    def listed_max_virtual_processors(self) -> int | None:
        return self.data.listed_max_virtual_processors
