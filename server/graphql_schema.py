"""The GraphQL schema: the portals' contract (shared/contract/schema.graphql) and a few additions.

Every type wraps one dataclass of graph.model in a private `data` field and reads from it; every
Query resolver calls one question function of graph/ with the request's snapshot (`info.context`).
No fact is derived here. The printed SDL is committed as server/schema.graphql.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, TypeVar

import strawberry
from strawberry.printer import print_schema

from graph import catalog, knowledge, nodes, paths, verdicts
from graph import model as m
from graph.layout import BASE, VOCAB
from graph.snapshot import Snapshot

E = TypeVar("E", bound=Enum)
Resolver = TypeVar("Resolver", bound=Callable[..., object])


def field(description: str | None = None, *, name: str | None = None) -> Callable[[Resolver], Resolver]:
    """`strawberry.field(description=..., name=...)` as a decorator that keeps the method's type."""
    decorator: Callable[[Resolver], Resolver] = strawberry.field(name=name, description=description)
    return decorator


@dataclass(frozen=True)
class Context:
    """What a request hands to the resolvers: the one snapshot it reads and its id for the logs."""

    snapshot: Snapshot
    request_id: str


Info = strawberry.Info[Context, None]


# --- enums: the same member names as graph.model's; `convert` maps between the two by name -------------


@strawberry.enum
class Lang(Enum):
    JA = "ja"
    EN = "en"


@strawberry.enum
class Architecture(Enum):
    X86 = "X86"
    X64 = "X64"


@strawberry.enum
class InstallationMode(Enum):
    FULL = "FULL"
    SERVER_CORE = "SERVER_CORE"


@strawberry.enum
class IoMode(Enum):
    SYNTHETIC = strawberry.enum_value(
        "SYNTHETIC", description="Synthetic devices: VSC, VMBus, VSP. Needs integration services in the guest."
    )
    EMULATED = strawberry.enum_value("EMULATED", description="Emulated hardware devices.")


@strawberry.enum
class ArchitectureStyle(Enum):
    HYPERVISOR = strawberry.enum_value(
        "HYPERVISOR",
        description="A thin hypervisor runs directly on the hardware, below every operating system.",
    )
    HOSTED = strawberry.enum_value(
        "HOSTED", description="The virtualization product is an application on a host operating system."
    )


@strawberry.enum
class ReasonCode(Enum):
    SUPPORTED = "SUPPORTED"
    UNKNOWN_OPERATING_SYSTEM = strawberry.enum_value(
        "UNKNOWN_OPERATING_SYSTEM",
        description="The name matches nothing in the graph; the message suggests the closest names.",
    )
    NOT_DOCUMENTED = strawberry.enum_value(
        "NOT_DOCUMENTED",
        description="The operating system is known, but the graph has no statement about it for this product.",
    )
    OPERATING_SYSTEM_NOT_SUPPORTED = strawberry.enum_value(
        "OPERATING_SYSTEM_NOT_SUPPORTED",
        description="The source states that the operating system is not supported.",
    )
    EDITION_NOT_SUPPORTED = "EDITION_NOT_SUPPORTED"
    ARCHITECTURE_NOT_SUPPORTED = "ARCHITECTURE_NOT_SUPPORTED"
    SERVICE_PACK_TOO_OLD = "SERVICE_PACK_TOO_OLD"
    TOO_MANY_VIRTUAL_PROCESSORS = "TOO_MANY_VIRTUAL_PROCESSORS"


@strawberry.enum
class HopDirection(Enum):
    FORWARD = strawberry.enum_value("FORWARD", description="The hop follows the relation as the source states it.")
    BACKWARD = strawberry.enum_value(
        "BACKWARD", description="The hop walks the relation backwards (only in paths asked with directed: false)."
    )


@strawberry.enum
class Basis(Enum):
    STATED = strawberry.enum_value("STATED", description="Said by the source in so many words.")
    INFERRED = strawberry.enum_value(
        "INFERRED", description="Read from what the source says by a rule that the graph names and cites."
    )
    OUTSIDE = strawberry.enum_value(
        "OUTSIDE", description="From a document other than the article; the citation names it."
    )


def convert(value: Enum, into: type[E]) -> E:
    """The member of `into` with the same name (GraphQL enum <-> graph.model enum)."""
    return into[value.name]


def text(value: m.Text, lang: Lang | None) -> str:
    return m.text(value, (lang or Lang.EN).value)


def texts(values: tuple[m.Named, ...], lang: Lang | None) -> list[str]:
    return [text(v.label, lang) for v in values]


OUTSIDE_FACTS = "Facts from other documents that name this one, each with its own date, beside it and never over it"
AVAILABLE = VOCAB + "available"


# --- object types ------------------------------------------------------------------------------------


@strawberry.type(description="A verbatim passage of a source document that a fact rests on.")
class Citation:
    # Plain fields, not resolvers: a verdict carries a dozen citations, and strawberry reads a plain field
    # with getattr, without building an Info per field (see bench/README.md).
    quote: str = strawberry.field(description="The passage's exact words, in the source's language.")
    section: str | None = strawberry.field(description="Heading of the section that holds the passage.")
    document: str = strawberry.field(description="Title of the source document.")
    iri: str = strawberry.field(description="IRI of the passage in the graph.")
    document_iri: str = strawberry.field(description="IRI of the source document.")
    as_of: str | None = strawberry.field(description="The date the source speaks for, e.g. 2008-08.")
    basis: Basis = strawberry.field(
        description="STATED for a passage of the article, OUTSIDE for one of another document (see document)."
    )


def cite(evidence: tuple[m.Citation, ...]) -> list[Citation]:
    return [_citation(c) for c in evidence]


def _citation(c: m.Citation) -> Citation:
    return Citation(
        quote=c.quote,
        section=c.section,
        document=c.document,
        iri=c.iri,
        document_iri=c.document_iri,
        as_of=c.as_of,
        basis=convert(knowledge.citation_basis(c), Basis),
    )


def _node_view(info: Info, iri: str) -> nodes.NodeView | None:
    return nodes.node(info.context.snapshot, iri)


@strawberry.type(description="A property of the graph's vocabulary.")
class Predicate:
    data: strawberry.Private[m.Named]

    @field("The property's local name, e.g. maxVirtualProcessors: stable, for code to switch on.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.data.id)

    @strawberry.field
    def iri(self) -> str:
        return self.data.iri

    @strawberry.field
    def label(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.label, lang)


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

    @strawberry.field
    def evidence(self) -> list[Citation]:
        return cite(self.data.evidence)

    @field("How the graph knows it.")
    def basis(self) -> Basis:
        return convert(self.data.basis, Basis)

    @field("For an INFERRED statement, the rule it was read by (itself a node, with its own evidence).")
    def rule(self, info: Info) -> Node | None:
        return None if self.data.rule is None else node_of(info, self.data.rule)

    @field("The date the statement holds as of, e.g. 2008-08.")
    def as_of(self) -> str | None:
        return self.data.as_of


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
class Component(Node):
    data: strawberry.Private[m.Component]

    def node_iri(self) -> str:
        return self.data.iri

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.data.id)

    @strawberry.field
    def iri(self) -> str:
        return self.data.iri

    @strawberry.field
    def label(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.label, lang)

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

    @strawberry.field
    def evidence(self) -> list[Citation]:
        return cite(self.data.evidence)

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

    @field("The date the statement holds for, as written in the source (e.g. 2008-08).")
    def as_of(self) -> str | None:
        return self.data.as_of

    @strawberry.field
    def evidence(self) -> list[Citation]:
        return cite(self.data.evidence)

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.data.iri[len(BASE) :])

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

    @field(OUTSIDE_FACTS + ".")
    def outside_facts(self, info: Info) -> list[Fact]:
        return outside_facts_on(info, self.data.iri)


@strawberry.type(description="One layer of a product's architecture, counted from the hardware up.")
class Layer:
    data: strawberry.Private[m.Layer]

    @field("1 is the bottom (the hardware).")
    def position(self) -> int:
        return self.data.position

    @strawberry.field
    def label(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.label, lang)

    @strawberry.field
    def components(self) -> list[Component]:
        return [Component(data=c) for c in self.data.components]

    @strawberry.field
    def evidence(self) -> list[Citation]:
        return cite(self.data.evidence)


@strawberry.type
class GuestSupport:
    data: strawberry.Private[m.GuestRow]

    @strawberry.field
    def operating_system(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.operating_system.label, lang)

    @strawberry.field
    def editions(self, lang: Lang | None = Lang.EN) -> list[str]:
        return texts(self.data.editions, lang)

    @field("Service pack numbers that the row covers, 0 for none.")
    def service_packs(self) -> list[int]:
        return list(self.data.service_packs)

    @strawberry.field
    def architecture(self) -> Architecture:
        return convert(self.data.architecture, Architecture)

    @strawberry.field
    def max_virtual_processors(self) -> int:
        return self.data.max_virtual_processors

    @field("The date the row holds for, as written in the source (e.g. 2008-08).")
    def as_of(self) -> str | None:
        return self.data.as_of

    @strawberry.field
    def evidence(self) -> list[Citation]:
        return cite(self.data.evidence)

    @field("The row's id, as node(id) takes it.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.data.iri[len(BASE) :])

    @field(OUTSIDE_FACTS + " (e.g. the entries of Microsoft's own guest lists).")
    def outside_facts(self, info: Info) -> list[Fact]:
        return outside_facts_on(info, self.data.iri)


@strawberry.type
class HostSupport:
    data: strawberry.Private[m.HostRow]

    @strawberry.field
    def operating_system(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.operating_system.label, lang)

    @strawberry.field
    def editions(self, lang: Lang | None = Lang.EN) -> list[str]:
        return texts(self.data.editions, lang)

    @strawberry.field
    def architecture(self) -> Architecture:
        return convert(self.data.architecture, Architecture)

    @strawberry.field
    def installations(self) -> list[InstallationMode]:
        return [convert(i, InstallationMode) for i in self.data.installations]

    @field("The date the row holds for, as written in the source (e.g. 2008-08).")
    def as_of(self) -> str | None:
        return self.data.as_of

    @strawberry.field
    def evidence(self) -> list[Citation]:
        return cite(self.data.evidence)

    @field("The row's id, as node(id) takes it.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.data.iri[len(BASE) :])

    @field(OUTSIDE_FACTS + ".")
    def outside_facts(self, info: Info) -> list[Fact]:
        return outside_facts_on(info, self.data.iri)


@strawberry.type
class StorageFormat:
    data: strawberry.Private[m.StorageFormat]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.data.id)

    @strawberry.field
    def label(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.label, lang)

    @field(name="maxSizeGB", description="Largest virtual disk in gigabytes; null when the format sets no limit.")
    def max_size_gb(self) -> int | None:
        return self.data.max_size_gb

    @strawberry.field
    def supports_snapshots(self) -> bool:
        return self.data.supports_snapshots

    @strawberry.field
    def prerequisites(self, lang: Lang | None = Lang.EN) -> list[str]:
        return texts(self.data.prerequisites, lang)

    @strawberry.field
    def evidence(self) -> list[Citation]:
        return cite(self.data.evidence)

    @strawberry.field
    def iri(self) -> str:
        return self.data.iri

    @field("What the format is, in the graph's words (its definition).")
    def description(self, info: Info, lang: Lang | None = Lang.EN) -> str | None:
        return definition_of(info, self.data.iri, lang)

    @field('The file name extension a disk of this format has on the host, e.g. ".VHD"; null when none.')
    def file_extension(self) -> str | None:
        return self.data.file_extension

    @field('What one disk of this format is on the host, as the source says, e.g. "one file" or "volume".')
    def allocation_unit(self) -> str | None:
        return self.data.allocation_unit

    @field("Whether the source says the format sets no capacity limit of its own (the physical disk still does).")
    def no_capacity_limit(self, info: Info) -> bool:
        return knowledge.no_capacity_limit(info.context.snapshot, self.data.iri)

    @field("How the graph knows supportsSnapshots: STATED, or INFERRED by a rule (see supportsSnapshotsRule).")
    def supports_snapshots_basis(self, info: Info) -> Basis | None:
        return statement_basis(info, self.data.iri, VOCAB + "supportsSnapshots")

    @field("For an inferred supportsSnapshots, the rule it is read by.")
    def supports_snapshots_rule(self, info: Info) -> Rule | None:
        return statement_rule(info, self.data.iri, VOCAB + "supportsSnapshots")

    @field("What to know when moving disks of an earlier product to this format, each with its passages.")
    def migration_notes(self, info: Info) -> list[MigrationNote]:
        found = knowledge.facts(info.context.snapshot, (n.iri for n in self.data.migration_notes))
        return [MigrationNote(data=f) for f in found]

    @field("The prerequisites as facts, each with its passages (prerequisites gives their labels only).")
    def prerequisite_notes(self, info: Info) -> list[Prerequisite]:
        found = knowledge.facts(info.context.snapshot, (n.iri for n in self.data.prerequisites))
        return [Prerequisite(data=f) for f in found]

    @field(OUTSIDE_FACTS + " (e.g. another source's capacity limit).")
    def outside_facts(self, info: Info) -> list[Fact]:
        return outside_facts_on(info, self.data.iri)


@strawberry.type
class LicenseRights:
    data: strawberry.Private[m.LicenseRow]

    @strawberry.field
    def operating_system(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.operating_system.label, lang)

    @strawberry.field
    def edition(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.edition.label, lang)

    @field("Virtual instances that the license grants; null when unlimited.")
    def virtual_instances(self) -> int | None:
        return self.data.virtual_instances

    @strawberry.field
    def unlimited(self) -> bool:
        return self.data.unlimited

    @field("The date the row holds for, as written in the source (e.g. 2008-08).")
    def as_of(self) -> str | None:
        return self.data.as_of

    @strawberry.field
    def evidence(self) -> list[Citation]:
        return cite(self.data.evidence)

    @field("The row's id, as node(id) takes it.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.data.iri[len(BASE) :])

    @field("The downgrade rights that apply to this licence (as Query.downgradeRights).")
    def downgrade_rights(self, info: Info) -> list[DowngradeRight]:
        return [DowngradeRight(data=r) for r in knowledge.downgrade_rights(info.context.snapshot, self.data.iri)]

    @field(OUTSIDE_FACTS + " (e.g. licensing terms of other dates).")
    def outside_facts(self, info: Info) -> list[Fact]:
        return outside_facts_on(info, self.data.iri)


@strawberry.type
class Reason:
    data: strawberry.Private[m.Reason]

    @strawberry.field
    def code(self) -> ReasonCode:
        return convert(self.data.code, ReasonCode)

    @strawberry.field
    def message(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.message, lang)

    @strawberry.field
    def evidence(self) -> list[Citation]:
        return cite(self.data.evidence)


@strawberry.type(description="How the service read a guest question: what each name was taken to mean.")
class GuestQuestion:
    data: strawberry.Private[m.GuestQuestion]

    @field("The operating system the name was read as; null when it matches nothing.")
    def operating_system(self, info: Info) -> Node | None:
        found = self.data.operating_system
        return None if found is None else node_of(info, found.iri)

    @field("The edition, from the edition argument or from the name; null when none was given.")
    def edition(self, info: Info) -> Node | None:
        found = self.data.edition
        return None if found is None else node_of(info, found.iri)

    @strawberry.field
    def service_pack(self) -> int:
        return self.data.service_pack

    @strawberry.field
    def architecture(self) -> Architecture:
        return convert(self.data.architecture, Architecture)

    @strawberry.field
    def virtual_processors(self) -> int:
        return self.data.virtual_processors


@strawberry.type
class GuestVerdict:
    data: strawberry.Private[m.GuestVerdict]

    @field("What the question was read as, so a portal can show it and a user can correct it.")
    def interpreted_as(self) -> GuestQuestion:
        assert self.data.question is not None  # every verdict of graph.verdicts.check_guest carries one
        return GuestQuestion(data=self.data.question)

    @strawberry.field
    def supported(self) -> bool:
        return self.data.supported

    @field(
        description="The most virtual processors this guest may have (also when more were asked for); "
        "null when no count is supported."
    )
    def max_virtual_processors(self) -> int | None:
        return self.data.max_virtual_processors

    @field("Whether integration services can be installed, so that I/O goes over VMBus.")
    def integration_services(self) -> bool:
        return self.data.integration_services

    @field("The path that this guest's device I/O takes.")
    def io_path(self) -> ArchitecturePath:
        return ArchitecturePath(data=self.data.io_path)

    @strawberry.field
    def reasons(self) -> list[Reason]:
        return [Reason(data=r) for r in self.data.reasons]


@strawberry.type
class HostVerdict:
    data: strawberry.Private[m.HostVerdict]

    @strawberry.field
    def supported(self) -> bool:
        return self.data.supported

    @strawberry.field
    def reasons(self) -> list[Reason]:
        return [Reason(data=r) for r in self.data.reasons]


@strawberry.type
class SearchHit:
    data: strawberry.Private[m.SearchHit]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.data.id)

    @strawberry.field
    def iri(self) -> str:
        return self.data.iri

    @field("The kind of thing, e.g. Product, Component, OperatingSystem.")
    def type(self) -> str:
        return self.data.type

    @strawberry.field
    def label(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.label, lang)

    @field("The thing itself, for its statements and evidence.")
    def node(self, info: Info) -> Node | None:
        return node_of(info, self.data.iri)

    @field("The name or passage text that matched.")
    def matched(self) -> str:
        return self.data.matched


@strawberry.type
class Product(Node):
    data: strawberry.Private[m.Product]

    def node_iri(self) -> str:
        return self.data.iri

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.data.id)

    @strawberry.field
    def iri(self) -> str:
        return self.data.iri

    @strawberry.field
    def label(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.label, lang)

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

    @field(OUTSIDE_FACTS + " (releases, requirements, guest lists, ...).")
    def outside_facts(self, info: Info) -> list[Fact]:
        return outside_facts_on(info, self.data.iri)


# --- helpers of the resolvers: each reads one question function's answer ----------------------------------


def definition_of(info: Info, iri: str, lang: Lang | None) -> str | None:
    found = knowledge.definition(info.context.snapshot, iri)
    return None if found is None else text(found, lang)


def statement_basis(info: Info, iri: str, predicate: str) -> Basis | None:
    found = knowledge.statement(info.context.snapshot, iri, predicate)
    return None if found is None else convert(found.basis, Basis)


def statement_rule(info: Info, iri: str, predicate: str) -> Rule | None:
    found = knowledge.statement(info.context.snapshot, iri, predicate)
    rule = None if found is None or found.rule is None else knowledge.fact(info.context.snapshot, found.rule)
    return None if rule is None else Rule(data=rule)


def outside_facts_on(info: Info, iri: str) -> list[Fact]:
    return [fact_of(info, f) for f in knowledge.outside_facts_on(info.context.snapshot, iri)]


def nodes_of(info: Info, iris: tuple[str, ...]) -> list[Node]:
    return [found for iri in iris if (found := node_of(info, iri)) is not None]


def product_of(info: Info, product_id: str | None) -> Product | None:
    found = None if product_id is None else catalog.product(info.context.snapshot, product_id)
    return None if found is None else Product(data=found)


# --- the graph's facts in themselves: rules, advice, the comparison, outside records, ... ------------------


@strawberry.type(description="How a fact from another document stands to the article (fills a gap, confirms, ...).")
class SourceRelation(Node):
    data: strawberry.Private[m.SourceRelation]

    def node_iri(self) -> str:
        return self.data.iri

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.data.id)

    @strawberry.field
    def iri(self) -> str:
        return self.data.iri

    @strawberry.field
    def label(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.label, lang)

    @field('The label the research notes give it, e.g. "FILLS GAP": stable, for code to switch on.')
    def notation(self) -> str | None:
        return self.data.notation

    @strawberry.field
    def definition(self, lang: Lang | None = Lang.EN) -> str | None:
        return None if self.data.definition is None else text(self.data.definition, lang)


@strawberry.interface(
    description="A fact of the graph in itself (a rule, an advice, a release, ...): its words, its date, how the "
    "graph knows it and the passages it rests on."
)
class Fact(Node):
    def fact(self) -> m.Fact:
        raise NotImplementedError

    def node_iri(self) -> str:
        return self.fact().iri

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.fact().id)

    @strawberry.field
    def iri(self) -> str:
        return self.fact().iri

    @field("The kind of thing, e.g. Product, Rule, Advice, GuestSupport.")
    def type(self, info: Info) -> str:
        return self.fact().type

    @strawberry.field
    def label(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.fact().label, lang)

    @field("What it says, in the graph's words (its definition); null when its label says it all.")
    def definition(self, lang: Lang | None = Lang.EN) -> str | None:
        found = self.fact().definition
        return None if found is None else text(found, lang)

    @field("The passages this thing itself rests on (empty for a pure term).")
    def evidence(self, info: Info) -> list[Citation]:
        return cite(self.fact().evidence)

    @field("How the graph knows it: STATED (the article's passages) or OUTSIDE (another document's).")
    def basis(self) -> Basis:
        return convert(self.fact().basis, Basis)

    @field("The date it holds as of, e.g. 2008-08.")
    def as_of(self) -> str | None:
        return self.fact().as_of

    @field("What it concerns: a product, a component, an edition, a feature, another fact, ...")
    def about(self, info: Info) -> list[Node]:
        return nodes_of(info, self.fact().about)

    @field("The version of the product it is about, when the source names one.")
    def product_version(self) -> str | None:
        return self.fact().product_version

    @field("For a fact from another document: how it stands to the article (empty for the article's own).")
    def relation_to_article(self) -> list[SourceRelation]:
        return [SourceRelation(data=r) for r in self.fact().relation_to_article]

    @field("For a fact from another document: the article's facts it bears on.")
    def relates_to(self, info: Info) -> list[Node]:
        return nodes_of(info, self.fact().relates_to)

    @field(OUTSIDE_FACTS + ".")
    def outside_facts(self, info: Info) -> list[Fact]:
        return outside_facts_on(info, self.fact().iri)


@strawberry.type(description="A rule the article states or the graph reads by (an INFERRED statement names one).")
class Rule(Fact):
    data: strawberry.Private[m.Fact]

    def fact(self) -> m.Fact:
        return self.data


@strawberry.type(description="What the article advises a reader to do or check.")
class Advice(Fact):
    data: strawberry.Private[m.Fact]

    def fact(self) -> m.Fact:
        return self.data


@strawberry.type(
    description="A hardware requirement of a product: the article's (its list is missing) or another source's."
)
class HardwareRequirement(Fact):
    data: strawberry.Private[m.Fact]

    def fact(self) -> m.Fact:
        return self.data


@strawberry.type(description="What to know when moving virtual machines or disks from an earlier product.")
class MigrationNote(Fact):
    data: strawberry.Private[m.Fact]

    def fact(self) -> m.Fact:
        return self.data


@strawberry.type(description="What must hold before a storage format (or another thing) can be used.")
class Prerequisite(Fact):
    data: strawberry.Private[m.Fact]

    def fact(self) -> m.Fact:
        return self.data


@strawberry.type(description="A fact that has no type of its own in this schema (e.g. an outside feature statement).")
class OtherFact(Fact):
    data: strawberry.Private[m.Fact]

    def fact(self) -> m.Fact:
        return self.data


@strawberry.type(description="A comparison of products: which one the source judges ahead, and why.")
class Comparison(Fact):
    data: strawberry.Private[m.Comparison]

    def fact(self) -> m.Fact:
        return self.data.fact

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


@strawberry.type(description="The right to run a licence's virtual instances as an earlier version of Windows.")
class DowngradeRight(Fact):
    data: strawberry.Private[m.DowngradeRight]

    def fact(self) -> m.Fact:
        return self.data.fact

    @field("The licence rows it applies to.")
    def applies_to(self, info: Info) -> list[LicenseRights]:
        rows = {r.iri: r for r in catalog.licensing(info.context.snapshot)}
        return [LicenseRights(data=rows[i]) for i in self.data.applies_to if i in rows]


@strawberry.type(description="A release of a product or operating system as another source dates it.")
class Release(Fact):
    data: strawberry.Private[m.Release]

    def fact(self) -> m.Fact:
        return self.data.fact

    @field("The product or operating system released.")
    def release_of(self, info: Info) -> Node | None:
        return None if self.data.release_of is None else node_of(info, self.data.release_of)

    @field("The day it was made available, as the source gives it (e.g. 2008-06-26); null when it gives none.")
    def release_date(self) -> str | None:
        return self.data.release_date

    @strawberry.field
    def architecture(self) -> Architecture | None:
        return None if self.data.architecture is None else convert(self.data.architecture, Architecture)

    @field("The service pack level of the release, when it is one.")
    def service_pack(self) -> int | None:
        return self.data.service_pack

    @field("Whether the source says no later service pack followed.")
    def last_service_pack(self) -> bool:
        return self.data.last_service_pack

    @field("Operating systems whose service packs also service this release.")
    def serviced_with(self, info: Info) -> list[Node]:
        return nodes_of(info, self.data.serviced_with)

    @field("The installation mode the release is, when it is one (e.g. SERVER_CORE).")
    def installation(self) -> InstallationMode | None:
        return None if self.data.installation is None else convert(self.data.installation, InstallationMode)


@strawberry.type(description="A list of supported guest operating systems published outside the article.")
class GuestList(Fact):
    data: strawberry.Private[m.GuestList]

    def fact(self) -> m.Fact:
        return self.data.fact

    @strawberry.field
    def product(self, info: Info) -> Product | None:
        return product_of(info, self.data.product)

    @field("Its entries; they stand beside the article's guest table and never change a verdict.")
    def entries(self, info: Info) -> list[GuestListEntry]:
        return [GuestListEntry(data=e) for e in knowledge.entries(info.context.snapshot, self.data)]


@strawberry.type(description="One entry of an outside guest OS list.")
class GuestListEntry(Fact):
    data: strawberry.Private[m.GuestListEntry]

    def fact(self) -> m.Fact:
        return self.data.fact

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


@strawberry.type(description="A licensing term from a source other than the article's licence table.")
class LicenseTerm(Fact):
    data: strawberry.Private[m.LicenseTerm]

    def fact(self) -> m.Fact:
        return self.data.fact

    @strawberry.field
    def operating_system(self, info: Info) -> Node | None:
        return None if self.data.operating_system is None else node_of(info, self.data.operating_system)

    @strawberry.field
    def edition(self, info: Info) -> Node | None:
        return None if self.data.edition is None else node_of(info, self.data.edition)

    @field("Virtual instances the term grants (0 allowed); null when unlimited or not said.")
    def virtual_instances(self) -> int | None:
        return self.data.virtual_instances

    @strawberry.field
    def unlimited(self) -> bool:
        return self.data.unlimited

    @field("The unit the licence is counted and sold per, as the source words it.")
    def licensed_per(self) -> str | None:
        return self.data.licensed_per

    @field("How the edition is sold, as the source words it.")
    def sales_channel(self) -> str | None:
        return self.data.sales_channel

    @field("Earlier operating systems the licence's virtual instances may be run as.")
    def downgrade_to(self, info: Info) -> list[Node]:
        return nodes_of(info, self.data.downgrade_to)


@strawberry.type(description="The largest size another source gives for a storage format, in its own units.")
class CapacityLimit(Fact):
    data: strawberry.Private[m.CapacityLimit]

    def fact(self) -> m.Fact:
        return self.data.fact

    @field(name="maxSizeMB", description="In megabytes, as the source writes it.")
    def max_size_mb(self) -> int | None:
        return self.data.max_size_mb

    @field(name="maxSizeGB", description="In gigabytes.")
    def max_size_gb(self) -> int | None:
        return self.data.max_size_gb


# The GraphQL type of each fact that is a plain graph.model Fact, by its class in the graph.
FACT_TYPES: dict[str, Callable[[m.Fact], Fact]] = {
    "Rule": lambda f: Rule(data=f),
    "Advice": lambda f: Advice(data=f),
    "HardwareRequirement": lambda f: HardwareRequirement(data=f),
    "MigrationNote": lambda f: MigrationNote(data=f),
    "Prerequisite": lambda f: Prerequisite(data=f),
}


def fact_of(info: Info, found: m.Fact) -> Fact:
    """A fact as its most specific GraphQL type."""
    typed = knowledge.typed(info.context.snapshot, found.iri)
    if isinstance(typed, m.Comparison):
        return Comparison(data=typed)
    if isinstance(typed, m.DowngradeRight):
        return DowngradeRight(data=typed)
    if isinstance(typed, m.Release):
        return Release(data=typed)
    if isinstance(typed, m.GuestList):
        return GuestList(data=typed)
    if isinstance(typed, m.GuestListEntry):
        return GuestListEntry(data=typed)
    if isinstance(typed, m.LicenseTerm):
        return LicenseTerm(data=typed)
    if isinstance(typed, m.CapacityLimit):
        return CapacityLimit(data=typed)
    wrap = FACT_TYPES.get(found.type)
    return OtherFact(data=found) if wrap is None else wrap(found)


def node_of(info: Info, iri: str) -> Node | None:
    """The node of this IRI as its most specific type in the schema: a Product, a Component, a Rule, ..., a Fact of
    no type of its own, else a Thing."""
    snapshot = info.context.snapshot
    local = iri[len(BASE) :] if iri.startswith(BASE) else iri
    product = snapshot.tables.products.get(local)
    if product is not None:
        return Product(data=product)
    component = snapshot.tables.components.get(local)
    if component is not None:
        return Component(data=component)
    full = BASE + local
    found = knowledge.fact(snapshot, full)
    if found is not None:
        return fact_of(info, found)
    relation = knowledge.typed(snapshot, full)
    if isinstance(relation, m.SourceRelation):
        return SourceRelation(data=relation)
    view = nodes.node(snapshot, local)
    return None if view is None else Thing(node=view.named.iri)


# --- the root ----------------------------------------------------------------------------------------

HYPER_V = strawberry.ID("hyper-v")


@strawberry.type
class Query:
    @field(description="Virtualization products known to the graph (Hyper-V, Virtual Server 2005 R2, VMware ESX, ...).")
    def products(self, info: Info) -> list[Product]:
        return [Product(data=p) for p in catalog.products(info.context.snapshot)]

    @field(description='One product by id, e.g. "hyper-v", "virtual-server-2005-r2", "vmware-esx"; null when unknown.')
    def product(self, info: Info, id: strawberry.ID) -> Product | None:
        found = catalog.product(info.context.snapshot, str(id))
        return None if found is None else Product(data=found)

    @field("The guest OS support table of a product, one entry per row of the source table.")
    def guest_support(self, info: Info, product: strawberry.ID = HYPER_V) -> list[GuestSupport]:
        return [GuestSupport(data=r) for r in catalog.guest_support(info.context.snapshot, str(product))]

    @field("The host OS support table of a product.")
    def host_support(self, info: Info, product: strawberry.ID = HYPER_V) -> list[HostSupport]:
        return [HostSupport(data=r) for r in catalog.host_support(info.context.snapshot, str(product))]

    @field(
        description="Can this guest run on the product with this many virtual processors?\n"
        "operatingSystem accepts an id, or an English or Japanese name, in any letter case\n"
        '(for example "windows-xp", "Windows XP", "windows xp professional").\n'
        "servicePack is the service pack number, 0 for none.\n"
        "edition null means: do not check the edition."
    )
    def check_guest(
        self,
        info: Info,
        *,
        product: strawberry.ID = HYPER_V,
        operating_system: str,
        edition: str | None = strawberry.UNSET,
        service_pack: int = 0,
        architecture: Architecture,
        virtual_processors: int = 1,
    ) -> GuestVerdict:
        verdict = verdicts.check_guest(
            info.context.snapshot,
            str(product),
            operating_system,
            None if edition is strawberry.UNSET else edition,
            service_pack,
            convert(architecture, m.Architecture),
            virtual_processors,
        )
        return GuestVerdict(data=verdict)

    @field("Can this operating system, edition and installation mode host the product?")
    def check_host(
        self,
        info: Info,
        *,
        product: strawberry.ID = HYPER_V,
        operating_system: str,
        edition: str,
        architecture: Architecture,
        installation: InstallationMode = InstallationMode.FULL,
    ) -> HostVerdict:
        verdict = verdicts.check_host(
            info.context.snapshot,
            str(product),
            operating_system,
            edition,
            convert(architecture, m.Architecture),
            convert(installation, m.InstallationMode),
        )
        return HostVerdict(data=verdict)

    @field(
        description="The path that a virtual machine's device I/O takes to the physical hardware; "
        "null when the product has no such path.\n"
        "With no mode, the product's own path: SYNTHETIC for Hyper-V, EMULATED for Virtual Server 2005 R2."
    )
    def io_path(
        self, info: Info, product: strawberry.ID = HYPER_V, mode: IoMode | None = None
    ) -> ArchitecturePath | None:
        snapshot = info.context.snapshot
        known = catalog.require_product(snapshot, str(product))  # an unknown product is bad input
        wanted = None if mode is None else convert(mode, m.IoMode)
        return architecture_path(paths.io_path(snapshot, known.id, wanted))

    @field(
        description="The chain of documented relations from one component to another (ids from Product.components), "
        "each hop in the\ndirection the relation runs (the way requests and I/O flow); null when there is none. "
        "directed: false also walks\nrelations backwards, and says so on each hop."
    )
    def path(
        self,
        info: Info,
        source: Annotated[strawberry.ID, strawberry.argument(name="from")],
        target: Annotated[strawberry.ID, strawberry.argument(name="to")],
        directed: bool = True,
    ) -> ArchitecturePath | None:
        return architecture_path(paths.path(info.context.snapshot, str(source), str(target), directed=directed))

    @field("The virtual disk formats that the product offers.")
    def storage_formats(self, info: Info, product: strawberry.ID = HYPER_V) -> list[StorageFormat]:
        return [StorageFormat(data=f) for f in catalog.storage_formats(info.context.snapshot, str(product))]

    @field("Licensing rights for virtual instances, per edition.")
    def licensing(self, info: Info) -> list[LicenseRights]:
        return [LicenseRights(data=r) for r in catalog.licensing(info.context.snapshot)]

    @field(
        "Anything in the graph whose names (English, Japanese, alternative) or passages match the text, best "
        "first;\nblank text answers an empty list."
    )
    def search(self, info: Info, text: str, first: int = 20) -> list[SearchHit]:
        return [SearchHit(data=h) for h in catalog.search(info.context.snapshot, text, first)]

    @field(
        "Anything the graph names under /id/ (a product, component, operating system, table row, rule, advice,\n"
        "comparison, feature, passage, ...), with every statement about it; null when the id is unknown."
    )
    def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return node_of(info, str(id))

    @field(
        "The rules the article states or the graph reads by, or those about one node (an id as node takes);\n"
        "the article's first, then other documents'."
    )
    def rules(self, info: Info, about: strawberry.ID | None = None) -> list[Rule]:
        return [Rule(data=f) for f in knowledge.rules(info.context.snapshot, _optional(about))]

    @field("The article's advice, or the advice about one node (an id as node takes).")
    def advice(self, info: Info, about: strawberry.ID | None = None) -> list[Advice]:
        return [Advice(data=f) for f in knowledge.advice(info.context.snapshot, _optional(about))]

    @field("The comparisons of products the sources make (VMware ESX and Hyper-V), with their reasons.")
    def comparisons(self, info: Info) -> list[Comparison]:
        return [Comparison(data=c) for c in knowledge.comparisons(info.context.snapshot)]

    @field("The rights to run virtual instances as earlier versions of Windows, with the licence rows they apply to.")
    def downgrade_rights(self, info: Info) -> list[DowngradeRight]:
        return [DowngradeRight(data=r) for r in knowledge.downgrade_rights(info.context.snapshot)]

    @field("A product's hardware requirements: the article's statement first, then other documents' (basis OUTSIDE).")
    def hardware_requirements(self, info: Info, product: strawberry.ID = HYPER_V) -> list[HardwareRequirement]:
        found = knowledge.hardware_requirements(info.context.snapshot, str(product))
        return [HardwareRequirement(data=f) for f in found]

    @field(
        "The facts from documents other than the article (releases, guest lists, licensing terms, capacity\n"
        "limits, ...), or those that name one node in any statement; each with its own date and its relation\n"
        "to the article, beside the article's facts and never over them."
    )
    def outside_facts(self, info: Info, about: strawberry.ID | None = None) -> list[Fact]:
        return [fact_of(info, f) for f in knowledge.outside_facts(info.context.snapshot, _optional(about))]


def _optional(value: strawberry.ID | None) -> str | None:
    return None if value is None else str(value)


# Types reachable only through the Node interface, which the schema must list itself.
SCHEMA_TYPES: list[type] = [
    Thing,
    OtherFact,
    Rule,
    Advice,
    HardwareRequirement,
    MigrationNote,
    Prerequisite,
    Comparison,
    DowngradeRight,
    Release,
    GuestList,
    GuestListEntry,
    LicenseTerm,
    CapacityLimit,
    SourceRelation,
]


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query, types=SCHEMA_TYPES)


schema = build_schema()


def sdl() -> str:
    """The schema as SDL, as committed in server/schema.graphql."""
    return print_schema(schema) + "\n"


if __name__ == "__main__":  # python -m server.graphql_schema > server/schema.graphql
    print(sdl(), end="")
