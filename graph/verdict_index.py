"""The verdicts' index of a snapshot: its guest rows, host rows and not-supported statements by product and OS.

A module of its own because both checks (graph/verdicts.py for guests, graph/host_check.py for hosts) read the
same index, and it must be built once per snapshot whichever check comes first.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from graph.model import Citation, GuestRow, HostRow, NotSupported

if TYPE_CHECKING:
    from graph.snapshot import Snapshot


class VerdictIndex:
    """The rows and statements of each product and operating system, and each product's table evidence.

    Built on a snapshot's first verdict and kept in snapshot.memo: a verdict then reads a few dictionary
    entries instead of scanning every row, so it costs the same on the article's graph and on a large one.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        tables = snapshot.tables
        self.guest_rows: dict[str, list[GuestRow]] = defaultdict(list)
        self.guest_rows_of: dict[tuple[str, str], list[GuestRow]] = defaultdict(list)
        for row in tables.guest_rows:
            self.guest_rows[row.product].append(row)
            self.guest_rows_of[(row.product, row.operating_system.iri)].append(row)
        self.host_rows: dict[str, list[HostRow]] = defaultdict(list)
        for host in tables.host_rows:
            self.host_rows[host.product].append(host)
        self.statements: dict[tuple[str, str, str], list[NotSupported]] = defaultdict(list)
        for statement in tables.not_supported:
            self.statements[(statement.role, statement.product, statement.operating_system)].append(statement)
        self.evidence: dict[tuple[str, str], tuple[Citation, ...]] = {}

    def table_evidence(self, snapshot: Snapshot, role: str, product: str, product_iri: str) -> tuple[Citation, ...]:
        """What the product's table rests on; for a product with no table, what the source says of the product."""
        key = (role, product)
        if key not in self.evidence:
            rows = self.guest_rows[product] if role == "guest" else self.host_rows[product]
            tables = snapshot.tables
            self.evidence[key] = tables.shared_citations([r.iri for r in rows]) or tables.cite(product_iri)
        return self.evidence[key]


def verdict_index(snapshot: Snapshot) -> VerdictIndex:
    # kept in snapshot.memo, so it is dropped with its snapshot and a reload never reads an old index
    index: VerdictIndex | None = snapshot.memo.get("verdict_index")
    if index is None:
        index = snapshot.memo.setdefault("verdict_index", VerdictIndex(snapshot))
    return index
