"""GraphQL through a real uvicorn on loopback, with a real client (gql over httpx).

The contract (the copy of ../shared/contract in tests/shared, see tests/contract.py) is checked three ways: the
schema contains it, every operation runs and every example gives its answer (with contract_check.py's own matcher),
and contract_check.py itself passes. What pending.json lists is held as contract_check.py holds it: expected to
fail (xfail) until the server meets it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import graphql
import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from starlette.applications import Starlette

from graph import catalog
from graph.snapshot import Snapshot
from server.graphql import view
from server.graphql.limits import MAX_ALIASES, MAX_BODY_BYTES, MAX_DEPTH, MAX_TOKENS
from server.graphql.query import sdl
from server.graphql.view import graphql_routes
from server.ops.state import SnapshotHolder
from tests import contract
from tests.contract import CONTRACT_CHECK, EXAMPLES, OPERATIONS, pending_example, pending_operation, xfail_if_pending
from tests.live import serve

ROOT = Path(__file__).resolve().parents[1]
IDE_OPERATIONS = ROOT / "server" / "static" / "graphiql" / "operations"
IDE_INDEX = json.loads((IDE_OPERATIONS / "index.json").read_text())
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


# --- fixtures -------------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    holder: SnapshotHolder


@pytest.fixture(scope="module")
def server(snapshot: Snapshot) -> Iterator[Server]:
    holder = SnapshotHolder()
    holder.swap(snapshot)
    app = Starlette(routes=graphql_routes(holder))
    with serve(app, lifespan="off") as base:
        yield Server(base + "/graphql", holder)


@pytest.fixture(scope="module")
def client(server: Server) -> Client:
    """Validates every request against the schema it fetched from the server, as a portal would."""
    return Client(transport=HTTPXTransport(url=server.url, timeout=30), fetch_schema_from_transport=True)


@pytest.fixture(scope="module")
def raw(server: Server) -> Client:
    """No schema on the client side, so that bad requests reach the server."""
    return Client(transport=HTTPXTransport(url=server.url, timeout=30))


def errors_of(client: Client, query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    with pytest.raises(TransportQueryError) as caught:
        client.execute(GraphQLRequest(query, variable_values=variables))
    assert caught.value.errors
    return caught.value.errors


def post(server: Server, body: object, **kwargs: Any) -> httpx.Response:
    return httpx.post(server.url, json=body, timeout=30, **kwargs)


def the_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == [code], errors
    assert errors[0]["message"]
    assert JAPANESE.search(errors[0]["extensions"]["messageJa"])
    assert "Traceback" not in response.text
    return errors[0]


# --- the schema -----------------------------------------------------------------------------------


def test_committed_sdl_is_the_schema_printed_from_the_code() -> None:
    committed = (ROOT / "server" / "schema.graphql").read_text()
    assert committed == sdl(), "server/schema.graphql drifted: python -m server.graphql.query > server/schema.graphql"


def contract_changes() -> list[str]:
    """Breaking and dangerous changes from the contract's schema to ours, described as contract_check.py does."""
    contract_schema = graphql.build_schema(contract.SCHEMA)
    live = graphql.build_schema(sdl())
    changes = [
        *graphql.find_breaking_changes(contract_schema, live),
        *graphql.find_dangerous_changes(contract_schema, live),
    ]
    return [f"{c.type.name}: {c.description}" for c in changes]


def test_schema_contains_the_contract_without_breaking_or_dangerous_changes() -> None:
    assert [c for c in contract_changes() if not contract.pending_change(c)] == []


@pytest.mark.xfail(
    bool(contract.PENDING["schema"]), strict=False, reason=f"pending in contract revision: {contract.PENDING['note']}"
)
def test_schema_meets_the_pending_parts_of_the_contracts_revision() -> None:
    assert contract_changes() == []


def test_schema_keeps_the_contracts_descriptions_and_defaults() -> None:
    contract_schema = graphql.build_schema(contract.SCHEMA)
    live = graphql.build_schema(sdl())
    pending = contract.pending_coordinate
    checked = 0
    for name, ctype in contract_schema.type_map.items():
        if name.startswith("__") or isinstance(ctype, graphql.GraphQLScalarType) or pending(name):
            continue
        ltype = live.type_map[name]
        assert ltype.description == ctype.description, name
        if isinstance(ctype, graphql.GraphQLEnumType):
            assert isinstance(ltype, graphql.GraphQLEnumType)
            for value, cvalue in ctype.values.items():
                if pending(f"{name}.{value}"):
                    continue
                assert ltype.values[value].description == cvalue.description, f"{name}.{value}"
                checked += 1
        if isinstance(ctype, graphql.GraphQLObjectType):
            assert isinstance(ltype, graphql.GraphQLObjectType)
            for field_name, cfield in ctype.fields.items():
                if pending(f"{name}.{field_name}"):
                    continue
                lfield = ltype.fields[field_name]
                settled = [a for a in cfield.args if not pending(f"{name}.{field_name}({a}:)")]
                if len(settled) == len(cfield.args):  # a pending argument is what the field's description tells of
                    assert lfield.description == cfield.description, f"{name}.{field_name}"
                assert [a for a in lfield.args if a in settled or a not in cfield.args] == settled, (
                    f"{name}.{field_name} argument order"
                )
                for arg_name, carg in cfield.args.items():
                    if arg_name not in settled:
                        continue
                    larg = lfield.args[arg_name]
                    assert str(larg.type) == str(carg.type), f"{name}.{field_name}({arg_name})"
                    assert larg.default_value == carg.default_value, f"{name}.{field_name}({arg_name})"
                checked += 1
    assert checked > 80


# --- the contract, end to end ---------------------------------------------------------------------


def test_ide_copies_of_the_operations_equal_the_contract() -> None:
    copies = {p.name: p.read_text() for p in sorted(IDE_OPERATIONS.glob("*.graphql"))}
    assert copies == OPERATIONS
    assert sorted(item["file"] for item in IDE_INDEX["operations"]) == sorted(OPERATIONS)


@pytest.mark.parametrize(
    "item", [xfail_if_pending(item, pending_operation(item["file"]), item["file"]) for item in IDE_INDEX["operations"]]
)
def test_every_contract_operation_runs(client: Client, item: dict[str, Any]) -> None:
    result = client.execute(GraphQLRequest(OPERATIONS[item["file"]], variable_values=item["variables"]))
    (value,) = result.values()
    assert value, f"{item['file']} answered {result!r}"


@pytest.mark.parametrize(
    "example", [xfail_if_pending(example, pending_example(example), example["name"]) for example in EXAMPLES]
)
def test_every_example_gives_its_answer(client: Client, example: dict[str, Any]) -> None:
    request = GraphQLRequest(OPERATIONS[example["operation"]], variable_values=example["variables"])
    problems: list[str] = []
    if "expect_errors" in example:
        with pytest.raises(TransportQueryError) as caught:
            client.execute(request)
        contract.matches(example["expect_errors"], caught.value.errors, "errors", problems)
    else:
        contract.matches(example["expect"], client.execute(request), "data", problems)
    assert problems == []


def test_contract_check_script_passes(server: Server) -> None:
    done = subprocess.run(
        [sys.executable, str(CONTRACT_CHECK), server.url], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.fullmatch(r"contract: \d+ passed, 0 failed", done.stdout.strip().splitlines()[-1])


# --- answers --------------------------------------------------------------------------------------


def test_lang_ja_gives_japanese_labels_and_en_english(client: Client) -> None:
    query = """query($lang: Lang) {
      storageFormats { label(lang: $lang) }
      ioPath { components { label(lang: $lang) } hops { relation(lang: $lang) } }
      checkGuest(operatingSystem: "Windows NT", servicePack: 6, architecture: X86) { reasons { message(lang: $lang) } }
    }"""
    ja = client.execute(GraphQLRequest(query, variable_values={"lang": "JA"}))
    en = client.execute(GraphQLRequest(query, variable_values={"lang": "EN"}))
    ja_hops = [h["relation"] for h in ja["ioPath"]["hops"]]
    assert ja_hops
    assert all(JAPANESE.search(text) for text in ja_hops)
    assert not any(JAPANESE.search(h["relation"]) for h in en["ioPath"]["hops"])
    assert any(JAPANESE.search(c["label"]) for c in ja["ioPath"]["components"])
    assert JAPANESE.search(ja["checkGuest"]["reasons"][0]["message"])
    assert not JAPANESE.search(en["checkGuest"]["reasons"][0]["message"])
    assert all(JAPANESE.search(f["label"]) for f in ja["storageFormats"])
    assert not any(JAPANESE.search(f["label"]) for f in en["storageFormats"])


def test_lang_defaults_to_english(client: Client) -> None:
    data = client.execute(GraphQLRequest('{ product(id: "hyper-v") { components { label } } }'))
    assert data["product"]["components"]
    assert not any(JAPANESE.search(c["label"]) for c in data["product"]["components"])


def test_extras_beyond_the_contract(client: Client) -> None:
    data = client.execute(
        GraphQLRequest(
            """{ product(id: "hyper-v") { layers { position label components { id } evidence { quote } }
                 guestSupport { asOf } hostSupport { operatingSystem } storageFormats { id } }
               nope: product(id: "nope") { id }
               path(from: "vsc", to: "physical-hardware") {
                 hops { from { id } to { id } evidence { documentIri } } } }"""
        )
    )
    product = data["product"]
    assert product["layers"][0]["position"] == 1
    assert {row["asOf"] for row in product["guestSupport"]} == {"2008-08"}
    assert product["hostSupport"]
    assert product["storageFormats"]
    assert data["nope"] is None
    hops = data["path"]["hops"]
    assert hops[0]["from"]["id"] == "vsc"
    assert hops[-1]["to"]["id"] == "physical-hardware"


def test_blank_search_text_answers_an_empty_list(client: Client) -> None:
    for text in ("", "   ", "\u3000"):
        assert client.execute(GraphQLRequest(OPERATIONS["Search.graphql"], variable_values={"text": text})) == {
            "search": []
        }


def test_get_query_string(server: Server) -> None:
    response = httpx.get(
        server.url,
        params={"query": "query($lang: Lang) { products { label(lang: $lang) } }", "variables": '{"lang": "JA"}'},
    )
    assert response.status_code == 200
    assert response.json()["data"]["products"]
    assert response.headers["x-request-id"]


# --- bad input ------------------------------------------------------------------------------------

CHECK_GUEST = OPERATIONS["CheckGuest.graphql"]
XP = {"os": "Windows XP", "sp": 3, "arch": "X86"}


@pytest.mark.parametrize(
    ("query", "variables", "argument"),
    [
        (CHECK_GUEST, {**XP, "vcpus": 0}, "virtualProcessors"),
        (CHECK_GUEST, {**XP, "vcpus": -1}, "virtualProcessors"),
        (CHECK_GUEST, {**XP, "sp": -1}, "servicePack"),
        (CHECK_GUEST, {**XP, "product": "nope"}, "product"),
        (CHECK_GUEST, {**XP, "os": ""}, "operatingSystem"),
        (CHECK_GUEST, {**XP, "os": "x" * 10_000}, "operatingSystem"),
        (CHECK_GUEST, {**XP, "edition": " "}, "edition"),
        (OPERATIONS["CheckHost.graphql"], {"os": "", "edition": "Standard", "arch": "X64"}, "operatingSystem"),
        (OPERATIONS["GuestTable.graphql"], {"product": "nope"}, "product"),
        (OPERATIONS["HostTable.graphql"], {"product": "nope"}, "product"),
        (OPERATIONS["Storage.graphql"], {"product": "nope"}, "product"),
        (OPERATIONS["IoPath.graphql"], {"product": "nope"}, "product"),
        (OPERATIONS["Path.graphql"], {"from": "vsc", "to": "no-such-component"}, "to"),
        (OPERATIONS["Path.graphql"], {"from": "no-such-component", "to": "vsc"}, "from"),
        (OPERATIONS["Search.graphql"], {"text": "x" * 300}, "text"),
        (OPERATIONS["Search.graphql"], {"text": "vmbus", "first": 0}, "first"),
        (CHECK_GUEST, {**XP, "os": "Windows XP SP3", "sp": 2}, "servicePack"),
        (CHECK_GUEST, {**XP, "os": "Windows XP x64"}, "architecture"),
        (CHECK_GUEST, {**XP, "os": "Windows XP Professional", "edition": "Home"}, "edition"),
    ],
    ids=[
        "vcpus-0",
        "vcpus-minus-1",
        "sp-minus-1",
        "unknown-product",
        "empty-os",
        "10000-char-os",
        "blank-edition",
        "host-empty-os",
        "guest-table-unknown-product",
        "host-table-unknown-product",
        "storage-unknown-product",
        "io-path-unknown-product",
        "path-unknown-to",
        "path-unknown-from",
        "search-too-long",
        "search-first-0",
        "sp-in-the-name-contradicts",
        "architecture-in-the-name-contradicts",
        "edition-in-the-name-contradicts",
    ],
)
def test_bad_input_is_a_typed_error_that_says_what_is_wrong(
    raw: Client, query: str, variables: dict[str, Any], argument: str
) -> None:
    (error,) = errors_of(raw, query, variables)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == argument
    assert argument in error["message"]
    assert JAPANESE.search(error["extensions"]["messageJa"])
    assert len(error["message"]) < 2000  # a 10,000-character name is not echoed back whole
    assert "Traceback" not in json.dumps(error)


def test_variables_of_the_wrong_type_are_bad_user_input(server: Server) -> None:
    response = post(server, {"query": CHECK_GUEST, "variables": {**XP, "vcpus": "four"}})
    error = the_error(response, 200, "BAD_USER_INPUT")
    assert "$vcpus" in error["message"]
    missing = post(server, {"query": CHECK_GUEST, "variables": {"sp": 0}})
    assert {e["extensions"]["code"] for e in missing.json()["errors"]} == {"BAD_USER_INPUT"}


def test_unknown_operating_system_is_an_answer_not_an_error(client: Client) -> None:
    data = client.execute(GraphQLRequest(CHECK_GUEST, variable_values={**XP, "os": "Windows 3.1 Turbo"}))
    (reason,) = data["checkGuest"]["reasons"]
    assert reason["code"] == "UNKNOWN_OPERATING_SYSTEM"
    assert data["checkGuest"]["supported"] is False


# --- request errors -------------------------------------------------------------------------------


def test_parse_errors(server: Server) -> None:
    the_error(post(server, {"query": "{ products { "}), 200, "GRAPHQL_PARSE_FAILED")


def test_validation_errors(server: Server) -> None:
    error = the_error(post(server, {"query": "{ products { idd } }"}), 200, "GRAPHQL_VALIDATION_FAILED")
    assert "idd" in error["message"]
    assert error["locations"] == [{"line": 1, "column": 14}]


@pytest.mark.parametrize("kind", ["mutation", "subscription"])
def test_only_queries_are_served(server: Server, raw: Client, kind: str) -> None:
    error = the_error(post(server, {"query": f"{kind} {{ products {{ id }} }}"}), 200, "BAD_REQUEST")
    assert error["message"].startswith("Only queries")
    assert kind in error["message"]
    (error,) = errors_of(raw, f"{kind} Change {{ licensing {{ unlimited }} }}")
    assert error["extensions"]["code"] == "BAD_REQUEST"
    got = httpx.get(server.url, params={"query": f"{kind} {{ products {{ id }} }}"})
    # GraphQL over HTTP: a GET that names a mutation is 405 whatever the media type (tests/test_graphql_http.py)
    assert the_error(got, 405, "BAD_REQUEST")["message"].startswith("Only queries")


def test_operation_name_picks_one_operation(server: Server) -> None:
    document = "query A { products { id } } query B { licensing { unlimited } }"
    picked = post(server, {"query": document, "operationName": "B"}).json()
    assert list(picked["data"]) == ["licensing"]
    the_error(post(server, {"query": document}), 200, "BAD_REQUEST")
    the_error(post(server, {"query": document, "operationName": "C"}), 200, "BAD_REQUEST")


def test_batching_is_refused(server: Server) -> None:
    error = the_error(post(server, [{"query": "{ products { id } }"}] * 2), 400, "BAD_REQUEST")
    assert "Batching is not supported" in error["message"]


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        (b"{not json", {"content-type": "application/json"}, 400),
        (b"[[[[[[[[[[" * 5000, {"content-type": "application/json"}, 400),
        (b"\xff\xfe", {"content-type": "application/json"}, 400),
        (b'"a string"', {"content-type": "application/json"}, 400),
        (b'{"variables": {}}', {"content-type": "application/json"}, 400),
        (b'{"query": "{ products { id } }", "variables": [1]}', {"content-type": "application/json"}, 400),
        (b'{"query": "{ products { id } }", "operationName": 5}', {"content-type": "application/json"}, 400),
        (b'{"query": "{ products { id } }"}', {"content-type": "text/plain"}, 415),
    ],
    ids=["bad-json", "deep-json", "not-utf8", "not-an-object", "no-query", "variables-list", "name-number", "text"],
)
def test_unusable_requests_are_4xx_with_a_clear_message(
    server: Server, content: bytes, headers: dict[str, str], status: int
) -> None:
    the_error(httpx.post(server.url, content=content, headers=headers), status, "BAD_REQUEST")


def test_get_without_query_is_400_for_programs(server: Server) -> None:
    the_error(httpx.get(server.url, headers={"accept": "application/json"}), 400, "BAD_REQUEST")
    the_error(httpx.get(server.url, params={"query": "{ products { id } }", "variables": "{"}), 400, "BAD_REQUEST")


# --- limits ---------------------------------------------------------------------------------------


def test_body_size_limit(server: Server) -> None:
    padding = "#" + "x" * 200 + "\n"

    def body(lines: int) -> bytes:
        return json.dumps({"query": "{ products { id } }\n" + padding * lines}).encode()

    just_under = body((MAX_BODY_BYTES - 1000) // (len(padding) + 1))  # "\n" is two bytes in JSON
    assert MAX_BODY_BYTES - 2000 < len(just_under) <= MAX_BODY_BYTES
    ok = httpx.post(server.url, content=just_under, headers={"content-type": "application/json"})
    assert ok.json()["data"]["products"]
    too_big = body(MAX_BODY_BYTES // len(padding))
    assert len(too_big) > MAX_BODY_BYTES
    response = httpx.post(server.url, content=too_big, headers={"content-type": "application/json"})
    error = the_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert str(MAX_BODY_BYTES) in error["message"]
    # Without Content-Length (chunked), the body is cut off while it streams in.
    chunks = iter([too_big[i : i + 8192] for i in range(0, len(too_big), 8192)])
    streamed = httpx.post(server.url, content=chunks, headers={"content-type": "application/json"})
    assert "content-length" not in streamed.request.headers
    the_error(streamed, 413, "PAYLOAD_TOO_LARGE")
    # A body within the limit that arrives in many chunks is read whole.
    pieces = iter([just_under[i : i + 1000] for i in range(0, len(just_under), 1000)])
    whole = httpx.post(server.url, content=pieces, headers={"content-type": "application/json"})
    assert "content-length" not in whole.request.headers
    assert whole.json() == ok.json()


def _nested(depth: int) -> str:
    return "{ " + "a { " * (depth - 1) + "b" + " }" * depth


def test_depth_limit(server: Server, raw: Client) -> None:
    (error,) = errors_of(raw, _nested(MAX_DEPTH + 1))
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert f"at most {MAX_DEPTH}" in error["message"]
    # At the limit the query gets as far as validation (the fields do not exist).
    (error,) = errors_of(raw, _nested(MAX_DEPTH))
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    # Fragments count where they are spread.
    half = MAX_DEPTH // 2 + 1
    fragments = (
        "{ ...A } fragment A on Query " + _nested(half).replace(" b ", " ...B ") + " fragment B on X " + _nested(half)
    )
    (error,) = errors_of(raw, fragments)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"


def test_introspection_has_its_own_depth_bound(raw: Client) -> None:
    standard = graphql.get_introspection_query(descriptions=True, input_value_deprecation=True)
    assert raw.execute(GraphQLRequest(standard))["__schema"]["queryType"]["name"] == "Query"
    deep = "{ __schema { types { fields { type { " + "ofType { " * 20 + "name" + " }" * 24 + " }"
    (error,) = errors_of(raw, deep)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "introspection" in error["message"]


def test_alias_limit(raw: Client) -> None:
    def aliased(n: int) -> str:
        return "{ " + " ".join(f"a{i}: licensing {{ unlimited }}" for i in range(n)) + " }"

    assert len(raw.execute(GraphQLRequest(aliased(MAX_ALIASES)))) == MAX_ALIASES
    (error,) = errors_of(raw, aliased(MAX_ALIASES + 1))
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "aliases" in error["message"]
    # A fragment's aliases count each time it is spread.
    half = MAX_ALIASES // 2 + 1
    fragment = "fragment F on Query { " + " ".join(f"b{i}: products {{ id }}" for i in range(half)) + " }"
    (error,) = errors_of(raw, '{ ...F x: product(id: "hyper-v") { id } ... on Query { ...F } } ' + fragment)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"


def test_token_limit(raw: Client) -> None:
    fields = " ".join(["id"] * (MAX_TOKENS + 1))
    (error,) = errors_of(raw, f"{{ products {{ {fields} }} }}")
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "tokens" in error["message"]
    # Comments are not tokens.
    commented = "# comment\n" * (MAX_TOKENS + 1) + "{ products { id } }"
    assert raw.execute(GraphQLRequest(commented))["products"]


def test_fragments_that_double_at_every_level_are_measured_quickly(server: Server) -> None:
    # 2**40 expansions if each spread were walked again; measured once per fragment, this returns.
    fragments = ["fragment F0 on Query { products { id } }"]
    fragments += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 40)]
    response = post(server, {"query": "{ ...F39 } " + " ".join(fragments)})
    assert response.json()["data"]["products"]


# --- failures -------------------------------------------------------------------------------------


def test_unexpected_exceptions_are_masked_and_logged_with_the_request_id(
    server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(snapshot: Snapshot) -> tuple[()]:
        raise RuntimeError("secret detail /etc/passwd")

    monkeypatch.setattr(catalog, "licensing", broken)
    response = post(server, {"query": "{ products { id } licensing { unlimited } }"})
    body = response.json()
    assert response.status_code == 200
    (error,) = body["errors"]
    request_id = response.headers["x-request-id"]
    assert error["message"] == f"Internal error (request id {request_id})"
    assert error["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "messageJa": f"内部エラー(リクエストID {request_id})",
        "requestId": request_id,
    }
    assert error["path"] == ["licensing"]
    assert body["data"] is None  # licensing is non-null, so the whole data goes
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None
    assert "secret detail" in str(logged[0].exc_info[1])


def test_a_failure_outside_execution_is_a_masked_500(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(view, "execute", broken)
    response = post(server, {"query": "{ products { id } }"})
    error = the_error(response, 500, "INTERNAL_SERVER_ERROR")
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert "secret" not in response.text


def test_no_snapshot_is_503(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server.holder, "current", None)
    the_error(post(server, {"query": "{ products { id } }"}), 503, "SERVICE_UNAVAILABLE")


def test_a_request_finishes_on_the_snapshot_it_started_with(
    server: Server, snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Snapshot] = []
    products, licensing = catalog.products, catalog.licensing

    def products_then_reload(s: Snapshot) -> Any:
        seen.append(s)
        monkeypatch.setattr(server.holder, "current", object())  # a reload swaps in another snapshot
        return products(s)

    def licensing_seen(s: Snapshot) -> Any:
        seen.append(s)
        return licensing(s)

    monkeypatch.setattr(catalog, "products", products_then_reload)
    monkeypatch.setattr(catalog, "licensing", licensing_seen)
    body = post(server, {"query": "{ products { id } licensing { unlimited } }"}).json()
    assert "errors" not in body
    assert seen == [snapshot, snapshot]
    assert server.holder.current is not snapshot


# --- the IDE for browsers -------------------------------------------------------------------------


def test_browsers_get_graphiql_from_this_server_only(server: Server) -> None:
    page = httpx.get(server.url, headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    references = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert len(references) >= 5
    for reference in references:
        assert reference.startswith(("/graphql/static/", "data:")), reference
        if reference.startswith("/"):
            asset = httpx.get(server.url.removesuffix("/graphql") + reference)
            assert asset.status_code == 200, reference
            assert len(asset.content) > 50
    assert "http://" not in page.text
    assert "https://" not in page.text
    tabs = json.loads(
        re.search(r'<script type="application/json" id="graphiql-tabs">(.*?)</script>', page.text, re.S)[1]
    )
    assert [tab["query"] for tab in tabs["tabs"]] == [OPERATIONS[i["file"]] for i in IDE_INDEX["operations"]]


# --- encoding -------------------------------------------------------------------------------------


def test_answers_are_encoded_as_the_json_module_would_and_never_fail_on_a_lone_surrogate() -> None:
    body = {"data": {"text": '日本語 "quoted" \\ \x00\x1f\u2028 é', "n": [0, -1, 2**40], "ok": True, "none": None}}
    compact = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    assert view._encode(body) == compact
    broken = {"data": {"text": "a\ud800b"}}  # not encodable as UTF-8: written as an escape instead
    assert json.loads(view._encode(broken)) == broken
