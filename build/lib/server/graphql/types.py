"""The schema's vocabulary: the request context, the enums, Citation, and the field shapes many types share.

The shapes ("label(lang)", "id", "iri", "evidence", "asOf", ...) are each one resolver, given to every type
that has the field with `label = label_field()`: strawberry reads the field's name from the attribute and
its arguments from the resolver, so the SDL is what a method per type printed. Each resolver takes the
object as `self`, which server.graphql.plan calls directly (no Info built per field).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol, TypeVar

import strawberry

from graph import knowledge
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
    return [
        Citation(
            quote=c.quote,
            section=c.section,
            document=c.document,
            iri=c.iri,
            document_iri=c.document_iri,
            as_of=c.as_of,
            basis=convert(knowledge.citation_basis(c), Basis),
        )
        for c in evidence
    ]


# --- the shared field shapes: what each reads from the wrapped graph.model record (`self.data`) ----------


class Wrapper(Protocol):
    """A GraphQL type over one graph.model record; the record has the attributes the shape reads."""

    @property
    def data(self) -> Any: ...


def _id(self: Wrapper) -> strawberry.ID:
    return strawberry.ID(self.data.id)


def _row_id(self: Wrapper) -> strawberry.ID:
    return strawberry.ID(self.data.iri[len(BASE) :])


def _iri(self: Wrapper) -> str:
    return str(self.data.iri)


def _label(self: Wrapper, lang: Lang | None = Lang.EN) -> str:
    return text(self.data.label, lang)


def _operating_system(self: Wrapper, lang: Lang | None = Lang.EN) -> str:
    return text(self.data.operating_system.label, lang)


def _evidence(self: Wrapper) -> list[Citation]:
    return cite(self.data.evidence)


def _as_of(self: Wrapper) -> str | None:
    found: str | None = self.data.as_of
    return found


def _architecture(self: Wrapper) -> Architecture:
    return convert(self.data.architecture, Architecture)


def id_field(description: str | None = None) -> Any:
    """`id: ID!`, the record's own id."""
    return strawberry.field(resolver=_id, description=description)


def row_id_field(description: str | None = None) -> Any:
    """`id: ID!`, the record's IRI under /id/ (a table row: as node(id) takes it)."""
    return strawberry.field(resolver=_row_id, description=description)


def iri_field() -> Any:
    return strawberry.field(resolver=_iri)


def label_field() -> Any:
    """`label(lang: Lang = EN): String!`"""
    return strawberry.field(resolver=_label)


def operating_system_field() -> Any:
    """`operatingSystem(lang: Lang = EN): String!`, a table row's operating system by its label."""
    return strawberry.field(resolver=_operating_system)


def evidence_field() -> Any:
    """`evidence: [Citation!]!`, the passages the record rests on."""
    return strawberry.field(resolver=_evidence)


def as_of_field(description: str) -> Any:
    """`asOf: String`, the date the record holds for."""
    return strawberry.field(resolver=_as_of, description=description)


def architecture_field() -> Any:
    """`architecture: Architecture!`"""
    return strawberry.field(resolver=_architecture)


ROW_AS_OF = "The date the row holds for, as written in the source (e.g. 2008-08)."
ROW_ID = "The row's id, as node(id) takes it."


def definition_of(info: Info, iri: str, lang: Lang | None) -> str | None:
    """What the thing is, in the graph's words (its definition), in `lang`."""
    found = knowledge.definition(info.context.snapshot, iri)
    return None if found is None else text(found, lang)
