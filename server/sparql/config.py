"""The endpoint's limits (`SPARQLConfig`, read from HVKG_SPARQL_* variables) and what it reads of a snapshot."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from rdflib import Graph

from server.sparql.lexer import DEFAULT_MAX_NESTING


@dataclass(frozen=True)
class SPARQLConfig:
    """The endpoint's limits. `from_env()` reads HVKG_SPARQL_<FIELD NAME IN CAPITALS> for each field."""

    time_limit: float = 5.0  # seconds per query, parsing and serialising included
    row_limit: int = 10_000  # solutions (SELECT) or triples (CONSTRUCT, DESCRIBE) per response
    max_concurrent: int = 4  # queries running at once = worker processes per snapshot
    max_query_bytes: int = 64 * 1024
    max_body_bytes: int = 1024 * 1024
    # An oversized body up to this size is read and thrown away, chunk by chunk, before the 413: clients that
    # send the whole body before reading (urllib, SPARQLWrapper) would otherwise see a reset, not the 413.
    # A body declared larger than this gets the 413 at once, without reading it.
    drain_limit_bytes: int = 16 * 1024 * 1024
    # Bytes a worker may allocate beyond what it inherits from the server; None: no limit.
    memory_limit_bytes: int | None = 1024 * 1024 * 1024
    # False: an http(s) IRI other than GRAPH_IRI in FROM / FROM NAMED / default-graph-uri / named-graph-uri names
    # an empty graph (never fetched), as the W3C protocol tests expect. True: it is refused with 400.
    # Any other scheme (file:, ftp:, urn: ...) is always refused.
    strict_dataset: bool = False
    # Levels of { }, ( ) and [ ] a query may nest; deeper is refused (400) before any engine parses it.
    max_nesting: int = DEFAULT_MAX_NESTING
    # Queries that may wait, first come first served, for a busy worker (each at most time_limit); past that,
    # 503 with Retry-After. None: 4 per worker; 0: no queue.
    queue: int | None = None
    # A worker whose memory grew by more than this in one query exits after answering, giving its peak heap
    # back (the next query forks a fresh one); None: never.
    recycle_bytes: int | None = 64 * 1024 * 1024
    # A SPARQL 1.1 store's query URL (Oxigraph: http://HOST:PORT/query, Virtuoso: http://HOST:PORT/sparql) that
    # answers the queries the gate accepts, instead of the embedded engine (server/sparql/remote.py); the
    # store holds the snapshot once `hvkg publish` loaded it (server/sparql/publish.py). None: embedded.
    endpoint: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SPARQLConfig:
        env = os.environ if environ is None else environ
        default = cls()

        def read(name: str, parse: Callable[[str], Any], fallback: Any) -> Any:
            raw = env.get("HVKG_SPARQL_" + name.upper())
            return fallback if raw is None or raw.strip() == "" else parse(raw.strip())

        return cls(
            time_limit=read("time_limit", float, default.time_limit),
            row_limit=read("row_limit", int, default.row_limit),
            max_concurrent=read("max_concurrent", int, default.max_concurrent),
            max_query_bytes=read("max_query_bytes", int, default.max_query_bytes),
            max_body_bytes=read("max_body_bytes", int, default.max_body_bytes),
            drain_limit_bytes=read("drain_limit_bytes", int, default.drain_limit_bytes),
            memory_limit_bytes=read("memory_limit_bytes", _optional_int, default.memory_limit_bytes),
            strict_dataset=read("strict_dataset", _flag, default.strict_dataset),
            max_nesting=read("max_nesting", int, default.max_nesting),
            queue=read("queue", int, default.queue),
            recycle_bytes=read("recycle_bytes", _optional_int, default.recycle_bytes),
            endpoint=read("endpoint", _store_url, default.endpoint),
        )


def _optional_int(raw: str) -> int | None:
    return None if raw.lower() in ("none", "off", "0") else int(raw)


def _store_url(raw: str) -> str:
    """An http(s) URL, else ValueError (the service refuses to start on a setting it cannot use)."""
    if not raw.lower().startswith(("http://", "https://")):
        raise ValueError(f"HVKG_SPARQL_ENDPOINT must be an http(s) URL of a SPARQL store, not {raw!r}")
    return raw


def _flag(raw: str) -> bool:
    return raw.lower() in ("1", "true", "yes", "on")


class SnapshotLike(Protocol):
    """What the endpoint reads of a snapshot (graph.snapshot.Snapshot has more)."""

    @property
    def graph(self) -> Graph: ...

    @property
    def content_hash(self) -> str: ...

    @property
    def triple_count(self) -> int: ...

    @property
    def queries(self) -> Mapping[str, str]: ...
