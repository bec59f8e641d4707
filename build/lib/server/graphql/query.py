"""The root Query: each field calls one question function of graph/ with the request's snapshot.

Also the schema itself (`schema`, with every type that only the Node interface reaches) and its SDL,
committed as server/schema.graphql: `python -m server.graphql.query > server/schema.graphql`.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.printer import print_schema

from graph import catalog, knowledge, paths, verdicts
from graph import model as m
from server.graphql.facts import FACT_TYPES, Advice, Fact, HardwareRequirement, Rule
from server.graphql.nodes import Node, SearchHit, Thing, fact_of, node_of
from server.graphql.products import ArchitecturePath, Comparison, GuestList, GuestListEntry, Product, architecture_path
from server.graphql.tables import DowngradeRight, GuestSupport, HostSupport, LicenseRights, StorageFormat
from server.graphql.types import Architecture, Info, InstallationMode, IoMode, convert, field
from server.graphql.verdicts import GuestVerdict, HostVerdict

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
        return [
            fact_of(info.context.snapshot, f) for f in knowledge.outside_facts(info.context.snapshot, _optional(about))
        ]


def _optional(value: strawberry.ID | None) -> str | None:
    return None if value is None else str(value)


# Types reachable only through the Node interface, which the schema must list itself.
SCHEMA_TYPES: list[type] = [Thing, *FACT_TYPES, Comparison, GuestList, GuestListEntry, DowngradeRight]


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(query=Query, types=SCHEMA_TYPES)


schema = build_schema()


def sdl() -> str:
    """The schema as SDL, as committed in server/schema.graphql."""
    return print_schema(schema) + "\n"


if __name__ == "__main__":  # python -m server.graphql.query > server/schema.graphql
    print(sdl(), end="")
