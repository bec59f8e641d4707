"""The graph's facts in themselves: rules, advice, the comparison, releases, outside records, ...

Each type wraps one record of graph.knowledge (a plain m.Fact, or a record that holds one in `fact`) and
registers itself with server.graphql.nodes, so a node of any IRI comes out as its own type.
"""

from __future__ import annotations

from typing import Any, Protocol

import strawberry

from graph import knowledge
from graph import model as m
from server.graphql.nodes import OTHER, Node, fact_of, node_of, nodes_of, plain_fact, wraps
from server.graphql.types import (
    OUTSIDE_FACTS,
    Architecture,
    Basis,
    Citation,
    Info,
    InstallationMode,
    Lang,
    Wrapper,
    cite,
    convert,
    field,
    id_field,
    iri_field,
    label_field,
    text,
)


class FactRecord(Protocol):
    @property
    def fact(self) -> m.Fact: ...


@wraps(m.SourceRelation)
@strawberry.type(description="How a fact from another document stands to the article (fills a gap, confirms, ...).")
class SourceRelation(Node):
    data: strawberry.Private[m.SourceRelation]

    def node_iri(self) -> str:
        return self.data.iri

    id = id_field()
    iri = iri_field()
    label = label_field()

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
    data: strawberry.Private[m.Fact | FactRecord]

    def fact(self) -> m.Fact:
        data = self.data
        return data if isinstance(data, m.Fact) else data.fact

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


# --- facts that are a plain m.Fact, typed by their class in the graph --------------------------------------


@plain_fact("Rule")
@strawberry.type(description="A rule the article states or the graph reads by (an INFERRED statement names one).")
class Rule(Fact):
    data: strawberry.Private[m.Fact]


@plain_fact("Advice")
@strawberry.type(description="What the article advises a reader to do or check.")
class Advice(Fact):
    data: strawberry.Private[m.Fact]


@plain_fact("HardwareRequirement")
@strawberry.type(
    description="A hardware requirement of a product: the article's (its list is missing) or another source's."
)
class HardwareRequirement(Fact):
    data: strawberry.Private[m.Fact]


@plain_fact("MigrationNote")
@strawberry.type(description="What to know when moving virtual machines or disks from an earlier product.")
class MigrationNote(Fact):
    data: strawberry.Private[m.Fact]


@plain_fact("Prerequisite")
@strawberry.type(description="What must hold before a storage format (or another thing) can be used.")
class Prerequisite(Fact):
    data: strawberry.Private[m.Fact]


@plain_fact(OTHER)
@strawberry.type(description="A fact that has no type of its own in this schema (e.g. an outside feature statement).")
class OtherFact(Fact):
    data: strawberry.Private[m.Fact]


# --- facts with more to them: a record of graph.knowledge that holds the fact ------------------------------


@wraps(m.Release, fact=True)
@strawberry.type(description="A release of a product or operating system as another source dates it.")
class Release(Fact):
    data: strawberry.Private[m.Release]

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


@wraps(m.LicenseTerm, fact=True)
@strawberry.type(description="A licensing term from a source other than the article's licence table.")
class LicenseTerm(Fact):
    data: strawberry.Private[m.LicenseTerm]

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


@wraps(m.CapacityLimit, fact=True)
@strawberry.type(description="The largest size another source gives for a storage format, in its own units.")
class CapacityLimit(Fact):
    data: strawberry.Private[m.CapacityLimit]

    @field(name="maxSizeMB", description="In megabytes, as the source writes it.")
    def max_size_mb(self) -> int | None:
        return self.data.max_size_mb

    @field(name="maxSizeGB", description="In gigabytes.")
    def max_size_gb(self) -> int | None:
        return self.data.max_size_gb


# Types reachable only through the Node interface, which the schema must list itself (with products' and
# tables' own).
FACT_TYPES: list[type] = [
    OtherFact,
    Rule,
    Advice,
    HardwareRequirement,
    MigrationNote,
    Prerequisite,
    Release,
    LicenseTerm,
    CapacityLimit,
    SourceRelation,
]


# --- helpers of the resolvers: each reads one question function's answer ----------------------------------


def statement_basis(info: Info, iri: str, predicate: str) -> Basis | None:
    found = knowledge.statement(info.context.snapshot, iri, predicate)
    return None if found is None else convert(found.basis, Basis)


def statement_rule(info: Info, iri: str, predicate: str) -> Rule | None:
    found = knowledge.statement(info.context.snapshot, iri, predicate)
    rule = None if found is None or found.rule is None else knowledge.fact(info.context.snapshot, found.rule)
    return None if rule is None else Rule(data=rule)


def outside_facts_on(info: Info, iri: str) -> list[Fact]:
    return [fact_of(info.context.snapshot, f) for f in knowledge.outside_facts_on(info.context.snapshot, iri)]


def _outside_facts(self: Wrapper, info: Info) -> list[Fact]:
    return outside_facts_on(info, self.data.iri)


def outside_facts_field(description: str) -> Any:
    """`outsideFacts: [Fact!]!`, the facts of other documents that name the record."""
    return strawberry.field(resolver=_outside_facts, description=description)
