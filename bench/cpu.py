"""CPU time per request of a server and of each of its child processes, under the throughput goals' wrk load.

    python bench/cpu.py [--app server.main:app | oxigraph_app:app] [--goal sparql-fresh] [--duration 6]

Where the time of a goal goes between processes: the real server answers SPARQL in worker processes, so its
throughput is bounded by the CPU of the server process and the workers together on this machine's cores, and
the peer's by its one process. Figures of bench/README.md ("Where the time goes") come from here. Run by hand.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.request
from pathlib import Path

from harness import BENCH, start_uvicorn, wrk
from run import WORK, write_inputs

GOALS = {
    # goal: (wrk script, its environment given the inputs, connections, path)
    "checkguest-200": (
        "rotate.lua",
        lambda i: {"WRK_BODIES": str(i["bodies"]), "WRK_PATH": "/graphql"},
        16,
        "/graphql",
    ),
    "checkguest-fresh": ("checkguest_fresh.lua", lambda i: {"WRK_QUERY": str(i["query"])}, 16, "/graphql"),
    "sparql-fresh": ("sparql_fresh.lua", lambda i: {}, 4, "/sparql"),
}


def ticks(pid: int) -> int:
    """User and system CPU of a process, in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def tree(pid: int) -> list[int]:
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        children = []
    return [pid, *(p for child in children for p in tree(child))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", default="server.main:app")
    parser.add_argument("--goal", choices=sorted(GOALS), default="sparql-fresh")
    parser.add_argument("--duration", type=float, default=6.0)
    args = parser.parse_args()
    script, script_env, connections, path = GOALS[args.goal]
    inputs = write_inputs(WORK)
    server = start_uvicorn("measured", args.app, {"HVKG_CACHE_DIR": str(WORK / "cpu-cache")}, WORK / "cpu.log")
    try:
        url = server.base + path
        probe = url + ("?query=ASK%7B%7D" if path == "/sparql" else "?query=%7B__typename%7D")
        deadline = time.monotonic() + 600
        while True:  # the peer has no /healthz: ask the endpoint itself
            try:
                urllib.request.urlopen(probe, timeout=2).read()  # noqa: S310 - our own loopback http URL
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        wrk(url, BENCH / "wrk" / script, script_env(inputs), 2, connections)  # warm: workers forked, caches
        pids = tree(server.process.pid)
        before = {pid: ticks(pid) for pid in pids}
        result = wrk(url, BENCH / "wrk" / script, script_env(inputs), args.duration, connections)
        after = {pid: ticks(pid) for pid in pids}
    finally:
        server.stop()
    hz = os.sysconf("SC_CLK_TCK")
    print(f"{args.app} {args.goal}: {result.requests_per_second:.0f} req/s, p50 {result.latency_ms.get('50')} ms")
    total = 0.0
    for pid in pids:
        per_request = (after[pid] - before[pid]) / hz / result.requests * 1e6
        total += per_request
        role = "server" if pid == server.process.pid else "child"
        print(f"  {role} {pid}: {per_request:.0f} us CPU per request")
    print(f"  all: {total:.0f} us CPU per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
