"""Listings: products, the support tables, storage formats, licensing, search. Read from the tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph.model import BadInput, GuestRow, HostRow, LicenseRow, Product, SearchHit, StorageFormat
from graph.names import MAX_NAME_LENGTH, fold
from graph.search import search as find_hits

# The most hits one search answers: a page of results, not a dump of the graph.
MAX_HITS = 100

if TYPE_CHECKING:
    from graph.snapshot import Snapshot


def products(snapshot: Snapshot) -> tuple[Product, ...]:
    return tuple(snapshot.tables.products[k] for k in sorted(snapshot.tables.products))


def product(snapshot: Snapshot, product_id: str) -> Product | None:
    return snapshot.tables.products.get(product_id)


def require_product(snapshot: Snapshot, product_id: str, argument: str = "product") -> Product:
    """The product with this id (or name); BadInput naming the argument when there is none."""
    found = snapshot.tables.products.get(product_id)
    if found is None and 0 < len(product_id) <= MAX_NAME_LENGTH:
        key = fold(product_id)
        found = next((p for p in snapshot.tables.products.values() if key in snapshot.names.names_of[p.iri]), None)
    if found is None:
        known = ", ".join(sorted(snapshot.tables.products))
        shown = product_id[:60] + ("…" if len(product_id) > 60 else "")
        raise BadInput(
            argument,
            {
                "en": f"{argument}: unknown product {shown!r}; known product ids: {known}",
                "ja": f"{argument}: 製品 {shown!r} は存在しません。既知の製品ID: {known}",
            },
        )
    return found


def guest_support(snapshot: Snapshot, product_id: str) -> tuple[GuestRow, ...]:
    pid = require_product(snapshot, product_id).id
    return tuple(r for r in snapshot.tables.guest_rows if r.product == pid)


def host_support(snapshot: Snapshot, product_id: str) -> tuple[HostRow, ...]:
    pid = require_product(snapshot, product_id).id
    return tuple(r for r in snapshot.tables.host_rows if r.product == pid)


def storage_formats(snapshot: Snapshot, product_id: str) -> tuple[StorageFormat, ...]:
    pid = require_product(snapshot, product_id).id
    return tuple(f for f in snapshot.tables.storage_formats if f.product == pid)


def licensing(snapshot: Snapshot) -> tuple[LicenseRow, ...]:
    return snapshot.tables.license_rows


def search(snapshot: Snapshot, text: str, first: int = 20) -> tuple[SearchHit, ...]:
    """The `first` best hits for the text (graph.search); blank text answers no hits, as the contract says."""
    if len(text) > MAX_NAME_LENGTH:
        raise BadInput(
            "text",
            {
                "en": f"text: at most {MAX_NAME_LENGTH} characters (got {len(text)})",
                "ja": f"text: {MAX_NAME_LENGTH}文字以内で指定してください({len(text)}文字)",
            },
        )
    if not 1 <= first <= MAX_HITS:
        raise BadInput(
            "first",
            {
                "en": f"first: give a number of hits from 1 to {MAX_HITS} (got {first})",
                "ja": f"first: 件数は1から{MAX_HITS}までで指定してください({first}が指定されました)",
            },
        )
    if not text.strip():
        return ()
    return find_hits(snapshot, text, first)
