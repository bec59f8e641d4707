"""What /sparql refuses or stops, through a real uvicorn on loopback: updates and LOAD, SERVICE, dataset IRIs
that would be fetched or read, oversized bodies, runaway queries, too many queries at once, too many rows."""

from __future__ import annotations

import contextlib
import socket
import time
import types
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from xml.dom.minidom import parseString

import anyio
import httpx
import pytest
from rdflib import RDFS, Graph, Literal, Namespace
from SPARQLWrapper import JSON, POST, SPARQLWrapper
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from server.ops.state import SnapshotHolder
from server.sparql.config import SPARQLConfig
from server.sparql.dataset import GRAPH_IRI
from server.sparql.protocol import SPARQLEndpoint
from tests.live import serve

ID = Namespace("https://hyperv-kg.example.org/id/")
ROW_LIMIT = 5
TIME_LIMIT = 1.0
RUNAWAY_REGEX = 'SELECT * WHERE { ?s ?p ?o FILTER(REGEX(STR(?o), "(a+)+$")) }'
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p1 ?o1 . ?b ?p2 ?o2 . ?c ?p3 ?o3 . ?d ?p4 ?o4 . ?e ?p5 ?o5 }"


def make_graph() -> Graph:
    g = Graph()
    for i in range(12):
        g.add((ID[f"thing-{i}"], RDFS.label, Literal(f"thing {i}", lang="en")))
        g.add((ID[f"thing-{i}"], RDFS.label, Literal(f"もの {i}", lang="ja")))
    # backtracks 2^41 times under "(a+)+$": a regular expression that never ends
    g.add((ID.bait, RDFS.comment, Literal("a" * 41 + "!")))
    return g


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll for a state change (a worker got busy); fails after 10 s. Times nothing."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


@pytest.fixture(scope="module")
def graph() -> Graph:
    return make_graph()


@pytest.fixture(scope="module")
def endpoint(graph: Graph) -> SPARQLEndpoint:
    snapshot = types.SimpleNamespace(graph=graph, content_hash="feed", triple_count=len(graph), queries={})
    config = SPARQLConfig(time_limit=TIME_LIMIT, row_limit=ROW_LIMIT, max_concurrent=2)
    return SPARQLEndpoint(SnapshotHolder(current=snapshot), config)


@pytest.fixture(scope="module")
def base(endpoint: SPARQLEndpoint) -> Iterator[str]:
    async def healthz(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await endpoint.close()

    app = Starlette(routes=[Route("/healthz", healthz), *endpoint.routes("/sparql")], lifespan=lifespan)
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def url(base: str) -> str:
    return base + "/sparql"


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    """A TCP socket on loopback that anything fetching would reach; accept() tells whether something did."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    try:
        yield sock, f"http://127.0.0.1:{sock.getsockname()[1]}/sparql"
    finally:
        sock.close()


def assert_nothing_connected(sock: socket.socket) -> None:
    # A connection completes in the kernel's accept queue even if nobody calls accept(): an empty queue after
    # the response means nobody connected while the query was handled.
    with pytest.raises(BlockingIOError):
        sock.accept()


def test_the_listener_would_notice(listener: tuple[socket.socket, str]) -> None:
    """The check above can fail: a connection to the listener is seen."""
    sock, _ = listener
    with socket.create_connection(("127.0.0.1", sock.getsockname()[1])):
        wait_until(lambda: _accepts(sock), "the listener saw the connection")


def _accepts(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


# --- updates and LOAD -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("send", "fragment"),
    [
        (lambda url: httpx.get(url, params={"update": "CLEAR ALL"}), "read-only"),
        (lambda url: httpx.post(url, data={"update": "INSERT DATA { <x:a> <x:b> <x:c> }"}), "read-only"),
        (lambda url: httpx.post(url, data={"query": "ASK {}", "update": "CLEAR ALL"}), "read-only"),
        (
            lambda url: httpx.post(
                url, content=b"DELETE WHERE { ?s ?p ?o }", headers={"content-type": "application/sparql-update"}
            ),
            "read-only",
        ),
        (lambda url: httpx.get(url, params={"query": "INSERT DATA { <x:a> <x:b> <x:c> }"}), "read-only"),
        (lambda url: httpx.post(url, data={"query": "DELETE WHERE { ?s ?p ?o }"}), "read-only"),
    ],
)
def test_updates_are_refused(url: str, graph: Graph, send: Callable[[str], httpx.Response], fragment: str) -> None:
    before = len(graph)
    response = send(url)
    assert response.status_code == 403
    assert fragment in response.text and "読み取り専用" in response.text
    assert len(graph) == before
    assert httpx.get(url, params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"}).json()["results"]["bindings"][0][
        "n"
    ]["value"] == str(before)


@pytest.mark.parametrize("how", ["query", "update", "direct"])
def test_load_is_refused_and_fetches_nothing(url: str, listener: tuple[socket.socket, str], how: str) -> None:
    sock, address = listener
    text = f"LOAD <{address}>"
    if how == "direct":
        response = httpx.post(url, content=text.encode(), headers={"content-type": "application/sparql-update"})
    else:
        response = httpx.post(url, data={how: text})
    assert response.status_code == 403
    assert "LOAD" in response.text or "read-only" in response.text
    assert_nothing_connected(sock)


# --- SERVICE --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * WHERE {{ SERVICE <{address}> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ SERVICE SILENT <{address}> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ ?x ?y ?z FILTER EXISTS {{ SERVICE <{address}> {{ ?s ?p ?o }} }} }}",
        "SELECT * WHERE {{ {{ SELECT ?s WHERE {{ SERVICE <{address}> {{ ?s ?p ?o }} }} }} }}",
        "SELECT * WHERE {{ VALUES ?service {{ <{address}> }} SERVICE ?service {{ ?s ?p ?o }} }}",
        "ASK {{ ?s ?p ?o MINUS {{ SERVICE <{address}> {{ ?s ?p ?o }} }} }}",
        "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ OPTIONAL {{ SERVICE <{address}> {{ ?s ?p ?o }} }} }}",
    ],
)
def test_service_is_refused_before_evaluation(url: str, listener: tuple[socket.socket, str], template: str) -> None:
    sock, address = listener
    response = httpx.post(url, data={"query": template.format(address=address)})
    assert response.status_code == 403
    assert "SERVICE" in response.text
    assert_nothing_connected(sock)


def test_service_in_a_comment_or_a_literal_is_not_service(url: str, listener: tuple[socket.socket, str]) -> None:
    """The check reads the algebra, not the text: the word alone refuses nothing."""
    sock, address = listener
    query = f'SELECT ("SERVICE <{address}> {{ }}" AS ?text) WHERE {{ }} # SERVICE <{address}> {{ }}\n'
    response = httpx.post(url, data={"query": query})
    assert response.status_code == 200
    assert response.json()["results"]["bindings"][0]["text"]["value"].startswith("SERVICE")
    assert_nothing_connected(sock)


# --- dataset IRIs ---------------------------------------------------------------------------------------------


@pytest.fixture
def secret_file(tmp_path: Path) -> tuple[Path, str]:
    secret = f"secret-{uuid.uuid4()}"
    path = tmp_path / "graph.ttl"
    path.write_text(f'<urn:x:s> <urn:x:p> "{secret}" .\n', encoding="utf-8")
    return path, secret


@pytest.mark.parametrize(
    ("query", "params"),
    [
        ("SELECT * FROM <{iri}> WHERE {{ ?s ?p ?o }}", []),
        ("SELECT * FROM NAMED <{iri}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", []),
        ("SELECT * WHERE {{ ?s ?p ?o }}", [("default-graph-uri", "{iri}")]),
        ("SELECT * WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", [("named-graph-uri", "{iri}")]),
        # the protocol's dataset replaces the query's, and the replaced IRI is refused all the same
        ("SELECT * FROM <{iri}> WHERE {{ ?s ?p ?o }}", [("default-graph-uri", GRAPH_IRI)]),
    ],
)
def test_file_iris_are_refused_unread(
    url: str, secret_file: tuple[Path, str], query: str, params: list[tuple[str, str]]
) -> None:
    path, secret = secret_file
    iri = path.as_uri()
    response = httpx.get(url, params=[("query", query.format(iri=iri)), *[(k, v.format(iri=iri)) for k, v in params]])
    assert response.status_code == 400
    assert GRAPH_IRI in response.text and iri in response.text
    assert secret not in response.text


def test_etc_hostname_is_refused(url: str) -> None:
    response = httpx.get(url, params={"query": "SELECT ?o FROM <file:///etc/hostname> WHERE { ?s ?p ?o }"})
    assert response.status_code == 400
    assert "<file:///etc/hostname> is not a graph of this service" in response.text


@pytest.mark.parametrize(
    ("query", "params"),
    [
        ("SELECT * FROM <{address}> WHERE {{ ?s ?p ?o }}", []),
        ("SELECT * FROM NAMED <{address}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", []),
        ("SELECT * WHERE {{ ?s ?p ?o }}", [("default-graph-uri", "{address}")]),
        ("SELECT * WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", [("named-graph-uri", "{address}")]),
    ],
)
def test_http_graphs_are_never_fetched(
    url: str, listener: tuple[socket.socket, str], query: str, params: list[tuple[str, str]]
) -> None:
    """An http(s) IRI the service does not hold names an empty graph; nothing is fetched."""
    sock, address = listener
    response = httpx.get(
        url, params=[("query", query.format(address=address)), *[(k, v.format(address=address)) for k, v in params]]
    )
    assert response.status_code == 200
    assert response.json()["results"]["bindings"] == []
    assert_nothing_connected(sock)


def test_strict_dataset_refuses_unknown_http_graphs(graph: Graph) -> None:
    snapshot = types.SimpleNamespace(graph=graph, content_hash="feed", triple_count=len(graph), queries={})
    endpoint = SPARQLEndpoint(SnapshotHolder(current=snapshot), SPARQLConfig(strict_dataset=True))
    app = Starlette(routes=endpoint.routes("/sparql"))
    with serve(app) as base:
        refused = httpx.get(base + "/sparql", params={"query": "ASK {}", "default-graph-uri": "http://example.org/g"})
        allowed = httpx.get(base + "/sparql", params={"query": "ASK {}", "default-graph-uri": GRAPH_IRI})
    assert refused.status_code == 400
    assert allowed.status_code == 200


# --- sizes ----------------------------------------------------------------------------------------------------


def test_ten_megabyte_body_is_413(url: str) -> None:
    body = b"query=" + b"x" * 10_000_000
    response = httpx.post(url, content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    # urllib (and SPARQLWrapper on top of it) sends the whole body before reading: it still sees the 413
    request = urllib.request.Request(url, data=body, headers={"content-type": "application/sparql-query"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 413


def test_huge_declared_body_is_refused_before_it_is_sent(base: str) -> None:
    """413 arrives while the client has sent 2 MiB of a declared 100 MB: the server stopped reading early."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 100000000\r\n\r\n"
        )
        with contextlib.suppress(OSError):  # the server may close while we still write
            conn.sendall(b"x" * (2 * 1024 * 1024))
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_chunked_body_over_the_cap_is_413(url: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 64 * 1024  # 2.5 MiB in all, no Content-Length

    response = httpx.post(url, content=chunks(), headers={"content-type": "application/sparql-query"})
    assert response.status_code == 413


def test_long_query_is_413(url: str) -> None:
    query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * (64 * 1024)
    response = httpx.post(url, data={"query": query})
    assert response.status_code == 413
    assert "query" in response.text


# --- time limit -----------------------------------------------------------------------------------------------


def _busy(endpoint: SPARQLEndpoint, n: int) -> Callable[[], bool]:
    return lambda: endpoint.pool.busy >= n


def _process_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"  # killed, not yet reaped
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("query", [RUNAWAY_REGEX, CARTESIAN], ids=["regex", "cartesian"])
def test_runaway_query_is_stopped_while_the_server_answers(
    base: str, url: str, endpoint: SPARQLEndpoint, query: str
) -> None:
    assert httpx.get(url, params={"query": "ASK {}"}).status_code == 200  # a worker is up and idle
    workers_before = set(endpoint.pool.pids())
    with ThreadPoolExecutor(1) as pool:
        runaway: Future[httpx.Response] = pool.submit(httpx.post, url, data={"query": query}, timeout=30)
        wait_until(_busy(endpoint, 1), "the query runs")
        # the event loop is free: /healthz and another query answer while the runaway query runs
        assert httpx.get(base + "/healthz", timeout=1.0).status_code == 200
        other = httpx.get(url, params={"query": "ASK { ?s ?p ?o }"}, timeout=5.0)
        assert other.status_code == 200 and other.json()["boolean"] is True
        response = runaway.result(timeout=30)
    assert response.status_code == 504
    assert "time limit of 1 s" in response.text and "制限時間" in response.text
    killed = workers_before - set(endpoint.pool.pids())
    assert killed, "the worker that ran the query is no longer in the pool"
    wait_until(lambda: all(_process_gone(pid) for pid in killed), "the killed worker is gone")
    # and the pool serves on with a fresh worker
    assert httpx.get(url, params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


def test_memory_hungry_query_is_stopped(graph: Graph) -> None:
    """A worker may allocate only so much beyond what it inherits: a sort over a huge join ends in a 503."""
    snapshot = types.SimpleNamespace(graph=graph, content_hash="feed", triple_count=len(graph), queries={})
    config = SPARQLConfig(time_limit=30, memory_limit_bytes=32 * 1024 * 1024)
    endpoint = SPARQLEndpoint(SnapshotHolder(current=snapshot), config)
    # five patterns: 26^5 solutions to sort, far past the limit whatever the machine is doing meanwhile
    query = "SELECT * WHERE { ?a ?p1 ?o1 . ?b ?p2 ?o2 . ?c ?p3 ?o3 . ?d ?p4 ?o4 . ?e ?p5 ?o5 } ORDER BY ?a LIMIT 1"
    try:
        with serve(Starlette(routes=endpoint.routes("/sparql"))) as base:
            response = httpx.post(base + "/sparql", data={"query": query}, timeout=60)
            after = httpx.get(base + "/sparql", params={"query": "ASK {}"})
    finally:
        anyio.run(endpoint.close)
    assert response.status_code == 503, response.text
    assert "memory" in response.text and "メモリ" in response.text
    assert after.status_code == 200, after.text


# --- concurrency ----------------------------------------------------------------------------------------------


def test_too_many_queries_get_503(graph: Graph) -> None:
    """Without a queue (HVKG_SPARQL_QUEUE=0), a query that finds every worker busy is refused at once."""
    snapshot = types.SimpleNamespace(graph=graph, content_hash="feed", triple_count=len(graph), queries={})
    config = SPARQLConfig(time_limit=TIME_LIMIT, row_limit=ROW_LIMIT, max_concurrent=2, queue=0)
    endpoint = SPARQLEndpoint(SnapshotHolder(current=snapshot), config)
    try:
        with serve(Starlette(routes=endpoint.routes("/sparql"))) as base, ThreadPoolExecutor(2) as pool:
            url = base + "/sparql"
            running = [pool.submit(httpx.post, url, data={"query": RUNAWAY_REGEX}, timeout=30) for _ in range(2)]
            wait_until(_busy(endpoint, 2), "two queries run")
            refused = httpx.get(url, params={"query": "ASK {}"})
            results = [future.result(timeout=30) for future in running]
    finally:
        anyio.run(endpoint.close)
    assert refused.status_code == 503
    assert int(refused.headers["retry-after"]) >= 1
    assert "retry" in refused.text
    assert [r.status_code for r in results] == [504, 504]


# --- row limit ------------------------------------------------------------------------------------------------


def test_rows_are_cut_at_the_limit_and_the_client_is_told(url: str) -> None:
    response = httpx.get(url, params={"query": "SELECT * { ?s ?p ?o }"})
    assert response.headers["x-sparql-row-limit"] == str(ROW_LIMIT)
    assert response.headers["x-sparql-truncated"] == "true"
    data = response.json()
    assert len(data["results"]["bindings"]) == ROW_LIMIT
    assert str(ROW_LIMIT) in data["warning"]


def test_rows_within_the_limit_are_not_marked(url: str) -> None:
    response = httpx.get(url, params={"query": f"SELECT * {{ ?s ?p ?o }} LIMIT {ROW_LIMIT}"})
    assert response.headers["x-sparql-row-limit"] == str(ROW_LIMIT)
    assert "x-sparql-truncated" not in response.headers
    assert "warning" not in response.json()


@pytest.mark.parametrize(
    ("accept", "count"),
    [
        ("text/csv", lambda text: len(text.strip().split("\r\n")) - 1),
        ("text/tab-separated-values", lambda text: len(text.strip().split("\n")) - 1),
        # our own server's output, parsed to show it is well-formed despite the truncation comment
        ("application/sparql-results+xml", lambda text: len(parseString(text).getElementsByTagName("result"))),  # noqa: S318
    ],
)
def test_row_limit_in_every_result_format(url: str, accept: str, count: Callable[[str], int]) -> None:
    response = httpx.get(url, params={"query": "SELECT * { ?s ?p ?o }"}, headers={"Accept": accept})
    assert response.headers["x-sparql-truncated"] == "true"
    assert count(response.text) == ROW_LIMIT


@pytest.mark.parametrize(("accept", "fmt"), [("text/turtle", "turtle"), ("application/n-triples", "nt")])
def test_row_limit_for_graphs(url: str, accept: str, fmt: str) -> None:
    response = httpx.get(url, params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": accept})
    assert response.headers["x-sparql-truncated"] == "true"
    assert len(Graph().parse(data=response.text, format=fmt)) == ROW_LIMIT


def test_sparqlwrapper_reads_a_truncated_result(url: str) -> None:
    sparql = SPARQLWrapper(url)
    sparql.setQuery("SELECT * { ?s ?p ?o }")
    sparql.setReturnFormat(JSON)
    sparql.setMethod(POST)
    result = sparql.query()
    assert result.info()["x-sparql-truncated"] == "true"
    assert len(result.convert()["results"]["bindings"]) == ROW_LIMIT


# --- errors never carry a traceback ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { " * 200,
        "SELECT * WHERE { ?s ?p ?o } GROUP BY",
        "\x00\x01",
        "SELECT ?x (1 AS ?x) WHERE { }",
        "ASK " + "{" * 3000 + "}" * 3000,
        "SELECT * WHERE { ?s ?p ?o } GROUP BY ?s",
        "SELECT ('\\uD800' AS ?x) WHERE { }",
    ],
)
def test_bad_queries_are_4xx_without_traceback(url: str, query: str) -> None:
    response = httpx.post(url, data={"query": query})
    assert 400 <= response.status_code < 500, response.text
    assert "Traceback" not in response.text and 'File "' not in response.text
    assert "NoneType" not in response.text and "object is not" not in response.text  # Python's words
    assert response.headers["x-request-id"]


def test_unknown_function_leaves_the_variable_unbound(url: str) -> None:
    """An expression error is not a query error in SPARQL: the row comes back without ?x."""
    response = httpx.post(url, data={"query": "SELECT (<http://example.org/no-such-function>(1) AS ?x) WHERE { }"})
    assert response.status_code == 200
    assert response.json()["results"]["bindings"] == [{}]


def test_no_snapshot_yet_is_503() -> None:
    endpoint = SPARQLEndpoint(SnapshotHolder(current=None), SPARQLConfig())
    with serve(Starlette(routes=endpoint.routes("/sparql"))) as base:
        response = httpx.get(base + "/sparql", params={"query": "ASK {}"})
    assert response.status_code == 503
    assert response.headers["retry-after"]


def test_worker_processes_end_at_shutdown(graph: Graph) -> None:
    snapshot = types.SimpleNamespace(graph=graph, content_hash="feed", triple_count=len(graph), queries={})
    endpoint = SPARQLEndpoint(SnapshotHolder(current=snapshot), SPARQLConfig(max_concurrent=2))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await endpoint.close()

    with serve(Starlette(routes=endpoint.routes("/sparql"), lifespan=lifespan)) as base:
        assert httpx.get(base + "/sparql", params={"query": "ASK {}"}).status_code == 200
        pids = endpoint.pool.pids()
        assert pids and all(not _process_gone(pid) for pid in pids)
    assert all(_process_gone(pid) for pid in pids)


def test_new_snapshot_retires_old_workers(graph: Graph) -> None:
    first = types.SimpleNamespace(graph=graph, content_hash="one", triple_count=len(graph), queries={})
    smaller = Graph()
    smaller.add((ID.only, RDFS.label, Literal("only")))
    second = types.SimpleNamespace(graph=smaller, content_hash="two", triple_count=1, queries={})
    holder = SnapshotHolder(current=first)
    endpoint = SPARQLEndpoint(holder, SPARQLConfig(max_concurrent=2))
    count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    try:
        with serve(Starlette(routes=endpoint.routes("/sparql"))) as base:
            before = httpx.get(base + "/sparql", params={"query": count}).json()
            old_workers = endpoint.pool.pids()
            holder.current = second
            after = httpx.get(base + "/sparql", params={"query": count}).json()
            new_workers = endpoint.pool.pids()
    finally:
        anyio.run(endpoint.close)
    assert before["results"]["bindings"][0]["n"]["value"] == str(len(graph))
    assert after["results"]["bindings"][0]["n"]["value"] == "1"
    assert old_workers and not set(old_workers) & set(new_workers)
    wait_until(lambda: all(_process_gone(pid) for pid in old_workers), "the old workers exited")


def test_errors_are_plain_text_in_both_languages(url: str) -> None:
    response = httpx.get(url, params={"query": "SELECT * {"})
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    english, japanese = response.text.split(" / ", 1)
    assert english.startswith("Malformed query")
    assert "クエリ" in japanese
