"""Mixed load with attacks interleaved, on a real `hvkg serve`. Run by hand:

    PYTHONPATH=. python bench/attack.py --seconds 60 --clients 16 > attack-out.md

`--clients` threads send the portals' load (the CheckGuest GraphQL operation, a SPARQL SELECT, an ASK and
/id/ pages, each thread with its own keep-alive connection). Beside them, attackers take turns, each in a
loop of its own for the whole run:
- SERVICE to a loopback listener of this script, in several spellings (`1SERVICE`, escapes, comments): the
  listener must receive no connection;
- request heads of 10 MB, and heads dribbled a byte a second (slowloris);
- GraphQL with 30 aliases of checkGuest with long unknown names (name suggestions on the event loop);
- 3,000 nested groups, DESCRIBE *, a cartesian product that runs into the time limit;
- a client that asks for the whole graph and never reads it.
A prober asks /healthz every 0.2 s. The report: requests and statuses per kind, the slowest /healthz, 5xx
other than the announced 503/504, connections the listener received, and the resident memory of every process
of the server at the start and the end. Traffic goes to 127.0.0.1 only, and the run ends by itself.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import select
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from soak import GRAPHQL_BODY, PAGES, SPARQL_PATH, copy_data, memory_by_role, start_server, wait_healthy

HV = "<https://hyperv-kg.example.org/id/ontology/rowNumber>"
ASK_PATH = "/sparql?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[tuple[str, str]] = Counter()
        self.healthz: list[float] = []

    def add(self, kind: str, outcome: str) -> None:
        with self.lock:
            self.counts[(kind, outcome)] += 1


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def outcome(call) -> str:  # type: ignore[no-untyped-def]
    try:
        return str(call())
    except (OSError, http.client.HTTPException) as error:
        return type(error).__name__


def listener(received: list[str], stop: threading.Event) -> int:
    """A loopback TCP listener that records every connection: a SERVICE that leaks would reach it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            received.append(conn.recv(200).decode("latin-1"))
            conn.close()
        server.close()

    threading.Thread(target=loop, daemon=True).start()
    return int(server.getsockname()[1])


def service_queries(port: int) -> list[str]:
    target = f"<http://127.0.0.1:{port}/x>"
    return [
        f"SELECT ?leak WHERE {{ ?s {HV} 1SERVICE {target} {{ ?leak ?b ?c }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE {target} {{ ?a ?b ?c }} }}",
        f"SELECT * WHERE {{ SERVICE#x\n{target} {{ ?a ?b ?c }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o }} VALUES ?x {{ 1 }} service silent {target} {{ ?a ?b ?c }}",
        f"SELECT * WHERE {{ {{}} SeRvIcE {target} {{ ?a ?b ?c }} }}",
    ]


def portal_client(port: int, tally: Tally, until: float, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - load shapes, not secrets
    while time.monotonic() < until:
        kind = rng.choice(["graphql", "sparql", "ask", "page"])
        if kind == "graphql":
            result = outcome(
                lambda: request(port, "POST", "/graphql", GRAPHQL_BODY, {"content-type": "application/json"})
            )
        elif kind == "sparql":
            result = outcome(lambda: request(port, "GET", SPARQL_PATH, headers={"accept": "application/json"}))
        elif kind == "ask":
            result = outcome(lambda: request(port, "GET", ASK_PATH, headers={"accept": "application/json"}))
        else:
            page = rng.choice(PAGES)
            result = outcome(lambda page=page: request(port, "GET", page, headers={"accept": "text/turtle"}))
        tally.add(kind, result)


def sparql_post(port: int, query: str) -> int:
    body = urllib.parse.urlencode({"query": query}).encode()
    headers = {"content-type": "application/x-www-form-urlencoded", "accept": "application/json"}
    return request(port, "POST", "/sparql", body, headers)


def attacker(port: int, listen_port: int, tally: Tally, until: float, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - load shapes, not secrets
    services = service_queries(listen_port)
    names = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(190))
    aliases = " ".join(
        f'a{i}: checkGuest(operatingSystem: "{names[i:] + names[:i]}", architecture: X86) {{ supported }}'
        for i in range(30)
    )
    expensive = json.dumps({"query": "{ " + aliases + " }"}).encode()
    while time.monotonic() < until:
        kind = rng.choice(
            ["service", "header", "slowloris", "aliases", "nesting", "describe", "cartesian", "slow-reader"]
        )
        if kind == "service":
            tally.add(kind, outcome(lambda: sparql_post(port, rng.choice(services))))
        elif kind == "header":
            tally.add(kind, outcome(lambda: request(port, "GET", "/healthz", headers={"x-big": "a" * 10_000_000})))
        elif kind == "slowloris":
            tally.add(kind, outcome(lambda: slowloris(port, until)))
        elif kind == "aliases":
            tally.add(
                kind,
                outcome(lambda: request(port, "POST", "/graphql", expensive, {"content-type": "application/json"})),
            )
        elif kind == "nesting":
            tally.add(kind, outcome(lambda: sparql_post(port, "SELECT * WHERE " + "{" * 3000 + "}" * 3000)))
        elif kind == "describe":
            tally.add(kind, outcome(lambda: sparql_post(port, "DESCRIBE * WHERE { ?s ?p ?o } LIMIT 3")))
        elif kind == "cartesian":
            query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
            tally.add(kind, outcome(lambda query=query: sparql_post(port, query)))
        else:
            tally.add(kind, outcome(lambda: slow_reader(port)))


def slowloris(port: int, until: float) -> str:
    """A request head sent a line a second, for up to 15 s: the server should answer (408) or close first."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        deadline = min(until, started + 15)
        try:
            while time.monotonic() < deadline:
                conn.sendall(b"X-a: b\r\n")
                readable, _, _ = select.select([conn], [], [], 1)
                if readable:
                    answer = conn.recv(64)
                    status = answer.split(b" ")[1].decode() if answer.startswith(b"HTTP/") else "closed"
                    return f"{status} after {round(time.monotonic() - started)} s"
        except OSError:
            return f"closed after {round(time.monotonic() - started)} s"
    return "held 15 s"


def slow_reader(port: int) -> str:
    """Asks for the whole graph as N-Triples and reads nothing for 5 s, then goes away."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.sendall(b"GET /download/graph.nt HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(5)
    return "left unread"


def prober(port: int, tally: Tally, until: float) -> None:
    while time.monotonic() < until:
        started = time.monotonic()
        result = outcome(lambda: request(port, "GET", "/healthz", timeout=10))
        with tally.lock:
            tally.healthz.append(time.monotonic() - started)
        tally.add("healthz", result)
        time.sleep(0.2)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--attackers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    return parser.parse_args()


def main() -> int:
    args = arguments()
    with tempfile.TemporaryDirectory(prefix="hvkg-attack-") as tmp:
        work = Path(tmp)
        data = work / "data"
        copy_data(data)
        server, port, _ = start_server(work, data, args.workers)
        try:
            wait_healthy(port, time.monotonic() + 60)
            received: list[str] = []
            stop = threading.Event()
            listen_port = listener(received, stop)
            before = memory_by_role(server.pid)
            tally = Tally()
            until = time.monotonic() + args.seconds
            threads = [
                threading.Thread(target=portal_client, args=(port, tally, until, i)) for i in range(args.clients)
            ]
            threads += [
                threading.Thread(target=attacker, args=(port, listen_port, tally, until, 1000 + i))
                for i in range(args.attackers)
            ]
            threads.append(threading.Thread(target=prober, args=(port, tally, until)))
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=args.seconds + 60)
            after = memory_by_role(server.pid)
            stop.set()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"# Attack run: {args.seconds:.0f} s, {args.clients} clients, {args.attackers} attackers, "
        f"--workers {args.workers}\n"
    )
    print("| kind | outcome | count |\n|---|---|---|")
    for (kind, result), count in sorted(tally.counts.items()):
        print(f"| {kind} | {result} | {count} |")
    unannounced = sum(
        c for (kind, result), c in tally.counts.items() if result.startswith("5") and result not in ("503", "504")
    )
    print(f"\n- slowest /healthz: {max(tally.healthz):.3f} s over {len(tally.healthz)} probes")
    print(f"- 5xx other than 503/504: {unannounced}")
    print(f"- connections the SERVICE listener received: {len(received)}")
    print(f"- resident MiB (main / workers / SPARQL workers): start {before}, end {after}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
