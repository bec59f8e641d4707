"""SPARQL on a shared triplestore (HVKG_SPARQL_ENDPOINT, server/sparql/remote.py): Oxigraph's server and
Virtuoso, each started here, loaded with `publish()` (server/sparql/publish.py), answer what the embedded
engine answers: every named query, the W3C protocol runner's pass/fail set, a SPARQLWrapper query, the row
limit. The gate refuses SERVICE and updates before the store sees them (a counting proxy in front of the
store); a service whose snapshot is not published answers 503; a reload switches graphs in one step.

A store that cannot be installed fails its tests, saying so (never a skip): oxigraph from PyPI
(`pip install oxigraph==0.5.13`), Virtuoso from Debian (`apt-get install virtuoso-opensource`, as root).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import types
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from SPARQLWrapper import JSON, POST, SPARQLWrapper
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from graph.snapshot import Snapshot
from server.ops.state import SnapshotHolder
from server.sparql.config import SPARQLConfig
from server.sparql.protocol import SPARQLEndpoint
from server.sparql.publish import publish
from server.sparql.store_graphs import CATALOGUE, snapshot_graph
from tests.live import serve

W3C_TOOL = Path(__file__).resolve().parent / "shared" / "tools" / "w3c_protocol.py"
OXIGRAPH_VERSION = "0.5.13"
TIME_LIMIT = 5.0
JSON_RESULTS = {"Accept": "application/sparql-results+json"}
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the store exited ({process.returncode}): {log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, params={"query": "ASK { ?s ?p ?o }"}, timeout=2).status_code < 500:
                return
        time.sleep(0.2)  # polling a process that is starting, not timing anything
    pytest.fail(f"the store did not answer at {url} within {seconds} s: {log.read_text(errors='replace')[-2000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


# --- the stores -----------------------------------------------------------------------------------------------


def oxigraph_program() -> str:
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.exists():
        return str(beside)
    run = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", f"oxigraph=={OXIGRAPH_VERSION}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if not beside.exists():
        pytest.fail(
            f"Oxigraph's server could not be installed (pip install oxigraph=={OXIGRAPH_VERSION}): {run.stderr}"
        )
    return str(beside)


def virtuoso_programs() -> tuple[str, str]:
    if not (shutil.which("virtuoso-t") and shutil.which("isql-vt")):
        if os.geteuid() != 0:
            pytest.fail("Virtuoso is not installed and this is not root: sudo apt-get install virtuoso-opensource")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        said = ""
        for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "virtuoso-opensource"]):
            run = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
            said += run.stderr
        if not (shutil.which("virtuoso-t") and shutil.which("isql-vt")):
            pytest.fail(f"Virtuoso could not be installed (apt-get install virtuoso-opensource): {said[-2000:]}")
    return "virtuoso-t", "isql-vt"


@dataclasses.dataclass
class Store:
    name: str
    query_url: str  # HVKG_SPARQL_ENDPOINT
    publish_url: str  # hvkg publish URL


@contextlib.contextmanager
def oxigraph(tmp: Path) -> Iterator[Store]:
    port = free_port()
    log = tmp / "oxigraph.log"
    argv = [oxigraph_program(), "serve", "--location", str(tmp / "data"), "--bind", f"127.0.0.1:{port}"]
    argv += ["--timeout-s", f"{TIME_LIMIT:g}"]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/query", process, log)
        yield Store("oxigraph", f"http://127.0.0.1:{port}/query", f"http://127.0.0.1:{port}/store")
    finally:
        stop(process)


VIRTUOSO_INI = """[Database]
DatabaseFile = {tmp}/virtuoso.db
ErrorLogFile = {tmp}/virtuoso.log
LockFile = {tmp}/virtuoso.lck
TransactionFile = {tmp}/virtuoso.trx
xa_persistent_file = {tmp}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {tmp}/virtuoso-temp.db
TransactionFile = {tmp}/virtuoso-temp.trx
[Parameters]
ServerPort = {sql_port}
DisableUnixSocket = 1
CheckpointInterval = 0
DirsAllowed = ., {tmp}/load
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = {http_port}
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
ServerThreads = 20
MaxClientConnections = 20
[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryExecutionTime = {seconds}
MaxQueryCostEstimationTime = 0
"""


@contextlib.contextmanager
def virtuoso(tmp: Path) -> Iterator[Store]:
    server, _ = virtuoso_programs()
    sql_port, http_port = free_port(), free_port()
    (tmp / "load").mkdir()
    ini = tmp / "virtuoso.ini"
    max_rows = SPARQLConfig().row_limit + 1  # one more than the service's row limit: a cut answer shows it
    ini.write_text(
        VIRTUOSO_INI.format(tmp=tmp, sql_port=sql_port, http_port=http_port, max_rows=max_rows, seconds=int(TIME_LIMIT))
    )
    log = tmp / "out.log"
    with log.open("wb") as out:
        process = subprocess.Popen([server, "-f", "-c", str(ini)], stdout=out, stderr=subprocess.STDOUT, cwd=tmp)
    try:
        wait_for(f"http://127.0.0.1:{http_port}/sparql", process, log, seconds=90)
        yield Store(
            "virtuoso",
            f"http://127.0.0.1:{http_port}/sparql",
            f"isql://dba:dba@127.0.0.1:{sql_port}?dir={tmp / 'load'}",
        )
    finally:
        stop(process)


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, snapshot: Snapshot
) -> Iterator[Store]:
    start = oxigraph if request.param == "oxigraph" else virtuoso
    with start(tmp_path_factory.mktemp(request.param)) as running:
        published = publish(running.publish_url, snapshot)
        assert published.loaded and published.quads >= snapshot.triple_count
        yield running


# --- the services ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def service(snapshot: Any, config: SPARQLConfig, holder: SnapshotHolder | None = None) -> Iterator[str]:
    endpoint = SPARQLEndpoint(holder or SnapshotHolder(current=snapshot), config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await endpoint.close()

    with serve(Starlette(routes=endpoint.routes("/sparql"), lifespan=lifespan)) as base:
        yield base + "/sparql"


@pytest.fixture(scope="module")
def embedded(snapshot: Snapshot) -> Iterator[str]:
    with service(snapshot, SPARQLConfig(max_concurrent=2, time_limit=TIME_LIMIT)) as url:
        yield url


@pytest.fixture(scope="module")
def on_store(snapshot: Snapshot, store: Store) -> Iterator[str]:
    with service(snapshot, SPARQLConfig(max_concurrent=2, time_limit=TIME_LIMIT, endpoint=store.query_url)) as url:
        yield url


def rows(response: httpx.Response) -> Counter[frozenset[tuple[str, str]]] | bool:
    """A JSON answer as a bag of rows (blank nodes as `_:`; a plain literal and an xsd:string one alike), or
    the boolean of an ASK."""
    answer = response.json()
    if "boolean" in answer:
        return bool(answer["boolean"])
    found: Counter[frozenset[tuple[str, str]]] = Counter()
    for row in answer["results"]["bindings"]:
        cells = set()
        for name, term in row.items():
            if term["type"] == "bnode":
                cells.add((name, "_:"))
                continue
            kind = "iri" if term["type"] == "uri" else f"{term.get('xml:lang', '')}^^{term.get('datatype', '')}"
            cells.add((name, f"{kind}|{term['value']}".replace("^^http://www.w3.org/2001/XMLSchema#string", "^^")))
        found[frozenset(cells)] += 1
    return found


def ask(url: str, query: str, **params: str) -> httpx.Response:
    return httpx.post(url, data={"query": query, **params}, headers=JSON_RESULTS, timeout=30)


# --- the same answers -----------------------------------------------------------------------------------------


# A store's own faults, seen and left (docs/operations.md, "SPARQL on a shared store"), each checked for what it
# is, so that a store that stops doing it is noticed and a new fault still fails:
# - Virtuoso 7.2 keeps an xsd:boolean as the integer 1 / 0: `licensing`'s `unlimited` comes back typed
#   xsd:integer (asserted to differ);
# - Virtuoso 7.2 sometimes evaluates a transitive path whose two ends are variables, inside NOT EXISTS, wrongly:
#   `components` then answers 1 row of 21 (asserted: never a row the embedded engine does not give).
BOOLEANS_AS_INTEGERS = {("virtuoso", "licensing")}
ROWS_MAY_GO_MISSING = {("virtuoso", "components")}


def test_every_named_query_answers_the_same(snapshot: Snapshot, store: Store, embedded: str, on_store: str) -> None:
    assert len(snapshot.queries) >= 10
    for name, text in sorted(snapshot.queries.items()):
        here, there = ask(embedded, text), ask(on_store, text)
        assert (here.status_code, there.status_code) == (200, 200), (name, there.text)
        if (store.name, name) in BOOLEANS_AS_INTEGERS:
            assert rows(there) != rows(here), f"{store.name} now keeps booleans in {name}: drop it from the list"
            assert "#integer" in there.text and "#boolean" in here.text
            continue
        if (store.name, name) in ROWS_MAY_GO_MISSING:
            found, wanted = rows(there), rows(here)
            assert isinstance(found, Counter) and isinstance(wanted, Counter)
            assert found and not found - wanted, name
            continue
        assert there.headers["x-sparql-row-count"] == here.headers["x-sparql-row-count"], name
        assert rows(there) == rows(here), name


def test_the_w3c_protocol_runner_passes_and_fails_the_same(embedded: str, on_store: str) -> None:
    def outcomes(url: str) -> list[str]:
        run = subprocess.run(
            [sys.executable, str(W3C_TOOL), url], capture_output=True, text=True, timeout=120, check=False
        )
        lines = run.stdout.strip().splitlines()
        assert lines and lines[-1].startswith("w3c-protocol: "), run.stdout + run.stderr
        return [line.split(":")[0] for line in lines[:-1]]

    here, there = outcomes(embedded), outcomes(on_store)
    assert there == here
    assert sum(line.startswith("pass") for line in here) >= 20


def test_sparqlwrapper_reads_the_same_guest_table(embedded: str, on_store: str) -> None:
    query = """PREFIX hv: <https://hyperv-kg.example.org/id/ontology/>
SELECT ?row ?max WHERE { ?row a hv:GuestSupport ; hv:maxVirtualProcessors ?max } ORDER BY ?row"""

    def table(url: str) -> list[tuple[str, str]]:
        client = SPARQLWrapper(url)
        client.setQuery(query)
        client.setMethod(POST)
        client.setReturnFormat(JSON)
        answer: Any = client.query().convert()
        return [(b["row"]["value"], b["max"]["value"]) for b in answer["results"]["bindings"]]

    here = table(embedded)
    assert len(here) >= 12
    assert table(on_store) == here


def test_named_graphs_and_a_construct_answer_the_same(snapshot: Snapshot, embedded: str, on_store: str) -> None:
    by_graph = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    here, there = ask(embedded, by_graph), ask(on_store, by_graph)
    assert (here.status_code, there.status_code) == (200, 200), there.text
    assert rows(there) == rows(here)
    assert len(here.json()["results"]["bindings"]) >= 2  # the sources' graphs, by their own IRIs
    article = "https://hyperv-kg.example.org/id/doc-article"
    for params in ({"default-graph-uri": article}, {"named-graph-uri": article}, {}):
        here, there = ask(embedded, COUNT, **params), ask(on_store, COUNT, **params)
        assert rows(there) == rows(here), params
    construct = (
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> CONSTRUCT { ?s skos:prefLabel ?l } "
        "WHERE { ?s skos:prefLabel ?l FILTER(LANG(?l) = 'ja') }"
    )
    graphs = []
    for url in (embedded, on_store):
        got = httpx.post(url, data={"query": construct}, headers={"Accept": "application/n-triples"}, timeout=30)
        assert got.status_code == 200, got.text
        graphs.append(set(Graph().parse(data=got.text, format="nt")))
    assert graphs[0] == graphs[1] and graphs[0]


def test_the_row_limit_cuts_as_the_embedded_engine_does(snapshot: Snapshot, store: Store) -> None:
    config = SPARQLConfig(max_concurrent=1, time_limit=TIME_LIMIT, row_limit=7)
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    with (
        service(snapshot, config) as here,
        service(snapshot, dataclasses.replace(config, endpoint=store.query_url)) as there,
    ):
        answers = [ask(here, query), ask(there, query)]
    for answer in answers:
        assert answer.status_code == 200
        assert answer.headers["x-sparql-row-limit"] == "7"
        assert answer.headers["x-sparql-row-count"] == "7"
        assert answer.headers["x-sparql-truncated"] == "true"
        assert len(answer.json()["results"]["bindings"]) == 7


# --- the gate comes first -------------------------------------------------------------------------------------


@contextlib.contextmanager
def counting_proxy(target: str) -> Iterator[tuple[str, list[str]]]:
    """A proxy in front of the store that remembers every request body it forwards."""
    seen: list[str] = []

    async def forward(request: Request) -> Response:
        body = await request.body()
        seen.append(body.decode("utf-8", "replace"))
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(
                target, content=body, headers={k: v for k, v in request.headers.items() if k.lower() != "host"}
            )
        return Response(answer.content, answer.status_code, media_type=answer.headers.get("content-type"))

    with serve(Starlette(routes=[Route("/", forward, methods=["POST"])])) as base:
        yield base + "/", seen


def test_the_gate_refuses_service_and_updates_before_the_store_sees_them(snapshot: Snapshot, store: Store) -> None:
    refused = [
        "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
        "SELECT ?s WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <http://example.org/x> { ?s ?p ?o } } }",
        "INSERT DATA { <urn:x> <urn:y> <urn:z> }",
        "LOAD <http://example.org/data.ttl>",
        "CLEAR ALL",
    ]
    with counting_proxy(store.query_url) as (proxy, seen):
        config = SPARQLConfig(max_concurrent=1, time_limit=TIME_LIMIT, endpoint=proxy)
        with service(snapshot, config) as url:
            for query in refused:
                answer = ask(url, query)
                assert answer.status_code == 403, (query, answer.text)
                assert " / " in answer.text  # both languages
            update = httpx.post(url, data={"update": refused[2]}, timeout=30)
            assert update.status_code == 403
            assert ask(url, COUNT).status_code == 200  # the proxy does forward what the gate lets through
    assert seen, "the proxy forwarded nothing"
    forwarded = "\n".join(text for body in seen for text in parse_qs(body).get("query", []))
    assert "COUNT(*)" in forwarded
    for word in ("SERVICE", "INSERT", "LOAD", "CLEAR", "http://example.org"):
        assert word not in forwarded


def test_a_snapshot_not_published_is_503_naming_hvkg_publish(snapshot: Snapshot, store: Store) -> None:
    other = dataclasses.replace(snapshot, content_hash="f" * len(snapshot.content_hash))
    config = SPARQLConfig(max_concurrent=1, time_limit=TIME_LIMIT, endpoint=store.query_url)
    with service(other, config) as url:
        answer = ask(url, COUNT)
    assert answer.status_code == 503
    assert "hvkg publish" in answer.text and " / " in answer.text


def test_a_store_that_does_not_answer_is_502_without_a_traceback(snapshot: Snapshot) -> None:
    config = SPARQLConfig(max_concurrent=1, time_limit=TIME_LIMIT, endpoint=f"http://127.0.0.1:{free_port()}/query")
    with service(snapshot, config) as url:
        answer = ask(url, COUNT)
    assert answer.status_code == 502
    assert "Traceback" not in answer.text and " / " in answer.text


# --- a reload switches graphs in one step ---------------------------------------------------------------------


def test_a_reload_switches_graphs_atomically_while_queries_run(snapshot: Snapshot, store: Store) -> None:
    """Snapshot B (A and one triple more) is published while a client queries the service on A, then the
    service reloads to B: every answer counts A's triples or B's, never a mix or an empty graph; B's own
    answers come after the reload. Then `keep=1` prunes A from the store."""
    graph_b = Graph()
    for triple in snapshot.graph:
        graph_b.add(triple)
    graph_b.add((URIRef("urn:hvkg:test:b"), URIRef("urn:hvkg:test:in"), Literal("b")))
    b = types.SimpleNamespace(
        graph=graph_b,
        # another hash than A's whatever A's is ("b" + A's hash[1:] was A's own when A's began with b)
        content_hash=hashlib.sha256(f"{snapshot.content_hash} and one triple more".encode()).hexdigest(),
        store=None,
        triple_count=len(graph_b),
        queries={},
    )
    count_a = snapshot.triple_count
    holder = SnapshotHolder(current=snapshot)
    counts: list[int] = []
    failures: list[str] = []
    running = threading.Event()
    running.set()
    config = SPARQLConfig(max_concurrent=2, time_limit=TIME_LIMIT, endpoint=store.query_url)
    with service(snapshot, config, holder) as url:

        def client() -> None:
            with httpx.Client(timeout=30) as http:
                while running.is_set():
                    answer = http.post(url, data={"query": COUNT}, headers=JSON_RESULTS)
                    if answer.status_code != 200:
                        failures.append(answer.text)
                        continue
                    counts.append(int(answer.json()["results"]["bindings"][0]["n"]["value"]))

        thread = threading.Thread(target=client)
        thread.start()
        try:
            published = publish(store.publish_url, b)
            assert published.loaded
            before = len(counts)
            holder.swap(b)  # type: ignore[arg-type]  # a stand-in snapshot, as the endpoint reads it
            deadline = time.monotonic() + 20
            while len(counts) < before + 5 and time.monotonic() < deadline:
                time.sleep(0.05)  # waiting for answers, not timing anything
        finally:
            running.clear()
            thread.join(30)
    assert not failures, failures[:3]
    assert set(counts) <= {count_a, count_a + 1}
    assert counts[0] == count_a and counts[-1] == count_a + 1
    first_b = counts.index(count_a + 1)
    assert all(n == count_a + 1 for n in counts[first_b:])  # once switched, never back
    # prune: A leaves the catalogue and the store; B stays
    pruned = publish(store.publish_url, b, keep=1)
    assert pruned.pruned == (snapshot.content_hash,) and not pruned.loaded
    listed = ask(store.query_url, f"SELECT ?s WHERE {{ GRAPH <{CATALOGUE}> {{ ?s ?p ?o }} }}")
    assert {b["s"]["value"] for b in listed.json()["results"]["bindings"]} == {snapshot_graph(b.content_hash)}
    left = ask(store.query_url, COUNT, **{"default-graph-uri": snapshot_graph(snapshot.content_hash)})
    assert left.json()["results"]["bindings"][0]["n"]["value"] == "0"
    # the store's module-scoped fixture serves A again to the tests after this one
    assert publish(store.publish_url, snapshot).loaded


def test_json_results_are_the_embedded_engines_bytes_for_a_plain_select(embedded: str, on_store: str) -> None:
    query = (
        "PREFIX hv: <https://hyperv-kg.example.org/id/ontology/> "
        "SELECT ?row WHERE { ?row hv:maxVirtualProcessors 1 } ORDER BY ?row"
    )
    here, there = ask(embedded, query), ask(on_store, query)
    assert json.loads(there.text)["results"] == json.loads(here.text)["results"]


def test_a_query_past_the_time_limit_is_504_as_on_the_embedded_engine(snapshot: Snapshot, store: Store) -> None:
    config = SPARQLConfig(max_concurrent=1, time_limit=1.0)
    heavy = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with (
        service(snapshot, config) as here,
        service(snapshot, dataclasses.replace(config, endpoint=store.query_url)) as there,
    ):
        answers = [ask(here, heavy), ask(there, heavy)]
    assert [a.status_code for a in answers] == [504, 504], answers[1].text
    assert answers[1].text == answers[0].text  # the same words in both languages
