"""Reload without downtime, on a real `hvkg serve` over a private copy of the data.

The server never writes the data; the tests edit their copy, then ask for a reload (SIGHUP through
`server.ops.reload.signal_reload`, which `hvkg reload` runs) and wait for /metrics to count it.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from graph.layout import ROOT
from server.ops.metrics import label_values
from server.ops.reload import signal_reload

PRODUCTS = "products.ttl"
ESX_LABEL = '"VMware ESX"@en , "VMware ESX"@ja'
CHECK_GUEST = (ROOT / "server" / "static" / "graphiql" / "operations" / "CheckGuest.graphql").read_text()
CHECK_GUEST_BODY = json.dumps(
    {
        "query": CHECK_GUEST,
        "operationName": "CheckGuest",
        "variables": {"os": "Windows Server 2008", "edition": "Enterprise", "sp": 0, "arch": "X64", "vcpus": 4},
    }
)
PRODUCTS_BODY = json.dumps({"query": "{ products { id label(lang: EN) } }"})
ESX_SPARQL = "/sparql?" + urllib.parse.urlencode(
    {
        "query": "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
        "SELECT ?l WHERE { <https://hyperv-kg.example.org/id/vmware-esx> skos:prefLabel ?l }"
    }
)


# --- a real server over a copy of the data ----------------------------------------------------------------------


def copy_data(target: Path) -> Path:
    """Like conftest's data_copy, for a server that outlives one test."""
    for part in ("ontology", "queries", "graph/facts", "graph/sources"):
        shutil.copytree(ROOT / part, target / part)
    shutil.copy(ROOT / "graph" / "sources.ttl", target / "graph" / "sources.ttl")
    return target


def set_esx_label(data: Path, label: str) -> None:
    text = (ROOT / "graph" / "facts" / PRODUCTS).read_text(encoding="utf-8")
    assert ESX_LABEL in text
    (data / "graph" / "facts" / PRODUCTS).write_text(
        text.replace(ESX_LABEL, f'"{label}"@en , "VMware ESX"@ja'), encoding="utf-8"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    data: Path
    pid_file: Path
    log: Path
    env: dict[str, str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(
        self, method: str, path: str, body: str | bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body, headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def graphql(self, body: str) -> dict[str, object]:
        status, _, payload = self.request("POST", "/graphql", body, {"content-type": "application/json"})
        assert status == 200, payload
        answer: dict[str, object] = json.loads(payload)
        return answer

    def metrics(self) -> list[str]:
        status, _, payload = self.request("GET", "/metrics")
        assert status == 200
        return payload.decode().splitlines()

    def healthz(self) -> tuple[int, dict[str, object]]:
        status, _, payload = self.request("GET", "/healthz")
        return status, json.loads(payload)

    def counter(self, name: str) -> float:
        return label_values(self.metrics(), name).get("", 0.0)

    def wait_for(self, name: str, value: float, timeout: float = 90) -> None:
        """Wait (bounded) until a counter of /metrics reaches `value`: how a test knows a reload is over."""
        deadline = time.monotonic() + timeout
        while self.counter(name) < value:
            assert time.monotonic() < deadline, f"{name} never reached {value}; log: {self.log.read_text()[-3000:]}"
            assert self.process.poll() is None, f"the server ended; log: {self.log.read_text()[-3000:]}"
            time.sleep(0.05)


def wait_healthy(server: Server, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process.poll() is None, f"the server ended: {server.log.read_text()[-3000:]}"
        with contextlib.suppress(OSError):
            if server.healthz()[0] == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"the server never became healthy: {server.log.read_text()[-3000:]}")


@contextlib.contextmanager
def serve(
    work: Path, workers: int = 1, env: dict[str, str] | None = None, uvicorn: list[str] | None = None
) -> Iterator[Server]:
    """`hvkg serve` on a free loopback port over `work`/data (a copy made here), until the block ends; or,
    with `uvicorn` (its extra options), uvicorn's own command line on server.main:app."""
    data = work / "data"
    if not data.exists():
        copy_data(data)
    port = free_port()
    pid_file = work / "hvkg.pid"
    full_env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "HVKG_DATA": str(data),
        "HVKG_PID_FILE": str(pid_file),
        **(env or {}),
    }
    log = work / f"server-{port}.log"
    command = [sys.executable, "-m", "server.cli", "serve"]
    if uvicorn is not None:
        command = [sys.executable, "-m", "uvicorn", "server.main:app", *uvicorn]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, port, data, pid_file, log, full_env)
    try:
        wait_healthy(server)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def reload_and_wait(server: Server, *, failed: bool = False) -> None:
    before = server.counter("hvkg_reloads_total")
    failed_before = server.counter("hvkg_reloads_failed_total")
    assert signal_reload(server.process.pid) == 0
    server.wait_for("hvkg_reloads_total", before + 1)
    assert server.counter("hvkg_reloads_failed_total") == failed_before + (1 if failed else 0)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("reload")) as running:
        yield running


# --- the tests ------------------------------------------------------------------------------------------------


def esx_label(answer: dict[str, object]) -> str:
    products = answer["data"]["products"]  # type: ignore[index]
    return next(p["label"] for p in products if p["id"] == "vmware-esx")  # type: ignore[no-any-return]


def test_a_hammering_client_sees_only_200s_during_20_reloads(server: Server) -> None:
    labels = [f"VMware ESX rev {n}" for n in range(1, 21)]
    seen: Counter[object] = Counter()
    labels_seen: set[str] = set()
    stop = threading.Event()
    lock = threading.Lock()
    requests: list[tuple[str, str, str | None, dict[str, str]]] = [
        ("POST", "/graphql", CHECK_GUEST_BODY, {"content-type": "application/json"}),
        ("POST", "/graphql", PRODUCTS_BODY, {"content-type": "application/json"}),
        ("GET", ESX_SPARQL, None, {"accept": "application/sparql-results+json"}),
        ("GET", "/id/vmware-esx", None, {"accept": "text/html"}),
        ("GET", "/id/vmbus", None, {"accept": "text/turtle"}),
        ("GET", "/healthz", None, {}),
    ]

    def hammer(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        n = offset
        while not stop.is_set():
            method, path, body, headers = requests[n % len(requests)]
            n += 1
            try:
                conn.request(method, path, body, headers)
                response = conn.getresponse()
                payload = response.read()
                outcome: object = response.status
                if path == "/graphql" and body == PRODUCTS_BODY and response.status == 200:
                    with lock:
                        labels_seen.add(esx_label(json.loads(payload)))
            except (OSError, http.client.HTTPException) as error:
                outcome = type(error).__name__
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            with lock:
                seen[outcome] += 1

    clients = [threading.Thread(target=hammer, args=(n,)) for n in range(2)]
    for client in clients:
        client.start()
    try:
        generation = server.healthz()[1]["generation"]
        for label in labels:
            set_esx_label(server.data, label)
            reload_and_wait(server)
    finally:
        stop.set()
        for client in clients:
            client.join(60)
    assert set(seen) == {200}, seen
    assert sum(seen.values()) > 100
    status, health = server.healthz()
    assert status == 200 and health["lastReloadError"] is None
    assert health["generation"] == generation + 20  # type: ignore[operator]
    # Every answer came whole from one snapshot or another: the original label or one that was written.
    assert labels_seen <= {"VMware ESX", *labels}
    assert esx_label(server.graphql(PRODUCTS_BODY)) == labels[-1]


def test_an_answer_changes_after_a_reload_that_changes_the_data(server: Server) -> None:
    set_esx_label(server.data, "VMware ESX before")
    reload_and_wait(server)
    before_hash = server.healthz()[1]["contentHash"]
    download_before = server.request("GET", "/download/graph.ttl")[2].decode()
    assert "VMware ESX before" in download_before

    set_esx_label(server.data, "VMware ESX after / 変更後")
    reload_and_wait(server)

    assert server.healthz()[1]["contentHash"] != before_hash
    assert esx_label(server.graphql(PRODUCTS_BODY)) == "VMware ESX after / 変更後"
    # SPARQL answers from workers forked for the new snapshot; the old ones are retired.
    status, _, body = server.request("GET", ESX_SPARQL, headers={"accept": "text/csv"})
    assert status == 200
    assert "VMware ESX after / 変更後" in body.decode() and "VMware ESX before" not in body.decode()
    status, _, page = server.request("GET", "/id/vmware-esx", headers={"accept": "text/html"})
    assert status == 200 and "VMware ESX after / 変更後" in page.decode()
    # The whole-graph download is cached per snapshot: the cache follows the swap.
    download_after = server.request("GET", "/download/graph.ttl")[2].decode()
    assert "VMware ESX after / 変更後" in download_after and "VMware ESX before" not in download_after


def test_a_broken_file_keeps_the_old_snapshot_and_healthz_says_why(server: Server) -> None:
    set_esx_label(server.data, "VMware ESX good")
    reload_and_wait(server)
    good_hash = server.healthz()[1]["contentHash"]
    storage = server.data / "graph" / "facts" / "storage.ttl"
    original = storage.read_text(encoding="utf-8")
    try:
        storage.write_text(original + "\nthis is not turtle .\n", encoding="utf-8")
        reload_and_wait(server, failed=True)
        status, health = server.healthz()
        assert status == 200 and health["status"] == "ok"
        assert health["contentHash"] == good_hash
        assert "storage.ttl" in str(health["lastReloadError"])
        assert esx_label(server.graphql(PRODUCTS_BODY)) == "VMware ESX good"
        assert label_values(server.metrics(), "hvkg_last_reload_failed") == {"": 1.0}
        log = server.log.read_text()
        assert "storage.ttl" in log and "reload failed" in log
    finally:
        storage.write_text(original, encoding="utf-8")
    reload_and_wait(server)
    status, health = server.healthz()
    assert status == 200 and health["lastReloadError"] is None and health["contentHash"] == good_hash


def test_a_file_that_cannot_be_decoded_keeps_the_old_snapshot(server: Server) -> None:
    """Regression: a query file that is not UTF-8 raised out of the load (not an InvalidGraph) and was not
    caught; now it is a failed reload like any other."""
    good_hash = server.healthz()[1]["contentHash"]
    broken = server.data / "queries" / "zz-not-utf8.rq"
    try:
        broken.write_bytes(b"SELECT * WHERE { ?s ?p \xff\xfe }")
        reload_and_wait(server, failed=True)
        status, health = server.healthz()
        assert status == 200 and health["contentHash"] == good_hash
        assert "could not be read" in str(health["lastReloadError"])
        assert server.process.poll() is None
    finally:
        broken.unlink()
    reload_and_wait(server)
    assert server.healthz()[1]["lastReloadError"] is None


def test_hvkg_reload_finds_the_server_through_its_pid_file(server: Server) -> None:
    assert int(server.pid_file.read_text().split()[0]) == server.process.pid
    before = server.counter("hvkg_reloads_total")
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "reload"],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert str(server.process.pid) in done.stdout and "SIGHUP" in done.stdout and "再読み込み" in done.stdout
    server.wait_for("hvkg_reloads_total", before + 1)


def test_hvkg_reload_exits_2_without_a_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pid_file = tmp_path / "hvkg.pid"
    monkeypatch.setenv("HVKG_PID_FILE", str(pid_file))
    assert signal_reload(None) == 2  # no pid file
    ended = subprocess.Popen(["true"])
    ended.wait()
    pid_file.write_text(f"{ended.pid}\n")
    assert signal_reload(None) == 2  # the process is gone
    assert signal_reload(ended.pid) == 2
    pid_file.write_text("not a pid\n")
    assert signal_reload(None) == 2
    # A stale pid file naming a process that is no server of ours: never signalled (SIGHUP would end it).
    bystander = subprocess.Popen(["sleep", "30"])
    try:
        pid_file.write_text(f"{bystander.pid}\n")
        assert signal_reload(None) == 2
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_the_pid_file_is_removed_when_the_server_stops(tmp_path: Path) -> None:
    with serve(tmp_path) as running:
        assert running.pid_file.exists()
    assert running.process.returncode is not None
    assert not running.pid_file.exists()


# --- --workers 2 --------------------------------------------------------------------------------------------


def worker_hashes(server: Server, rounds: int = 40) -> dict[str, str]:
    """Which snapshot each worker serves, as seen by /metrics answers on fresh connections."""
    seen: dict[str, str] = {}
    for _ in range(rounds):
        try:
            lines = server.metrics()
        except ConnectionResetError:
            continue  # a worker that uvicorn is closing resets the connection (the probes above count these)
        pid = next(iter(label_values(lines, "hvkg_process_info")))
        info = label_values(lines, "hvkg_snapshot_info")
        seen[pid] = next(iter(info)) if info else ""
    return seen


def wait_all_workers(server: Server, content_hash: str, workers: int = 2, timeout: float = 120) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        seen = worker_hashes(server)
        current = {pid: h for pid, h in seen.items() if content_hash in h}
        if len(current) >= workers:
            return current
        assert time.monotonic() < deadline, f"workers never all served {content_hash[:12]}: {seen}"
        time.sleep(0.2)


def test_with_workers_hvkg_reload_reloads_each_worker_in_place(tmp_path: Path) -> None:
    with serve(tmp_path, workers=2) as running:
        supervisor = running.process.pid
        assert int(running.pid_file.read_text().split()[0]) == supervisor
        first = running.healthz()[1]["contentHash"]
        assert isinstance(first, str)
        old_workers = wait_all_workers(running, first)

        # hvkg reload: SIGHUP to each worker, which reloads in place (same processes, new snapshot).
        set_esx_label(running.data, "VMware ESX (workers)")
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", "reload"],
            cwd=ROOT,
            env=running.env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        signalled = {int(pid) for pid in re.findall(r"\d+", done.stdout.splitlines()[0])}
        assert signalled == {int(pid.split('"')[1]) for pid in old_workers}
        assert supervisor not in signalled
        second = None
        deadline = time.monotonic() + 60
        while second in (None, first):
            assert time.monotonic() < deadline
            second = running.healthz()[1]["contentHash"]
        assert isinstance(second, str)
        assert set(wait_all_workers(running, second)) == set(old_workers)


def test_a_sighup_to_uvicorns_supervisor_brings_up_workers_that_never_answer_503(tmp_path: Path) -> None:
    """A plain SIGHUP to uvicorn's supervisor restarts the workers one by one; a new worker loads its snapshot
    before it counts as started, so no client ever meets a worker that is still loading.

    Run with uvicorn's own command line for its --timeout-worker-healthcheck: uvicorn abandons the restart when
    a new worker is not started within it, and its default (5 s) is shorter than start-up on a busy machine.
    """
    with serve(tmp_path, workers=2, uvicorn=["--timeout-worker-healthcheck", "120"]) as running:
        supervisor = running.process.pid
        first = running.healthz()[1]["contentHash"]
        assert isinstance(first, str)
        old_workers = wait_all_workers(running, first)
        set_esx_label(running.data, "VMware ESX (restart)")
        statuses: Counter[object] = Counter()
        stop = threading.Event()

        def probe() -> None:
            while not stop.is_set():
                try:
                    statuses[running.request("GET", "/healthz")[0]] += 1
                except OSError as error:
                    statuses[type(error).__name__] += 1  # uvicorn closing an old worker's idle connection

        prober = threading.Thread(target=probe)
        prober.start()
        try:
            os.kill(supervisor, signal.SIGHUP)
            second = None
            deadline = time.monotonic() + 120
            while second in (None, first):
                assert time.monotonic() < deadline, running.log.read_text()[-3000:]
                second = running.healthz()[1]["contentHash"]
            assert isinstance(second, str)
            new_workers = wait_all_workers(running, second, timeout=240)
        finally:
            stop.set()
            prober.join(60)
        assert not set(new_workers) & set(old_workers)
        assert statuses[200] > 0
        assert not [s for s in statuses if isinstance(s, int) and s != 200], statuses
