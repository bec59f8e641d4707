"""Fuzzing /graphql on a real uvicorn: schemathesis generates queries from the served schema, hypothesis generates
raw HTTP requests. Whatever comes in: no 5xx (but the announced 503), no traceback, an answer in time.

The number of examples is bounded for CI (HVKG_FUZZ_EXAMPLES raises it for a longer run by hand); the cases are
derandomized so a run is reproducible, and no example database is written into the checkout.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case

from graph.layout import ROOT
from graph.snapshot import Snapshot
from server.app import create_app
from server.ops.state import SnapshotHolder
from tests.live import serve

EXAMPLES = int(os.environ.get("HVKG_FUZZ_EXAMPLES", "60"))
CLIENT_TIMEOUT = 30  # seconds: generous; a hang fails the test instead of hanging CI
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)

schema = schemathesis.graphql.from_path(ROOT / "server" / "schema.graphql")


@pytest.fixture(scope="module")
def base_url(snapshot: Snapshot) -> Iterator[str]:
    with serve(create_app(holder=SnapshotHolder(current=snapshot))) as url:
        yield url


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def assert_answered_well(status: int, text: str) -> None:
    assert status < 500 or status == 503, (status, text[:500])
    assert "Traceback" not in text, text[:2000]


@schema.parametrize()
@SETTINGS
def test_generated_queries_never_fail_the_server(case: Case, base_url: str, session: requests.Session) -> None:
    response = case.call(base_url=base_url + "/graphql", session=session, timeout=CLIENT_TIMEOUT)
    assert_answered_well(response.status_code, response.text)
    body = response.json()
    assert isinstance(body, dict) and ("data" in body or "errors" in body)
    for error in body.get("errors") or []:
        assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", error
    case.validate_response(response, checks=[not_a_server_error])


# --- raw HTTP ---------------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
QUERY_PIECES = [
    "{ products { id } }",
    "query CheckGuest($os: String!) { checkGuest(operatingSystem: $os, architecture: X64) { supported } }",
    "{ __schema { types { name } } }",
    "mutation { x }",
    "subscription { y }",
    "{ a: products { id } b: products { id } }",
    "{ " * 40 + "}" * 40,
    "query Q { ...F } fragment F on Query { ...F }",
    '{ product(id: "\\u0000") { id } }',
    '{ search(text: "' + "ハイパーバイザ" * 20 + '") { id } }',
    '{ checkGuest(operatingSystem: "Windows XP", servicePack: 99999999999, architecture: X86) { supported } }',
]
queries = (
    st.sampled_from(QUERY_PIECES)
    | st.text(max_size=300)
    | st.lists(st.sampled_from(QUERY_PIECES), min_size=1, max_size=4).map(" ".join)
)
bodies = st.fixed_dictionaries(
    {},
    optional={"query": queries | json_values, "variables": json_values, "operationName": json_values | st.text()},
)
content_types = st.sampled_from(
    ["application/json", "application/graphql+json", "text/plain", "application/x-www-form-urlencoded", "", "json"]
)


@given(
    body=bodies,
    raw=st.none() | st.binary(max_size=400),
    content_type=content_types,
    method=st.sampled_from(["POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
    accept=st.sampled_from(["application/json", "text/html", "*/*", "", "application/graphql-response+json"]),
)
@SETTINGS
def test_any_request_to_graphql_is_answered_without_a_server_error(
    base_url: str,
    session: requests.Session,
    body: dict[str, Any],
    raw: bytes | None,
    content_type: str,
    method: str,
    accept: str,
) -> None:
    headers = {"content-type": content_type, "accept": accept}
    if method in ("GET", "HEAD"):
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        response = session.request(
            method, base_url + "/graphql", params=params, headers=headers, timeout=CLIENT_TIMEOUT
        )
    else:
        data = raw if raw is not None else json.dumps(body).encode()
        response = session.request(method, base_url + "/graphql", data=data, headers=headers, timeout=CLIENT_TIMEOUT)
    assert_answered_well(response.status_code, response.text)


def test_deeply_nested_json_is_a_bad_request(base_url: str, session: requests.Session) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    response = session.post(
        base_url + "/graphql", data=nested, headers={"content-type": "application/json"}, timeout=CLIENT_TIMEOUT
    )
    assert response.status_code in (400, 413)
    assert_answered_well(response.status_code, response.text)


# --- findings -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["~", "00", '"unterminated', "{ products { id } } ~", "\U0010eeff"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_query_the_lexer_refuses_is_a_parse_error_not_an_internal_error(
    base_url: str, session: requests.Session, query: str, method: str
) -> None:
    """Found by this fuzzing: the token count (then our own count_tokens, now graphql-core's own,
    server.graphql.limits) let graphql-core's GraphQLSyntaxError (an unexpected character, a bad number, an
    unterminated string) escape, and the request answered 500 INTERNAL_SERVER_ERROR, not GRAPHQL_PARSE_FAILED."""
    if method == "GET":
        response = session.get(base_url + "/graphql", params={"query": query}, timeout=CLIENT_TIMEOUT)
    else:
        response = session.post(base_url + "/graphql", json={"query": query}, timeout=CLIENT_TIMEOUT)
    assert_answered_well(response.status_code, response.text)
    assert response.status_code == 200
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["GRAPHQL_PARSE_FAILED"]
