"""Scale-out: requests per second of `hvkg serve --workers N`, and of haproxy in front of N single-worker replicas
(deploy/local-cluster.sh), measured with wrk on loopback.

    PYTHONPATH=. python bench/scaleout.py --workers 1 2 --duration 15 --rounds 3 > scaleout-out.md
    PYTHONPATH=. python bench/scaleout.py --workers --replicas 1 2 3 --duration 10 --rounds 3   # haproxy only

Two requests: the portals' CheckGuest GraphQL operation (POST /graphql, shared/contract/operations, with
variables) and GET /healthz. For each setup a fresh server (or cluster) is started (default configuration: JSON
access log on, written to a file), warmed up, then measured `--rounds` times; the table shows the median round
and the spread. wrk runs on the same machine, so it takes CPU from the server: the figures are for this
machine as a whole, client included. Needs `wrk` (Debian: apt-get install wrk), and for --replicas `haproxy`
(apt-get install haproxy).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "tests" / "shared" / "contract" / "operations" / "CheckGuest.graphql"
OPERATION = (
    CONTRACT if CONTRACT.exists() else ROOT / "server" / "static" / "graphiql" / "operations" / "CheckGuest.graphql"
)
CHECK_GUEST = json.dumps(
    {
        "query": OPERATION.read_text(encoding="utf-8"),
        "operationName": "CheckGuest",
        "variables": {"os": "Windows XP", "edition": "Professional", "sp": 2, "arch": "X86", "vcpus": 2},
    }
)
LUA_POST = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = {body}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(port: int, path: str, body: str | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"content-type": "application/json"} if body else {}
        conn.request("POST" if body else "GET", path, body, headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(port: int, workers: int, deadline: float) -> None:
    """Every worker serves: /metrics (on fresh connections) names `workers` different pids with a snapshot."""
    seen: set[str] = set()
    while time.monotonic() < deadline:
        try:
            status, body = fetch(port, "/metrics")
        except OSError:
            time.sleep(0.2)
            continue
        text = body.decode()
        # prometheus_client writes the gauge as 1.0
        if status == 200 and re.search(r"^hvkg_snapshot_loaded 1(\.0)?$", text, re.MULTILINE):
            seen.update(re.findall(r'hvkg_process_info\{pid="(\d+)"\}', text))
            if len(seen) >= workers:
                return
        time.sleep(0.05)
    raise SystemExit(f"the server did not get {workers} workers ready")


def wrk_command(
    url: str, seconds: float, connections: int, script: Path | None, timeout: float | None = None
) -> list[str]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", url]
    if timeout is not None:  # wrk counts an answer slower than this (2 s by default) as a "timeout" socket error
        command.append(f"--timeout={timeout:g}s")
    return command if script is None else [*command, "-s", str(script)]


def wrk(url: str, seconds: float, connections: int, script: Path | None) -> dict[str, float]:
    command = wrk_command(url, seconds, connections, script)
    return parse_wrk(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def parse_wrk(out: str) -> dict[str, float]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = float(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]

    def latency(percent: str) -> float:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if found is None:
            return float("nan")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": rps,
        "requests": requests,
        "p50": latency("50"),
        "p99": latency("99"),
        "non2xx": float(bad.group(1)) if bad else 0.0,
        "socket_errors": float(sum(int(n) for n in errors.groups())) if errors else 0.0,
    }


def server_env(work: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "HVKG_PID_FILE": str(work / f"hvkg-{port}.pid"),
    }


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def workers_server(work: Path, workers: int) -> Iterator[int]:
    """`hvkg serve --workers N` on a free port, once every worker serves a snapshot."""
    port = free_port()
    command = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--workers", str(workers)]
    with open(work / f"server-{workers}.log", "wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=server_env(work, port), stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(port, workers, time.monotonic() + 120)
        yield port
    finally:
        stop(server)


def free_ports(count: int) -> int:
    """A port whose next `count - 1` ports are free too (the cluster's replicas listen there)."""
    for _ in range(100):
        base = free_port()
        if base + count > 65535:
            continue
        with contextlib.ExitStack() as stack:
            try:
                for port in range(base + 1, base + count):
                    stack.enter_context(socket.socket()).bind(("127.0.0.1", port))
            except OSError:
                continue
        return base
    raise SystemExit("no free ports")


class Cluster:
    """A running deploy/local-cluster.sh: haproxy on `port`, replica i on `port + i`, its files in `directory`."""

    def __init__(self, port: int, replicas: int, directory: Path) -> None:
        self.port, self.replicas, self.directory = port, replicas, directory

    def pid(self, replica: int) -> int:
        return int((self.directory / f"replica{replica}.pid").read_text().split()[0])

    def generation(self, replica: int) -> int:
        status, body = fetch(self.port + replica, "/healthz")
        return int(json.loads(body)["generation"]) if status == 200 else -1

    def backend(self) -> dict[str, str]:
        """haproxy's `show stat` row of the backend (its runtime API)."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(self.directory / "haproxy.sock"))
            s.sendall(b"show stat\n")
            text = b"".join(iter(lambda: s.recv(65536), b"")).decode()
        lines = text.splitlines()
        header = lines[0].removeprefix("# ").split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return next(row for row in rows if row["pxname"] == "hvkg" and row["svname"] == "BACKEND")

    def up(self, replica: int) -> bool:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(self.directory / "haproxy.sock"))
            s.sendall(b"show stat\n")
            text = b"".join(iter(lambda: s.recv(65536), b"")).decode()
        return any(line.startswith(f"hvkg,replica{replica},") and ",UP," in line for line in text.splitlines())


@contextlib.contextmanager
def cluster(work: Path, replicas: int) -> Iterator[Cluster]:
    """deploy/local-cluster.sh: haproxy on a free port over N single-worker replicas, once haproxy counts each UP."""
    port = free_ports(replicas + 1)
    directory = work / f"cluster-{replicas}"
    env = {
        **server_env(work, port),
        "HVKG": str(Path(sys.executable).parent / "hvkg"),
        "HVKG_CLUSTER_DIR": str(directory),
        "PYTHON": sys.executable,  # the scripts' client of haproxy's runtime API, when socat is not installed
    }
    command = ["bash", str(ROOT / "deploy" / "local-cluster.sh"), str(replicas), str(port)]
    with open(work / f"cluster-{replicas}.log", "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while not (directory / "ready").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the cluster did not start: {(work / f'cluster-{replicas}.log').read_text()}")
            time.sleep(0.1)
        yield Cluster(port, replicas, directory)
    finally:
        stop(process)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, ValueError, KeyError):
            if condition():
                return
        if time.monotonic() > deadline:
            raise SystemExit(f"not {what} within {timeout:g} s")
        time.sleep(0.1)


def rolling_restart(running: Cluster) -> None:
    script = ROOT / "deploy" / "rolling-restart.sh"
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run(["bash", str(script), "--cluster", str(running.directory)], env=env, check=True)


def reloaded(running: Cluster, replica: int, generation: int) -> bool:
    return running.generation(replica) > generation


def reloads(running: Cluster, count: int = 20) -> None:
    """`count` reloads, the replicas in turn, each waited for (none folded into another)."""
    replicas = list(range(1, running.replicas + 1))
    for start in range(0, count, len(replicas)):
        turn = replicas[: count - start]
        before = {i: running.generation(i) for i in turn}
        for i in turn:
            os.kill(running.pid(i), signal.SIGHUP)
        for i in turn:
            wait_until(functools.partial(reloaded, running, i, before[i]), f"replica{i} reloaded")


def kill_one(running: Cluster) -> None:
    """`kill -9` of replica 1; done when local-cluster.sh has started it again and haproxy counts it UP."""
    victim = running.pid(1)
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: running.pid(1) != victim and running.generation(1) >= 1, "replica1 started again")
    wait_until(lambda: running.up(1), "replica1 UP in haproxy")


DISRUPTIONS: dict[str, Callable[[Cluster], None]] = {
    "rolling restart": rolling_restart,
    "20 reloads": reloads,
    "kill -9 of one replica": kill_one,
}
MIXED_LUA = """-- in turn: CheckGuest (POST /graphql), a SPARQL SELECT, an /id/ page, /healthz
local graphql = wrk.format("POST", "/graphql", {{["Content-Type"] = "application/json"}}, {body})
local sparql = wrk.format("GET", {sparql}, {{["Accept"] = "application/sparql-results+json"}})
local page = wrk.format("GET", "/id/vmbus", {{["Accept"] = "text/html"}})
local healthz = wrk.format("GET", "/healthz")
local turn = 0
request = function()
  turn = turn + 1
  if turn % 4 == 0 then return graphql elseif turn % 4 == 1 then return sparql
  elseif turn % 4 == 2 then return page else return healthz end
end
"""
SPARQL_PATH = "/sparql?" + urllib.parse.urlencode(
    {
        "query": "PREFIX hv: <https://hyperv-kg.example.org/id/ontology/> "
        "SELECT ?row ?max WHERE { ?row hv:maxVirtualProcessors ?max } ORDER BY ?row LIMIT 5"
    }
)


def disrupt(running: Cluster, args: argparse.Namespace, script: Path) -> list[str]:
    """Each disruption under wrk's mixed load: wrk runs `--disruption-seconds`, the disruption starts 2 s in."""
    rows = []
    log = running.directory / "haproxy.log"
    for name, disruption in DISRUPTIONS.items():
        before = running.backend()
        logged = log.stat().st_size
        url = f"http://127.0.0.1:{running.port}/"
        # a client's patience, not wrk's 2 s: an answer that comes is an answer, however slow (p99 shows it)
        command = wrk_command(url, args.disruption_seconds, args.connections, script, timeout=30)
        client = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        time.sleep(2)
        started = time.monotonic()
        disruption(running)
        took = time.monotonic() - started
        out, _ = client.communicate()
        if took + 2 > args.disruption_seconds:
            raise SystemExit(f"{name} took {took:.0f} s, longer than wrk ran: raise --disruption-seconds")
        result = parse_wrk(out)
        after = running.backend()
        retried = {key: int(after[key]) - int(before[key]) for key in ("wretr", "wredis")}
        with open(log, "rb") as lines:
            lines.seek(logged)
            # haproxy's log line of each answer: "… hvkg hvkg/replica1 Tq/Tw/Tc/Tr/Ta STATUS …"
            statuses = Counter(re.findall(rb" hvkg hvkg/\S+ \S+ (\d{3}) ", lines.read()))
        other = ", ".join(f"{n}×{s.decode()}" for s, n in sorted(statuses.items()) if s != b"200") or "—"
        rows.append(
            f"| {name} | {running.replicas} | {took:.1f} | {result['requests']:.0f} | {result['rps']:.0f} "
            f"| {result['p99']:.1f} | {result['non2xx']:.0f} | {result['socket_errors']:.0f} "
            f"| {retried['wretr']} / {retried['wredis']} | {other} |"
        )
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def measure(port: int, setup: str, args: argparse.Namespace, script: Path) -> list[str]:
    status, body = fetch(port, "/graphql", CHECK_GUEST)
    verdict = (json.loads(body).get("data") or {}).get("checkGuest") or {}
    if status != 200 or verdict.get("supported") is not False:
        raise SystemExit(f"unexpected CheckGuest answer: {body[:300]!r}")
    base = f"http://127.0.0.1:{port}"
    targets = (
        ("CheckGuest (POST /graphql)", base + "/graphql", script),
        ("GET /healthz", base + "/healthz", None),
    )
    rows = []
    for name, url, lua in targets:
        wrk(url, 3, args.connections, lua)  # warm-up: SPARQL-free, but caches and the allocator settle
        rounds = [wrk(url, args.duration, args.connections, lua) for _ in range(args.rounds)]
        rps = [r["rps"] for r in rounds]
        middle = sorted(rounds, key=lambda r: r["rps"])[len(rounds) // 2]
        rows.append(
            f"| {name} | {setup} | {statistics.median(rps):.0f} | {min(rps):.0f}–{max(rps):.0f} "
            f"| {middle['p50']:.1f} | {middle['p99']:.1f} "
            f"| {sum(r['non2xx'] for r in rounds):.0f} | {sum(r['socket_errors'] for r in rounds):.0f} |"
        )
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2], help="hvkg serve --workers N, direct")
    parser.add_argument("--replicas", type=int, nargs="*", default=[], help="haproxy over N replicas")
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--disrupt", type=int, nargs="*", default=[], help="with N replicas: a rolling restart, 20 reloads, kill -9"
    )
    parser.add_argument("--disruption-seconds", type=float, default=45, help="how long wrk runs per disruption")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    if (args.replicas or args.disrupt) and shutil.which("haproxy") is None:
        raise SystemExit("haproxy is not installed (Debian: apt-get install haproxy)")

    work = Path(tempfile.mkdtemp(prefix="hvkg-scaleout-"))
    script = work / "checkguest.lua"
    script.write_text(LUA_POST.format(body=json.dumps(CHECK_GUEST)), encoding="utf-8")
    rows: list[str] = []
    load = [os.getloadavg()[0]]
    for workers in args.workers:
        with workers_server(work, workers) as port:
            rows += measure(port, f"{workers} worker(s), direct", args, script)
    for replicas in args.replicas:
        with cluster(work, replicas) as running:
            rows += measure(running.port, f"haproxy + {replicas} replica(s)", args, script)
    mixed = work / "mixed.lua"
    mixed.write_text(MIXED_LUA.format(body=json.dumps(CHECK_GUEST), sparql=json.dumps(SPARQL_PATH)), encoding="utf-8")
    disrupted: list[str] = []
    for replicas in args.disrupt:
        with cluster(work, replicas) as running:
            disrupted += disrupt(running, args, mixed)
    load.append(os.getloadavg()[0])
    print(f"load average {load[0]:.1f} at the start, {load[1]:.1f} at the end")
    if rows:
        print(f"\nwrk -t2 -c{args.connections} -d{args.duration:g}s, {args.rounds} rounds after a 3 s warm-up\n")
        print("| request | setup | req/s (median) | req/s (range) | p50 ms | p99 ms | non-2xx | socket errors |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        print("\n".join(rows))
    if disrupted:
        print(
            f"\nUnder wrk's mixed load (CheckGuest POST, SPARQL GET, /id/ page, /healthz in turn; "
            f"-c{args.connections}, {args.disruption_seconds:g} s per disruption, which starts 2 s in)\n"
        )
        print(
            "| disruption | replicas | took s | requests | req/s | p99 ms | non-2xx | socket errors "
            "| haproxy retries / redispatches | answers other than 200 (haproxy's log) |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        print("\n".join(disrupted))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
