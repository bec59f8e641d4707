"""/metrics in the Prometheus text format (0.0.4), by prometheus_client, whole across `--workers N`.

What is counted:

    hvkg_http_requests_total{interface, operation, status}      every answered request
    hvkg_http_request_duration_seconds{interface, operation}    histogram, until the last body byte is sent
    hvkg_http_requests_in_flight                                 requests being answered now
    hvkg_query_timeouts_total{interface}                         504: a query stopped at its time limit
    hvkg_rejections_total{interface, status}                     403 / 413 / 503: refused, not failed
    hvkg_reloads_* and hvkg_last_reload_timestamp_seconds        the reloads
    hvkg_snapshot_*, process_*, hvkg_process_info                the answering process: its graph and itself

With `hvkg serve --workers N` each worker writes its counts to files of its own in a directory that the
supervisor makes for the run (server.ops.supervisor.metrics_directory, $PROMETHEUS_MULTIPROC_DIR), and a scrape,
whichever worker answers it, adds up every worker's files (prometheus_client's multiprocess mode), so counters
never go back between scrapes. A single process (no such directory) counts in memory. The snapshot's and the
process's gauges are the answering process's, read when it is scraped (`ThisProcess` says why).

Labels stay few: `interface` and `operation` (server.ops.labels); server.ops.middleware counts.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.util import Finalize
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.requests import Request
from starlette.responses import Response

from server.ops.state import SnapshotHolder

# prometheus_client's variable (its documented name): set by `hvkg serve --workers N` for its workers.
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REJECTED = frozenset({403, 413, 503})
TIMED_OUT = 504

# `_created` series (one per label set: when it was first counted) would double the exposition; the
# multiprocess collector makes none, and neither does the single process then.
disable_created_metrics()  # type: ignore[no-untyped-call]

# --- the counts -----------------------------------------------------------------------------------------------


def shared_directory() -> Path | None:
    """The directory this process writes its counts to, beside the other workers'; None: it counts in memory.

    prometheus_client chooses once, when it is first imported, from $PROMETHEUS_MULTIPROC_DIR: the workers of
    `hvkg serve --workers N` are spawned with it set (server.ops.supervisor.metrics_directory); a single process,
    and the supervisor, which imported this module before it set the variable, are not."""
    if values.ValueClass is values.MutexValue:
        return None
    return Path(os.environ[MULTIPROC_DIR])


class Metrics:
    """One server process's counts, kept where a scrape finds them: in memory, or in this worker's files of the
    shared directory (which every worker's scrape adds up). Requests are recorded on the event loop, reloads
    too (the build runs in a thread, its outcome is counted back on the loop); prometheus_client locks each
    value, so a scrape from the threadpool reads whole numbers."""

    def __init__(self) -> None:
        self.directory = shared_directory()
        self.registry = CollectorRegistry()
        # In the multiprocess mode the values live in the files, read back by MultiProcessCollector (this
        # worker's among them): registering the objects too would show this worker's counts twice.
        self._own = None if self.directory is not None else self.registry
        own, kinds = self._own, ("interface", "operation")
        self._requests = Counter("hvkg_http_requests", "HTTP requests answered.", (*kinds, "status"), registry=own)
        self._durations = Histogram(
            "hvkg_http_request_duration_seconds", "Arrival to last response byte.", kinds, buckets=BUCKETS, registry=own
        )
        # livesum: what the whole server is answering now, the live workers' added up; a worker that ended
        # answers nothing any more, and mark_process_dead drops its file (see forget_ended_workers).
        self._in_flight = Gauge("hvkg_http_requests_in_flight", "Requests being answered now.", registry=own,
                                multiprocess_mode="livesum")  # fmt: skip
        self._timeouts = Counter("hvkg_query_timeouts", "Queries stopped at their time limit (HTTP 504).",
                                 ("interface",), registry=own)  # fmt: skip
        self._rejections = Counter("hvkg_rejections", "Requests refused with 403, 413 or 503.",
                                   ("interface", "status"), registry=own)  # fmt: skip
        self._reloads = Counter("hvkg_reloads", "Reloads carried out (SIGHUP, hvkg reload), by each worker.",
                                registry=own)  # fmt: skip
        self._reloads_failed = Counter("hvkg_reloads_failed", "Reloads that kept the old snapshot: bad data.",
                                       registry=own)  # fmt: skip
        self._last_reload: Gauge | None = None  # made by the first reload: no sample before there was one
        # The children of each label set met, so that a request costs two dict look-ups, not prometheus_client's
        # label checks (the label sets are few: see server.ops.middleware and the module's docstring).
        self._counted: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._in_flight_now = 0
        self._in_flight.set(0)  # in a worker's file, a reused pid may find an ended process's value
        if self.directory is None:
            # One process: the gauge is read when /metrics is scraped, not set twice per request (3-4 us each
            # request, bench/README.md "Issue 15: before and after"). Workers still set it: livesum reads files.
            self._in_flight.set_function(lambda: self._in_flight_now)
        self.reloads = 0
        self.reloads_failed = 0
        self.last_reload_at: float | None = None
        self.started_at = time.time()
        if self.directory is not None:
            self.registry.register(Workers(self.directory))
            _forget_at_exit(self.directory)

    @property
    def in_flight(self) -> int:
        return self._in_flight_now

    @in_flight.setter
    def in_flight(self, value: int) -> None:
        # server.ops.middleware counts `metrics.in_flight += 1` and `-= 1` around each request
        self._in_flight_now = value
        if self.directory is not None:
            self._in_flight.set(value)

    def record(self, interface: str, operation: str, status: int, seconds: float) -> None:
        key = (interface, operation, status)
        children = self._counted.get(key)
        if children is None:
            labelled = self._requests.labels(interface, operation, str(status))
            children = self._counted[key] = (labelled, self._durations.labels(interface, operation))
        children[0].inc()
        children[1].observe(seconds)
        if status == TIMED_OUT:
            self._timeouts.labels(interface).inc()
        elif status in REJECTED and interface != "health":  # /healthz's 503 reports, it refuses nothing
            self._rejections.labels(interface, str(status)).inc()

    def reloaded(self, ok: bool) -> None:
        self.reloads += 1
        self.reloads_failed += not ok
        self.last_reload_at = time.time()
        self._reloads.inc()
        if not ok:
            self._reloads_failed.inc()
        if self._last_reload is None:
            # max: when the server last reloaded, whichever worker it was; one that has ended since still
            # reloaded then (not livemax, which would forget it).
            self._last_reload = Gauge("hvkg_last_reload_timestamp_seconds", "When the last reload ended (Unix time).",
                                      registry=self._own, multiprocess_mode="max")  # fmt: skip
        self._last_reload.set(round(self.last_reload_at, 3))


# --- the workers' files ---------------------------------------------------------------------------------------

_LIVE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")


def process_running(pid: int) -> bool:
    """Alive and not a zombie (a worker that ended and that its supervisor has not reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: a pid of ours reused, which keeps its file until it ends too
    try:
        state = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rpartition(")")[2].split()[0]
    except (OSError, UnicodeDecodeError, IndexError):
        return True
    return state not in ("Z", "X")


def forget_ended_workers(directory: Path) -> list[int]:
    """mark_process_dead for each process whose live gauges are in `directory` and which has ended: a worker
    killed (SIGKILL, the OOM killer) runs no exit code, and uvicorn's supervisor, which replaces it, tells
    nobody. Its counters stay (what it answered was answered); its in-flight requests go."""
    pids = {int(m.group(1)) for path in directory.glob("gauge_live*.db") if (m := _LIVE_FILE.fullmatch(path.name))}
    ended = sorted(pid for pid in pids if not process_running(pid))
    for pid in ended:
        mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
    return ended


class Workers:
    """Every worker's counts, added up from the shared directory (prometheus_client's MultiProcessCollector),
    after the live gauges of the workers that ended are dropped."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files = MultiProcessCollector(None, path=str(directory))  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        forget_ended_workers(self.directory)
        return self.files.collect()  # type: ignore[no-any-return,no-untyped-call]


def _forget_at_exit(directory: Path) -> None:
    """mark_process_dead for this process when it ends cleanly. A worker ends through multiprocessing's
    bootstrap, which runs its finalizers and no atexit hook; a single process runs both."""
    Finalize(None, mark_process_dead, args=(os.getpid(), str(directory)), exitpriority=0)


# --- the exposition -------------------------------------------------------------------------------------------


def resident_memory_bytes() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class ThisProcess:
    """The gauges of the process that answers the scrape, read from it then, in either mode.

    They are not written to the shared directory: the snapshot's age grows with the clock, not with a write;
    a snapshot is swapped in by server.ops.state, which tells this module nothing (the first load is no reload),
    so a worker's file would lag behind its snapshot; and during a reload which snapshot each worker serves is
    the question, answered one worker per scrape with `hvkg_process_info` naming it. Gauges may differ from
    one scrape to the next; only counters must not go back. `hvkg_snapshot_generation` is a gauge for that
    reason: one worker's count of swaps (a counter of the server would need every worker's, and `_total`).
    Not prometheus_client's ProcessCollector either: its process_cpu_seconds_total is one process's counter."""

    metrics: Metrics
    holder: SnapshotHolder
    now: float

    def collect(self) -> Iterator[Metric]:
        holder, snapshot, pid = self.holder, self.holder.current, str(os.getpid())
        loaded = snapshot is not None
        yield _gauge("hvkg_snapshot_loaded", "Whether a valid snapshot is served (1) or none yet (0).", loaded)
        yield _gauge("hvkg_snapshot_generation", "Snapshots swapped in since this process started.", holder.generation)
        failed = 1 if holder.last_error else 0
        yield _gauge("hvkg_last_reload_failed", "Whether the last load was refused (1: older or no snapshot).", failed)
        if snapshot is not None:
            info = "The snapshot being served, by content hash (value 1)."
            yield _gauge("hvkg_snapshot_info", info, 1, content_hash=snapshot.content_hash)
            yield _gauge("hvkg_snapshot_triples", "Triples in the snapshot being served.", snapshot.triple_count)
            age = round(max(0.0, self.now - snapshot.built_at), 3)
            yield _gauge("hvkg_snapshot_age_seconds", "Seconds since the snapshot being served was built.", age)
            build = round(snapshot.build_seconds, 4)
            yield _gauge("hvkg_snapshot_build_seconds", "How long building the served snapshot took.", build)
        if (memory := resident_memory_bytes()) is not None:
            yield _gauge("process_resident_memory_bytes", "Resident memory of this server process.", memory)
        started = round(self.metrics.started_at, 3)
        yield _gauge("process_start_time_seconds", "When this server process started (Unix time).", started)
        yield _gauge("hvkg_process_info", "This server process (one per worker with --workers N).", 1, pid=pid)
        # the SPARQL workers' network wall, reported by server/sparql/wall.py (this module imports no adapter)
        if (wall := _network_wall) is not None:
            yield _gauge("hvkg_sparql_network_wall", "What keeps SPARQL workers off the network.", 1, wall=wall)


_network_wall: str | None = None  # none until the first SPARQL worker starts


def report_network_wall(wall: str) -> None:
    global _network_wall  # noqa: PLW0603 - what keeps this process's SPARQL workers off the network
    _network_wall = wall


def _gauge(name: str, help_text: str, value: float, **labels: str) -> GaugeMetricFamily:
    if not labels:
        return GaugeMetricFamily(name, help_text, value=value)
    family = GaugeMetricFamily(name, help_text, labels=list(labels))
    family.add_metric(list(labels.values()), value)
    return family


def exposition(metrics: Metrics, holder: SnapshotHolder, now: float | None = None) -> str:
    """The text exposition: the counts (every worker's, with --workers N), then this process's gauges."""
    here = ThisProcess(metrics, holder, time.time() if now is None else now)
    return (generate_latest(metrics.registry) + generate_latest(here)).decode("utf-8")


def metrics_endpoint(metrics: Metrics, holder: SnapshotHolder) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:
        return Response(exposition(metrics, holder), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})

    return endpoint


def label_values(lines: Iterable[str], name: str) -> dict[str, float]:
    """Samples of one metric family from an exposition, keyed by their label text (for tests and benches)."""
    found: dict[str, float] = {}
    for line in lines:
        if line.startswith((name + "{", name + " ")):
            key, _, value = line.rpartition(" ")
            found[key[len(name) :]] = float(value)
    return found
