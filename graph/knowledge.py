"""The graph's facts beyond the tables: rules, advice, the comparison, the downgrade right, storage notes,
hardware requirements and the records from outside the article, each as a typed answer (graph.model).

Read once per snapshot from its graph and tables and kept in snapshot.memo, as graph.verdict_index keeps the
verdicts' index: a question is then a few dictionary lookups. Nothing is decided here that the data does not
say: the words are the Turtle's (labels, definitions), the basis of a thing is graph.nodes' (its passages'
documents), and which fact is about what is the data's own hv:about, hv:relatesToArticleFact and the rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

from rdflib import Literal, URIRef
from rdflib.term import Node

from graph import nodes
from graph.catalog import require_product
from graph.layout import BASE, VOCAB
from graph.model import (
    Architecture,
    BadInput,
    CapacityLimit,
    Citation,
    Comparison,
    DowngradeRight,
    Fact,
    GuestList,
    GuestListEntry,
    InstallationMode,
    LicenseTerm,
    Release,
    SourceRelation,
    Text,
)
from graph.names import MAX_NAME_LENGTH
from graph.nodes import Basis
from graph.tables import local_id

if TYPE_CHECKING:
    from graph.snapshot import Snapshot

SKOS_NOTATION = URIRef("http://www.w3.org/2004/02/skos/core#notation")
RELATION_TO_ARTICLE = URIRef(VOCAB + "relationToArticle")
# The classes whose members are facts in themselves, each answered by a typed field.
FACT_KINDS = frozenset(
    {
        "Rule",
        "Advice",
        "Comparison",
        "DowngradeRight",
        "HardwareRequirement",
        "MigrationNote",
        "Prerequisite",
        "Release",
        "GuestList",
        "GuestListEntry",
        "LicenseTerm",
        "CapacityLimit",
    }
)
# The article's facts first, then what is read from them, then other documents'; by id within each.
BASIS_ORDER = {Basis.STATED: 0, Basis.INFERRED: 1, Basis.OUTSIDE: 2}

Typed = Fact | Comparison | DowngradeRight | Release | GuestList | GuestListEntry | LicenseTerm | CapacityLimit
T = TypeVar("T")


class _Knowledge:
    """Every typed fact of one snapshot, by IRI, and the lists the questions answer from."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        graph, tables = snapshot.graph, snapshot.tables
        self.relations = {
            iri: SourceRelation(
                local_id(iri),
                iri,
                tables.labels.get(iri, {"en": local_id(iri)}),
                _first_text(graph.objects(URIRef(iri), SKOS_NOTATION)),
                tables.definitions.get(iri),
            )
            for iri, kind in tables.types.items()
            if kind == "SourceRelation"
        }
        # the typed things, and every outside fact (whatever its class: a FeatureSupport may be one)
        wanted = {iri for iri, kind in tables.types.items() if kind in FACT_KINDS}
        outside = {str(s) for s in graph.subjects(RELATION_TO_ARTICLE, None) if str(s).startswith(BASE)}
        self.facts = {iri: self._fact(iri) for iri in sorted(wanted | outside)}
        self.typed: dict[str, Typed] = {iri: self._typed(fact) for iri, fact in self.facts.items() if iri in wanted}
        self.outside = _ordered(f for f in self.facts.values() if f.relation_to_article)
        self.by_kind: dict[str, tuple[Fact, ...]] = defaultdict(tuple)
        for kind in FACT_KINDS:
            self.by_kind[kind] = _ordered(f for f in self.facts.values() if f.type == kind)
        # what each node is pointed at by: the outside facts whose statements name it
        self.pointed_at: dict[str, set[str]] = defaultdict(set)
        for fact in self.outside:
            for _, obj in graph.predicate_objects(URIRef(fact.iri)):
                if isinstance(obj, URIRef):
                    self.pointed_at[str(obj)].add(fact.iri)

    # -- reading one resource --------------------------------------------------------------------------

    def _objects(self, iri: str, name: str) -> list[Node]:
        # in the order of their text, so that an answer is the same for the same graph
        return sorted(self.snapshot.graph.objects(URIRef(iri), URIRef(VOCAB + name)), key=str)

    def _iris(self, iri: str, name: str) -> tuple[str, ...]:
        return tuple(str(o) for o in self._objects(iri, name) if isinstance(o, URIRef))

    def _iri(self, iri: str, name: str) -> str | None:
        found = self._iris(iri, name)
        return found[0] if found else None

    def _texts(self, iri: str, name: str) -> tuple[str, ...]:
        return tuple(str(o) for o in self._objects(iri, name) if isinstance(o, Literal))

    def _text(self, iri: str, name: str) -> str | None:
        return _first_text(self._objects(iri, name))

    def _release_name(self, iri: str) -> str | None:
        """The English name of the release a fact is about (hv:productVersion names an hv:Release)."""
        releases = self._iris(iri, "productVersion")
        if not releases:
            return None
        return self.snapshot.tables.labels.get(releases[0], {}).get("en") or local_id(releases[0])

    def _ints(self, iri: str, name: str) -> tuple[int, ...]:
        return tuple(sorted(int(o) for o in self._objects(iri, name) if isinstance(o, Literal)))

    def _int(self, iri: str, name: str) -> int | None:
        found = self._ints(iri, name)
        return found[0] if found else None

    def _true(self, iri: str, name: str) -> bool:
        return any(isinstance(o, Literal) and o.toPython() is True for o in self._objects(iri, name))

    def _fact(self, iri: str) -> Fact:
        tables = self.snapshot.tables
        return Fact(
            id=local_id(iri),
            iri=iri,
            type=tables.types.get(iri, ""),
            label=tables.labels.get(iri, {"en": local_id(iri)}),
            definition=tables.definitions.get(iri),
            as_of=self._text(iri, "asOf"),
            basis=_basis(self.snapshot, iri),
            evidence=tables.citations.get(iri, ()),
            about=self._iris(iri, "about"),
            relation_to_article=tuple(
                self.relations[r] for r in self._iris(iri, "relationToArticle") if r in self.relations
            ),
            relates_to=self._iris(iri, "relatesToArticleFact"),
            product_version=self._release_name(iri),
        )

    def _typed(self, fact: Fact) -> Typed:
        iri = fact.iri
        if fact.type == "Comparison":
            favors = self._iri(iri, "favors")
            return Comparison(fact, local_id(favors or ""), tuple(local_id(p) for p in self._iris(iri, "comparedWith")))
        if fact.type == "DowngradeRight":
            return DowngradeRight(fact, self._iris(iri, "appliesTo"))
        if fact.type == "Release":
            return Release(
                fact,
                self._iri(iri, "releaseOf"),
                self._text(iri, "releaseDate"),
                _architecture(self._iri(iri, "architecture")),
                self._int(iri, "servicePack"),
                self._true(iri, "lastServicePack"),
                self._iris(iri, "servicedWith"),
                _installation(self._iri(iri, "installationMode")),
            )
        if fact.type == "GuestList":
            product = self._iri(iri, "product")
            entries = tuple(str(s) for s in self.snapshot.graph.subjects(URIRef(VOCAB + "inList"), URIRef(iri)))
            return GuestList(fact, None if product is None else local_id(product), tuple(sorted(entries)))
        if fact.type == "GuestListEntry":
            return GuestListEntry(
                fact,
                self._iri(iri, "inList"),
                self._texts(iri, "listedAs"),
                self._iri(iri, "operatingSystem"),
                self._iris(iri, "edition"),
                tuple(a for a in (_architecture(x) for x in self._iris(iri, "architecture")) if a is not None),
                self._ints(iri, "servicePack"),
                self._ints(iri, "allowedVirtualProcessors"),
                self._int(iri, "listedMaxVirtualProcessors"),
            )
        if fact.type == "LicenseTerm":
            return LicenseTerm(
                fact,
                self._iri(iri, "operatingSystem"),
                self._iri(iri, "edition"),
                self._int(iri, "virtualInstances"),
                self._true(iri, "unlimitedInstances"),
                self._text(iri, "licensedPer"),
                self._text(iri, "salesChannel"),
                self._iris(iri, "downgradeTo"),
            )
        if fact.type == "CapacityLimit":
            return CapacityLimit(fact, self._int(iri, "maxSizeMB"), self._int(iri, "maxSizeGB"))
        return fact


def _first_text(values: Iterable[Node]) -> str | None:
    found = sorted(str(v) for v in values if isinstance(v, Literal))
    return found[0] if found else None


def _architecture(iri: str | None) -> Architecture | None:
    known = {a.value: a for a in Architecture}
    return None if iri is None else known.get(local_id(iri))


def _installation(iri: str | None) -> InstallationMode | None:
    known = {m.value: m for m in InstallationMode}
    return None if iri is None else known.get(local_id(iri))


def _basis(snapshot: Snapshot, iri: str) -> Basis:
    """How the graph knows the thing itself: the basis graph.nodes gives the statement that types it."""
    view = nodes.node(snapshot, iri)
    typing = [s for s in view.statements if s.predicate.iri == nodes.RDF_TYPE] if view is not None else []
    return typing[0].basis if typing else Basis.STATED


def _ordered(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    return tuple(sorted(facts, key=lambda f: (BASIS_ORDER[f.basis], f.id)))


def _knowledge(snapshot: Snapshot) -> _Knowledge:
    found: _Knowledge | None = snapshot.memo.get("knowledge")
    if found is None:
        found = snapshot.memo.setdefault("knowledge", _Knowledge(snapshot))
    return found


# --- questions ------------------------------------------------------------------------------------------------


def known_iri(snapshot: Snapshot, node_id: str, argument: str = "about") -> str:
    """The IRI of the node with this id (or full IRI); BadInput naming the argument when the graph mints none."""
    iri = node_id if node_id.startswith(BASE) else BASE + node_id
    if not node_id.strip() or len(node_id) > MAX_NAME_LENGTH + len(BASE) or iri not in snapshot.descriptions:
        shown = node_id[:60] + ("…" if len(node_id) > 60 else "")
        raise BadInput(
            argument,
            {
                "en": f"{argument}: the graph has no node with the id {shown!r} (ids as in node(id), e.g. hyper-v)",
                "ja": f"{argument}: ID {shown!r} のノードはグラフにありません(node(id)と同じID。例: hyper-v)",
            },
        )
    return iri


def _about(snapshot: Snapshot, kind: str, about: str | None) -> tuple[Fact, ...]:
    facts = _knowledge(snapshot).by_kind[kind]
    if about is None:
        return facts
    iri = known_iri(snapshot, about)
    return tuple(f for f in facts if iri in f.about)


def rules(snapshot: Snapshot, about: str | None = None) -> tuple[Fact, ...]:
    """The rules (hv:Rule), or those about one node (hv:about): the article's first, then outside ones."""
    return _about(snapshot, "Rule", about)


def advice(snapshot: Snapshot, about: str | None = None) -> tuple[Fact, ...]:
    return _about(snapshot, "Advice", about)


def _typed_of(snapshot: Snapshot, kind: str, cls: type[T]) -> tuple[T, ...]:
    knowledge = _knowledge(snapshot)
    return tuple(t for f in knowledge.by_kind[kind] if isinstance(t := knowledge.typed[f.iri], cls))


def comparisons(snapshot: Snapshot) -> tuple[Comparison, ...]:
    return _typed_of(snapshot, "Comparison", Comparison)


def downgrade_rights(snapshot: Snapshot, licence_iri: str | None = None) -> tuple[DowngradeRight, ...]:
    """The downgrade rights, or those that apply to one licence row (hv:appliesTo)."""
    found = _typed_of(snapshot, "DowngradeRight", DowngradeRight)
    return found if licence_iri is None else tuple(r for r in found if licence_iri in r.applies_to)


def hardware_requirements(snapshot: Snapshot, product_id: str) -> tuple[Fact, ...]:
    """The hardware requirements about a product: the article's (its list is missing) and the outside ones."""
    iri = require_product(snapshot, product_id).iri
    return tuple(f for f in _knowledge(snapshot).by_kind["HardwareRequirement"] if iri in f.about)


def facts(snapshot: Snapshot, iris: Iterable[str]) -> tuple[Fact, ...]:
    """The typed facts of these IRIs (e.g. a storage format's migration notes), in the order given."""
    known = _knowledge(snapshot).facts
    return tuple(known[i] for i in iris if i in known)


def outside_facts(snapshot: Snapshot, about: str | None = None) -> tuple[Fact, ...]:
    """Every fact from another document (it has hv:relationToArticle), or those whose statements point at one
    node (what it is about, the article's fact it bears on, its operating system, its list, ...)."""
    knowledge = _knowledge(snapshot)
    if about is None:
        return knowledge.outside
    pointing = knowledge.pointed_at.get(known_iri(snapshot, about), set())
    return tuple(f for f in knowledge.outside if f.iri in pointing)


def outside_facts_on(snapshot: Snapshot, iri: str) -> tuple[Fact, ...]:
    """The outside facts that point at a node the caller already holds (no argument to check)."""
    knowledge = _knowledge(snapshot)
    pointing = knowledge.pointed_at.get(iri, set())
    return tuple(f for f in knowledge.outside if f.iri in pointing)


def entries(snapshot: Snapshot, guest_list: GuestList) -> tuple[GuestListEntry, ...]:
    known = _knowledge(snapshot).typed
    return tuple(e for i in guest_list.entries if isinstance(e := known.get(i), GuestListEntry))


def typed(snapshot: Snapshot, iri: str) -> Typed | SourceRelation | None:
    """The typed answer for a node (a Fact, a Release, a SourceRelation, ...), None when it has none."""
    knowledge = _knowledge(snapshot)
    return knowledge.typed.get(iri) or knowledge.relations.get(iri)


def typed_as(snapshot: Snapshot, iri: str | None, cls: type[T]) -> T | None:
    found = None if iri is None else typed(snapshot, iri)
    return found if isinstance(found, cls) else None


def definition(snapshot: Snapshot, iri: str) -> Text | None:
    """A thing's definition in the graph's words (skos:definition), None when it has none."""
    return snapshot.tables.definitions.get(iri)


def no_capacity_limit(snapshot: Snapshot, iri: str) -> bool:
    """Whether the source says a storage format has no capacity limit of its own (hv:noCapacityLimit)."""
    return _knowledge(snapshot)._true(iri, "noCapacityLimit")


def citation_basis(citation: Citation) -> Basis:
    """A passage's own basis: STATED when it is the article's, OUTSIDE when it is another document's."""
    return Basis.STATED if citation.document_iri == nodes.ARTICLE else Basis.OUTSIDE


def fact(snapshot: Snapshot, iri: str) -> Fact | None:
    """The fact of this IRI (a typed one, or an outside fact of another class, e.g. a FeatureSupport)."""
    return _knowledge(snapshot).facts.get(iri)


def statement(snapshot: Snapshot, iri: str, predicate: str) -> nodes.NodeStatement | None:
    """The node's statement of this property (its first, for a property with several values), with its basis
    and, when it is INFERRED, its rule: what graph.nodes reads from the data, not derived again here."""
    view = nodes.node(snapshot, iri)
    return next((s for s in view.statements if s.predicate.iri == predicate), None) if view is not None else None
