"""The server's own Python per request, without sockets: the app called as ASGI in one process.

    python bench/inprocess.py [--requests 20000]

The in-process figures of bench/README.md ("Where the time goes") come from here:

    cached          CheckGuest, 200 variable sets in turn, answered from the answer cache: the whole app
                    (request middleware with its access line written to /dev/null, routing, endpoint)
    no-middleware   the same without the request middleware
    fresh           CheckGuest with new variables every request: JSON in, `execute` (the plan), bytes out
    sparql          a SPARQL query's path in the server process (form, negotiation, job, response) with the
                    worker's answer given at once: what the server process pays besides the hand-over

Run by hand; the wrk runs of bench/run.py are the figures that count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
import urllib.parse
from collections.abc import Callable, Coroutine
from typing import Any

from run import ROOT, check_guest_query, variable_sets

sys.path.insert(0, str(ROOT))

from graph.build import build_snapshot
from graph.layout import DataLayout
from server.app import create_app
from server.graphql import execution, view
from server.graphql.types import Context
from server.ops.config import Config
from server.ops.logs import configure
from server.ops.state import SnapshotHolder
from server.sparql import engine, jobs, workers

SELECT = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?thing ?label WHERE {
  ?thing skos:prefLabel ?label .
  FILTER(LANG(?label) = "en" && !CONTAINS(LCASE(?label), "zz%d"))
} ORDER BY ?label ?thing LIMIT 50"""


def request(app: Any, path: str, body: bytes, content_type: bytes) -> Coroutine[Any, Any, None]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5000),
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", content_type),
            (b"accept", b"application/sparql-results+json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        pass

    return app(scope, receive, send)  # type: ignore[no-any-return]


def per_request_us(run: Callable[[int], None], count: int) -> float:
    run(count // 10)  # warm: caches, plans, suggestions
    started = time.perf_counter()
    run(count)
    return (time.perf_counter() - started) / count * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20000)
    args = parser.parse_args()
    configure(Config(log_format="json", log_level="info", access_log=True))
    logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))  # type: ignore[attr-defined]  # noqa: SIM115
    snapshot = build_snapshot(DataLayout())
    query = check_guest_query()
    cached = [
        json.dumps({"query": query, "operationName": "CheckGuest", "variables": v}, ensure_ascii=False).encode()
        for v in variable_sets(200)
    ]

    def through(app: Any, bodies: list[bytes], path: str, content_type: bytes) -> Callable[[int], None]:
        def run(count: int) -> None:
            async def many() -> None:
                for n in range(count):
                    await request(app, path, bodies[n % len(bodies)], content_type)

            asyncio.run(many())

        return run

    app = create_app(holder=SnapshotHolder(current=snapshot))
    plain = create_app(holder=SnapshotHolder(current=snapshot))
    plain.user_middleware = []  # Starlette builds its stack on the first request: none of ours
    figures = {
        "cached": per_request_us(through(app, cached, "/graphql", b"application/json"), args.requests),
        "no-middleware": per_request_us(through(plain, cached, "/graphql", b"application/json"), args.requests),
    }

    systems = ["Windows XP", "windows server 2008", "Windws XP", "SUSE Linux Enterprise Server 10", "ウィンドウズ"]
    fresh = [
        json.dumps(
            {
                "query": query,
                "operationName": "CheckGuest",
                "variables": {"os": systems[n % 5], "sp": n % 4, "arch": ("X86", "X64")[n % 2], "vcpus": n},
            }
        ).encode()
        for n in range(1, args.requests * 2)
    ]

    def execute(count: int) -> None:
        for body in fresh[:count]:
            graphql_request = view._graphql_request(json.loads(body))
            view._encode(execution.execute(graphql_request, Context(snapshot, "bench")))

    figures["fresh"] = per_request_us(execute, args.requests)

    answer = engine._WorkerData(snapshot.graph, snapshot.store).execute(
        jobs.QueryJob(SELECT % 0, "http://x/sparql", "json", None, None, None, 10000, False, "bench")
    )

    async def at_once(self: object, key: object, job: object) -> jobs.QueryOutcome:
        return answer

    workers.WorkerPool.run = at_once  # type: ignore[method-assign, assignment]
    forms = [("query=" + urllib.parse.quote(SELECT % n)).encode() for n in range(1000)]
    form = b"application/x-www-form-urlencoded"
    figures["sparql"] = per_request_us(through(app, forms, "/sparql", form), args.requests)
    for name, value in figures.items():
        print(f"{name:14} {value:7.1f} us per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
