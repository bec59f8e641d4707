"""`hvkg licensing`, `storage`, `unsupported`, `features`: the listings of the GraphQL API, as tables.

Each answer comes from the question functions the resolvers call (graph.catalog, graph.knowledge; the
not-supported statements are read from the snapshot's tables, as the docs site reads them), and is printed
in one language: the graph's labels, the words of server/cli/text.py, each row with the numbers of the
passages it cites and the passages listed below. `--json` prints the same rows with both languages' labels.
"""

from __future__ import annotations

import argparse
from typing import Any

from graph import catalog, knowledge
from graph.layout import VOCAB
from graph.model import FeatureSupport, LicenseRow, Product, StorageFormat, Text, text
from graph.snapshot import Snapshot
from graph.tables import local_id
from server.cli.data import snapshot_of
from server.cli.errors import lang_of
from server.cli.tables import Answer, Prefixes, Sources, Table, emit, evidence_json, labels, named_json
from server.cli.text import SEPARATOR, word

DASH = "—"


def _yes(value: bool, lang: str) -> str:
    return word("yes" if value else "no", lang)


def _value_of(snapshot: Snapshot, iri: str, prop: str) -> Text | None:
    """A statement's value in the graph's words (the label of what it points to), as node(id) gives it."""
    found = knowledge.statement(snapshot, iri, VOCAB + prop)
    return None if found is None else found.value


def _fact_json(fact: Any) -> dict[str, Any]:
    return {
        "id": fact.id,
        "iri": fact.iri,
        "type": fact.type,
        "label": labels(fact.label),
        "definition": labels(fact.definition),
        "asOf": fact.as_of,
        "basis": fact.basis.value,
        "evidence": evidence_json(fact.evidence),
    }


# ---- licensing ------------------------------------------------------------------------------------------------


def _instances(row: LicenseRow, lang: str) -> str:
    if row.unlimited:
        return word("unlimited", lang)
    return DASH if row.virtual_instances is None else str(row.virtual_instances)


def licensing_answer(snapshot: Snapshot, lang: str) -> Answer:
    prefixes = Prefixes.of(snapshot)
    sources = Sources(prefixes)
    rows = catalog.licensing(snapshot)
    rights = knowledge.downgrade_rights(snapshot)
    editions = {r.iri: text(r.edition.label, lang) for r in rows}
    licence_table = Table(
        tuple(word(k, lang) for k in ("edition", "virtual_instances", "as_of", "id", "sources")),
        tuple(
            (text(r.edition.label, lang), _instances(r, lang), r.as_of, prefixes.name(r.iri), sources.ref(r.evidence))
            for r in rows
        ),
        word("licensing_title", lang),
        "licensing",
    )
    rights_table = Table(
        tuple(word(k, lang) for k in ("id", "as_of", "sources", "statement", "applies_to")),
        tuple(
            (
                prefixes.name(r.fact.iri),
                r.fact.as_of or DASH,
                sources.ref(r.fact.evidence),
                text(r.fact.label, lang),
                text(SEPARATOR, lang).join(editions[i] for i in editions if i in r.applies_to),
            )
            for r in rights
        ),
        word("downgrade_title", lang),
        "downgradeRights",
    )
    data = {
        "licensing": [
            {
                "id": local_id(r.iri),
                "iri": r.iri,
                "operatingSystem": named_json(r.operating_system),
                "edition": named_json(r.edition),
                "virtualInstances": r.virtual_instances,
                "unlimited": r.unlimited,
                "asOf": r.as_of,
                "evidence": evidence_json(r.evidence),
                "downgradeRights": [d.fact.iri for d in knowledge.downgrade_rights(snapshot, r.iri)],
            }
            for r in rows
        ],
        "downgradeRights": [{**_fact_json(r.fact), "appliesTo": list(r.applies_to)} for r in rights],
    }
    return Answer((licence_table, rights_table), sources, data)


# ---- storage --------------------------------------------------------------------------------------------------


def _max_size(snapshot: Snapshot, fmt: StorageFormat, lang: str) -> str:
    if fmt.max_size_gb is not None:
        return str(fmt.max_size_gb)
    return word("unlimited", lang) if knowledge.no_capacity_limit(snapshot, fmt.iri) else DASH


def storage_answer(snapshot: Snapshot, product: str, lang: str) -> Answer:
    prefixes = Prefixes.of(snapshot)
    sources = Sources(prefixes)
    formats = catalog.storage_formats(snapshot, product)
    owner = catalog.require_product(snapshot, product)
    headings = ("format", "max_size_gb", "snapshots", "file_extension", "allocation_unit", "id", "sources")
    rows = []
    for fmt in formats:
        unit = _value_of(snapshot, fmt.iri, "allocationUnit")
        rows.append(
            (
                text(fmt.label, lang),
                _max_size(snapshot, fmt, lang),
                _yes(fmt.supports_snapshots, lang),
                fmt.file_extension or DASH,
                text(unit, lang) if unit else (fmt.allocation_unit or DASH),
                prefixes.name(fmt.iri),
                sources.ref(fmt.evidence),
            )
        )
    notes = [
        (fmt, kind, note)
        for fmt in formats
        for kind, named in (("prerequisite", fmt.prerequisites), ("migration_note", fmt.migration_notes))
        for note in knowledge.facts(snapshot, (n.iri for n in named))
    ]
    notes_table = Table(
        tuple(word(k, lang) for k in ("format", "kind", "id", "sources", "note")),
        tuple(
            (
                text(fmt.label, lang),
                word(kind, lang),
                prefixes.name(note.iri),
                sources.ref(note.evidence),
                text(note.label, lang),
            )
            for fmt, kind, note in notes
        ),
        word("storage_notes_title", lang),
        "notes",
    )
    title = f"{word('storage_title', lang)}: {text(owner.label, lang)}"
    data = {
        "storageFormats": [
            {
                "id": f.id,
                "iri": f.iri,
                "label": labels(f.label),
                "product": f.product,
                "maxSizeGB": f.max_size_gb,
                "noCapacityLimit": knowledge.no_capacity_limit(snapshot, f.iri),
                "supportsSnapshots": f.supports_snapshots,
                "fileExtension": f.file_extension,
                "allocationUnit": f.allocation_unit,
                "allocationUnitLabel": labels(_value_of(snapshot, f.iri, "allocationUnit")),
                "prerequisites": [n.iri for n in f.prerequisites],
                "migrationNotes": [n.iri for n in f.migration_notes],
                "evidence": evidence_json(f.evidence),
            }
            for f in formats
        ],
        "notes": [{**_fact_json(note), "storageFormat": fmt.iri} for fmt, _, note in notes],
    }
    return Answer(
        (Table(tuple(word(h, lang) for h in headings), tuple(rows), title, "storageFormats"), notes_table),
        sources,
        data,
    )


# ---- not supported --------------------------------------------------------------------------------------------


def unsupported_answer(snapshot: Snapshot, product: str | None, role: str | None, lang: str) -> Answer:
    prefixes = Prefixes.of(snapshot)
    sources = Sources(prefixes)
    product_id = catalog.require_product(snapshot, product).id if product is not None else None
    found = sorted(
        (
            s
            for s in snapshot.tables.not_supported
            if (product_id is None or s.product == product_id) and (role is None or s.role == role)
        ),
        key=lambda s: (s.role != "guest", s.iri),
    )
    table = Table(
        tuple(word(k, lang) for k in ("role", "id", "sources", "statement")),
        tuple((word(s.role, lang), prefixes.name(s.iri), sources.ref(s.evidence), text(s.label, lang)) for s in found),
        word("unsupported_title", lang),
        "notSupported",
    )
    data = {
        "notSupported": [
            {
                "id": local_id(s.iri),
                "iri": s.iri,
                "role": s.role,
                "product": s.product,
                "operatingSystem": s.operating_system,
                "servicePacks": list(s.service_packs),
                "editions": list(s.editions),
                "architecture": None if s.architecture is None else s.architecture.value,
                "label": labels(s.label),
                "evidence": evidence_json(s.evidence),
            }
            for s in found
        ]
    }
    return Answer((table,), sources, data)


# ---- features -------------------------------------------------------------------------------------------------


def _version(snapshot: Snapshot, support: FeatureSupport, lang: str) -> str:
    named = _value_of(snapshot, support.iri, "productVersion")
    return text(named, lang) if named else (support.product_version or DASH)


def features_answer(snapshot: Snapshot, product: str | None, lang: str) -> Answer:
    prefixes = Prefixes.of(snapshot)
    sources = Sources(prefixes)
    products: tuple[Product, ...] = (
        (catalog.require_product(snapshot, product),) if product is not None else catalog.products(snapshot)
    )
    found = [(p, f) for p in products for f in p.features]
    table = Table(
        tuple(word(k, lang) for k in ("product", "feature", "availability", "as_of", "id", "sources", "version")),
        tuple(
            (
                text(p.label, lang),
                text(f.feature, lang),
                _yes(f.available, lang),
                f.as_of or DASH,
                prefixes.name(f.iri),
                sources.ref(f.evidence),
                _version(snapshot, f, lang),
            )
            for p, f in found
        ),
        word("features_title", lang),
        "features",
    )
    data = {
        "features": [
            {
                "id": local_id(f.iri),
                "iri": f.iri,
                "product": p.id,
                "feature": labels(f.feature),
                "available": f.available,
                "asOf": f.as_of,
                "productVersion": f.product_version,
                "productVersionLabel": labels(_value_of(snapshot, f.iri, "productVersion")),
                "evidence": evidence_json(f.evidence),
            }
            for p, f in found
        ]
    }
    return Answer((table,), sources, data)


# ---- the commands ---------------------------------------------------------------------------------------------


def cmd_licensing(args: argparse.Namespace) -> int:
    lang = lang_of(args)
    return emit(licensing_answer(snapshot_of(args), lang), args.json, lang)


def cmd_storage(args: argparse.Namespace) -> int:
    lang = lang_of(args)
    return emit(storage_answer(snapshot_of(args), args.product, lang), args.json, lang)


def cmd_unsupported(args: argparse.Namespace) -> int:
    lang = lang_of(args)
    return emit(unsupported_answer(snapshot_of(args), args.product, args.role, lang), args.json, lang)


def cmd_features(args: argparse.Namespace) -> int:
    lang = lang_of(args)
    return emit(features_answer(snapshot_of(args), args.product, lang), args.json, lang)
