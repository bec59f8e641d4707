"""The answers' shapes: plain frozen dataclasses that every adapter renders.

The question functions return these and nothing else, so the GraphQL resolvers, the pages, the docs and the
CLI read the same fields. Texts in two languages are `Text` (a mapping "en"/"ja" -> string).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph.nodes import Basis

Text = Mapping[str, str]
LANGS = ("en", "ja")


def text(value: Text, lang: str) -> str:
    """The text in `lang`, falling back to the other language rather than to nothing."""
    return value.get(lang) or value.get("en") or value.get("ja") or ""


class Architecture(Enum):
    X86 = "x86"
    X64 = "x64"


class InstallationMode(Enum):
    FULL = "full-installation"
    SERVER_CORE = "server-core"


class IoMode(Enum):
    SYNTHETIC = "synthetic-io"
    EMULATED = "emulated-io"


class ArchitectureStyle(Enum):
    HYPERVISOR = "hypervisor-style"
    HOSTED = "hosted-style"


class ReasonCode(Enum):
    SUPPORTED = "SUPPORTED"
    UNKNOWN_OPERATING_SYSTEM = "UNKNOWN_OPERATING_SYSTEM"
    NOT_DOCUMENTED = "NOT_DOCUMENTED"
    OPERATING_SYSTEM_NOT_SUPPORTED = "OPERATING_SYSTEM_NOT_SUPPORTED"
    EDITION_NOT_SUPPORTED = "EDITION_NOT_SUPPORTED"
    ARCHITECTURE_NOT_SUPPORTED = "ARCHITECTURE_NOT_SUPPORTED"
    SERVICE_PACK_TOO_OLD = "SERVICE_PACK_TOO_OLD"
    TOO_MANY_VIRTUAL_PROCESSORS = "TOO_MANY_VIRTUAL_PROCESSORS"


class BadInput(ValueError):
    """The caller's input is wrong; `argument` names it, the message says what is wrong (both languages)."""

    def __init__(self, argument: str, message: Text) -> None:
        super().__init__(f"{argument}: {message['en']}")
        self.argument = argument
        self.message = message


@dataclass(frozen=True)
class Citation:
    iri: str
    quote: str
    section: str | None
    document: str
    document_iri: str
    as_of: str | None = None


@dataclass(frozen=True)
class Named:
    """Anything with an id (the IRI's last part), an IRI and labels."""

    id: str
    iri: str
    label: Text
    type: str = ""


@dataclass(frozen=True)
class Component:
    id: str
    iri: str
    label: Text
    description: Text | None
    products: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hop:
    source: Component
    target: Component
    relation: Text
    relation_iri: str
    evidence: tuple[Citation, ...]
    forward: bool = True


@dataclass(frozen=True)
class ArchitecturePath:
    mode: IoMode | None
    components: tuple[Component, ...]
    hops: tuple[Hop, ...]


@dataclass(frozen=True)
class Layer:
    position: int
    label: Text
    components: tuple[Component, ...]
    evidence: tuple[Citation, ...]


@dataclass(frozen=True)
class FeatureSupport:
    iri: str
    feature: Text
    available: bool
    as_of: str | None
    product_version: str | None
    evidence: tuple[Citation, ...]


@dataclass(frozen=True)
class Product:
    id: str
    iri: str
    label: Text
    style: ArchitectureStyle
    components: tuple[Component, ...]
    features: tuple[FeatureSupport, ...]


@dataclass(frozen=True)
class GuestRow:
    iri: str
    row_number: int
    product: str
    operating_system: Named
    editions: tuple[Named, ...]
    service_packs: tuple[int, ...]
    architecture: Architecture
    max_virtual_processors: int
    as_of: str
    evidence: tuple[Citation, ...]


@dataclass(frozen=True)
class HostRow:
    iri: str
    row_number: int
    product: str
    operating_system: Named
    editions: tuple[Named, ...]
    architecture: Architecture
    installations: tuple[InstallationMode, ...]
    as_of: str
    evidence: tuple[Citation, ...]


@dataclass(frozen=True)
class LicenseRow:
    iri: str
    operating_system: Named
    edition: Named
    virtual_instances: int | None
    unlimited: bool
    as_of: str
    evidence: tuple[Citation, ...]


@dataclass(frozen=True)
class StorageFormat:
    id: str
    iri: str
    label: Text
    max_size_gb: int | None
    supports_snapshots: bool
    file_extension: str | None
    allocation_unit: str | None
    prerequisites: tuple[Named, ...]
    migration_notes: tuple[Named, ...]
    evidence: tuple[Citation, ...]
    product: str = ""


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    message: Text
    evidence: tuple[Citation, ...]


@dataclass(frozen=True)
class GuestQuestion:
    """How a guest question was read: what each name was taken to mean, and the numbers used."""

    operating_system: Named | None
    edition: Named | None
    service_pack: int
    architecture: Architecture
    virtual_processors: int


@dataclass(frozen=True)
class GuestVerdict:
    supported: bool
    max_virtual_processors: int | None
    integration_services: bool
    io_path: ArchitecturePath
    reasons: tuple[Reason, ...]
    operating_system: Named | None = None
    row: GuestRow | None = None
    question: GuestQuestion | None = None


@dataclass(frozen=True)
class HostVerdict:
    supported: bool
    reasons: tuple[Reason, ...]
    operating_system: Named | None = None


@dataclass(frozen=True)
class SearchHit:
    id: str
    iri: str
    type: str
    label: Text
    score: float = 0.0
    # the name or passage text that matched, as written in the graph
    matched: str = ""
    # the passages the hit rests on; for a passage hit, the passage itself
    evidence: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Suggestions:
    """Closest known names for a name that matched nothing, best first."""

    names: tuple[Named, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class NotSupported:
    """An explicit "not supported" statement of a source, as guest or as host."""

    iri: str
    role: str  # "guest" or "host"
    product: str
    operating_system: str
    service_packs: tuple[int, ...]
    editions: tuple[str, ...]
    architecture: Architecture | None
    label: Text
    evidence: tuple[Citation, ...]


@dataclass(frozen=True)
class Relation:
    """One documented relation between two components, with the path and hop order it belongs to."""

    iri: str
    subject: str
    predicate: str
    object: str
    path: str | None
    order: int | None
    evidence: tuple[Citation, ...]


@dataclass(frozen=True)
class IoPathDef:
    iri: str
    product: str
    mode: IoMode
    start: str
    end: str
    evidence: tuple[Citation, ...]


# --- the typed facts of graph.knowledge: rules, advice, the comparison, outside records, ... --------------


@dataclass(frozen=True)
class Fact:
    """A thing of the graph that is a fact in itself (a rule, an advice, a release, ...), as its node says it.

    `basis` is how the graph knows the thing (STATED: the article's passages; OUTSIDE: another document's),
    read from graph.nodes; a single statement about it may still be INFERRED (see its node's statements).
    """

    id: str
    iri: str
    type: str  # its most specific class, e.g. Rule
    label: Text
    definition: Text | None
    as_of: str | None
    basis: Basis
    evidence: tuple[Citation, ...]
    about: tuple[str, ...] = ()  # IRIs of what it concerns (hv:about)
    # an outside fact: how it stands to the article (hv:relationToArticle) and the article's facts it bears on
    relation_to_article: tuple[SourceRelation, ...] = ()
    relates_to: tuple[str, ...] = ()  # IRIs (hv:relatesToArticleFact)
    product_version: str | None = None


@dataclass(frozen=True)
class SourceRelation:
    """How an outside fact stands to the article (fills a gap, confirms, differs, ...): a term of the graph."""

    id: str
    iri: str
    label: Text
    notation: str | None  # the record's own label, e.g. FILLS GAP
    definition: Text | None


@dataclass(frozen=True)
class Comparison:
    fact: Fact
    favors: str  # product id
    compared_with: tuple[str, ...]  # product ids


@dataclass(frozen=True)
class DowngradeRight:
    fact: Fact
    applies_to: tuple[str, ...]  # IRIs of the licence rows (LicenseRow.iri)


@dataclass(frozen=True)
class Release:
    fact: Fact
    release_of: str | None  # IRI of the product or operating system
    release_date: str | None  # as written, e.g. 2008-06-26
    architecture: Architecture | None
    service_pack: int | None
    last_service_pack: bool
    serviced_with: tuple[str, ...]  # IRIs of operating systems
    installation: InstallationMode | None


@dataclass(frozen=True)
class GuestList:
    fact: Fact
    product: str | None  # product id
    entries: tuple[str, ...]  # IRIs of its GuestListEntry


@dataclass(frozen=True)
class GuestListEntry:
    fact: Fact
    in_list: str | None  # IRI of its GuestList
    listed_as: tuple[str, ...]
    operating_system: str | None  # IRI
    editions: tuple[str, ...]  # IRIs
    architectures: tuple[Architecture, ...]
    service_packs: tuple[int, ...]
    allowed_virtual_processors: tuple[int, ...]
    listed_max_virtual_processors: int | None


@dataclass(frozen=True)
class LicenseTerm:
    fact: Fact
    operating_system: str | None  # IRI
    edition: str | None  # IRI
    virtual_instances: int | None
    unlimited: bool
    licensed_per: str | None
    sales_channel: str | None
    downgrade_to: tuple[str, ...]  # IRIs of operating systems


@dataclass(frozen=True)
class CapacityLimit:
    fact: Fact
    max_size_mb: int | None
    max_size_gb: int | None
