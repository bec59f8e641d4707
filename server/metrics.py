"""/metrics in the Prometheus text format (0.0.4), written here: a handful of counters need no client library.

What is counted, per process (with `--workers N` each worker counts its own requests; see docs/operations.md):

    hvkg_http_requests_total{interface, operation, status}      every answered request
    hvkg_http_request_duration_seconds{interface, operation}    histogram, until the last body byte is sent
    hvkg_http_requests_in_flight                                 requests being answered now
    hvkg_query_timeouts_total{interface}                         504: a query stopped at its time limit
    hvkg_rejections_total{interface, status}                     403 / 413 / 503: refused, not failed
    hvkg_snapshot_* and hvkg_reloads_*                           the graph being served, and the reloads

Labels stay few: `interface` is graphql, sparql, page, download, health, metrics or other; `operation` is the
GraphQL operationName when it is one of the portals' operations (anything else is "other", an unnamed query
"anonymous"), the SPARQL query form (select, ask, construct, describe, update, other, or "description" for the
service description and query page), and "page" for /id/ and /docs.

The counting is done by server.middleware, which takes the operation from the adapter when it names it (GraphQL,
from the document it prepared; SPARQL, from the query it read) and otherwise from `operation_of`.
"""

from __future__ import annotations

import os
import re
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from server.state import SnapshotHolder

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REJECTED = frozenset({403, 413, 503})
TIMED_OUT = 504

OPERATIONS_DIR = Path(__file__).resolve().parent / "static" / "graphiql" / "operations"
_OPERATION = re.compile(r"(?:^|[\s{}])(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")


def known_operations(directory: Path = OPERATIONS_DIR) -> frozenset[str]:
    """The portals' operation names (the GraphiQL tabs mirror shared/contract/operations), and introspection."""
    names = {"IntrospectionQuery"}
    for path in sorted(directory.glob("*.graphql")):
        names.update(_OPERATION.findall(path.read_text(encoding="utf-8")))
    return frozenset(names)


KNOWN_OPERATIONS = known_operations()


# --- what a request is ----------------------------------------------------------------------------------------


def interface_of(path: str) -> str:
    if path == "/graphql" or path.startswith("/graphql/"):
        return "graphql"
    if path in ("/sparql", "/sparql/"):
        return "sparql"
    if path.startswith(("/id/", "/docs")):
        return "page"
    if path.startswith("/download/"):
        return "download"
    if path == "/healthz":
        return "health"
    if path == "/metrics":
        return "metrics"
    return "other"


def graphql_operation(operation_name: object, query: object) -> str:
    """The label for one GraphQL request: a known operation's name, "anonymous", or "other"."""
    if isinstance(operation_name, str) and operation_name:
        return operation_name if operation_name in KNOWN_OPERATIONS else "other"
    if not isinstance(query, str):
        return "other"
    names = _OPERATION.findall(query)
    if len(names) == 1:
        return names[0] if names[0] in KNOWN_OPERATIONS else "other"
    if not names and query.lstrip().startswith(("{", "query", "#")):
        return "anonymous"
    return "other"


_IRI = re.compile(r"<[^<>\s]*>")
_COMMENT = re.compile(r"#[^\n]*")
_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
_FORM = re.compile(r"(?<![\w:?$])(select|ask|construct|describe)(?![\w:])", re.IGNORECASE)
_UPDATE = re.compile(r"(?<![\w:?$])(insert|delete|load|clear|drop|create|add|move|copy)(?![\w:])", re.IGNORECASE)


def iris_and_strings_emptied(text: str) -> str:
    """SPARQL text with every IRI and quoted string emptied (`<>`, `""`): a `#` left in it starts a comment."""
    return _STRING.sub('""', _IRI.sub("<>", text))


def sparql_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE (lower-case), "update", or "other": the first keyword after the prologue."""
    bare = _COMMENT.sub(" ", iris_and_strings_emptied(text))
    found = _FORM.search(bare)
    update = _UPDATE.search(bare)
    if update is not None and (found is None or update.start() < found.start()):
        return "update"
    return found.group(1).lower() if found else "other"


def sparql_operation(query_string: bytes) -> str:
    """The label of a GET: the form of its `query`, "update", or "description" (no query)."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if any(key == "update" for key, _ in pairs):
        return "update"
    query = next((value for key, value in pairs if key == "query"), None)
    return "description" if query is None else sparql_form(query)


# --- the counts -----------------------------------------------------------------------------------------------


@dataclass
class _Histogram:
    # Observations per bucket, each counted once (in the first bucket whose bound it does not pass), made
    # cumulative when scraped: one bisect per request instead of a pass over every bucket.
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0
    count: int = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds
        self.count += 1

    def cumulative(self) -> list[int]:
        """Prometheus's buckets: how many observations were at most each bound."""
        return list(accumulate(self.counts[: len(BUCKETS)]))


@dataclass
class Metrics:
    """One process's counts. Requests are recorded on the event loop; reloads too (the build runs in a thread,
    its outcome is counted back on the loop); the lock keeps a scrape consistent with both anyway."""

    requests: dict[tuple[str, str, int], int] = field(default_factory=dict)
    durations: dict[tuple[str, str], _Histogram] = field(default_factory=dict)
    timeouts: dict[str, int] = field(default_factory=dict)
    rejections: dict[tuple[str, int], int] = field(default_factory=dict)
    in_flight: int = 0
    reloads: int = 0
    reloads_failed: int = 0
    last_reload_at: float | None = None
    started_at: float = field(default_factory=time.time)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, interface: str, operation: str, status: int, seconds: float) -> None:
        with self.lock:
            key = (interface, operation, status)
            self.requests[key] = self.requests.get(key, 0) + 1
            self.durations.setdefault((interface, operation), _Histogram()).observe(seconds)
            if status == TIMED_OUT:
                self.timeouts[interface] = self.timeouts.get(interface, 0) + 1
            elif status in REJECTED and interface != "health":  # /healthz's 503 reports, it refuses nothing
                self.rejections[(interface, status)] = self.rejections.get((interface, status), 0) + 1

    def reloaded(self, ok: bool) -> None:
        with self.lock:
            self.reloads += 1
            self.reloads_failed += not ok
            self.last_reload_at = time.time()


# --- the exposition -------------------------------------------------------------------------------------------


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in labels.items()) + "}"


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, value: float, **labels: str) -> None:
        self.lines.append(f"{name}{_labels(**labels)} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def resident_memory_bytes() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def exposition(metrics: Metrics, holder: SnapshotHolder, now: float | None = None) -> str:
    now = time.time() if now is None else now
    out = _Writer()
    with metrics.lock:
        requests = sorted(metrics.requests.items())
        durations = sorted((key, (h.cumulative(), h.total, h.count)) for key, h in metrics.durations.items())
        timeouts = sorted(metrics.timeouts.items())
        rejections = sorted(metrics.rejections.items())
        in_flight, reloads, failed = metrics.in_flight, metrics.reloads, metrics.reloads_failed
        last_reload = metrics.last_reload_at

    out.family("hvkg_http_requests_total", "counter", "HTTP requests answered, by interface, operation and status.")
    for (interface, operation, status), count in requests:
        out.sample("hvkg_http_requests_total", count, interface=interface, operation=operation, status=str(status))

    name = "hvkg_http_request_duration_seconds"
    out.family(name, "histogram", "Time from a request's arrival to its last response byte.")
    for (interface, operation), (buckets, total, count) in durations:
        for bound, cumulative in zip(BUCKETS, buckets, strict=True):
            out.sample(name + "_bucket", cumulative, interface=interface, operation=operation, le=_number(bound))
        out.sample(name + "_bucket", count, interface=interface, operation=operation, le="+Inf")
        out.sample(name + "_sum", total, interface=interface, operation=operation)
        out.sample(name + "_count", count, interface=interface, operation=operation)

    out.family("hvkg_http_requests_in_flight", "gauge", "Requests being answered now.")
    out.sample("hvkg_http_requests_in_flight", in_flight)

    out.family("hvkg_query_timeouts_total", "counter", "Queries stopped at their time limit (HTTP 504).")
    for interface, count in timeouts:
        out.sample("hvkg_query_timeouts_total", count, interface=interface)

    out.family("hvkg_rejections_total", "counter", "Requests refused with 403, 413 or 503.")
    for (interface, status), count in rejections:
        out.sample("hvkg_rejections_total", count, interface=interface, status=str(status))

    _snapshot_samples(out, holder, now)
    out.family("hvkg_reloads_total", "counter", "Reloads asked for (SIGHUP, hvkg reload) and carried out.")
    out.sample("hvkg_reloads_total", reloads)
    out.family("hvkg_reloads_failed_total", "counter", "Reloads that kept the old snapshot because the data was bad.")
    out.sample("hvkg_reloads_failed_total", failed)
    if last_reload is not None:
        out.family("hvkg_last_reload_timestamp_seconds", "gauge", "When the last reload ended (Unix time).")
        out.sample("hvkg_last_reload_timestamp_seconds", round(last_reload, 3))
    _process_samples(out, metrics)
    return out.text()


def _snapshot_samples(out: _Writer, holder: SnapshotHolder, now: float) -> None:
    snapshot = holder.current
    out.family("hvkg_snapshot_loaded", "gauge", "Whether a valid snapshot is served (1) or none yet (0).")
    out.sample("hvkg_snapshot_loaded", 1 if snapshot is not None else 0)
    out.family("hvkg_snapshot_generation", "counter", "Snapshots swapped in since the process started.")
    out.sample("hvkg_snapshot_generation", holder.generation)
    out.family(
        "hvkg_last_reload_failed", "gauge", "Whether the last load was refused (1: an older snapshot, or none, serves)."
    )
    out.sample("hvkg_last_reload_failed", 1 if holder.last_error else 0)
    if snapshot is not None:
        out.family("hvkg_snapshot_info", "gauge", "The snapshot being served, by content hash (value 1).")
        out.sample("hvkg_snapshot_info", 1, content_hash=snapshot.content_hash)
        out.family("hvkg_snapshot_triples", "gauge", "Triples in the snapshot being served.")
        out.sample("hvkg_snapshot_triples", snapshot.triple_count)
        out.family("hvkg_snapshot_age_seconds", "gauge", "Seconds since the snapshot being served was built.")
        out.sample("hvkg_snapshot_age_seconds", round(max(0.0, now - snapshot.built_at), 3))
        out.family("hvkg_snapshot_build_seconds", "gauge", "How long building the served snapshot took.")
        out.sample("hvkg_snapshot_build_seconds", round(snapshot.build_seconds, 4))


def _process_samples(out: _Writer, metrics: Metrics) -> None:
    memory = resident_memory_bytes()
    if memory is not None:
        out.family("process_resident_memory_bytes", "gauge", "Resident memory of this server process.")
        out.sample("process_resident_memory_bytes", memory)
    out.family("process_start_time_seconds", "gauge", "When this server process started (Unix time).")
    out.sample("process_start_time_seconds", round(metrics.started_at, 3))
    out.family("hvkg_process_info", "gauge", "This server process (one per worker with --workers N).")
    out.sample("hvkg_process_info", 1, pid=str(os.getpid()))
    # which wall keeps the SPARQL workers off the network (none reported until the first worker starts)
    from server.sparql_worker import network_wall

    wall = network_wall()
    if wall is not None:
        out.family("hvkg_sparql_network_wall", "gauge", "What keeps SPARQL worker processes off the network.")
        out.sample("hvkg_sparql_network_wall", 1, wall=wall)


def metrics_endpoint(metrics: Metrics, holder: SnapshotHolder) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:
        return Response(exposition(metrics, holder), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})

    return endpoint


# --- labels for server.middleware ---------------------------------------------------------------------------


def operation_of(scope: Scope, interface: str, path: str) -> str:
    """The operation label of a request its adapter did not name (see server.middleware)."""
    query_string: bytes = scope.get("query_string", b"")
    posted = scope.get("method") == "POST"
    if interface == "graphql":
        if path != "/graphql":
            return "static"
        if posted:
            return "other"  # refused before its document was read (size, media type, JSON)
        params = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
        if "query" not in params:
            return "ide"
        return graphql_operation(params.get("operationName"), params.get("query"))
    if interface == "sparql":
        # The endpoint names every request it reads; one it refused before (media type, size) is "other".
        return "other" if posted else sparql_operation(query_string)
    if interface == "page":
        return "page"
    return {"download": "download", "health": "healthz", "metrics": "metrics"}.get(interface, "other")


def label_values(lines: Iterable[str], name: str) -> dict[str, float]:
    """Samples of one metric family from an exposition, keyed by their label text (for tests and benches)."""
    found: dict[str, float] = {}
    for line in lines:
        if line.startswith((name + "{", name + " ")):
            key, _, value = line.rpartition(" ")
            found[key[len(name) :]] = float(value)
    return found
