"""Soak: mixed load on a real `hvkg serve` for a long while, with a reload every minute. Run by hand:

    PYTHONPATH=. python bench/soak.py --minutes 10 --workers 2 > soak-out.md

Clients (threads, each with its own keep-alive connection) send the portals' CheckGuest GraphQL operation, a
SPARQL SELECT and /id/ pages. The server serves a private copy of the data; before each reload the copy's label
of VMware ESX is changed, so every reload swaps in a really different snapshot (new content hash, new caches).
Every `--sample` seconds one row is printed: requests, errors (anything but 200, or no answer), p50 and p99
latency of that window, and the resident memory of every process of the server (supervisor, workers, SPARQL
workers). Traffic goes to 127.0.0.1 only, and the run ends by itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ESX_LABEL = '"VMware ESX"@en , "VMware ESX"@ja'

CONTRACT = ROOT / "tests" / "shared" / "contract" / "operations" / "CheckGuest.graphql"
OPERATION = (
    CONTRACT if CONTRACT.exists() else ROOT / "server" / "static" / "graphiql" / "operations" / "CheckGuest.graphql"
)
CHECK_GUEST = OPERATION.read_text(encoding="utf-8")
GRAPHQL_BODY = json.dumps(
    {
        "query": CHECK_GUEST,
        "operationName": "CheckGuest",
        "variables": {"os": "Windows Server 2008", "edition": "Enterprise", "sp": 0, "arch": "X64", "vcpus": 4},
    }
).encode()
SPARQL_PATH = "/sparql?" + urllib.parse.urlencode(
    {
        "query": "PREFIX hv: <https://hyperv-kg.example.org/id/ontology/> "
        "SELECT ?row ?max WHERE { ?row hv:maxVirtualProcessors ?max } ORDER BY ?row LIMIT 20"
    }
)
PAGES = ["/id/vmbus", "/id/hyper-v", "/id/vmware-esx", "/id/guest-row-01", "/id/parent-partition"]


def copy_data(target: Path) -> None:
    for part in ("ontology", "queries", "graph/facts", "graph/sources"):
        shutil.copytree(ROOT / part, target / part)
    shutil.copy(ROOT / "graph" / "sources.ttl", target / "graph" / "sources.ttl")


def set_esx_label(data: Path, label: str) -> None:
    path = data / "graph" / "facts" / "products.ttl"
    text = (ROOT / "graph" / "facts" / "products.ttl").read_text(encoding="utf-8")
    path.write_text(text.replace(ESX_LABEL, f'"{label}"@en , "VMware ESX"@ja'), encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree.extend(frontier)
    return tree


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def role(pid: int, root: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"
    if pid == root:
        return "main"
    if "resource_tracker" in cmd:
        return "tracker"
    if "spawn_main" in cmd:
        parent = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1]
        return "worker" if int(parent) == root else "sparql"
    return "sparql"


class Load:
    def __init__(self, port: int, stop: threading.Event) -> None:
        self.port = port
        self.stop = stop
        self.lock = threading.Lock()
        self.samples: list[tuple[float, bool, str]] = []  # latency seconds, ok, kind
        self.failures: Counter[str] = Counter()  # what went wrong, for the summary

    def client(self, seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311 (a load mix, not a secret)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            pick = rng.random()
            started = time.perf_counter()
            try:
                if pick < 0.5:
                    kind = "graphql"
                    conn.request("POST", "/graphql", GRAPHQL_BODY, {"content-type": "application/json"})
                elif pick < 0.75:
                    kind = "sparql"
                    conn.request("GET", SPARQL_PATH, headers={"accept": "application/sparql-results+json"})
                else:
                    kind = "page"
                    conn.request("GET", rng.choice(PAGES), headers={"accept": "text/html"})
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200
                if not ok:
                    with self.lock:
                        self.failures[f"{kind} {response.status} {body[:90].decode('utf-8', 'replace')!r}"] += 1
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as error:
                ok = False
                with self.lock:
                    self.failures[f"{kind} {type(error).__name__}"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            with self.lock:
                self.samples.append((time.perf_counter() - started, ok, kind))

    def take(self) -> list[tuple[float, bool, str]]:
        with self.lock:
            taken, self.samples = self.samples, []
        return taken


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def wait_healthy(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become healthy")


def memory_by_role(server: int) -> str:
    """RSS of every process of the server, grouped: main (server or supervisor) / workers / SPARQL workers."""
    by_role: dict[str, list[float]] = {}
    for pid in process_tree(server):
        rss = rss_mib(pid)
        if rss is not None:
            by_role.setdefault(role(pid, server), []).append(rss)
    return " / ".join(
        "+".join(f"{v:.0f}" for v in sorted(by_role.get(r, []))) or "-" for r in ("main", "worker", "sparql")
    )


def start_server(work: Path, data: Path, workers: int) -> tuple[subprocess.Popen[bytes], int, dict[str, str]]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "HVKG_DATA": str(data),
        "HVKG_PID_FILE": str(work / "hvkg.pid"),
    }
    command = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--workers", str(workers)]
    with open(work / "server.log", "wb") as server_log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT)
    return server, port, env


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--reload-every", type=float, default=60)
    parser.add_argument("--sample", type=float, default=30)
    return parser.parse_args()


def main() -> int:
    args = arguments()

    work = Path(tempfile.mkdtemp(prefix="hvkg-soak-"))
    data = work / "data"
    copy_data(data)
    set_esx_label(data, "VMware ESX")
    server, port, env = start_server(work, data, args.workers)
    try:
        wait_healthy(port, time.monotonic() + 120)
        stop = threading.Event()
        load = Load(port, stop)
        clients = [threading.Thread(target=load.client, args=(n,), daemon=True) for n in range(args.clients)]
        for thread in clients:
            thread.start()
        started = time.monotonic()
        end = started + args.minutes * 60
        next_reload = started + args.reload_every
        next_sample = started + args.sample
        reloads = requests = errors = 0
        print(f"soak: {args.minutes:g} min, --workers {args.workers}, {args.clients} clients, port {port}")
        print(f"server log: {work / 'server.log'}", file=sys.stderr)
        print("| t (s) | requests | errors | p50 ms | p99 ms | reloads | RSS MiB: main / workers / SPARQL workers |")
        print("|---:|---:|---:|---:|---:|---:|---|")
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_reload:
                reloads += 1
                set_esx_label(data, f"VMware ESX (soak reload {reloads})")
                reload = [sys.executable, "-m", "server.cli", "reload", "--pid", str(server.pid)]
                subprocess.run(reload, cwd=ROOT, env=env, check=True, capture_output=True)
                next_reload += args.reload_every
            if now >= next_sample:
                taken = load.take()
                latencies = [s[0] for s in taken]
                failed = sum(1 for s in taken if not s[1])
                requests, errors = requests + len(taken), errors + failed
                print(
                    f"| {now - started:.0f} | {len(taken)} | {failed} | {percentile(latencies, 0.5) * 1000:.1f} "
                    f"| {percentile(latencies, 0.99) * 1000:.1f} | {reloads} | {memory_by_role(server.pid)} |",
                    flush=True,
                )
                next_sample += args.sample
            time.sleep(0.2)
        stop.set()
        for thread in clients:
            thread.join(35)
        print(f"\ntotal: {requests} requests, {errors} errors, {reloads} reloads")
        for failure, count in load.failures.most_common():
            print(f"- {count} × {failure}")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
