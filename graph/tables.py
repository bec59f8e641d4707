"""The named queries of queries/ run once per snapshot; their rows become the tables answers read.

The queries run on the snapshot's pyoxigraph store, and a row holds plain strings: an IRI, a blank node's id or a
literal's lexical form, None where unbound (a literal's language, where it counts, is a column of its own, as
queries/labels.rq's ?lang). Reading rows as rdflib terms took more than half of the tables' 15 s at a million
triples (bench/NOTES-validation.md); strings are what the dataclasses hold anyway.

Nothing here decides anything: it turns query rows into the dataclasses of graph.model. Ids are the
IRI's part after the base ("hyper-v", "vsc"), which is also what /id/{id} serves.
"""

from __future__ import annotations

import keyword
from collections import defaultdict, namedtuple
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from graph.layout import BASE, VOCAB
from graph.model import (
    Architecture,
    ArchitectureStyle,
    Citation,
    Component,
    FeatureSupport,
    GuestRow,
    HostRow,
    InstallationMode,
    IoMode,
    IoPathDef,
    LicenseRow,
    Named,
    NotSupported,
    Product,
    Relation,
    StorageFormat,
    Text,
)

if TYPE_CHECKING:
    import pyoxigraph as ox


def local_id(iri: object) -> str:
    text = str(iri)
    return text[len(BASE) :] if text.startswith(BASE) else text


@dataclass(frozen=True)
class Tables:
    labels: dict[str, Text]
    alt_labels: dict[str, tuple[str, ...]]
    definitions: dict[str, Text]
    inverse_labels: dict[str, Text]
    types: dict[str, str]
    citations: dict[str, tuple[Citation, ...]]
    editions: dict[str, tuple[Named, ...]]
    products: dict[str, Product]
    components: dict[str, Component]
    guest_rows: tuple[GuestRow, ...]
    host_rows: tuple[HostRow, ...]
    not_supported: tuple[NotSupported, ...]
    license_rows: tuple[LicenseRow, ...]
    downgrade_rights: dict[str, tuple[str, ...]]
    storage_formats: tuple[StorageFormat, ...]
    relations: tuple[Relation, ...]
    io_paths: tuple[IoPathDef, ...]
    layers: dict[str, tuple[tuple[int, tuple[str, ...], str], ...]]
    # product id -> the IRI of its own I/O path (hv:nativePath), the answer when no I/O mode is asked for
    native_paths: dict[str, str]
    # operating system IRI -> (its first release, the number of the Service Pack level that release reports)
    initial_releases: dict[str, tuple[str, int]]

    def named(self, iri: str) -> Named:
        return Named(
            local_id(iri),
            iri,
            self.labels.get(iri, {"en": local_id(iri), "ja": local_id(iri)}),
            self.types.get(iri, ""),
        )

    def shared_citations(self, iris: list[str]) -> tuple[Citation, ...]:
        """The passages that every one of these resources cites (e.g. a table's heading sentence)."""
        if not iris:
            return ()
        common = set.intersection(*({c.iri for c in self.citations.get(i, ())} for i in iris))
        return tuple(c for c in self.citations.get(iris[0], ()) if c.iri in common)

    def cite(self, *iris: str) -> tuple[Citation, ...]:
        """The citations behind these resources, each passage once, in the order given."""
        seen: dict[str, Citation] = {}
        for iri in iris:
            for citation in self.citations.get(iri, ()):
                seen.setdefault(citation.iri, citation)
        return tuple(seen.values())


@cache
def _row_type(names: tuple[str, ...]) -> Any:
    """A row of these variables, read by name (`row.product`; a keyword gets a trailing underscore: `row.class_`)."""
    return namedtuple("Row", [n + "_" if keyword.iskeyword(n) else n for n in names])


def _rows(store: ox.Store, queries: dict[str, str], name: str) -> Iterator[Any]:
    solutions = store.query(queries[name])
    row = _row_type(tuple(v.value for v in solutions.variables))  # type: ignore[union-attr]
    width = range(len(solutions.variables))  # type: ignore[union-attr]
    # One string per distinct value: the tables keep what the rows give, and rows repeat their products,
    # classes, documents and dates (pyoxigraph makes a new string each time it is asked).
    strings: dict[str, str] = {}
    same = strings.setdefault
    for solution in solutions:  # type: ignore[union-attr]
        values = [None if (term := solution[i]) is None else same(text := term.value, text) for i in width]
        yield tuple.__new__(row, values)


def _true(lexical: str) -> bool:
    """An xsd:boolean's lexical form ("true" or "1"; the shapes refuse anything else)."""
    return lexical in ("true", "1")


def _text_map(labels: Iterable[tuple[str, str | None, str]]) -> dict[str, Text]:
    result: dict[str, dict[str, str]] = defaultdict(dict)
    for iri, lang, label in labels:
        result[iri].setdefault(lang or "en", label)
    return dict(result)


def build_tables(store: ox.Store, queries: dict[str, str]) -> Tables:
    """The tables of the graph in `store`'s default graph."""
    import pyoxigraph as ox

    pref: list[tuple[str, str | None, str]] = []
    definitions: list[tuple[str, str | None, str]] = []
    inverse: list[tuple[str, str | None, str]] = []
    alts: dict[str, list[str]] = defaultdict(list)
    for row in _rows(store, queries, "labels"):
        named_by = (row.thing, row.lang, row.label)
        if row.kind == "pref":
            pref.append(named_by)
        elif row.kind == "alt":
            alts[row.thing].append(row.label)
        elif row.kind == "definition":
            definitions.append(named_by)
        else:
            inverse.append(named_by)
    labels = _text_map(pref)
    described = _text_map(definitions)
    types = {r.thing: r.class_[len(VOCAB) :] for r in _rows(store, queries, "types")}

    citations: dict[str, list[Citation]] = defaultdict(list)
    for r in _rows(store, queries, "citations"):
        citations[str(r.thing)].append(
            Citation(
                iri=str(r.passage),
                quote=str(r.quote),
                section=str(r.section) if r.section is not None else None,
                document=str(r.title) if r.title is not None else local_id(r.document),
                document_iri=str(r.document),
                as_of=str(r.docAsOf),
            )
        )
    cites = {k: tuple(v) for k, v in citations.items()}

    def named(iri: object) -> Named:
        key = str(iri)
        return Named(local_id(key), key, labels.get(key, {"en": local_id(key)}), types.get(key, ""))

    editions: dict[str, list[Named]] = defaultdict(list)
    edition_of = ox.NamedNode(VOCAB + "editionOf")
    for iri, kind in types.items():
        if kind == "Edition":
            for quad in store.quads_for_pattern(ox.NamedNode(iri), edition_of, None, ox.DefaultGraph()):
                if isinstance(quad.object, ox.NamedNode):
                    editions[quad.object.value].append(named(iri))

    components: dict[str, Component] = {}
    component_products: dict[str, list[str]] = defaultdict(list)
    for r in _rows(store, queries, "components"):
        component_products[str(r.component)].append(local_id(r.product))
    for iri, owners in component_products.items():
        components[local_id(iri)] = Component(
            local_id(iri),
            iri,
            labels.get(iri, {"en": local_id(iri)}),
            described.get(iri),
            tuple(sorted(set(owners))),
        )

    features: dict[str, list[FeatureSupport]] = defaultdict(list)
    for r in _rows(store, queries, "features"):
        features[local_id(r.product)].append(
            FeatureSupport(
                str(r.support),
                labels.get(str(r.feature), {"en": local_id(r.feature)}),
                _true(r.available),
                str(r.asOf),
                str(r.version) if r.version is not None else None,
                cites.get(str(r.support), ()),
            )
        )
    products: dict[str, Product] = {}
    for r in _rows(store, queries, "products"):
        pid = local_id(r.product)
        products[pid] = Product(
            pid,
            str(r.product),
            labels[str(r.product)],
            ArchitectureStyle(local_id(r.style)),
            tuple(c for c in components.values() if pid in c.products),
            tuple(features.get(pid, ())),
        )

    guest: dict[str, dict[str, Any]] = {}
    for r in _rows(store, queries, "guest-table"):
        entry = guest.setdefault(str(r.row), {"row": r, "editions": [], "sps": []})
        if r.edition is not None and str(r.edition) not in entry["editions"]:
            entry["editions"].append(str(r.edition))
        if int(r.servicePack) not in entry["sps"]:
            entry["sps"].append(int(r.servicePack))
    guest_rows = tuple(
        sorted(
            (
                GuestRow(
                    iri,
                    int(e["row"].rowNumber),
                    local_id(e["row"].product),
                    named(e["row"].os),
                    tuple(named(x) for x in e["editions"]),
                    tuple(sorted(e["sps"])),
                    Architecture(local_id(e["row"].arch)),
                    int(e["row"].max),
                    str(e["row"].asOf),
                    cites.get(iri, ()),
                )
                for iri, e in guest.items()
            ),
            key=lambda g: (g.product, g.row_number),
        )
    )

    host: dict[str, dict[str, Any]] = {}
    for r in _rows(store, queries, "host-table"):
        entry = host.setdefault(str(r.row), {"row": r, "editions": [], "modes": []})
        if str(r.edition) not in entry["editions"]:
            entry["editions"].append(str(r.edition))
        mode = InstallationMode(local_id(r.installation))
        if mode not in entry["modes"]:
            entry["modes"].append(mode)
    host_rows = tuple(
        sorted(
            (
                HostRow(
                    iri,
                    int(e["row"].rowNumber),
                    local_id(e["row"].product),
                    named(e["row"].os),
                    tuple(named(x) for x in e["editions"]),
                    Architecture(local_id(e["row"].arch)),
                    tuple(e["modes"]),
                    str(e["row"].asOf),
                    cites.get(iri, ()),
                )
                for iri, e in host.items()
            ),
            key=lambda h: (h.product, h.row_number),
        )
    )

    unsupported: dict[str, dict[str, Any]] = {}
    for r in _rows(store, queries, "not-supported"):
        entry = unsupported.setdefault(str(r.statement), {"row": r, "sps": set(), "editions": set()})
        if r.servicePack is not None:
            entry["sps"].add(int(r.servicePack))
        if r.edition is not None:
            entry["editions"].add(str(r.edition))
    not_supported = tuple(
        NotSupported(
            iri,
            "guest" if str(e["row"].kind).endswith("GuestNotSupported") else "host",
            local_id(e["row"].product),
            str(e["row"].os),
            tuple(sorted(e["sps"])),
            tuple(sorted(e["editions"])),
            Architecture(local_id(e["row"].arch)) if e["row"].arch is not None else None,
            labels.get(iri, {"en": local_id(iri)}),
            cites.get(iri, ()),
        )
        for iri, e in unsupported.items()
    )

    license_rows = tuple(
        LicenseRow(
            str(r.row),
            named(r.os),
            named(r.edition),
            int(r.instances) if r.instances is not None else None,
            _true(r.unlimited),
            str(r.asOf),
            cites.get(str(r.row), ()),
        )
        for r in _rows(store, queries, "licensing")
    )
    downgrade: dict[str, list[str]] = defaultdict(list)
    for r in _rows(store, queries, "downgrade-rights"):
        downgrade[str(r.license)].append(str(r.right))

    notes: dict[str, dict[str, list[Named]]] = defaultdict(lambda: defaultdict(list))
    for r in _rows(store, queries, "storage-notes"):
        notes[str(r.format)][str(r.kind)].append(named(r.note))
    storage = tuple(
        StorageFormat(
            local_id(r.format),
            str(r.format),
            labels[str(r.format)],
            int(r.maxSizeGB) if r.maxSizeGB is not None else None,
            _true(r.snapshots),
            str(r.extension) if r.extension is not None else None,
            str(r.unit) if r.unit is not None else None,
            tuple(notes[str(r.format)]["prerequisite"]),
            tuple(notes[str(r.format)]["migration"]),
            cites.get(str(r.format), ()),
            local_id(r.product),
        )
        for r in _rows(store, queries, "storage-formats")
    )

    relations = tuple(
        Relation(
            str(r.statement),
            local_id(r.subject),
            str(r.predicate),
            local_id(r.object),
            str(r.path) if r.path is not None else None,
            int(r.order) if r.order is not None else None,
            cites.get(str(r.statement), ()),
        )
        for r in _rows(store, queries, "relations")
    )
    io_paths = tuple(
        IoPathDef(
            str(r.path),
            local_id(r.product),
            IoMode(local_id(r.mode)),
            local_id(r.start),
            local_id(r.end),
            cites.get(str(r.path), ()),
        )
        for r in _rows(store, queries, "io-paths")
    )
    native_paths = {local_id(r.product): str(r.path) for r in _rows(store, queries, "native-paths")}
    layer_parts: dict[str, dict[int, tuple[str, list[str]]]] = defaultdict(dict)
    for r in _rows(store, queries, "layers"):
        layer = layer_parts[local_id(r.product)].setdefault(int(r.number), (str(r.layer), []))
        layer[1].append(local_id(r.component))
    layers = {
        product: tuple((n, tuple(parts[n][1]), parts[n][0]) for n in sorted(parts))
        for product, parts in layer_parts.items()
    }

    return Tables(
        labels=labels,
        alt_labels={k: tuple(sorted(v)) for k, v in alts.items()},  # the engines list them in no set order
        definitions=described,
        inverse_labels=_text_map(inverse),
        types=types,
        citations=cites,
        editions={k: tuple(sorted(v, key=lambda n: n.id)) for k, v in editions.items()},
        products=products,
        components=components,
        guest_rows=guest_rows,
        host_rows=host_rows,
        not_supported=not_supported,
        license_rows=license_rows,
        downgrade_rights={k: tuple(v) for k, v in downgrade.items()},
        storage_formats=storage,
        relations=relations,
        io_paths=io_paths,
        layers=layers,
        native_paths=native_paths,
        initial_releases={str(r.os): (str(r.release), int(r.level)) for r in _rows(store, queries, "initial-releases")},
    )
