"""/metrics of `hvkg serve --workers 2`: whichever worker answers a scrape, the counters are the server's, every
worker's added up, so they never go back from one scrape to the next, even when a worker is killed and
replaced, and they equal the requests sent; the exposition passes `promtool check metrics`.

Before prometheus_client's multiprocess mode each worker counted its own requests, and a scrape showed the
counts of whichever worker took it: they went back and forth.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from graph.layout import ROOT
from server.ops.metrics import MULTIPROC_DIR, forget_ended_workers, label_values, process_running
from server.ops.supervisor import metrics_directory
from tests.test_reload import Server, serve

CHECK_GUEST = (ROOT / "server" / "static" / "graphiql" / "operations" / "CheckGuest.graphql").read_text()
CHECK_GUEST_BODY = json.dumps(
    {
        "query": CHECK_GUEST,
        "operationName": "CheckGuest",
        "variables": {"os": "Windows Server 2008", "edition": "Enterprise", "sp": 0, "arch": "X64", "vcpus": 4},
    }
)
SELECT = "/sparql?query=SELECT%20%3Fs%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20LIMIT%201"
Series = tuple[str, tuple[tuple[str, str], ...]]


def promtool_check(body: str) -> None:
    """`promtool check metrics` (Prometheus's own linter) on an exposition: exit 0, no complaint."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail(
            "promtool is needed to check /metrics: `make promtool`, or apt-get install prometheus (Debian), "
            "or put the promtool of a Prometheus release on PATH"
        )
    done = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def monotonic_series(body: str) -> dict[Series, float]:
    """Every sample of a counter or histogram family: none may ever be lower in a later scrape."""
    found: dict[Series, float] = {}
    for family in text_string_to_metric_families(body):
        if family.type in ("counter", "histogram"):
            for sample in family.samples:
                found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def key(interface: str, operation: str, status: int) -> str:
    return f'{{interface="{interface}",operation="{operation}",status="{status}"}}'


def workers_of(supervisor: int) -> set[int]:
    """The supervisor's worker processes (uvicorn spawns them with multiprocessing)."""
    found = set()
    for pid in Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split():
        with contextlib.suppress(OSError):  # one that has just ended
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(int(pid))
    return found


def directory_of(worker: int) -> Path:
    environ = dict(
        entry.split(b"=", 1) for entry in Path(f"/proc/{worker}/environ").read_bytes().split(b"\0") if b"=" in entry
    )
    given = environ.get(MULTIPROC_DIR.encode())
    assert given is not None, (
        f"worker {worker} has no {MULTIPROC_DIR}: "
        "`hvkg serve` runs uvicorn inside server.ops.supervisor.metrics_directory"
    )
    return Path(given.decode())


class Scraper:
    """Scrapes on fresh connections (so both workers answer), each checked against the one before."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.answered = 0
        self.before: dict[Series, float] = {}
        self.pids: Counter[str] = Counter()
        self.last = ""

    def scrape(self) -> list[str]:
        status, headers, payload = self.server.request("GET", "/metrics")
        assert status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4")
        body = payload.decode()
        now = monotonic_series(body)
        went_back = {s: (v, now.get(s)) for s, v in self.before.items() if now.get(s, -1.0) < v}
        assert not went_back, f"counters went back (before, now): {went_back}"
        lines = body.splitlines()
        self.pids.update(label_values(lines, "hvkg_process_info"))
        # The scrape is counted once answered: this one shows the earlier ones, the last perhaps not yet (its
        # worker counts it just after the last byte, which the next scrape, on the other worker, may beat).
        scrapes = label_values(lines, "hvkg_http_requests_total").get(key("metrics", "metrics", 200), 0)
        assert self.answered - 1 <= scrapes <= self.answered
        self.answered += 1
        self.before, self.last = now, body
        return lines


def test_two_workers_count_together_and_counters_never_go_back(tmp_path: Path) -> None:
    sent: Counter[str] = Counter()

    def send(kind: str) -> None:
        if kind == "page":
            assert server.request("GET", "/id/vmbus", headers={"accept": "text/html"})[0] == 200
        elif kind == "missing":
            assert server.request("GET", "/id/no-such-thing", headers={"accept": "text/html"})[0] == 404
        elif kind == "graphql":
            status = server.request("POST", "/graphql", CHECK_GUEST_BODY, {"content-type": "application/json"})[0]
            assert status == 200
        else:
            accept = {"accept": "application/sparql-results+json"}
            assert server.request("GET", SELECT, headers=accept)[0] == 200
        sent[kind] += 1

    def counted(lines: list[str]) -> dict[str, float]:
        totals = label_values(lines, "hvkg_http_requests_total")
        return {
            "page": totals.get(key("page", "page", 200), 0),
            "missing": totals.get(key("page", "page", 404), 0),
            "graphql": totals.get(key("graphql", "CheckGuest", 200), 0),
            "sparql": totals.get(key("sparql", "select", 200), 0),
        }

    def exact(scraper: Scraper) -> list[str]:
        """A scrape once every request sent is counted (each is, just after its last byte): never more."""
        deadline = time.monotonic() + 10
        while True:
            lines = scraper.scrape()
            seen = counted(lines)
            assert all(seen[kind] <= sent[kind] for kind in seen), (seen, sent)
            if seen == {kind: float(sent[kind]) for kind in seen}:
                return lines
            assert time.monotonic() < deadline, (seen, sent)

    with serve(tmp_path, workers=2, env={"HVKG_ACCESS_LOG": "off"}) as server:
        supervisor = server.process.pid
        deadline = time.monotonic() + 120
        while len(workers := workers_of(supervisor)) < 2:
            assert time.monotonic() < deadline, "the workers were not given the metrics directory"
            time.sleep(0.1)
        directory = directory_of(min(workers))
        assert directory.is_dir() and {directory_of(pid) for pid in workers} == {directory}
        scraper = Scraper(server)
        while len(scraper.pids) < 2:  # both workers answer scrapes: the test is about their counts together
            assert time.monotonic() < deadline, f"only {scraper.pids} answered"
            scraper.scrape()

        for round_ in range(4):
            for kind in ("page", "graphql", "page", "missing", "sparql", "graphql")[: 3 + round_]:
                send(kind)
                scraper.scrape()
        lines = exact(scraper)
        assert label_values(lines, "hvkg_http_requests_in_flight") == {"": 1}  # this scrape, no other
        promtool_check(scraper.last)

        # A worker killed: what it counted stays counted; its in-flight gauge (livesum) is dropped.
        killed = next(int(pid.split('"')[1]) for pid in scraper.pids if int(pid.split('"')[1]) in workers)
        os.kill(killed, signal.SIGKILL)
        while process_running(killed):
            assert time.monotonic() < deadline + 60
            time.sleep(0.05)
        for kind in ("page", "graphql", "sparql", "missing"):
            send(kind)
            scraper.scrape()
        lines = exact(scraper)
        assert not list(directory.glob(f"gauge_live*_{killed}.db"))
        assert list(directory.glob(f"counter_{killed}.db"))
        assert label_values(lines, "hvkg_http_requests_in_flight") == {"": 1}
        promtool_check(scraper.last)
        # every file is a worker's: the SPARQL worker processes, which inherit the variable, count nothing
        writers = {int(path.stem.rsplit("_", 1)[1]) for path in directory.glob("*.db")}
        assert writers <= workers | workers_of(supervisor), writers
    assert server.process.returncode is not None
    assert not directory.exists(), "the metrics directory outlived its server"


# --- the directory, without a server -----------------------------------------------------------------------------

WORKER = """
import os, sys
from server.ops.metrics import Metrics
print(os.getpid(), flush=True)
metrics = Metrics()
assert metrics.directory is not None, "not in the multiprocess mode"
for _ in range(int(sys.argv[1])):
    metrics.record("page", "page", 200, 0.01)
metrics.in_flight += 1
if sys.argv[2] == "killed":
    os._exit(0)  # like SIGKILL: no finalizer runs
"""


def run_worker(directory: Path, requests: int, end: str) -> int:
    env = {**os.environ, MULTIPROC_DIR: str(directory), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(requests), end], cwd=ROOT, env=env, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return int(done.stdout.split()[0])


def test_ended_workers_keep_their_counts_and_lose_their_in_flight(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    with metrics_directory(2, environ) as directory:
        assert directory is not None and environ[MULTIPROC_DIR] == str(directory)
        killed = run_worker(directory, 3, "killed")
        assert list(directory.glob(f"gauge_livesum_{killed}.db"))  # left behind: nothing ran at its end
        run_worker(directory, 4, "clean")  # ends cleanly: it marked itself dead
        assert len(list(directory.glob("gauge_livesum_*.db"))) == 1
        assert forget_ended_workers(directory) == [killed]
        assert not list(directory.glob("gauge_livesum_*.db"))
        files = {path.name for path in directory.glob("counter_*.db")}
        assert len(files) == 2
    assert not directory.exists() and MULTIPROC_DIR not in environ


def test_a_directory_named_by_the_variable_is_emptied_not_removed(tmp_path: Path) -> None:
    given = tmp_path / "counts"
    given.mkdir()
    (given / "counter_1.db").write_bytes(b"an earlier run's")
    (given / "notes.txt").write_text("not ours")
    environ = {MULTIPROC_DIR: str(given)}
    with metrics_directory(2, environ) as directory:
        assert directory == given and not list(given.glob("*.db"))
    assert given.is_dir() and (given / "notes.txt").exists() and environ == {MULTIPROC_DIR: str(given)}
    with metrics_directory(1, {}) as directory:
        assert directory is None  # one process counts in memory
