"""The SPARQL gate (server/sparql/gate.py, screen.py): every safety decision made on the parsed query, on every path.

Through a real uvicorn, with the workers' second wall (no network) turned off so that only the gate stands
between a query and the network: generated spellings of SERVICE against a loopback listener that must see no
connection; nesting thousands deep refused before any engine parses it, the worker alive afterwards; DESCRIBE *
answered. Then `hvkg query` through the same gate, and the gate's own answers on parsed queries.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rdflib import RDF, BNode, Graph, URIRef
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.term import Node
from starlette.applications import Starlette

from graph.snapshot import Snapshot
from server import cli
from server.ops.state import SnapshotHolder
from server.sparql.config import SPARQLConfig
from server.sparql.engine import _prepare_worker
from server.sparql.gate import inspect
from server.sparql.lexer import DEFAULT_MAX_NESTING, OXIGRAPH_MAX_TOKENS, Refused, measure, resolve_escapes, tokens
from server.sparql.protocol import SPARQLEndpoint
from server.sparql.screen import screen
from server.sparql.workers import WorkerPool
from tests.live import serve

EXAMPLES = int(os.environ.get("HVKG_FUZZ_EXAMPLES", "60"))
ID = "https://hyperv-kg.example.org/id/"
ROW = ID + "ontology/rowNumber"
TIME_LIMIT = 3.0
ISSUE_QUERY = "SELECT ?leak WHERE {{ ?s <" + ROW + "> 1SERVICE <{address}> {{ ?leak ?b ?c }} }}"


# --- a loopback listener that anything fetching would reach ---------------------------------------------------


class Listener:
    """A plain TCP server on 127.0.0.1 that accepts every connection, records it (with what it sent first) and
    closes it, so that a client that connects fails at once instead of waiting."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port: int = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, path: str = "/x") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def connections(self) -> int:
        return len(self.received)

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if not ready:
                continue
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(0.2)
                try:
                    first = conn.recv(4096)
                except OSError:
                    first = b""
                self.received.append(first)

    def settle(self) -> None:
        """Wait until every connection already made has been accepted and recorded (or half a second)."""
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if not ready:
                return
        # still something queued: the accept loop will record it; give it a moment

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    try:
        yield server
    finally:
        server.close()


def test_the_listener_records_a_connection() -> None:
    """The listener can fail the tests below: a connection to it is recorded, with what was sent."""
    server = Listener()
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as conn:
            conn.sendall(b"POST /x HTTP/1.1\r\n")
            deadline = time.monotonic() + 5
            while not server.connections and time.monotonic() < deadline:
                time.sleep(0.01)
        assert server.received and server.received[0].startswith(b"POST")
    finally:
        server.close()


# --- the endpoint over the real snapshot, without its second wall ---------------------------------------------


def without_network_wall(endpoint: SPARQLEndpoint) -> None:
    """Give the endpoint workers that keep the network (server/sparql/wall.py off): what these tests
    show must hold on the gate alone."""
    config = endpoint.config
    endpoint.pool = WorkerPool(
        _prepare_worker,
        size=config.max_concurrent,
        time_limit=config.time_limit,
        is_current=endpoint._is_current,
        memory_limit=config.memory_limit_bytes,
        network_wall=False,
    )


@contextlib.contextmanager
def live_endpoint(snapshot: object, config: SPARQLConfig) -> Iterator[tuple[str, SPARQLEndpoint]]:
    endpoint = SPARQLEndpoint(SnapshotHolder(current=snapshot), config)  # type: ignore[arg-type]
    without_network_wall(endpoint)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await endpoint.close()

    with serve(Starlette(routes=endpoint.routes("/sparql"), lifespan=lifespan)) as base:
        yield base + "/sparql", endpoint


@pytest.fixture(scope="module")
def live(snapshot: Snapshot) -> Iterator[tuple[str, SPARQLEndpoint]]:
    assert snapshot.store is not None  # pyoxigraph's path is open: what the SSRF went through
    with live_endpoint(snapshot, SPARQLConfig(time_limit=TIME_LIMIT, max_concurrent=2)) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def url(live: tuple[str, SPARQLEndpoint]) -> str:
    return live[0]


# --- (a) SERVICE, however it is spelled -----------------------------------------------------------------------


def spelled(word: str) -> st.SearchStrategy[str]:
    """`word` in any letter case; half the time with some of its letters written as \\uXXXX or \\UXXXXXXXX."""

    def letter(char: str, escapes: bool) -> st.SearchStrategy[str]:
        cases = st.sampled_from([char.upper(), char.lower()])
        if not escapes:
            return cases
        return cases.flatmap(lambda c: st.sampled_from([c, f"\\u{ord(c):04X}", f"\\u{ord(c):04x}", f"\\U{ord(c):08X}"]))

    return st.booleans().flatmap(lambda escapes: st.tuples(*(letter(c, escapes) for c in word)).map("".join))


def escaped_iri(address: str) -> st.SearchStrategy[str]:
    """An IRI, some of its characters as \\u escapes (pyoxigraph resolves those inside IRIs itself)."""
    return st.lists(st.booleans(), min_size=len(address), max_size=len(address)).map(
        lambda flags: "".join(f"\\u{ord(c):04X}" if flag else c for c, flag in zip(address, flags, strict=True))
    )


# Between two tokens: nothing (first, so that it is tried often), blanks, comments, a comment that holds a
# harmless-looking SERVICE.
GAPS = ["", "", " ", "\t", "\n", "\r\n", "  \n\t ", "#c\n", "# SERVICE <http://127.0.0.1:1/> {}\n", "\n#\n"]
# What stands right before the keyword: a number (1SERVICE is the issue's), a string, an IRI, a name, a
# closing brace or bracket, punctuation, or nothing at all.
BEFORE = [
    f"?s <{ROW}> 1",
    "?s ?p 1.5",
    "?s ?p 1e3",
    "?s ?p true",
    '?s ?p "x"',
    '?s ?p "x"@en',
    "?s ?p <http://e/o>",
    "?s ?p ?o .",
    "?s ?p ?o ;",
    "?s ?p ?o",
    "?s ?p _:b",
    "{ ?s ?p ?o }",
    "FILTER(?s)",
    "?s ?p [ ?q ?r ]",
    "BIND(1 AS ?x)",
    "",
]
# Where the SERVICE clause sits.
PLACES = [
    "{}",
    "OPTIONAL {{ {} }}",
    "MINUS {{ {} }}",
    "FILTER EXISTS {{ {} }}",
    "FILTER NOT EXISTS {{ {} }}",
    "{{ {} }} UNION {{ ?s ?p ?o }}",
    "{{ SELECT * WHERE {{ {} }} }}",
    "GRAPH ?g {{ {} }}",
]
FORMS = [
    "SELECT ?leak WHERE",
    "SELECT * WHERE",
    "SELECT *",
    "ASK",
    "ASK WHERE",
    "SELECT (COUNT(*) AS ?n) WHERE",
    "CONSTRUCT { ?leak ?b ?c } WHERE",
    "DESCRIBE ?leak WHERE",
]


@st.composite
def service_queries(draw: st.DrawFn, address: str) -> str:
    gap = st.sampled_from(GAPS)
    keyword = draw(spelled("SERVICE"))
    silent = draw(st.just("") | spelled("SILENT").map(lambda s: s + draw(gap) + " "))
    how = draw(st.sampled_from(["iri", "iri", "escaped iri", "variable from VALUES", "variable from BIND", "prefixed"]))
    prologue = ""
    binding = ""
    if how == "iri":
        target = f"<{address}>"
    elif how == "escaped iri":
        target = "<" + draw(escaped_iri(address)) + ">"
    elif how == "prefixed":
        prologue = f"PREFIX svc: <{address.removesuffix('x')}>\n"
        target = "svc:x"
    else:
        variable = draw(st.sampled_from(["?svc", "$svc", "?SERVICE"]))
        target = variable
        binding = (
            f"VALUES {variable} {{ <{address}> }} "
            if how == "variable from VALUES"
            else f"BIND(<{address}> AS {variable}) "
        )
    clause = f"{keyword}{draw(gap)}{silent}{target}{draw(gap)}{{ ?leak ?b ?c }}"
    place = draw(st.sampled_from(PLACES))
    before = draw(st.sampled_from(BEFORE))
    form = draw(st.sampled_from(FORMS))
    return f"{prologue}{form} {{ {before}{draw(gap)}{place.format(binding + clause)} }}"


def test_no_spelling_of_service_reaches_the_network(url: str, listener: Listener) -> None:
    """However SERVICE is written, it is refused (4xx) and nothing connects to the address it names."""
    tried: list[str] = []
    statuses: set[int] = set()
    address = listener.url()

    @given(query=service_queries(address), how=st.sampled_from(["form", "get", "direct"]))
    @example(query=ISSUE_QUERY.format(address=address), how="form")
    @settings(
        max_examples=EXAMPLES * 5,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    def check(query: str, how: str) -> None:
        tried.append(query)
        if how == "form":
            response = httpx.post(url, data={"query": query}, timeout=30)
        elif how == "get":
            response = httpx.get(url, params={"query": query}, timeout=30)
        else:
            headers = {"content-type": "application/sparql-query"}
            response = httpx.post(url, content=query.encode(), headers=headers, timeout=30)
        statuses.add(response.status_code)
        assert 400 <= response.status_code < 500, (query, response.status_code, response.text)
        assert "Traceback" not in response.text
        listener.settle()
        assert listener.connections == 0, (query, listener.received)

    check()
    listener.settle()
    print(f"\n{len(tried)} SERVICE spellings tried; statuses {sorted(statuses)}; listener saw {listener.connections}")
    assert listener.connections == 0
    assert len(tried) >= EXAMPLES * 5
    assert 403 in statuses  # SERVICE read as SERVICE, not only texts that fail to parse


def test_the_spellings_are_live_for_an_engine_without_the_gate() -> None:
    """The generated queries are no straw men: a bare pyoxigraph store, given them without the gate, sends
    many to the listener (all it can parse and reaches: it leaves a keyword's \\u unresolved, and a SERVICE
    under GRAPH ?g or after a pattern with no solution is never evaluated)."""
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode(ID + "s"), ox.NamedNode(ROW), ox.Literal(1)))
    other = Listener()
    parsed = connected = 0
    try:
        target = other.url()

        @given(query=service_queries(target))
        @example(query=ISSUE_QUERY.format(address=target))
        @settings(max_examples=EXAMPLES * 2, deadline=None, derandomize=True, database=None)
        def check(query: str) -> None:
            nonlocal parsed, connected
            before = other.connections
            try:
                result = store.query(query)
                if not isinstance(result, ox.QueryBoolean):
                    list(result)
            except SyntaxError:
                return
            except (OSError, RuntimeError):
                pass  # the listener closed the connection: the request was made
            parsed += 1
            other.settle()
            connected += other.connections > before

        check()
        issue = ISSUE_QUERY.format(address=target)
        before = other.connections
        with contextlib.suppress(OSError, RuntimeError):
            list(store.query(issue))  # type: ignore[arg-type]
        other.settle()
        assert other.connections > before, "the issue's query reaches the network without the gate"
    finally:
        other.close()
    print(f"\nwithout the gate: pyoxigraph parsed {parsed} generated queries, {connected} of them connected")
    assert connected >= parsed // 4 and connected >= 5, (parsed, connected)


# --- (b) nesting ----------------------------------------------------------------------------------------------

DEEP = 3000


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE " + "{" * DEEP + "}" * DEEP,
        "ASK " + "{" * DEEP + "?s ?p ?o" + "}" * DEEP,
        "SELECT * WHERE { FILTER(" + "(" * DEEP + "1" + ")" * DEEP + ") }",
        "SELECT * WHERE { ?s ?p " + "[ ?p " * DEEP + "1" + " ]" * DEEP + " }",
        "SELECT * WHERE " + "{ OPTIONAL " * DEEP + "{}" + "}" * DEEP,
        "SELECT * WHERE " + "{ (" * (DEEP // 2) + ")}" * (DEEP // 2),
        "SELECT * WHERE " + "\\u007B" * DEEP + "\\u007D" * DEEP,  # escaped braces are braces
    ],
    ids=["braces", "ask", "parentheses", "brackets", "optional", "mixed", "escaped"],
)
def test_deep_nesting_is_refused_before_any_engine_and_the_worker_lives(
    live: tuple[str, SPARQLEndpoint], query: str
) -> None:
    url, endpoint = live
    assert httpx.get(url, params={"query": "ASK {}"}).status_code == 200  # a worker is up
    workers = set(endpoint.pool.pids())
    response = httpx.post(url, data={"query": query}, timeout=30)
    assert response.status_code == 400, response.text
    english, japanese = response.text.split(" / ", 1)
    assert f"at most {DEFAULT_MAX_NESTING} levels" in english
    assert "入れ子" in japanese
    after = httpx.get(url, params={"query": f"ASK {{ ?s <{ROW}> 1 }}"})
    assert after.status_code == 200 and after.json()["boolean"] is True
    assert workers <= set(endpoint.pool.pids())  # no worker died on it


def test_brackets_in_strings_iris_and_comments_do_not_nest(url: str) -> None:
    noise = "{" * DEEP + "(" * DEEP + "[" * DEEP
    query = f'SELECT ("{noise}" AS ?x) WHERE {{ OPTIONAL {{ ?s <http://e/{"(" * 100}> ?o }} }} # {noise}\n'
    response = httpx.post(url, data={"query": query}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"][0]["x"]["value"] == noise


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { " + " ".join(f"BIND({i} AS ?v{i})" for i in range(2700)) + " }",
        "SELECT * WHERE { ?s ?p ?o " + " ".join(["MINUS { ?s ?p ?o }"] * 2700) + " }",
        "SELECT * WHERE { FILTER(" + "+".join(["1"] * 7000) + ") }",
    ],
    ids=["bind", "minus", "plus"],
)
def test_long_chains_never_crash_a_worker(live: tuple[str, SPARQLEndpoint], query: str) -> None:
    """Chains deep in pyoxigraph's algebra (it overflows its stack on these) go to rdflib, which answers,
    refuses or runs out of time: never a crashed worker and a 500."""
    url, _ = live
    assert measure(query)[1] > OXIGRAPH_MAX_TOKENS  # past what pyoxigraph is given
    response = httpx.post(url, data={"query": query}, timeout=60)
    assert response.status_code in (200, 400, 504), response.text
    assert httpx.get(url, params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


def test_the_nesting_limit_is_configurable(snapshot: Snapshot) -> None:
    assert SPARQLConfig.from_env({"HVKG_SPARQL_MAX_NESTING": "7"}).max_nesting == 7
    assert SPARQLConfig.from_env({}).max_nesting == DEFAULT_MAX_NESTING
    with live_endpoint(snapshot, SPARQLConfig(max_nesting=5, max_concurrent=1)) as (url, _):
        five = httpx.post(url, data={"query": "ASK " + "{" * 5 + "}" * 5})
        six = httpx.post(url, data={"query": "ASK " + "{" * 6 + "}" * 6})
    assert five.status_code == 200
    assert six.status_code == 400 and "at most 5 levels" in six.text


# --- (c) DESCRIBE * -------------------------------------------------------------------------------------------


def description(graph: Graph, resources: set[Node]) -> set[tuple[Node, Node, Node]]:
    """The concise bounded description of `resources` (W3C member submission CBD, 2005): their triples, those
    of the blank nodes they reach, and the descriptions of the rdf:Statement reifications of those triples."""
    out: set[tuple[Node, Node, Node]] = set()
    todo = list(resources)
    seen: set[Node] = set()
    while todo:
        resource = todo.pop()
        if resource in seen:
            continue
        seen.add(resource)
        for s, p, o in graph.triples((resource, None, None)):
            out.add((s, p, o))
            if isinstance(o, BNode):
                todo.append(o)
            for statement in graph.subjects(RDF.subject, s):
                if (statement, RDF.predicate, p) in graph and (statement, RDF.object, o) in graph:
                    todo.append(statement)
    return out


def without_bnodes(triples: set[tuple[Node, Node, Node]]) -> set[tuple[Node, Node, Node]]:
    return {t for t in triples if not any(isinstance(term, BNode) for term in t)}


@pytest.mark.parametrize(
    "pattern",
    [
        f"{{ ?s <{ROW}> 1 }}",
        f"{{ ?s <{ROW}> 2 . ?s ?p ?o FILTER(isIRI(?o)) }}",
        f"{{ ?s <{ROW}> 3 . {{ SELECT ?t WHERE {{ ?t <{ROW}> 4 }} }} }}",
    ],
)
def test_describe_star_describes_every_variable(snapshot: Snapshot, url: str, pattern: str) -> None:
    """DESCRIBE * describes the value of every variable in scope: what SELECT * binds."""
    response = httpx.post(
        url, data={"query": f"DESCRIBE * WHERE {pattern}"}, headers={"accept": "application/n-triples"}, timeout=30
    )
    assert response.status_code == 200, response.text
    got = set(Graph().parse(data=response.text, format="nt"))
    rows = snapshot.graph.query(f"SELECT * WHERE {pattern}").bindings
    bound = {term for row in rows for term in row.values()}
    expected = description(snapshot.graph, {term for term in bound if isinstance(term, URIRef)})
    assert expected
    assert without_bnodes(got) == without_bnodes(expected)
    assert len(got) == len(expected)


def test_describe_star_without_a_pattern_is_empty(url: str) -> None:
    response = httpx.post(url, data={"query": "DESCRIBE *"}, headers={"accept": "application/n-triples"})
    assert response.status_code == 200
    assert len(Graph().parse(data=response.text, format="nt")) == 0


# --- hvkg query -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * WHERE {{ SERVICE <{address}> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ \\u0053ERVICE <{address}> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ VALUES ?v {{ <{address}> }} service silent ?v {{ ?s ?p ?o }} }}",
        "ASK {{ FILTER NOT EXISTS {{ SERVICE <{address}> {{ ?s ?p ?o }} }} }}",
        ISSUE_QUERY,
    ],
)
def test_hvkg_query_refuses_service(listener: Listener, template: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = listener.connections
    code = cli.main(["query", template.format(address=listener.url())])
    err = capsys.readouterr().err
    assert code == cli.EXIT_BAD_INPUT, err
    assert "SERVICE" in err and "Traceback" not in err
    listener.settle()
    assert listener.connections == before


def test_hvkg_query_refuses_deep_nesting_and_answers_describe_star(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["query", "ASK " + "{" * DEEP + "}" * DEEP]) == cli.EXIT_BAD_INPUT
    assert "nested" in capsys.readouterr().err
    assert cli.main(["query", "--lang", "ja", "ASK " + "{" * DEEP + "}" * DEEP]) == cli.EXIT_BAD_INPUT
    assert "入れ子" in capsys.readouterr().err
    assert cli.main(["query", f"DESCRIBE * WHERE {{ ?s <{ROW}> 1 }}"]) == 0
    described = Graph().parse(data=capsys.readouterr().out, format="turtle")
    assert {str(s) for s in described.subjects(URIRef(ROW), None)}


# --- (e) the gate's answers -----------------------------------------------------------------------------------


def refusal(text: str, **kwargs: object) -> Refused:
    with pytest.raises(Refused) as refused:
        inspect(text, **kwargs)  # type: ignore[arg-type]
    return refused.value


SERVICE_ANYWHERE = [
    "SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o . SERVICE SILENT ?v { ?s ?p ?o } }",
    "SELECT * WHERE { OPTIONAL { SERVICE <http://x/> { } } }",
    "SELECT * WHERE { ?a ?b ?c MINUS { SERVICE <http://x/> { ?a ?b ?c } } }",
    "SELECT * WHERE { FILTER EXISTS { SERVICE <http://x/> { } } }",
    "SELECT * WHERE { FILTER NOT EXISTS { { SERVICE <http://x/> { } } } }",
    "SELECT (EXISTS { SERVICE <http://x/> { } } AS ?e) WHERE { }",
    "SELECT * WHERE { { } UNION { SERVICE <http://x/> { } } }",
    "SELECT * WHERE { { SELECT * WHERE { { SELECT * WHERE { SERVICE <http://x/> { } } } } } }",
    "SELECT * WHERE { GRAPH ?g { SERVICE <http://x/> { } } }",
    "ASK { SERVICE <http://x/> { } }",
    "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <http://x/> { ?s ?p ?o } }",
    "DESCRIBE ?s WHERE { SERVICE <http://x/> { ?s ?p ?o } }",
    "SELECT * WHERE { } ORDER BY (EXISTS { SERVICE <http://x/> { } })",
    "SELECT ?s WHERE { ?s ?p ?o } GROUP BY ?s HAVING (EXISTS { SERVICE <http://x/> { } })",
    "PREFIX s: <http://x/> SELECT * WHERE { sErViCe s:x { } }",
    "SELECT * WHERE { \\u0053\\u0045RVIC\\U00000045 <http://x/> { } }",
    "SELECT * WHERE { SERVICE <http://\\u0078/> { } }",
]


@pytest.mark.parametrize("text", SERVICE_ANYWHERE)
def test_service_is_found_wherever_the_parse_has_it(text: str) -> None:
    refused = refusal(text)
    assert refused.status == 403
    assert "SERVICE" in refused.english and "SERVICE" in refused.japanese


@pytest.mark.parametrize(
    "text",
    [
        'SELECT ("SERVICE <http://x/> { }" AS ?t) WHERE { }',
        "SELECT ('''\nSERVICE <http://x/> { }\n''' AS ?t) WHERE { }",
        "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://x/> { }",
        "SELECT * WHERE { ?s <http://e/SERVICE> ?service }",
        "PREFIX SERVICE: <http://e/> SELECT * WHERE { ?s SERVICE:p ?o }",
        "SELECT ?SERVICE WHERE { ?SERVICE ?p ?o }",
    ],
)
def test_the_word_alone_is_not_service(text: str) -> None:
    gated = inspect(text)
    assert gated.form == "SELECT"


def test_updates_and_load_are_refused_with_403() -> None:
    assert refusal("LOAD <http://x/>").english.startswith("LOAD is not accepted")
    assert refusal("lo\\u0061d <http://x/> INTO GRAPH <urn:g>").english.startswith("LOAD is not accepted")
    for text in (
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "CLEAR ALL",
        "DROP GRAPH <urn:g>",
        "DELETE WHERE { ?s ?p ?o }",
    ):
        refused = refusal(text)
        assert refused.status == 403 and "read-only" in refused.english and "読み取り専用" in refused.japanese


@pytest.mark.parametrize("text", ["", "# only a comment\n", "SELECT * {", "SELEC * {}", "ASK {} }"])
def test_what_is_no_query_is_a_400_with_the_parsers_words(text: str) -> None:
    refused = refusal(text)
    assert refused.status == 400
    assert refused.english.startswith("Malformed query:")
    assert refused.cause is not None
    assert "Traceback" not in refused.message and "NoneType" not in refused.message


def test_what_the_gate_reads_from_the_parse() -> None:
    gated = inspect(
        "PREFIX e: <http://e/> SELECT ?s FROM <http://e/a> FROM NAMED <http://e/b> "
        "WHERE { GRAPH ?g { ?s ?p ?o } { SELECT ?s WHERE { ?s ?p ?o } LIMIT 99 } } LIMIT 7 OFFSET 2"
    )
    assert (gated.form, gated.default_graphs, gated.named_graphs) == ("SELECT", ("http://e/a",), ("http://e/b",))
    assert gated.uses_graph and gated.limit == 7 and not gated.escaped
    assert not gated.oxigraph_may_answer  # a dataset and GRAPH: rdflib's
    plain = inspect("SELECT ?s WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 3 } }")
    assert plain.limit is None and plain.oxigraph_may_answer
    assert inspect("ASK { ?s ?p ?o }").form == "ASK"
    assert inspect("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 3").form == "CONSTRUCT"
    assert not inspect("DESCRIBE <http://e/a>").oxigraph_may_answer
    assert not inspect('SELECT * WHERE { ?s ?p "\\u0041" }').oxigraph_may_answer  # escapes: rdflib's


def test_describe_star_is_translated_with_every_variable_in_scope() -> None:
    gated = inspect("DESCRIBE * WHERE { ?a ?b ?c . { SELECT ?d WHERE { ?d ?e ?f } } BIND(1 AS ?g) }")
    assert sorted(str(v) for v in gated.query.algebra.PV) == ["a", "b", "c", "d", "g"]


def test_construct_where_with_modifiers_gets_its_template() -> None:
    gated = inspect("CONSTRUCT WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 3")
    assert len(gated.query.algebra.template) == 1


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("SELECT ?x (1 AS ?x) WHERE { }", "?x is projected twice"),
        ("SELECT * WHERE { ?s ?p ?o } GROUP BY ?s", "SELECT * cannot be used"),
        ("SELECT ?o WHERE { ?s ?p ?o } GROUP BY ?s", "?o is projected but neither grouped"),
        ("SELECT ?s (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "?s is projected but neither grouped"),
        ("SELECT (?o AS ?z) WHERE { ?s ?p ?o } GROUP BY ?s", "?o is projected"),
        ("SELECT ?s { { SELECT * { ?s ?p ?o } GROUP BY ?s } }", "SELECT * cannot be used"),
        ("PREFIX e: <http://e/> SELECT * WHERE { ?s nope:p ?o }", "Unknown namespace prefix"),
    ],
)
def test_invalid_queries_rdflib_would_answer_are_refused(text: str, fragment: str) -> None:
    refused = refusal(text)
    assert refused.status == 400 and fragment in refused.english


@pytest.mark.parametrize(
    "text",
    [
        "SELECT ?s (COUNT(?o) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s",
        "SELECT ?k (MAX(?o) AS ?m) ((?m) AS ?again) WHERE { ?s ?p ?o } GROUP BY (STR(?s) AS ?k)",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER EXISTS { SELECT ?s WHERE { ?s ?p ?o } } }",
    ],
)
def test_valid_grouped_queries_pass(text: str) -> None:
    assert inspect(text).form == "SELECT"


# escapes: SPARQL 1.1 section 19.2


def test_rdflib_resolves_escapes_itself_but_loosely() -> None:
    """Why the gate resolves escapes itself: rdflib's parseQuery does, but reads \\U with four digits and \\u
    with eight, which SPARQL does not."""
    assert parseQuery("\\U0053ELECT * {}")[1].name == "SelectQuery"  # rdflib: a keyword; SPARQL: no query
    assert refusal("\\U0053ELECT * {}").status == 400
    assert inspect("\\U00000053ELECT * {}").form == "SELECT"
    assert inspect("\\u0053ELECT * {}").form == "SELECT"


def test_escapes_are_resolved_once() -> None:
    assert resolve_escapes("\\u005Cu0053") == "\\u0053"
    assert resolve_escapes("\\\\u0053") == "\\S"  # before parsing, whatever precedes it: \\S in a string is no escape
    assert resolve_escapes("\\u00410041") == "A0041"  # four digits after \u, never eight
    assert resolve_escapes("\\U0001F600\\u0041") == "\U0001f600A"
    assert resolve_escapes("\\u004 \\uXYZW \\U1234") == "\\u004 \\uXYZW \\U1234"
    # after the first pass the text holds \u0041 inside a string: an escape SPARQL strings do not have
    assert refusal('SELECT ("\\u005Cu0041" AS ?x) {}').status == 400


@pytest.mark.parametrize("escape", ["\\uD800", "\\uDFFF", "\\U00110000", "\\UFFFFFFFF"])
def test_escapes_of_no_character_are_refused(escape: str) -> None:
    refused = refusal(f'SELECT ("{escape}" AS ?x) {{}}')
    assert refused.status == 400 and escape in refused.english


no_backslash = st.characters(exclude_characters="\\", exclude_categories=["Cs"])


@given(text=st.text(alphabet=no_backslash, max_size=40), forms=st.lists(st.integers(0, 2), min_size=40, max_size=40))
@settings(max_examples=EXAMPLES * 3, deadline=None, derandomize=True, database=None)
def test_any_text_written_as_escapes_resolves_to_itself(text: str, forms: list[int]) -> None:
    """Each character raw, as \\uXXXX (when it fits in four digits) or as \\UXXXXXXXX: one pass gives the text."""

    def written(char: str, form: int) -> str:
        if form == 1 and ord(char) <= 0xFFFF:
            return f"\\u{ord(char):04X}"
        if form == 2:
            return f"\\U{ord(char):08x}"
        return char

    escaped = "".join(written(c, f) for c, f in zip(text, forms, strict=False))
    assert resolve_escapes(escaped) == text


@given(text=st.text(alphabet=no_backslash, max_size=60))
@settings(max_examples=EXAMPLES * 3, deadline=None, derandomize=True, database=None)
def test_a_text_without_backslashes_is_its_own_resolution(text: str) -> None:
    assert resolve_escapes(text) == text


# nesting and tokens


@given(depth=st.integers(0, 300), inner=st.sampled_from(["?s ?p ?o", "", "FILTER(1)", "?s ?p [ ?q 1 ]"]))
@settings(max_examples=EXAMPLES * 2, deadline=None, derandomize=True, database=None)
def test_each_level_of_braces_counts_once(depth: int, inner: str) -> None:
    base_depth = measure("{" + inner + "}")[0]
    assert measure("{" * depth + "{" + inner + "}" + "}" * depth)[0] == base_depth + depth


@given(
    noise=st.text(alphabet="{}()[]", max_size=200),
    wrap=st.sampled_from(['"{}"', "'{}'", '"""{}"""', "'''{}'''", "#{}\n"]),
)
@settings(max_examples=EXAMPLES * 2, deadline=None, derandomize=True, database=None)
def test_brackets_in_strings_and_comments_never_count(noise: str, wrap: str) -> None:
    assert measure("{ ?s ?p " + wrap.format(noise) + " }")[0] == 1


def test_a_less_than_sign_is_no_iri() -> None:
    assert measure("FILTER(?a < (((1))) && ?b > 2)")[0] == 4
    assert measure("?s <http://e/(((> ?o")[0] == 0


def test_the_limit_is_refused_on_the_resolved_text_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing parses a query past the limit: the parser is never called."""
    import rdflib.plugins.sparql.parser as grammar

    calls: list[str] = []
    real: Callable[..., object] = grammar.Query.parse_string

    def counted(*args: object, **kwargs: object) -> object:
        calls.append("parsed")
        return real(*args, **kwargs)

    monkeypatch.setattr(grammar.Query, "parse_string", counted)
    assert refusal("ASK " + "{" * 101 + "}" * 101).status == 400
    assert refusal("ASK " + "{" * 3 + "}" * 3, max_nesting=2).status == 400
    assert not calls
    assert inspect("ASK " + "{" * 3 + "}" * 3, max_nesting=3).form == "ASK"
    assert calls


def test_the_gate_is_the_only_judge_in_the_worker() -> None:
    """server.sparql keeps no pattern of its own over the query text."""
    from server.sparql import engine as sparql

    assert not hasattr(sparql, "_NOT_FOR_OXIGRAPH")
    assert not hasattr(sparql, "_FINAL_LIMIT")
    assert not hasattr(sparql, "limited_to")
    assert not hasattr(sparql, "_refuse_update")


def test_a_worker_answers_what_the_gate_refuses_as_the_gate_says() -> None:
    """The worker's own function, in this process: the gate's status and words are the answer."""
    from server.sparql.engine import _WorkerData
    from server.sparql.jobs import QueryJob

    graph = Graph()
    worker = _WorkerData(graph, None)
    for text, status in [
        ("SELECT * { SERVICE <http://127.0.0.1:1/> { } }", 403),
        ("CLEAR ALL", 403),
        ("SELECT * {", 400),
        ("ASK " + "{" * 200 + "}" * 200, 400),
        ("DESCRIBE * WHERE { ?s ?p ?o }", 200),
    ]:
        job = QueryJob(text, "http://x/sparql", "json", "turtle", None, None, 10, False, "rid")
        outcome = worker.execute(job)
        assert outcome.status == status, (text, outcome.body)
        assert b"NoneType" not in outcome.body


def test_a_worker_remembers_only_verdicts_for_pyoxigraph(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same text again skips rdflib's parser on pyoxigraph's path only; rdflib never evaluates a
    remembered parse (the protocol's dataset sends the same text to rdflib: parsed afresh)."""
    import rdflib.plugins.sparql.parser as grammar

    from server.sparql.engine import _WorkerData
    from server.sparql.jobs import QueryJob

    graph = Graph()
    graph.add((URIRef(ID + "s"), URIRef(ROW), URIRef(ID + "o")))
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode(ID + "s"), ox.NamedNode(ROW), ox.NamedNode(ID + "o")))
    worker = _WorkerData(graph, store)
    calls: list[str] = []
    real: Callable[..., object] = grammar.Query.parse_string

    def counted(*args: object, **kwargs: object) -> object:
        calls.append("parsed")
        return real(*args, **kwargs)

    monkeypatch.setattr(grammar.Query, "parse_string", counted)
    text = f"SELECT ?o WHERE {{ ?s <{ROW}> ?o }}"

    def job(default_graphs: tuple[str, ...] | None = None) -> QueryJob:
        return QueryJob(text, "http://x/sparql", "json", None, default_graphs, None, 10, False, "rid")

    first, second = worker.execute(job()), worker.execute(job())
    assert first.status == second.status == 200 and first.rows == second.rows == 1
    assert len(calls) == 0  # the fast path: the tokens decided, rdflib never parsed the text
    assert worker.execute(job((ID + "graph",))).status == 200
    assert len(calls) == 1
    assert worker.execute(job(("http://example.org/other",))).rows == 0  # rdflib's answer on an empty graph


# --- (f) the fast path: tokens alone --------------------------------------------------------------------------


def full_path_eligible(text: str) -> bool:
    try:
        return inspect(text).oxigraph_may_answer
    except Refused:
        return False


def pyoxigraph_refuses(query: str) -> bool:
    """A text rdflib refuses may reach pyoxigraph only if pyoxigraph refuses it too (a 400 either way)."""
    try:
        ox.Store().query(query)
    except SyntaxError:
        return True
    return False


KEYWORDS = ["SERVICE", "FROM", "GRAPH", "LOAD", "INSERT", "DELETE", "CLEAR", "DROP", "COPY", "WITH", "USING"]
# Pieces of queries, harmless and not: the fast path may take a text only when the full parse lets pyoxigraph.
PIECES = [
    "?s ?p ?o",
    " . ",
    "FILTER(?a<?b)",
    "FILTER(?a < ?b)",
    "<http://e/x>",
    "<?b)",
    "#>\n",
    "#c\n",
    "1",
    "{ }",
    "OPTIONAL { ?s ?p ?o }",
    "ex:",
    '"x"',
    "@en",
    "?",
    ")",
    "(",
    ":",
    "<",
    ">",
    "\\.",
]


@st.composite
def token_soups(draw: st.DrawFn) -> str:
    piece = st.sampled_from(PIECES) | st.sampled_from(KEYWORDS).flatmap(spelled) | st.sampled_from(["", " ", "\n"])
    inner = draw(st.lists(piece, max_size=12))
    form = draw(
        st.sampled_from(["SELECT * WHERE", "ASK", "SELECT ?s", "CONSTRUCT WHERE", "PREFIX ex: <http://e/> ASK"])
    )
    tail = draw(st.sampled_from(["", " LIMIT 3", " LIMIT 3 OFFSET 1", " OFFSET 1 LIMIT 4", " LIMIT 1 VALUES ?s {}"]))
    return f"{form} {{ {''.join(inner)} }}{tail}"


@given(query=service_queries("http://127.0.0.1:1/x"))
@settings(max_examples=EXAMPLES * 3, deadline=None, derandomize=True, database=None)
def test_the_fast_path_never_takes_a_query_with_service(query: str) -> None:
    assert screen(query) is None, query


@given(query=token_soups() | service_queries("http://127.0.0.1:1/x"))
@settings(max_examples=EXAMPLES * 5, deadline=None, derandomize=True, database=None)
@example(query="SELECT * WHERE { FILTER(?a<?b)SERVICE?v#>\n{ } }")
@example(query="SELECT * WHERE { ?s ?p 1SERVICE <http://x/> { } }")
@example(query="PREFIX svc: <http://x/> ASK { ?s ?p true OPTIONAL { SERVICEsvc:x { } } }")
@example(query="PREFIX ex: <http://e/> ASK { ?s ex:SERVICE ?o } LIMIT 2")
def test_what_the_fast_path_takes_the_full_parse_gives_pyoxigraph(query: str) -> None:
    """Fast-path accepted implies the full path says pyoxigraph-eligible (or pyoxigraph refuses the text, a 400
    either way), with the same form and final LIMIT."""
    screened = screen(query)
    if screened is None:
        return
    if not full_path_eligible(query):
        assert pyoxigraph_refuses(query), query
        return
    gated = inspect(query)
    # after a trailing VALUES the tokens give no limit: the answer is cut as usual, never trusted uncut
    expected = None if "VALUES" in query else gated.limit
    assert (screened.form, screened.limit) == (gated.form, expected), query


def test_the_fast_path_takes_plain_queries_and_their_limit() -> None:
    for text in [
        "SELECT ?s WHERE { ?s ?p ?o } LIMIT 5",
        "select * { ?s ?p ?o } offset 2 limit 7",
        "SELECT * { ?s ?p ?o } LIMIT 7 OFFSET 2",
        "PREFIX ex: <http://e/> ASK { ?s ex:SERVICE ?SERVICE . ?s ?p 'FROM GRAPH' }",
        "SELECT ?s WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 3 } }",
        "SELECT ?s WHERE { ?s ?p ?o } LIMIT 5 # LIMIT 9\n",
    ]:
        screened = screen(text)
        assert screened is not None, text
        assert screened.limit == inspect(text).limit, text
    trailing = screen("SELECT ?s WHERE { ?s ?p ?o } LIMIT 5 VALUES ?s { <http://e/a> }")
    assert trailing is not None and trailing.limit is None  # no shortcut: cut as usual


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { ?s ?p 1SERVICE <http://x/> { } }",
        "SELECT * FROM <http://e/g> WHERE { }",
        "SELECT * WHERE { GRAPH ?g { } }",
        'SELECT * WHERE { ?s ?p "\\u0041" }',
        "CONSTRUCT WHERE { ?s ?p ?o }",
        "DESCRIBE <http://e/a>",
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "SELECT * WHERE { FILTER(?a<?b)SERVICE?v#>\n{ } }",
        "SELECT * WHERE { SERVICESILENT <http://x/> { } }",
        "PREFIX svc: <http://x/> ASK { ?s ?p true OPTIONAL { servIcesvc:x { } } }",  # found by the live test
        'ASK { ?s ?p "x"@enSERVICE }',
        "ASK " + "{" * 201 + "}" * 201,
        "SELECT * WHERE { FILTER(" + "+".join(["1"] * 3000) + ") }",
    ],
)
def test_the_fast_path_leaves_the_rest_to_the_full_parse(text: str) -> None:
    assert screen(text) is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("ex:SERVICE", "pname"),
        ("SERVICE:x", "pname"),
        ("?SERVICE", "var"),
        ("$graph", "var"),
        ("<http://e/SERVICE>", "iri"),
        ('"SERVICE"', "string"),
        ("'''FROM\nGRAPH'''", "string"),
        ("_:SERVICE", "bnode"),
    ],
)
def test_keywords_inside_other_terminals_are_no_words(text: str, kind: str) -> None:
    assert tokens(text) == [(kind, text)]


def test_a_number_then_a_keyword_are_two_tokens() -> None:
    assert tokens("1SERVICE") == [("number", "1"), ("word", "SERVICE")]
    assert tokens("1.5e3from") == [("number", "1.5e3"), ("word", "from")]
    assert tokens("?x.SERVICE") == [("var", "?x"), ("other", "."), ("word", "SERVICE")]
