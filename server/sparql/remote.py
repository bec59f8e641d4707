"""SPARQL on a shared triplestore: with HVKG_SPARQL_ENDPOINT=URL, queries pass the service's own gate, then a
SPARQL 1.1 store loaded from the same snapshot answers them instead of the embedded engine.

What a query goes through (server/sparql/protocol.py hands it here instead of to the embedded engine):

    in a worker process (the same pool, the same time limit, the same network wall as the embedded engine):
    the gate (server/sparql/gate.py: read-only, no SERVICE, nesting, a parse rdflib accepts) -> the dataset
    (server/sparql/dataset.py: FROM / FROM NAMED / default-graph-uri / named-graph-uri, every IRI checked)
    -> `Forward`: the text the store gets and the graphs it may read, named in the store's own names;
    in the server process: is this snapshot published in the store? (503 naming `hvkg publish` when not)
    -> POST the query to the store (form body, SPARQL 1.1 Protocol) within what is left of the time limit
    -> read its answer as a stream, stopping one row past the row limit -> write it with our own writers
    (server/sparql/formats.py), so the formats, the truncation note, X-SPARQL-Row-Limit, -Row-Count and
    -Truncated are the embedded engine's.

Decisions, and why:
- The gate runs in a worker, not here: rdflib's parser on a hostile text can take as long as evaluation can,
  and only a process can be killed. The worker never talks to the store (it has no network); the server
  process does, with httpx.
- Graph names in the store are scoped by the snapshot's content hash (`snapshot_graph`, `scoped_graph`):
  <urn:hvkg:snapshot:HASH> is the whole graph (our default graph, GRAPH_IRI), and each source's named graph
  is <urn:hvkg:snapshot:HASH:ESCAPED-IRI>. Every query is sent with `default-graph-uri` and `named-graph-uri`
  set explicitly (they replace the query's own FROM and FROM NAMED, SPARQL 1.1 Protocol 2.1.4), so a query
  reads its own snapshot's graphs and nothing else of the store: a service that reloads to a new snapshot
  switches graphs in one step, between two queries, and no answer mixes two snapshots. Graph names in an
  answer (GRAPH ?g) are mapped back to ours.
- A snapshot is published when its marker is in the catalogue graph <urn:hvkg:published> (written last by
  server/sparql/publish.py, after every graph of the snapshot is loaded): a half-loaded snapshot is never read.
  The check is remembered for `RECHECK_SECONDS`.
- An empty default graph or no named graph at all is sent as <urn:hvkg:none>, a graph no store holds (an
  omitted parameter would give the store's own default dataset); a row or triple that names it (GRAPH ?g over
  an empty named set binds it on Oxigraph) is dropped, so the answer is the embedded engine's.
- Refused here and not by the embedded engine: a default graph merged from several of our graphs (a store
  answers a triple two of them hold twice, where SPARQL's merge holds it once: name one graph, or the whole
  graph), and a query that still holds a \\u escape after the gate resolved them (the store would resolve it
  again and read another query than the gate did).
- The store gets the text with its escapes resolved (what the gate parsed), `BASE <the endpoint's URL>` when
  the query has no BASE, and a PREFIX for each prefix the query uses without declaring it that the snapshot
  binds (the embedded engine knows them too). Its error messages count lines from that prologue.
- Results are asked as application/sparql-results+xml (SELECT, ASK; both Oxigraph and Virtuoso write it, and
  it streams with the standard library's pull parser) and application/n-triples (CONSTRUCT, DESCRIBE, one
  triple a line), read until one row or triple past the row limit, then the connection is closed: a store
  answer of any size costs at most `row_limit + 1` rows and `MAX_ANSWER_BYTES`. Virtuoso answers ASK as a
  one-row table (__ASK_RETVAL), which is read as the boolean it is.
- Errors: the store's 4xx is a 400 (the store's own words, shortened); its timeout (Oxigraph's 500 naming a
  timeout, Virtuoso's partial "anytime" answer, X-SQL-State S1TAT) or the service's own deadline is our 504;
  an unreachable store, a 5xx or an answer we cannot read is a 502. Both languages, never a traceback.
- DESCRIBE is the store's own: Oxigraph, Virtuoso and rdflib describe a resource differently (SPARQL leaves
  it to the service), so DESCRIBE answers may differ from the embedded engine's; every other form agrees.
- The store must stop a query itself too (Oxigraph `--timeout-s`, Virtuoso MaxQueryExecutionTime) at or
  below HVKG_SPARQL_TIME_LIMIT: closing the connection at our deadline does not stop its work. Virtuoso's
  ResultSetMaxRows must be at least HVKG_SPARQL_ROW_LIMIT + 1, or a cut answer looks whole.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import warnings
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import anyio
import httpx
from rdflib import Graph, Variable
from rdflib.term import Node

from server.sparql.config import SnapshotLike, SPARQLConfig
from server.sparql.dataset import GRAPH_IRI, _dataset, held_graphs
from server.sparql.errors import PLAIN, _refuse, _say
from server.sparql.formats import (
    GRAPH_TYPES,
    RESULT_TYPES,
    _ask_outcome,
    _graph_outcome,
    _select_outcome,
)
from server.sparql.gate import inspect
from server.sparql.guard import allow_deep_queries, lock_rdflib, mend_rdflib
from server.sparql.jobs import QueryJob, QueryOutcome, _Answer, _answer
from server.sparql.lexer import Refused, resolve_escapes, tokens
from server.sparql.lexer import short as _short
from server.sparql.store_answers import ResultReader, TripleReader, ask_row, raise_unreadable, read_some
from server.sparql.store_graphs import CATALOGUE, NO_GRAPH, TRIPLE_COUNT, scoped_graph, snapshot_graph
from server.sparql.workers import WorkerTimeout

if TYPE_CHECKING:
    from server.sparql.workers import WorkerPool

__all__ = ["Forward", "RemoteEngine"]

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 30.0  # how long a positive "published" answer is trusted
MAX_ANSWER_BYTES = 64 * 1024 * 1024  # past this, the store's answer is refused (502), whatever its rows
# --- in the worker: the gate, the dataset, the text the store gets --------------------------------------------


@dataclass(frozen=True)
class Forward:
    """A query the gate accepted, ready for the store (pickled from the worker to the server)."""

    text: str  # resolved escapes, with BASE and undeclared prefixes prepended
    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    default_graphs: tuple[str, ...]  # our IRIs; () is the empty graph
    named_graphs: tuple[str, ...]


def _prepare_gate(snapshot: SnapshotLike) -> Callable[[QueryJob], QueryOutcome | Forward]:
    """Runs in the forked worker, once (the pool's `setup`): the gate and the dataset, never an engine."""
    lock_rdflib()
    mend_rdflib()
    allow_deep_queries()
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"rdflib\.")
    prefixes = dict(snapshot.graph.namespaces())
    held = held_graphs(getattr(snapshot, "store", None))

    def gate(job: QueryJob) -> QueryOutcome | Forward:
        try:
            return _forward(job, prefixes, held)
        except _Answer as answer:
            return answer.outcome
        except Refused as refusal:
            return QueryOutcome(refusal.status, PLAIN, (_say(refusal.english, refusal.japanese) + "\n").encode())

    return gate


def _forward(job: QueryJob, prefixes: dict[str, Any], held: tuple[str, ...]) -> Forward:
    gated = inspect(job.text, base=job.base, prefixes=prefixes, max_nesting=job.max_nesting)
    is_graph = gated.form in ("CONSTRUCT", "DESCRIBE")
    if (job.graph_format if is_graph else job.result_format) is None:
        types, form = (GRAPH_TYPES, "CONSTRUCT and DESCRIBE") if is_graph else (RESULT_TYPES, "SELECT and ASK")
        _answer(
            406,
            f"None of the media types in Accept fits; {form} results are available as {types}.",
            f"Accept のメディアタイプはどれも提供できません。{form} の結果は {types} で返せます。",
        )
    default, named = _dataset(gated, job, held)  # refuses an IRI the service may not name
    known = (*held, GRAPH_IRI)
    if default is None:
        default_graphs: tuple[str, ...] = (GRAPH_IRI,)
    elif GRAPH_IRI in default:
        default_graphs = (GRAPH_IRI,)  # the whole graph holds every other
    else:
        default_graphs = tuple(name for name in dict.fromkeys(default) if name in known)  # the others are empty
    if len(default_graphs) > 1:
        names = ", ".join(f"<{name}>" for name in default_graphs)
        _answer(
            400,
            f"This service answers SPARQL from a shared store, which cannot merge several graphs ({names}) into "
            f"one default graph; name one of them, or the whole graph <{GRAPH_IRI}>.",
            f"このサービスは共有ストアで SPARQL に答えるため、複数のグラフ({names})を一つの既定グラフに"
            f"まとめられません。一つだけ、またはグラフ全体 <{GRAPH_IRI}> を指定してください。",
        )
    named_graphs = (held or (GRAPH_IRI,)) if named is None else tuple(n for n in dict.fromkeys(named) if n in known)
    resolved = resolve_escapes(job.text)
    if "\\u" in resolved or "\\U" in resolved:
        _answer(
            400,
            "The query holds a \\u or \\U escape once its escapes are resolved; the shared store would resolve it "
            "again and read another query. Write the character itself.",
            "エスケープを解決した後も \\u または \\U が残っています。共有ストアはそれを再び解決し、別のクエリとして"
            "読んでしまいます。文字をそのまま書いてください。",
        )
    return Forward(_with_prologue(resolved, job.base, prefixes), gated.form, default_graphs, named_graphs)


def _with_prologue(resolved: str, base: str, prefixes: dict[str, Any]) -> str:
    """BASE (unless the query has one) and the snapshot's prefixes the query uses but does not declare."""
    found = tokens(resolved)
    declared: set[str] = set()
    used: set[str] = set()
    has_base = False
    for index, (kind, text) in enumerate(found):
        if kind == "word" and text.upper() == "BASE":
            has_base = True
        elif kind == "pname":
            prefix = text.split(":", 1)[0]
            if index and found[index - 1][0] == "word" and found[index - 1][1].upper() == "PREFIX":
                declared.add(prefix)
            else:
                used.add(prefix)
    lines = [] if has_base else [f"BASE <{base}>"]
    lines += [f"PREFIX {p}: <{prefixes[p]}>" for p in sorted(used - declared) if p in prefixes]
    return "\n".join([*lines, resolved]) if lines else resolved


# --- in the server process: the store ---------------------------------------------------------------------------


class RemoteEngine:
    """Forwards gated queries to the store at `config.endpoint`. `await close()` at shutdown."""

    def __init__(self, config: SPARQLConfig) -> None:
        assert config.endpoint is not None
        self.url = config.endpoint
        self.config = config
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(config.time_limit),
            limits=httpx.Limits(max_connections=max(4, config.max_concurrent * 2)),
            follow_redirects=False,
            trust_env=False,  # the store is reached directly, never through a proxy of the environment
        )
        self.published: dict[str, float] = {}  # content hash -> when the store last said it holds it

    async def close(self) -> None:
        await self.client.aclose()

    async def run(
        self, pool: WorkerPool[SnapshotLike, QueryJob, QueryOutcome | Forward], snapshot: SnapshotLike, job: QueryJob
    ) -> QueryOutcome:
        """The gate in a worker, then the store. Raises what the pool raises (WorkerTimeout at the deadline too),
        or ProtocolError for the store's refusals."""
        started = time.monotonic()
        verdict = await pool.run(snapshot, job)
        if isinstance(verdict, QueryOutcome):
            return verdict
        left = self.config.time_limit - (time.monotonic() - started)
        try:
            with anyio.fail_after(max(left, 0.001)):
                await self._check_published(snapshot.content_hash)
                return await self._ask(snapshot.content_hash, verdict, job)
        except TimeoutError:
            raise WorkerTimeout from None

    async def _check_published(self, content_hash: str) -> None:
        seen = self.published.get(content_hash)
        if seen is not None and time.monotonic() - seen < RECHECK_SECONDS:
            return
        query = f"ASK {{ GRAPH <{CATALOGUE}> {{ <{snapshot_graph(content_hash)}> <{TRIPLE_COUNT}> ?n }} }}"
        published = False
        async with contextlib.aclosing(self._stream(content_hash, query, "ASK", [NO_GRAPH], [CATALOGUE], 1)) as got:
            async for kind, value in got:
                published = published or (kind == "boolean" and value is True) or (kind == "row" and ask_row(value))
        if not published:
            _refuse(
                503,
                f"The SPARQL store {self.url} does not hold this graph (snapshot {content_hash}) yet: load it with "
                "`hvkg publish STORE-URL` (docs/operations.md).",
                f"SPARQL ストア {self.url} にはこのグラフ(スナップショット {content_hash})がまだありません。"
                "`hvkg publish STORE-URL` で読み込んでください(docs/operations.md)。",
                headers={"Retry-After": "30"},
            )
        self.published[content_hash] = time.monotonic()

    async def _ask(self, content_hash: str, forward: Forward, job: QueryJob) -> QueryOutcome:
        limit = job.row_limit
        default = [scoped_graph(content_hash, name) for name in forward.default_graphs] or [NO_GRAPH]
        named = [scoped_graph(content_hash, name) for name in forward.named_graphs] or [NO_GRAPH]
        answer = self._stream(content_hash, forward.text, forward.form, default, named, limit)
        if forward.form in ("CONSTRUCT", "DESCRIBE"):
            assert job.graph_format is not None
            graph = Graph()
            async with contextlib.aclosing(answer) as got:
                async for _, triple in got:
                    graph.add(triple)
            return _graph_outcome(job.graph_format, graph, {}, limit)
        assert job.result_format is not None
        variables: list[Variable] = []
        rows: list[Mapping[Node, Node]] = []
        boolean: bool | None = None
        async with contextlib.aclosing(answer) as got:
            async for kind, value in got:
                if kind == "head":
                    variables = value
                elif kind == "boolean":
                    boolean = value
                else:
                    rows.append(value)
        if forward.form == "ASK":
            if boolean is None:
                # Virtuoso answers ASK as a one-row table whose one value is 1 or 0
                if len(rows) > 1:
                    raise_unreadable("an ASK answered with a table")
                boolean = bool(rows) and ask_row(rows[0])
            return _ask_outcome(job.result_format, boolean)
        return _select_outcome(job.result_format, list(variables), rows, limit)

    async def _stream(
        self, content_hash: str, text: str, form: str, default: list[str], named: list[str], limit: int
    ) -> AsyncGenerator[tuple[str, Any], None]:
        """The store's answer, piece by piece: ("head", variables), ("row", {var: term}), ("boolean", bool),
        ("triple", (s, p, o)); stops one row or distinct triple past `limit`. `default` and `named` are the
        store's own graph names."""
        body = [("query", text)]
        body += [("default-graph-uri", name) for name in default]
        body += [("named-graph-uri", name) for name in named]
        is_graph = form in ("CONSTRUCT", "DESCRIBE")
        accept = "application/n-triples" if is_graph else "application/sparql-results+xml"
        reader: TripleReader | ResultReader = TripleReader(content_hash) if is_graph else ResultReader(content_hash)
        try:
            async with self.client.stream(
                "POST",
                self.url,
                content=urlencode(body).encode(),
                headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"},
            ) as response:
                if response.status_code != 200:
                    said = (await read_some(response)).decode("utf-8", "replace")
                    self._store_refused(response.status_code, said)
                if response.headers.get("x-sql-state") == "S1TAT":
                    raise WorkerTimeout  # Virtuoso's partial "anytime" answer: its own time limit passed
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_ANSWER_BYTES:
                        _refuse(
                            502,
                            f"The SPARQL store's answer is larger than {MAX_ANSWER_BYTES} bytes.",
                            f"SPARQL ストアの応答が {MAX_ANSWER_BYTES} バイトを超えています。",
                        )
                    for piece in reader.feed(chunk):
                        yield piece
                        if reader.count > limit:
                            return
                for piece in reader.close():
                    yield piece
        except httpx.TimeoutException:
            raise WorkerTimeout from None
        except (httpx.HTTPError, ElementTree.ParseError, SyntaxError, ValueError) as error:
            logger.warning("the SPARQL store %s failed: %r", self.url, error)
            _refuse(
                502,
                f"The SPARQL store {self.url} could not be read ({_short(error)}).",
                f"SPARQL ストア {self.url} から応答を読めませんでした({_short(error)})。",
            )

    def _store_refused(self, status: int, text: str) -> None:
        said = " ".join(text.split())[:300]
        if re.search(r"time ?out|timed out|S1TAT", text, re.IGNORECASE):
            raise WorkerTimeout
        if 400 <= status < 500 and status not in (401, 403, 404, 407):
            _refuse(
                400,
                f"The SPARQL store refused the query: {said}",
                f"SPARQL ストアがクエリを受け付けませんでした：{said}",
            )
        logger.warning("the SPARQL store %s answered %s: %s", self.url, status, said)
        _refuse(
            502,
            f"The SPARQL store {self.url} answered {status}: {said}",
            f"SPARQL ストア {self.url} が {status} を返しました：{said}",
        )
