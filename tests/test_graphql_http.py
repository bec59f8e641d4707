"""GraphQL over HTTP as its spec and its clients expect: the media type the client asks for, and its status codes.

graphql-http's own audit (npm `graphql-http`, tests/node, `make node-tools`) runs against a real uvicorn and must
find nothing: 0 warnings, 0 errors, 0 notices. Beside it, the rules the audit samples are stated as invariants
over any Accept header and any request.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from graph.layout import ROOT
from graph.snapshot import Snapshot
from server.graphql.view import GRAPHQL_RESPONSE, JSON, graphql_routes, response_type
from server.ops.state import SnapshotHolder
from tests.live import serve
from tests.tools import node, npm_package

NODE_TOOLS = ROOT / "tests" / "node"
GOOD = {"query": "{ products { id } }"}
# Requests that run nothing, each with what makes it so
RUN_NOTHING = {
    "parse": {"query": "{ products { "},
    "validation": {"query": "{ products { idd } }"},
    "variables": {"query": "query Q($n: Int!) { products { id } }", "variables": {"n": "x"}},
    "mutation by POST": {"query": "mutation { products { id } }"},
}


@pytest.fixture(scope="module")
def url(snapshot: Snapshot) -> Iterator[str]:
    holder = SnapshotHolder()
    holder.swap(snapshot)
    with serve(Starlette(routes=graphql_routes(holder)), lifespan="off") as base:
        yield base + "/graphql"


def audit_script() -> Path:
    script = NODE_TOOLS / "audit.mjs"
    npm_package(
        "graphql-http", json.loads((NODE_TOOLS / "package.json").read_text("utf-8"))["devDependencies"]["graphql-http"]
    )
    node()
    return script


def test_graphql_https_own_audit_finds_nothing(url: str) -> None:
    result = subprocess.run(
        ["node", str(audit_script()), url], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["findings"] == []
    assert report["counts"]["ok"] >= 50 and report["counts"]["warn"] == report["counts"]["error"] == 0


@pytest.mark.parametrize("kind", sorted(RUN_NOTHING))
def test_a_request_that_runs_nothing_is_400_for_graphql_response_json_and_200_for_json(url: str, kind: str) -> None:
    body = RUN_NOTHING[kind]
    for _ in range(2):  # the second time from the answer cache where it is kept: the same status either way
        modern = httpx.post(url, json=body, headers={"accept": GRAPHQL_RESPONSE}, timeout=30)
        assert modern.status_code == 400, modern.text
        assert modern.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        assert "data" not in modern.json() and modern.json()["errors"]
        legacy = httpx.post(url, json=body, headers={"accept": JSON}, timeout=30)
        assert legacy.status_code == 200 and legacy.headers["content-type"].startswith(JSON)
        assert legacy.json() == modern.json()


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON, "*/*", None])
def test_an_answer_with_data_is_200_in_the_type_asked_for(url: str, accept: str | None) -> None:
    headers = {"accept": accept} if accept else {}
    for _ in range(2):  # the second comes from the answer cache, which must not fix the first one's media type
        got = httpx.post(url, json=GOOD, headers=headers, timeout=30)
        assert got.status_code == 200 and got.json()["data"]["products"]
        assert got.headers["content-type"].startswith(accept if accept == GRAPHQL_RESPONSE else JSON)
        assert got.headers["vary"] == "Accept"


def test_a_get_that_names_a_mutation_is_405(url: str) -> None:
    for accept in (GRAPHQL_RESPONSE, JSON):
        got = httpx.get(url, params={"query": "mutation { products { id } }"}, headers={"accept": accept})
        assert got.status_code == 405 and set(got.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
        assert got.json()["errors"][0]["message"].startswith("Only queries")


@pytest.mark.parametrize("extensions", ['"x"', "1", "true", "[]"])
def test_extensions_that_are_not_an_object_are_400(url: str, extensions: str) -> None:
    body = '{"query": "{ products { id } }", "extensions": %s}' % extensions  # noqa: UP031 - raw JSON on purpose
    got = httpx.post(url, content=body, headers={"content-type": JSON}, timeout=30)
    assert got.status_code == 400 and got.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert httpx.post(url, json={**GOOD, "extensions": {"persistedQuery": None}}, timeout=30).status_code == 200


MEDIA = st.sampled_from(["application/json", GRAPHQL_RESPONSE, "text/html", "*/*", "application/*", "text/plain"])
QUALITY = st.sampled_from(["", ";q=0", ";q=0.5", ";q=1", ";q=0.9"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(MEDIA, QUALITY), max_size=4, unique_by=lambda r: r[0]))
def test_graphql_response_json_is_chosen_only_when_named_at_least_as_high_as_json(
    ranges: list[tuple[str, str]],
) -> None:
    """The rule, stated over the ranges themselves: the exact graphql-response range, accepted (q > 0), at least
    as high as the most specific range that covers application/json (none: 0)."""
    accept = ", ".join(media + q for media, q in ranges)
    q = {media: float(weight.removeprefix(";q=")) if weight else 1.0 for media, weight in ranges}
    json_q = next((q[m] for m in ("application/json", "application/*", "*/*") if m in q), 0.0)
    wanted = q.get(GRAPHQL_RESPONSE, 0.0)
    assert response_type(accept) == (GRAPHQL_RESPONSE if wanted > 0 and wanted >= json_q else JSON)


def test_no_accept_is_json() -> None:
    assert response_type(None) == response_type("") == response_type("*/*") == JSON
    assert response_type(GRAPHQL_RESPONSE) == GRAPHQL_RESPONSE
