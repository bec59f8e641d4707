"""Scale-out: requests per second of `hvkg serve --workers N` for N = 1, 2, measured with wrk on loopback.

    PYTHONPATH=. python bench/scaleout.py --workers 1 2 --duration 15 --rounds 3 > scaleout-out.md

Two requests: the portals' CheckGuest GraphQL operation (POST /graphql, shared/contract/operations, with
variables) and GET /healthz. For each worker count a fresh server is started (default configuration: JSON
access log on, written to a file), warmed up, then measured `--rounds` times; the table shows the median round
and the spread. wrk runs on the same machine, so it takes CPU from the server: the figures are for this
machine as a whole, client included. Needs `wrk` (Debian: apt-get install wrk).
"""

from __future__ import annotations

import argparse
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
        if status == 200 and re.search(r"^hvkg_snapshot_loaded 1$", text, re.MULTILINE):
            seen.update(re.findall(r'hvkg_process_info\{pid="(\d+)"\}', text))
            if len(seen) >= workers:
                return
        time.sleep(0.05)
    raise SystemExit(f"the server did not get {workers} workers ready")


def wrk(url: str, seconds: float, connections: int, script: Path | None) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", url]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

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
        "p50": latency("50"),
        "p99": latency("99"),
        "non2xx": float(bad.group(1)) if bad else 0.0,
        "socket_errors": float(sum(int(n) for n in errors.groups())) if errors else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    work = Path(tempfile.mkdtemp(prefix="hvkg-scaleout-"))
    script = work / "checkguest.lua"
    script.write_text(LUA_POST.format(body=json.dumps(CHECK_GUEST)), encoding="utf-8")
    rows: list[str] = []
    for workers in args.workers:
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "HVKG_PID_FILE": str(work / f"hvkg-{port}.pid"),
        }
        command = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--workers", str(workers)]
        with open(work / f"server-{workers}.log", "wb") as log:
            server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(port, workers, time.monotonic() + 120)
            status, body = fetch(port, "/graphql", CHECK_GUEST)
            verdict = (json.loads(body).get("data") or {}).get("checkGuest") or {}
            if status != 200 or verdict.get("supported") is not False:
                raise SystemExit(f"unexpected CheckGuest answer: {body[:300]!r}")
            base = f"http://127.0.0.1:{port}"
            targets = (
                ("CheckGuest (POST /graphql)", base + "/graphql", script),
                ("GET /healthz", base + "/healthz", None),
            )
            for name, url, lua in targets:
                wrk(url, 3, args.connections, lua)  # warm-up: SPARQL-free, but caches and the allocator settle
                rounds = [wrk(url, args.duration, args.connections, lua) for _ in range(args.rounds)]
                rps = [r["rps"] for r in rounds]
                middle = sorted(rounds, key=lambda r: r["rps"])[len(rounds) // 2]
                rows.append(
                    f"| {name} | {workers} | {statistics.median(rps):.0f} | {min(rps):.0f}–{max(rps):.0f} "
                    f"| {middle['p50']:.1f} | {middle['p99']:.1f} "
                    f"| {sum(r['non2xx'] for r in rounds):.0f} | {sum(r['socket_errors'] for r in rounds):.0f} |"
                )
                print(rows[-1], file=sys.stderr, flush=True)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                server.kill()
    print(f"wrk -t2 -c{args.connections} -d{args.duration:g}s, {args.rounds} rounds after a 3 s warm-up\n")
    print("| request | workers | req/s (median) | req/s (range) | p50 ms | p99 ms | non-2xx | socket errors |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
