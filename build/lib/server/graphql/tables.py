"""The article's tables, a row per type: guest and host support, storage formats, licensing rights."""

from __future__ import annotations

import strawberry

from graph import catalog, knowledge
from graph import model as m
from graph.layout import VOCAB
from server.graphql.facts import (
    Fact,
    MigrationNote,
    Prerequisite,
    Rule,
    outside_facts_field,
    statement_basis,
    statement_rule,
)
from server.graphql.nodes import wraps
from server.graphql.types import (
    OUTSIDE_FACTS,
    ROW_AS_OF,
    ROW_ID,
    Basis,
    Info,
    InstallationMode,
    Lang,
    architecture_field,
    as_of_field,
    convert,
    definition_of,
    evidence_field,
    field,
    id_field,
    iri_field,
    label_field,
    operating_system_field,
    row_id_field,
    text,
    texts,
)


@strawberry.type
class GuestSupport:
    data: strawberry.Private[m.GuestRow]

    operating_system = operating_system_field()

    @strawberry.field
    def editions(self, lang: Lang | None = Lang.EN) -> list[str]:
        return texts(self.data.editions, lang)

    @field("Service pack numbers that the row covers, 0 for none.")
    def service_packs(self) -> list[int]:
        return list(self.data.service_packs)

    architecture = architecture_field()

    @strawberry.field
    def max_virtual_processors(self) -> int:
        return self.data.max_virtual_processors

    as_of = as_of_field(ROW_AS_OF)
    evidence = evidence_field()
    id = row_id_field(ROW_ID)
    outside_facts = outside_facts_field(OUTSIDE_FACTS + " (e.g. the entries of Microsoft's own guest lists).")


@strawberry.type
class HostSupport:
    data: strawberry.Private[m.HostRow]

    operating_system = operating_system_field()

    @strawberry.field
    def editions(self, lang: Lang | None = Lang.EN) -> list[str]:
        return texts(self.data.editions, lang)

    architecture = architecture_field()

    @strawberry.field
    def installations(self) -> list[InstallationMode]:
        return [convert(i, InstallationMode) for i in self.data.installations]

    as_of = as_of_field(ROW_AS_OF)
    evidence = evidence_field()
    id = row_id_field(ROW_ID)
    outside_facts = outside_facts_field(OUTSIDE_FACTS + ".")


@strawberry.type
class StorageFormat:
    data: strawberry.Private[m.StorageFormat]

    id = id_field()
    label = label_field()

    @field(name="maxSizeGB", description="Largest virtual disk in gigabytes; null when the format sets no limit.")
    def max_size_gb(self) -> int | None:
        return self.data.max_size_gb

    @strawberry.field
    def supports_snapshots(self) -> bool:
        return self.data.supports_snapshots

    @strawberry.field
    def prerequisites(self, lang: Lang | None = Lang.EN) -> list[str]:
        return texts(self.data.prerequisites, lang)

    evidence = evidence_field()
    iri = iri_field()

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

    outside_facts = outside_facts_field(OUTSIDE_FACTS + " (e.g. another source's capacity limit).")


@strawberry.type
class LicenseRights:
    data: strawberry.Private[m.LicenseRow]

    operating_system = operating_system_field()

    @strawberry.field
    def edition(self, lang: Lang | None = Lang.EN) -> str:
        return text(self.data.edition.label, lang)

    @field("Virtual instances that the license grants; null when unlimited.")
    def virtual_instances(self) -> int | None:
        return self.data.virtual_instances

    @strawberry.field
    def unlimited(self) -> bool:
        return self.data.unlimited

    as_of = as_of_field(ROW_AS_OF)
    evidence = evidence_field()
    id = row_id_field(ROW_ID)

    @field("The downgrade rights that apply to this licence (as Query.downgradeRights).")
    def downgrade_rights(self, info: Info) -> list[DowngradeRight]:
        return [DowngradeRight(data=r) for r in knowledge.downgrade_rights(info.context.snapshot, self.data.iri)]

    outside_facts = outside_facts_field(OUTSIDE_FACTS + " (e.g. licensing terms of other dates).")


@wraps(m.DowngradeRight, fact=True)
@strawberry.type(description="The right to run a licence's virtual instances as an earlier version of Windows.")
class DowngradeRight(Fact):
    data: strawberry.Private[m.DowngradeRight]

    @field("The licence rows it applies to.")
    def applies_to(self, info: Info) -> list[LicenseRights]:
        rows = {r.iri: r for r in catalog.licensing(info.context.snapshot)}
        return [LicenseRights(data=rows[i]) for i in self.data.applies_to if i in rows]
