"""What the GraphQL adapter's own limits, masking and plan executor win, against Strawberry's own.

    python bench/graphql_limits.py [--requests 2000]

CheckGuest with new variables every request (so the answer cache never answers), POSTed in-process through
httpx's ASGITransport, sequentially, after a warm-up; each variant gets the same request bodies:

    ours             server.graphql.view: our limits and error masking, a document prepared once per text,
                     executed by its plan (server.graphql.plan)
    ours-no-plan     the same, executed by graphql-core (no plan)
    strawberry       strawberry.asgi.GraphQL on the same schema with QueryDepthLimiter, MaxAliasesLimiter,
                     MaxTokensLimiter, MaskErrors, and ParserCache / ValidationCache (its own way to parse and
                     validate a text once)

Then the depth and alias limits alone on fragments that double n times (`{ ...F<n> }`, F<i> spreads F<i-1>
twice): Strawberry's validators against ours (server.graphql.limits.check_limits). The figures and what was
decided from them are in /work/notes/i15d-decisions.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import strawberry  # noqa: E402
from graphql import parse, validate  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402
from strawberry.asgi import GraphQL  # noqa: E402
from strawberry.extensions import (  # noqa: E402
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_validator  # noqa: E402
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator  # noqa: E402

from graph.build import build_snapshot  # noqa: E402
from graph.layout import DataLayout  # noqa: E402
from graph.snapshot import Snapshot  # noqa: E402
from server.graphql import execution  # noqa: E402
from server.graphql.errors import RequestError  # noqa: E402
from server.graphql.limits import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS, check_limits  # noqa: E402
from server.graphql.plan import make_plan  # noqa: E402
from server.graphql.query import SCHEMA_TYPES, Query  # noqa: E402
from server.graphql.types import Context  # noqa: E402
from server.graphql.view import graphql_routes  # noqa: E402
from server.ops.state import SnapshotHolder  # noqa: E402

CHECK_GUEST = ROOT / "server" / "static" / "graphiql" / "operations" / "CheckGuest.graphql"
SYSTEMS = ["Windows XP", "windows server 2008", "Windws XP", "SUSE Linux Enterprise Server 10", "ウィンドウズ"]


def bodies(count: int) -> list[bytes]:
    """`count` CheckGuest requests, no two alike (virtualProcessors counts up)."""
    query = CHECK_GUEST.read_text(encoding="utf-8")
    return [
        json.dumps(
            {
                "query": query,
                "operationName": "CheckGuest",
                "variables": {"os": SYSTEMS[n % 5], "sp": n % 4, "arch": ("X86", "X64")[n % 2], "vcpus": n},
            }
        ).encode()
        for n in range(1, count + 1)
    ]


def ours(snapshot: Snapshot) -> Starlette:
    return Starlette(routes=graphql_routes(SnapshotHolder(current=snapshot)))


def strawberry_schema() -> strawberry.Schema:
    # Instances, not factories (strawberry deprecates instances): ParserCache and ValidationCache keep their
    # cache in the instance, so a factory would start each request with an empty one.
    warnings.filterwarnings("ignore", "Passing an extension instance", DeprecationWarning)
    extensions: list[Any] = [
        QueryDepthLimiter(max_depth=MAX_DEPTH),
        MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        MaxTokensLimiter(max_token_count=MAX_TOKENS),
        MaskErrors(),
        ParserCache(maxsize=256),
        ValidationCache(maxsize=256),
    ]
    return strawberry.Schema(query=Query, types=SCHEMA_TYPES, extensions=extensions)


def strawberrys(snapshot: Snapshot) -> Starlette:
    schema = strawberry_schema()

    class View(GraphQL[Context, None]):
        async def get_context(self, request: Request | Any, response: Response | Any) -> Context:
            return Context(snapshot, "bench")

    return Starlette(routes=[Route("/graphql", View(schema), methods=["POST"])])


async def throughput(app: Starlette, requests: list[bytes]) -> tuple[float, dict[str, Any]]:
    """Requests per second, and the first answer (to check that the variants answer alike)."""
    transport = httpx.ASGITransport(app=app)
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for body in requests[:100]:  # warm-up: prepared documents, caches, plans
            await client.post("/graphql", content=body, headers=headers)
        first = (await client.post("/graphql", content=requests[0], headers=headers)).json()
        start = time.perf_counter()
        for body in requests:
            response = await client.post("/graphql", content=body, headers=headers)
            assert response.status_code == 200, response.text
        return len(requests) / (time.perf_counter() - start), first


def doubling(n: int) -> str:
    fragments = ["fragment F0 on Query { a: products { id } }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, n + 1)]
    return f"{{ ...F{n} }} " + " ".join(fragments)


def limit_seconds(n: int) -> tuple[float, float]:
    """Seconds to measure depth and aliases of `doubling(n)`: Strawberry's two validators, ours."""
    document = parse(doubling(n))
    core = strawberry.Schema(query=Query, types=SCHEMA_TYPES)._schema
    start = time.perf_counter()
    validate(core, document, [depth_validator(MAX_DEPTH, None, None), alias_validator(MAX_ALIASES)])
    theirs = time.perf_counter() - start
    operation = document.definitions[0]
    start = time.perf_counter()
    with contextlib.suppress(RequestError):  # over the alias limit, as it should be: the time is what counts
        check_limits(document, operation)  # type: ignore[arg-type]
    return theirs, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="each variant this many times; the best counts")
    args = parser.parse_args()
    snapshot = build_snapshot(DataLayout())
    requests = bodies(args.requests)
    variants = {"ours": ours(snapshot), "ours-no-plan": ours(snapshot), "strawberry": strawberrys(snapshot)}
    best: dict[str, float] = {}
    answers: dict[str, dict[str, Any]] = {}
    for _ in range(args.rounds):
        for name, app in variants.items():
            # the plan executor off for one variant: its documents are prepared again without plans
            setattr(execution, "make_plan", (lambda *a: None) if name == "ours-no-plan" else make_plan)  # noqa: B010
            execution.prepare.cache_clear()
            rate, answers[name] = asyncio.run(throughput(app, requests))
            best[name] = max(best.get(name, 0.0), rate)
    setattr(execution, "make_plan", make_plan)  # noqa: B010
    for name, rate in best.items():
        print(f"{name:14} {rate:8.0f} req/s  ({args.requests} CheckGuest requests, best of {args.rounds})")
    same = answers["ours"] == answers["ours-no-plan"] == answers["strawberry"]
    print(f"the three answer the first request alike: {same}")
    for n in (10, 14, 16, 18):
        slow, quick = limit_seconds(n)
        print(
            f"fragments doubling {n:2} times: strawberry's validators {slow * 1e3:9.1f} ms, ours {quick * 1e3:6.2f} ms"
        )
    aliased = "{ " + " ".join(f"a{i}: products {{ id }}" for i in range(MAX_ALIASES + 1)) + " }"
    mine = execution.execute(execution.GraphQLRequest(aliased, None, None), Context(snapshot, "bench"))
    print(f"ours, {MAX_ALIASES + 1} aliases:", json.dumps(mine, ensure_ascii=False))
    theirs = strawberry_schema().execute_sync(aliased, context_value=Context(snapshot, "bench"))
    print(f"strawberry, {MAX_ALIASES + 1} aliases:", [e.formatted for e in theirs.errors or ()])
    return 0


if __name__ == "__main__":
    sys.exit(main())
