"""The answers to checkGuest and checkHost: a verdict, its reasons, and how the question was read."""

from __future__ import annotations

import strawberry

from graph import model as m
from server.graphql.nodes import Node, node_of
from server.graphql.products import ArchitecturePath
from server.graphql.types import Info, Lang, ReasonCode, architecture_field, convert, evidence_field, field, text


@strawberry.type
class Reason:
    data: strawberry.Private[m.Reason]

    @strawberry.field
    def code(self) -> ReasonCode:
        return convert(self.data.code, ReasonCode)

    @strawberry.field
    def message(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.message, lang)

    evidence = evidence_field()


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

    architecture = architecture_field()

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
