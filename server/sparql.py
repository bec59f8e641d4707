"""The SPARQL 1.1 Protocol endpoint, read-only: GET, POST form and POST `application/sparql-query`.

What a request goes through, in the server process:

    parse the parameters (GET query string, or a body read in chunks under a size cap)
    -> refuse updates (403) -> negotiate the result format from Accept (406 when nothing fits)
    -> hand the query text to a worker process of `WorkerPool`

and in the worker process (forked from the server with the snapshot, see server/sparql_worker.py):

    the gate (server/sparql_gate.py): resolve the \\u escapes -> refuse nesting past the limit (400) -> parse
    -> refuse updates and LOAD (403), SERVICE anywhere in the parse (403), a malformed query (400)
    -> resolve the dataset from FROM / FROM NAMED or the protocol parameters, without ever fetching a graph
    -> evaluate (pyoxigraph when the gate allows it, else rdflib on the gate's algebra) under the time limit
    -> cut at the row limit -> serialise to bytes in the negotiated format

The gate runs in the worker too: pyparsing on a hostile query can take as long as evaluation can.

The service's dataset (graph/named_graphs.py, docs/decisions.md "Named graphs"): one named graph per source,
held in the snapshot's pyoxigraph store beside its default graph, which is the whole graph, their union. So
every query without a dataset answers as it always did; FROM, FROM NAMED, GRAPH and the protocol's
default-graph-uri / named-graph-uri choose among the named graphs:
- BASE + "doc-article" (the article), BASE + "doc-external-facts" (and every other outside document): what
  each document says; BASE + "graph/editorial": what the project decides; BASE + "ontology": the vocabulary;
- BASE + "graph" (GRAPH_IRI) names the whole graph in FROM / FROM NAMED, as before named graphs were split;
  it is not among the named graphs GRAPH ?g lists, where it would repeat every triple;
- any other http(s) IRI names an empty graph (the W3C protocol tests send such IRIs), any other scheme is
  refused (400), and HVKG_SPARQL_STRICT_DATASET refuses every IRI the service does not hold. Nothing is ever
  fetched: the choice is made on the gate's parse, and pyoxigraph is given that dataset explicitly.
A snapshot without named graphs (tests' stand-ins) has GRAPH_IRI as its one named graph.

Messages that a person reads are in English and Japanese ("English / 日本語"); no response ever carries a
traceback.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import math
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, cast
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape, quoteattr

import anyio.to_thread
import jinja2
import orjson
import pyoxigraph as ox
from rdflib import RDF, RDFS, BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.term import Node
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from graph.layout import BASE
from graph.named_graphs import NamedGraph
from graph.named_graphs import describe as describe_graphs
from graph.named_graphs import order as graph_order
from server.endpoint import Endpoint
from server.logs import request_id_of
from server.metrics import sparql_form
from server.negotiation import negotiate, parse_accept, quality
from server.sparql_gate import (
    DEFAULT_MAX_NESTING,
    UPDATE_REFUSED,
    Gated,
    Refused,
    Screened,
    allow_deep_queries,
    inspect,
    lock_rdflib,
    mend_rdflib,
    screen,
    worded,
)
from server.sparql_gate import short as _short
from server.sparql_worker import (
    PoolBusy,
    PoolClosed,
    WorkerFailed,
    WorkerOutOfMemory,
    WorkerPool,
    WorkerTimeout,
)

if TYPE_CHECKING:
    from graph.snapshot import Snapshot
    from server.state import SnapshotHolder

__all__ = [
    "GRAPH_IRI",
    "ID_BASE",
    "SPARQLConfig",
    "SPARQLEndpoint",
    "close",
    "negotiate",
    "sparql_routes",
]

logger = logging.getLogger(__name__)

ID_BASE = BASE
GRAPH_IRI = ID_BASE + "graph"
TEMPLATES = Path(__file__).resolve().parent / "templates"

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
DCTERMS = Namespace("http://purl.org/dc/terms/")

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
PLAIN = "text/plain; charset=utf-8"


# --- configuration --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SPARQLConfig:
    """The endpoint's limits. `from_env()` reads HVKG_SPARQL_<FIELD NAME IN CAPITALS> for each field."""

    time_limit: float = 5.0  # seconds per query, parsing and serialising included
    row_limit: int = 10_000  # solutions (SELECT) or triples (CONSTRUCT, DESCRIBE) per response
    max_concurrent: int = 4  # queries running at once = worker processes per snapshot
    max_query_bytes: int = 64 * 1024
    max_body_bytes: int = 1024 * 1024
    # An oversized body up to this size is read and thrown away, chunk by chunk, before the 413: clients that
    # send the whole body before reading (urllib, SPARQLWrapper) would otherwise see a reset, not the 413.
    # A body declared larger than this gets the 413 at once, without reading it.
    drain_limit_bytes: int = 16 * 1024 * 1024
    # Bytes a worker may allocate beyond what it inherits from the server; None: no limit.
    memory_limit_bytes: int | None = 1024 * 1024 * 1024
    # False: an http(s) IRI other than GRAPH_IRI in FROM / FROM NAMED / default-graph-uri / named-graph-uri names
    # an empty graph (never fetched), as the W3C protocol tests expect. True: it is refused with 400.
    # Any other scheme (file:, ftp:, urn: ...) is always refused.
    strict_dataset: bool = False
    # Levels of { }, ( ) and [ ] a query may nest; deeper is refused (400) before any engine parses it.
    max_nesting: int = DEFAULT_MAX_NESTING
    # Queries that may wait, first come first served, for a busy worker (each at most time_limit); past that,
    # 503 with Retry-After. None: 4 per worker; 0: no queue.
    queue: int | None = None
    # A worker whose memory grew by more than this in one query exits after answering, giving its peak heap
    # back (the next query forks a fresh one); None: never.
    recycle_bytes: int | None = 64 * 1024 * 1024

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SPARQLConfig:
        env = os.environ if environ is None else environ
        default = cls()

        def read(name: str, parse: Callable[[str], Any], fallback: Any) -> Any:
            raw = env.get("HVKG_SPARQL_" + name.upper())
            return fallback if raw is None or raw.strip() == "" else parse(raw.strip())

        return cls(
            time_limit=read("time_limit", float, default.time_limit),
            row_limit=read("row_limit", int, default.row_limit),
            max_concurrent=read("max_concurrent", int, default.max_concurrent),
            max_query_bytes=read("max_query_bytes", int, default.max_query_bytes),
            max_body_bytes=read("max_body_bytes", int, default.max_body_bytes),
            drain_limit_bytes=read("drain_limit_bytes", int, default.drain_limit_bytes),
            memory_limit_bytes=read("memory_limit_bytes", _optional_int, default.memory_limit_bytes),
            strict_dataset=read("strict_dataset", _flag, default.strict_dataset),
            max_nesting=read("max_nesting", int, default.max_nesting),
            queue=read("queue", int, default.queue),
            recycle_bytes=read("recycle_bytes", _optional_int, default.recycle_bytes),
        )


def _optional_int(raw: str) -> int | None:
    return None if raw.lower() in ("none", "off", "0") else int(raw)


def _flag(raw: str) -> bool:
    return raw.lower() in ("1", "true", "yes", "on")


class SnapshotLike(Protocol):
    """What the endpoint reads of a snapshot (graph.snapshot.Snapshot has more)."""

    @property
    def graph(self) -> Graph: ...

    @property
    def content_hash(self) -> str: ...

    @property
    def triple_count(self) -> int: ...

    @property
    def queries(self) -> Mapping[str, str]: ...


# --- messages -------------------------------------------------------------------------------------------------


def _say(english: str, japanese: str) -> str:
    return f"{english} / {japanese}"


class ProtocolError(Exception):
    """A refusal with its status; the message is what the client reads."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def _refuse(status: int, english: str, japanese: str, headers: Mapping[str, str] | None = None) -> NoReturn:
    raise ProtocolError(status, _say(english, japanese), headers)


def _text(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(message + "\n", status_code=status, media_type=PLAIN, headers=dict(headers or {}))


# --- content negotiation --------------------------------------------------------------------------------------

# (media type a client may ask for, format key). Order breaks ties: the first is the default.
RESULT_OFFERS: tuple[tuple[str, str], ...] = (
    ("application/sparql-results+json", "json"),
    ("application/sparql-results+xml", "xml"),
    ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"),
    ("application/json", "json"),
    ("application/xml", "xml"),
    ("text/xml", "xml"),
    ("text/html", "json"),  # a browser following a link gets the default
)
GRAPH_OFFERS: tuple[tuple[str, str], ...] = (
    ("text/turtle", "turtle"),
    ("application/ld+json", "json-ld"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "rdfxml"),
    ("application/turtle", "turtle"),
    ("application/x-turtle", "turtle"),
    ("application/x-json+ld", "json-ld"),
    ("application/json", "json-ld"),
    ("application/xml", "rdfxml"),
    ("text/plain", "nt"),
    ("text/html", "turtle"),
)
# GET without a query: RDF for machines; text/html (the query page) is decided apart, see _describe.
DESCRIPTION_OFFERS = tuple(offer for offer in GRAPH_OFFERS if offer[0] != "text/html")
MEDIA_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "turtle": "text/turtle; charset=utf-8",
    "json-ld": "application/ld+json",
    "nt": "application/n-triples",
    "rdfxml": "application/rdf+xml",
}
RESULT_TYPES = "application/sparql-results+json, application/sparql-results+xml, text/csv, text/tab-separated-values"
GRAPH_TYPES = "text/turtle, application/ld+json, application/n-triples, application/rdf+xml"


# --- the job a worker runs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryJob:
    text: str
    base: str  # the endpoint's URL: relative IRIs in the query resolve against it
    result_format: str | None  # for SELECT and ASK; None: the client accepts none
    graph_format: str | None  # for CONSTRUCT and DESCRIBE
    default_graphs: tuple[str, ...] | None  # from the protocol; None when not given
    named_graphs: tuple[str, ...] | None
    row_limit: int
    strict_dataset: bool
    request_id: str
    max_nesting: int = DEFAULT_MAX_NESTING


@dataclass(frozen=True)
class QueryOutcome:
    status: int
    media_type: str
    body: bytes
    rows: int = 0
    truncated: bool = False


class _Answer(Exception):
    """Not an error: the worker's early return with a finished outcome."""

    def __init__(self, outcome: QueryOutcome) -> None:
        super().__init__(outcome.status)
        self.outcome = outcome


def _answer(status: int, english: str, japanese: str) -> NoReturn:
    raise _Answer(QueryOutcome(status, PLAIN, (_say(english, japanese) + "\n").encode()))


def _prepare_worker(snapshot: SnapshotLike) -> Callable[[QueryJob], QueryOutcome]:
    """Runs in the forked worker, once: lock rdflib there, then answer jobs against this snapshot.

    A snapshot of graph.snapshot carries its triples in a pyoxigraph store as well (`store`); the worker
    answers there, about ten times faster than rdflib, the SELECT and ASK queries the gate lets pyoxigraph
    have, and everything else with rdflib, on the gate's own parse of the query.
    """
    lock_rdflib()
    mend_rdflib()
    allow_deep_queries()
    # evalGraph reads Dataset.default_context, deprecated in rdflib 7: one warning per worker is noise.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"rdflib\.")
    return _WorkerData(snapshot.graph, getattr(snapshot, "store", None)).execute


def _import_rdflib_sparql() -> None:
    import pyparsing  # noqa: F401
    import rdflib.plugins.sparql.algebra
    import rdflib.plugins.sparql.evaluate
    import rdflib.plugins.sparql.parser  # noqa: F401


class _WorkerData:
    """The snapshot's graphs as the service's dataset, inside one worker."""

    def __init__(self, graph: Graph, store: ox.Store | None = None) -> None:
        self.graph = graph  # the default graph: read, never written
        self.store = store  # the same triples in pyoxigraph's default graph, and the named graphs, or None
        self.sources = held_graphs(store)  # the named graphs the store holds, in order
        self.prefixes = dict(graph.namespaces())
        self.ox_prefixes = {prefix: str(namespace) for prefix, namespace in self.prefixes.items()}
        self.no_named_graphs = Dataset()
        # rdflib copies of the named graphs and of the datasets made of them, built on first use
        self._graphs: dict[str, Graph] = {}
        self._datasets: dict[frozenset[str], Dataset] = {}
        # the gate's verdicts on texts it gave pyoxigraph, by (text, base, nesting limit); see _remember
        self.for_oxigraph: dict[tuple[str, str, int], Gated] = {}

    @property
    def service_named(self) -> tuple[str, ...]:
        """The named graphs of the service's own dataset (no FROM, no FROM NAMED)."""
        return self.sources or (GRAPH_IRI,)

    def graph_of(self, name: str) -> Graph:
        """One graph of the service as an rdflib graph (GRAPH_IRI: the whole graph); an empty one for a name the
        service does not hold."""
        if name == GRAPH_IRI:
            return self.graph
        if name not in self._graphs:
            graph = Graph()
            if self.store is not None and name in self.sources:
                found = self.store.quads_for_pattern(None, None, None, ox.NamedNode(name))
                graph.addN(
                    (_ox_rdflib_term(q.subject), _ox_rdflib_term(q.predicate), _ox_rdflib_term(q.object), graph)
                    for q in found
                )
            self._graphs[name] = graph
        return self._graphs[name]

    def default_of(self, names: tuple[str, ...]) -> Graph:
        """The default graph made of these graphs (the union, SPARQL 1.1 section 13.2)."""
        if GRAPH_IRI in names:
            return self.graph  # the whole graph holds every other
        held = [name for name in dict.fromkeys(names) if name in self.sources]
        if len(held) == 1:
            return self.graph_of(held[0])
        union = Graph()
        for name in held:
            union += self.graph_of(name)
        return union

    def dataset_of(self, names: tuple[str, ...]) -> Dataset:
        """A dataset whose named graphs are these (those the service holds; the others are empty anyway)."""
        key = frozenset(name for name in names if name == GRAPH_IRI or name in self.sources)
        if not key:
            return self.no_named_graphs
        if key not in self._datasets:
            dataset = Dataset()
            for name in graph_order(key):
                named = dataset.graph(URIRef(name))
                named.addN((s, p, o, named) for s, p, o in self.graph_of(name))
            self._datasets[key] = dataset
        return self._datasets[key]

    def ox_dataset(self, gated: Gated, chosen: Chosen) -> dict[str, Any] | None:
        """pyoxigraph's arguments for this dataset, or None when rdflib must answer: a store without named graphs
        (then only GRAPH_IRI's semantics hold), GRAPH_IRI as a named graph (the store holds it as its default
        graph only), or a default graph made of several named graphs (pyoxigraph matches a pattern in each of
        them, so a triple two of them hold would answer twice; SPARQL's default graph is their merge)."""
        default, named = chosen
        if default is None or named is None:
            return {} if self.sources or not gated.uses_graph else None
        if not self.sources or GRAPH_IRI in named:
            return None
        parts = [name for name in dict.fromkeys(default) if name in self.sources]  # the others are empty
        if GRAPH_IRI in default:
            parts_ox: list[ox.NamedNode | ox.DefaultGraph] = [ox.DefaultGraph()]  # it holds every other
        elif len(parts) > 1:
            return None
        else:
            parts_ox = [ox.NamedNode(name) for name in parts]
        # Both given, always: pyoxigraph would otherwise take the store's default graph or all its named graphs,
        # or read the query's own FROM. Only names the store holds are passed; nothing is ever fetched.
        return {
            "default_graph": parts_ox,
            "named_graphs": [ox.NamedNode(name) for name in dict.fromkeys(named) if name in self.sources],
        }

    def execute(self, job: QueryJob) -> QueryOutcome:
        try:
            if self.store is not None and job.default_graphs is None and job.named_graphs is None:
                # the gate's fast path: its tokens decide, rdflib's parse (~7 ms) is skipped
                screened = screen(job.text, max_nesting=job.max_nesting)
                if screened is not None:
                    try:
                        outcome = self._execute_oxigraph(job, screened, {})
                    except SyntaxError:
                        outcome = None  # not a query to pyoxigraph: the full path refuses it in its own words
                    else:
                        if outcome is not None:
                            return outcome
                        gated = self.gate(job)
                        return self._execute(job, gated, _dataset(gated, job, self.sources))
            key = (job.text, job.base, job.max_nesting)
            remembered = self.for_oxigraph.get(key)
            gated = remembered or self.gate(job)
            chosen = _dataset(gated, job, self.sources)  # refuses an IRI the service may not name
            arguments = self.ox_dataset(gated, chosen) if self.store is not None and gated.oxigraph_may_read else None
            if arguments is not None:
                if remembered is None and len(job.text) <= _REMEMBERED_TEXT:
                    self._remember(key, gated)
                outcome = self._execute_oxigraph(job, gated, arguments)
                if outcome is not None:
                    return outcome
            # rdflib evaluates an algebra of its own: never one parsed for an earlier job
            return self._execute(job, self.gate(job) if remembered is not None else gated, chosen)
        except _Answer as answer:
            return answer.outcome

    def _remember(self, key: tuple[str, str, int], gated: Gated) -> None:
        """Keep the gate's verdict on a text pyoxigraph answers: the same text again skips rdflib's parser
        (~7 ms, twenty times what pyoxigraph takes for a plain SELECT). The oldest verdict goes first."""
        if len(self.for_oxigraph) >= _REMEMBERED_VERDICTS:
            del self.for_oxigraph[next(iter(self.for_oxigraph))]
        self.for_oxigraph[key] = gated

    def gate(self, job: QueryJob) -> Gated:
        """The gate's parse of the job's query; its refusal is the answer."""
        try:
            return inspect(job.text, base=job.base, prefixes=self.prefixes, max_nesting=job.max_nesting)
        except Refused as refusal:
            _answer(refusal.status, refusal.english, refusal.japanese)

    def _execute_oxigraph(
        self, job: QueryJob, gated: Gated | Screened, dataset: Mapping[str, Any]
    ) -> QueryOutcome | None:
        """pyoxigraph's answer, or None to let rdflib answer instead.

        pyoxigraph's errors: a SyntaxError is the query's (400, with pyoxigraph's message); a RuntimeError or
        ValueError is something pyoxigraph does not evaluate (an unknown function, which SPARQL leaves unbound
        and rdflib does), so rdflib answers; anything else is a bug: 500 with the request id, logged.
        """
        assert self.store is not None
        try:
            result = self.store.query(job.text, base_iri=job.base, prefixes=self.ox_prefixes, **dataset)
            if isinstance(result, ox.QueryBoolean):
                if job.result_format is None:
                    _not_acceptable(False)
                return _ask_outcome(job.result_format, bool(result))
            if not isinstance(result, ox.QuerySolutions):
                return None
            if job.result_format is None:
                _not_acceptable(False)
            if job.result_format == "json" and gated.limited_to(job.row_limit):
                # No row can be cut: pyoxigraph writes the JSON, in a fifth of the time of _ox_select_json.
                body = result.serialize(format=ox.QueryResultsFormat.JSON) or b""  # bytes when given no output
                rows = len(orjson.loads(body)["results"]["bindings"])
                return QueryOutcome(200, MEDIA_TYPES["json"], body, rows=rows)
            return _ox_select_outcome(job.result_format, result, job.row_limit)
        except (_Answer, MemoryError):
            raise
        except SyntaxError as error:
            if isinstance(gated, Screened):
                raise
            _answer(400, f"Malformed query: {_short(error)}", f"クエリの構文が正しくありません：{_short(error)}")
        except (RuntimeError, ValueError) as error:
            logger.info("pyoxigraph did not evaluate SPARQL query %s (%r); rdflib answers it", job.request_id, error)
            return None
        except Exception:
            logger.exception("pyoxigraph failed on SPARQL query %s", job.request_id)
            raise _Answer(QueryOutcome(500, PLAIN, (_internal(job.request_id) + "\n").encode())) from None

    def _execute(self, job: QueryJob, gated: Gated, chosen: Chosen) -> QueryOutcome:
        from rdflib.plugins.sparql.evaluate import evalPart
        from rdflib.plugins.sparql.sparql import QueryContext

        query = gated.query
        algebra = query.algebra
        is_graph = gated.form in ("CONSTRUCT", "DESCRIBE")
        fmt = job.graph_format if is_graph else job.result_format
        if fmt is None:
            _not_acceptable(is_graph)
        default, named = chosen
        names = self.service_named if named is None else named
        dataset = self.dataset_of(names) if gated.uses_graph else self.no_named_graphs
        # initBindings={} as rdflib's own evalQuery passes: a solution looks unbound variables up there.
        context = QueryContext(dataset, initBindings={})
        context.graph = self.graph if default is None else self.default_of(default)
        context.prologue = query.prologue
        try:
            result = evalPart(context, algebra)
            if algebra.name == "SelectQuery":
                return _select_outcome(fmt, list(result["vars_"]), result["bindings"], job.row_limit)
            if algebra.name == "AskQuery":
                return _ask_outcome(fmt, bool(result["askAnswer"]))
            return _graph_outcome(fmt, result["graph"], self.prefixes, job.row_limit)
        except (_Answer, MemoryError):
            raise
        except RecursionError:
            _answer(400, "The query is nested too deeply to evaluate.", "クエリの入れ子が深すぎて評価できません。")
        except Exception as error:
            if _out_of_memory(error):
                raise MemoryError from error
            said = worded(error)
            if said is None:
                # rdflib's own failure, in Python's words: logged, and the client told only that much
                logger.warning("rdflib failed on SPARQL query %s", job.request_id, exc_info=True)
                said = f"this engine cannot evaluate it (request id {job.request_id})"
            else:
                logger.info("SPARQL query %s failed during evaluation: %r", job.request_id, error)
            _answer(400, f"The query could not be evaluated: {said}", f"クエリを評価できませんでした：{said}")


# Verdicts a worker keeps, and the longest text it keeps one for: at most 256 x 8 KiB of texts per worker.
_REMEMBERED_VERDICTS = 256
_REMEMBERED_TEXT = 8 * 1024


def _oxigraph_may(gated: Gated, job: QueryJob) -> bool:
    """The gate's word, and no dataset from the protocol: what pyoxigraph answers on a store's default graph
    alone (a worker whose store holds named graphs gives it datasets too, see _WorkerData.ox_dataset)."""
    return gated.oxigraph_may_answer and job.default_graphs is None and job.named_graphs is None


def oxigraph_may_answer(job: QueryJob) -> bool:
    """Whether pyoxigraph may answer the job's query, as a worker decides it (without the snapshot's prefixes:
    a query that uses them undeclared is answered by neither engine here)."""
    try:
        gated = inspect(job.text, base=job.base, max_nesting=job.max_nesting)
    except Refused:
        return False
    return _oxigraph_may(gated, job)


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _ox_json_term(term: object) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "literal", "value": str(term)}


def _ox_rdflib_term(term: object) -> Node:
    """An rdflib term for the writers of the other formats (a plain string stays without a datatype)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value) if datatype == _XSD_STRING else Literal(term.value, datatype=URIRef(datatype))
    return Literal(str(term))


_json_string = json.encoder.c_encode_basestring or json.encoder.py_encode_basestring  # type: ignore[attr-defined]


def _ox_json_text(term: object) -> str:
    """_ox_json_term as JSON text, written directly: the rows of a result are most of a fast query's time."""
    if isinstance(term, ox.NamedNode):
        return '{"type": "uri", "value": ' + _json_string(term.value) + "}"
    if isinstance(term, ox.Literal):
        if term.language:
            tail = ', "xml:lang": ' + _json_string(term.language)
        elif (datatype := term.datatype.value) != _XSD_STRING:
            tail = ', "datatype": ' + _json_string(datatype)
        else:
            tail = ""
        return '{"type": "literal", "value": ' + _json_string(term.value) + tail + "}"
    return json.dumps(_ox_json_term(term), ensure_ascii=False)


def _ox_select_json(names: list[str], variables: list[Any], rows: list[Any], note: str | None) -> bytes:
    keys = [_json_string(name) + ": " for name in names]
    parts = []
    for row in rows:
        cells = [
            key + _ox_json_text(term) for key, v in zip(keys, variables, strict=True) if (term := row[v]) is not None
        ]
        parts.append("{" + ", ".join(cells) + "}")
    head = json.dumps({"vars": names}, ensure_ascii=False)
    warning = ', "warning": ' + _json_string(note) if note else ""
    return ('{"head": ' + head + ', "results": {"bindings": [' + ", ".join(parts) + "]}" + warning + "}").encode()


def _ox_select_outcome(fmt: str, solutions: ox.QuerySolutions, limit: int) -> QueryOutcome:
    variables = solutions.variables
    rows = list(islice(solutions, limit + 1))
    truncated = len(rows) > limit
    rows = rows[:limit]
    names = [v.value for v in variables]
    note = _truncation_note(limit) if truncated else None
    if fmt == "json":
        body = _ox_select_json(names, variables, rows, note)
    else:
        table: Table = [
            [None if (term := row[v]) is None else _ox_rdflib_term(term) for v in variables] for row in rows
        ]
        body = SELECT_WRITERS[fmt](names, table, note)
    return QueryOutcome(200, MEDIA_TYPES[fmt], body, rows=len(rows), truncated=truncated)


def _out_of_memory(error: BaseException) -> bool:
    """Whether a MemoryError started this error: rdflib may catch it and raise something else instead."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, MemoryError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _not_acceptable(is_graph: bool) -> NoReturn:
    types = GRAPH_TYPES if is_graph else RESULT_TYPES
    form = "CONSTRUCT and DESCRIBE" if is_graph else "SELECT and ASK"
    _answer(
        406,
        f"None of the media types in Accept fits; {form} results are available as {types}.",
        f"Accept のメディアタイプはどれも提供できません。{form} の結果は {types} で返せます。",
    )


def held_graphs(store: ox.Store | None) -> tuple[str, ...]:
    """The named graphs a snapshot's store holds (graph/named_graphs.py), in order; () for none."""
    if store is None:
        return ()
    return tuple(graph_order(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)))


def check_graph_iri(iri: str, strict: bool, held: tuple[str, ...] = ()) -> None:
    """Refuse (400) a dataset IRI this service does not hold, unless it may stand for an empty graph."""
    if iri == GRAPH_IRI or iri in held:
        return
    if not strict and urlsplit(iri).scheme.lower() in ("http", "https"):
        return
    names = ", ".join(f"<{name}>" for name in (*held, GRAPH_IRI))
    _refuse(
        400,
        f"The dataset may only name this service's graphs ({names}); <{iri}> is not a graph of this service, "
        "and graphs are never fetched or read from files.",
        f"データセットに指定できるのはこのサービスのグラフ（{names}）だけです。<{iri}> はこのサービスのグラフでは"
        "ありません。グラフを取得したりファイルから読んだりすることはありません。",
    )


# (the default graph's names, the named graphs' names); None: the service's own (the union; every named graph)
Chosen = tuple[tuple[str, ...] | None, tuple[str, ...] | None]


def _dataset(gated: Gated, job: QueryJob, held: tuple[str, ...] = ()) -> Chosen:
    """The dataset of this query: which graphs make its default graph, which are its named graphs.

    The protocol's parameters, when given, replace the query's FROM / FROM NAMED (SPARQL 1.1 Protocol 2.1.4).
    Every IRI is checked, the replaced ones too; none is ever loaded: a name the service holds selects that
    graph, an unknown http(s) IRI an empty graph.
    """
    from_default, from_named = gated.default_graphs, gated.named_graphs
    for iri in [*from_default, *from_named, *(job.default_graphs or ()), *(job.named_graphs or ())]:
        try:
            check_graph_iri(iri, job.strict_dataset, held)
        except ProtocolError as error:
            raise _Answer(QueryOutcome(error.status, PLAIN, (error.message + "\n").encode())) from None
    if job.default_graphs is not None or job.named_graphs is not None:
        return tuple(job.default_graphs or ()), tuple(job.named_graphs or ())
    if from_default or from_named:
        return tuple(from_default), tuple(from_named)
    return None, None


# --- serialisation (in the worker) ----------------------------------------------------------------------------


def _truncation_note(limit: int) -> str:
    return _say(
        f"Truncated: only the first {limit} rows are returned (the service's row limit).",
        f"行数の上限 {limit} に達したため、最初の {limit} 行だけを返しています。",
    )


def _select_outcome(
    fmt: str, variables: list[Node], bindings: Iterable[Mapping[Node, Node]], limit: int
) -> QueryOutcome:
    rows = list(islice(bindings, limit + 1))  # one more than the limit tells whether rows were cut
    truncated = len(rows) > limit
    rows = rows[:limit]
    names = [str(v) for v in variables]
    table = [[row.get(v) for v in variables] for row in rows]
    note = _truncation_note(limit) if truncated else None
    body = SELECT_WRITERS[fmt](names, table, note)
    return QueryOutcome(200, MEDIA_TYPES[fmt], body, rows=len(rows), truncated=truncated)


def _ask_outcome(fmt: str, answer: bool) -> QueryOutcome:
    return QueryOutcome(200, MEDIA_TYPES[fmt], ASK_WRITERS[fmt](answer), rows=1)


def _graph_outcome(fmt: str, result: Graph, prefixes: Mapping[str, URIRef], limit: int) -> QueryOutcome:
    out = Graph(bind_namespaces="none")
    for prefix, namespace in prefixes.items():
        out.bind(prefix, namespace)
    triples = list(islice(iter(result), limit + 1))
    truncated = len(triples) > limit
    for triple in triples[:limit]:
        out.add(triple)
    rdflib_format = {"turtle": "turtle", "json-ld": "json-ld", "nt": "nt", "rdfxml": "xml"}[fmt]
    try:
        body = out.serialize(format=rdflib_format, encoding="utf-8")
    except Exception as error:
        # RDF/XML cannot write every predicate IRI (it must split into namespace and local name).
        _answer(
            406,
            f"The result cannot be written as {MEDIA_TYPES[fmt]} ({_short(error)}); ask for text/turtle or "
            "application/n-triples.",
            f"結果を {MEDIA_TYPES[fmt]} で書けません（{_short(error)}）。text/turtle か application/n-triples を"
            "指定してください。",
        )
    if truncated and fmt in ("turtle", "nt"):
        body = f"# {_truncation_note(limit)}\n".encode() + body
    return QueryOutcome(200, MEDIA_TYPES[fmt], body, rows=min(len(triples), limit), truncated=truncated)


Table = list[list[Node | None]]

# XML 1.0 cannot carry these characters at all, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _json_term(term: Node) -> dict[str, str]:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    if isinstance(term, Literal):
        out = {"type": "literal", "value": str(term)}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype is not None:
            out["datatype"] = str(term.datatype)
        return out
    return {"type": "literal", "value": str(term)}


def _select_json(names: list[str], table: Table, note: str | None) -> bytes:
    bindings = [
        {name: _json_term(term) for name, term in zip(names, row, strict=True) if term is not None} for row in table
    ]
    document: dict[str, Any] = {"head": {"vars": names}, "results": {"bindings": bindings}}
    if note:
        # Not in the JSON results format; readers ignore members they do not know.
        document["warning"] = note
    return json.dumps(document, ensure_ascii=False).encode()


def _xml_text(value: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", value))


def _xml_term(term: Node) -> str:
    if isinstance(term, URIRef):
        return f"<uri>{_xml_text(str(term))}</uri>"
    if isinstance(term, BNode):
        return f"<bnode>{_xml_text(str(term))}</bnode>"
    if isinstance(term, Literal) and term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{_xml_text(str(term))}</literal>"
    if isinstance(term, Literal) and term.datatype is not None:
        return f"<literal datatype={quoteattr(str(term.datatype))}>{_xml_text(str(term))}</literal>"
    return f"<literal>{_xml_text(str(term))}</literal>"


def _xml_document(head: str, body: str, note: str | None) -> bytes:
    comment = f"<!-- {note.replace('--', '- -')} -->\n" if note else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"{comment}"
        '<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n'
        f"<head>{head}</head>\n{body}</sparql>\n"
    ).encode()


def _select_xml(names: list[str], table: Table, note: str | None) -> bytes:
    head = "".join(f"<variable name={quoteattr(name)}/>" for name in names)
    results = []
    for row in table:
        cells = "".join(
            f"<binding name={quoteattr(name)}>{_xml_term(term)}</binding>"
            for name, term in zip(names, row, strict=True)
            if term is not None
        )
        results.append(f"<result>{cells}</result>\n")
    return _xml_document(head, "<results>\n" + "".join(results) + "</results>\n", note)


def _csv_value(term: Node | None) -> str:
    if term is None:
        return ""
    if isinstance(term, BNode):
        return "_:" + str(term)
    return str(term)


def _select_csv(names: list[str], table: Table, note: str | None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    writer.writerows([_csv_value(term) for term in row] for row in table)
    return out.getvalue().encode()


_TSV_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _tsv_value(term: Node | None) -> str:
    """A term in Turtle syntax, on one line: rdflib's n3() would write multi-line literals with raw newlines."""
    if isinstance(term, Literal):
        lexical = '"' + str(term).translate(_TSV_ESCAPES) + '"'
        if term.language:
            return f"{lexical}@{term.language}"
        return lexical if term.datatype is None else f"{lexical}^^<{term.datatype}>"
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    return "" if term is None else str(term)


def _select_tsv(names: list[str], table: Table, note: str | None) -> bytes:
    lines = ["\t".join("?" + name for name in names)]
    lines.extend("\t".join(_tsv_value(term) for term in row) for row in table)
    return ("\n".join(lines) + "\n").encode()


SELECT_WRITERS: dict[str, Callable[[list[str], Table, str | None], bytes]] = {
    "json": _select_json,
    "xml": _select_xml,
    "csv": _select_csv,
    "tsv": _select_tsv,
}
# CSV and TSV have no boolean form in the standard; this is the one Apache Jena writes.
ASK_WRITERS: dict[str, Callable[[bool], bytes]] = {
    "json": lambda answer: json.dumps({"head": {}, "boolean": answer}).encode(),
    "xml": lambda answer: _xml_document("", f"<boolean>{str(answer).lower()}</boolean>\n", None),
    "csv": lambda answer: f"_askResult\r\n{str(answer).lower()}\r\n".encode(),
    "tsv": lambda answer: f"?_askResult\n{str(answer).lower()}\n".encode(),
}


# --- the service description and the query page (in the server) ----------------------------------------------


@dataclass(frozen=True)
class GraphStatistics:
    triples: int
    subjects: int
    properties: int
    classes: int
    objects: int
    graphs: tuple[NamedGraph, ...] = ()  # the named graphs of the service's dataset; () for GRAPH_IRI alone


def graph_statistics(graph: Graph) -> GraphStatistics:
    subjects: set[Node] = set()
    properties: set[Node] = set()
    classes: set[Node] = set()
    objects: set[Node] = set()
    triples = 0
    for s, p, o in graph:
        triples += 1
        subjects.add(s)
        properties.add(p)
        objects.add(o)
        if p == RDF.type:
            classes.add(o)
    return GraphStatistics(triples, len(subjects), len(properties), len(classes), len(objects))


def service_description(endpoint: str, snapshot: SnapshotLike, stats: GraphStatistics, config: SPARQLConfig) -> Graph:
    """The sd: description of this endpoint, with VoID statistics of its default graph (the whole graph) and of
    each named graph (its triple count and source); without named graphs, GRAPH_IRI as the one named graph."""
    g = Graph(bind_namespaces="core")
    for prefix, namespace in (("sd", SD), ("void", VOID), ("formats", FORMATS), ("dcterms", DCTERMS)):
        g.bind(prefix, namespace)
    service = URIRef(endpoint)
    dataset = URIRef(endpoint + "#dataset")
    whole = URIRef(endpoint + "#graph")
    named = URIRef(endpoint + "#named-graph")
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, service))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    for name in (
        "SPARQL_Results_JSON",
        "SPARQL_Results_XML",
        "SPARQL_Results_CSV",
        "SPARQL_Results_TSV",
        "Turtle",
        "JSON-LD",
        "N-Triples",
        "RDF_XML",
    ):
        g.add((service, SD.resultFormat, FORMATS[name]))
    g.add((service, RDFS.label, Literal("hyperv-kg SPARQL endpoint (read-only)", lang="en")))
    g.add((service, RDFS.label, Literal("hyperv-kg SPARQL エンドポイント（読み取り専用）", lang="ja")))
    limits_en = (
        f"Read-only; no SERVICE, no LOAD. Each query may run {config.time_limit:g} s and return "
        f"{config.row_limit} rows (header X-SPARQL-Row-Limit; X-SPARQL-Truncated: true when rows were cut)."
    )
    limits_ja = (
        f"読み取り専用。SERVICE と LOAD は使えません。クエリごとに実行は {config.time_limit:g} 秒まで、"
        f"結果は {config.row_limit} 行までです"
        "（X-SPARQL-Row-Limit ヘッダー。切り詰めたときは X-SPARQL-Truncated: true）。"
    )
    g.add((service, RDFS.comment, Literal(limits_en, lang="en")))
    g.add((service, RDFS.comment, Literal(limits_ja, lang="ja")))
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, DCTERMS.identifier, Literal(snapshot.content_hash)))
    g.add((dataset, SD.defaultGraph, whole))
    if stats.graphs:
        _describe_named_graphs(g, endpoint, dataset, whole, stats.graphs)
    else:
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(GRAPH_IRI)))
        g.add((named, SD.graph, whole))  # same content as the default graph
    g.add((whole, RDF.type, SD.Graph))
    g.add((whole, RDF.type, VOID.Dataset))
    g.add((whole, VOID.triples, Literal(stats.triples)))
    g.add((whole, VOID.distinctSubjects, Literal(stats.subjects)))
    g.add((whole, VOID.properties, Literal(stats.properties)))
    g.add((whole, VOID.classes, Literal(stats.classes)))
    g.add((whole, VOID.distinctObjects, Literal(stats.objects)))
    g.add((whole, VOID.uriSpace, Literal(ID_BASE)))
    return g


def _describe_named_graphs(
    g: Graph, endpoint: str, dataset: URIRef, whole: URIRef, graphs: tuple[NamedGraph, ...]
) -> None:
    """Each named graph in the service description: its name, and as a VoID subset of the default graph its
    triple count, its source (dcterms:source) and its title."""
    for index, source in enumerate(graphs, start=1):
        entry, content = URIRef(f"{endpoint}#named-graph-{index}"), URIRef(f"{endpoint}#graph-{index}")
        g.add((dataset, SD.namedGraph, entry))
        g.add((entry, RDF.type, SD.NamedGraph))
        g.add((entry, SD.name, URIRef(source.iri)))
        g.add((entry, SD.graph, content))
        g.add((content, RDF.type, SD.Graph))
        g.add((content, RDF.type, VOID.Dataset))
        g.add((whole, VOID.subset, content))
        g.add((content, VOID.triples, Literal(source.triples)))
        g.add((content, DCTERMS.source, URIRef(source.source)))
        for language, title in sorted((source.title or {}).items()):
            g.add((content, DCTERMS.title, Literal(title, lang=language)))
    union_en = f"The default graph is the union of the named graphs; <{GRAPH_IRI}> names it in FROM and FROM NAMED."
    union_ja = f"デフォルトグラフは名前付きグラフの和です。FROM と FROM NAMED では <{GRAPH_IRI}> で指定できます。"
    g.add((whole, RDFS.comment, Literal(union_en, lang="en")))
    g.add((whole, RDFS.comment, Literal(union_ja, lang="ja")))


# --- reading requests -----------------------------------------------------------------------------------------


def _parse_params(raw: bytes) -> list[tuple[str, str]]:
    """Decode a query string or form body; percent-escapes must decode to UTF-8 (400 otherwise)."""
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=1000)
    except UnicodeDecodeError:
        _refuse(400, "Parameters must be UTF-8.", "パラメーターは UTF-8 でなければなりません。")
    except ValueError:
        _refuse(400, "Too many parameters.", "パラメーターが多すぎます。")


def _content_type(header: str | None) -> tuple[str | None, str | None]:
    """(media type, charset) of a Content-Type header, both lower-case."""
    if header is None or not header.strip():
        return None, None
    media, *params = header.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.strip().lower(), charset


async def _read_body(request: Request, config: SPARQLConfig) -> bytes:
    """The body, or 413 as soon as it passes the cap: never more than one chunk past the cap is held."""
    limit = config.max_body_bytes
    too_big_message = (
        f"The request body is larger than {limit} bytes.",
        f"リクエスト本文が {limit} バイトを超えています。",
    )
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            _refuse(400, "Content-Length is not a number.", "Content-Length が数値ではありません。")
        if length > config.drain_limit_bytes:
            _refuse(413, *too_big_message, headers={"Connection": "close"})
    body = bytearray()
    received = 0
    too_big = False
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            too_big = True
            body.clear()
        if too_big:
            if received > config.drain_limit_bytes:
                break  # stop reading; the connection closes after the 413
            continue
        body += chunk
    if too_big:
        _refuse(413, *too_big_message, headers={"Connection": "close"})
    return bytes(body)


@dataclass
class _Params:
    pairs: list[tuple[str, str]] = field(default_factory=list)

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.pairs)


# --- the endpoint ---------------------------------------------------------------------------------------------


class SPARQLEndpoint:
    """The /sparql resource over a SnapshotHolder, with its worker pool. Await `close()` at shutdown."""

    def __init__(self, holder: SnapshotHolder, config: SPARQLConfig | None = None) -> None:
        self.holder = holder
        self.config = config or SPARQLConfig.from_env()
        self.pool: WorkerPool[SnapshotLike, QueryJob, QueryOutcome] = WorkerPool(
            _prepare_worker,
            size=self.config.max_concurrent,
            time_limit=self.config.time_limit,
            is_current=self._is_current,
            memory_limit=self.config.memory_limit_bytes,
            queue=self.config.queue,
            recycle_bytes=self.config.recycle_bytes,
        )
        self._statistics: tuple[SnapshotLike, GraphStatistics] | None = None
        self._rdflib_imported = False
        self._templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
        )

    def routes(self, path: str = "") -> list[BaseRoute]:
        """Routes for `Mount(path or "/sparql", routes=...)` when `path` is "", else for the app's own list.

        With path="/sparql", both /sparql and /sparql/ answer; a Mount alone would turn /sparql into a 307
        redirect, which POST clients and the W3C test tool do not follow.
        """
        app = Endpoint(self.handle)  # every method reaches `handle`, which answers 405 in both languages
        if not path:
            return [Route("/", app, name="sparql")]
        path = path.rstrip("/")
        return [Route(path, app, name="sparql"), Route(path + "/", app, name="sparql-slash")]

    async def close(self) -> None:
        await self.pool.close()

    def _is_current(self, snapshot: SnapshotLike) -> bool:
        return self.holder.current is snapshot

    async def handle(self, request: Request) -> Response:
        request_id = request_id_of(request.scope)
        try:
            response = await self._respond(request, request_id)
        except ProtocolError as error:
            response = _text(error.status, error.message, error.headers)
        except ClientDisconnect:
            response = _text(400, _say("The client went away.", "クライアントが切断しました。"))
        except Exception:
            logger.exception("SPARQL request %s failed", request_id)
            response = _text(500, _internal(request_id))
        response.headers["X-Request-Id"] = request_id
        response.headers["X-SPARQL-Row-Limit"] = str(self.config.row_limit)
        response.headers["Vary"] = "Accept"
        return response

    async def _respond(self, request: Request, request_id: str) -> Response:
        scope = request.scope
        params, from_body = await self._params(request)
        if params.has("update"):
            scope["hvkg.operation"] = "update"
            _refuse(403, *UPDATE_REFUSED)
        queries = params.all("query")
        if not queries:
            if from_body:
                _refuse(400, "The request has no query parameter.", "query パラメーターがありません。")
            scope["hvkg.operation"] = "description"
            return await self._describe(request)
        if len(queries) > 1:
            _refuse(400, "Give exactly one query parameter.", "query パラメーターは一つだけ指定してください。")
        # The label of this request in /metrics and the access line (server.middleware).
        scope["hvkg.operation"] = sparql_form(queries[0])
        return await self._query(request, request_id, queries[0], params)

    async def _params(self, request: Request) -> tuple[_Params, bool]:
        """All protocol parameters, and whether the request carried a body (POST)."""
        url_params = _parse_params(request.scope.get("query_string", b""))
        if request.method in ("GET", "HEAD"):
            return _Params(url_params), False
        if request.method != "POST":
            _refuse(
                405,
                "Use GET or POST.",
                "GET か POST を使ってください。",
                headers={"Allow": "GET, HEAD, POST"},
            )
        media_type, charset = _content_type(request.headers.get("content-type"))
        if media_type == SPARQL_UPDATE:
            request.scope["hvkg.operation"] = "update"
            _refuse(403, *UPDATE_REFUSED)
        if media_type not in (FORM, SPARQL_QUERY):
            _refuse(
                415,
                f"POST needs Content-Type {FORM} or {SPARQL_QUERY}.",
                f"POST の Content-Type は {FORM} か {SPARQL_QUERY} にしてください。",
            )
        if charset not in (None, "utf-8", "utf8"):
            _refuse(415, "The body must be UTF-8.", "本文は UTF-8 でなければなりません。")
        body = await _read_body(request, self.config)
        if media_type == FORM:
            return _Params(url_params + _parse_params(body)), True
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            _refuse(400, "The query must be UTF-8.", "クエリは UTF-8 でなければなりません。")
        return _Params([*url_params, ("query", text)]), True

    async def _query(self, request: Request, request_id: str, text: str, params: _Params) -> Response:
        config = self.config
        if len(text.encode()) > config.max_query_bytes:
            _refuse(
                413,
                f"The query is longer than {config.max_query_bytes} bytes.",
                f"クエリが {config.max_query_bytes} バイトを超えています。",
            )
        if not text.strip():
            _refuse(400, "The query is empty.", "クエリが空です。")
        default_graphs = tuple(params.all("default-graph-uri")) or None
        named_graphs = tuple(params.all("named-graph-uri")) or None
        snapshot = self._snapshot()
        held = held_graphs(getattr(snapshot, "store", None))
        for iri in (*(default_graphs or ()), *(named_graphs or ())):
            check_graph_iri(iri, config.strict_dataset, held)
        accept = request.headers.get("accept")
        result_format = negotiate(accept, RESULT_OFFERS)
        graph_format = negotiate(accept, GRAPH_OFFERS)
        if result_format is None and graph_format is None:
            _refuse(
                406,
                f"None of the media types in Accept fits; results are available as {RESULT_TYPES}, graphs as "
                f"{GRAPH_TYPES}.",
                f"Accept のメディアタイプはどれも提供できません。"
                f"結果は {RESULT_TYPES}、グラフは {GRAPH_TYPES} で返せます。",
            )
        job = QueryJob(
            text=text,
            base=_endpoint_url(request),
            result_format=result_format,
            graph_format=graph_format,
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            row_limit=config.row_limit,
            strict_dataset=config.strict_dataset,
            request_id=request_id,
            max_nesting=config.max_nesting,
        )
        outcome = await self._run(snapshot, job)
        headers = {}
        if outcome.status == 200:
            headers["X-SPARQL-Row-Count"] = str(outcome.rows)
        if outcome.truncated:
            headers["X-SPARQL-Truncated"] = "true"
        return Response(outcome.body, status_code=outcome.status, media_type=outcome.media_type, headers=headers)

    async def _run(self, snapshot: SnapshotLike, job: QueryJob) -> QueryOutcome:
        retry_after = str(max(1, math.ceil(self.config.time_limit)))
        if not self._rdflib_imported:
            # rdflib's SPARQL engine is imported on the first query, not at start-up, and in this process:
            # the workers forked from it then have it already.
            await anyio.to_thread.run_sync(_import_rdflib_sparql)
            self._rdflib_imported = True
        try:
            return await self.pool.run(snapshot, job)
        except PoolBusy:
            # Every worker was busy and the queue full, or the wait for a worker passed the time limit.
            running, waiting = self.pool.size, self.pool.queue_length
            _refuse(
                503,
                f"Too many queries at once ({running} running, up to {waiting} waiting); retry in {retry_after} s.",
                f"クエリが多すぎます（実行中 {running} 件、待機は最大 {waiting} 件）。"
                f"{retry_after} 秒後に再試行してください。",
                headers={"Retry-After": retry_after},
            )
        except WorkerTimeout:
            limit = f"{self.config.time_limit:g}"
            _refuse(
                504,
                f"The query ran longer than the time limit of {limit} s and was stopped.",
                f"クエリが制限時間（{limit} 秒）を超えたため中止しました。",
            )
        except WorkerOutOfMemory:
            _refuse(
                503,
                "The query needed more memory than a query may use and was stopped.",
                "クエリが使用できるメモリの上限を超えたため中止しました。",
                headers={"Retry-After": retry_after},
            )
        except PoolClosed:
            _refuse(
                503,
                "The service is shutting down.",
                "サービスを停止中です。",
                headers={"Retry-After": retry_after},
            )
        except WorkerFailed:
            raise ProtocolError(500, _internal(job.request_id)) from None

    def _snapshot(self) -> SnapshotLike:
        snapshot = self.holder.current
        if snapshot is None:
            _refuse(
                503,
                "No graph is loaded yet.",
                "グラフがまだ読み込まれていません。",
                headers={"Retry-After": "5"},
            )
        return snapshot

    async def _describe(self, request: Request) -> Response:
        """GET without a query: the query page for browsers, the service description for everyone else."""
        snapshot = self._snapshot()
        accept = request.headers.get("accept")
        ranges = parse_accept(accept or "")
        rdf_format = negotiate(accept, DESCRIPTION_OFFERS)
        html_q, html_specificity = quality("text/html", ranges)
        rdf_q = max((quality(media, ranges)[0] for media, key in DESCRIPTION_OFFERS if key == rdf_format), default=0.0)
        # Only a client that names text/html gets the page: curl's */* wants data.
        if html_specificity == 2 and html_q > 0 and html_q >= rdf_q:
            return self._page(request, snapshot)
        if rdf_format is None:
            _refuse(
                406,
                f"The service description is available as {GRAPH_TYPES}, and as text/html.",
                f"サービス記述は {GRAPH_TYPES} と text/html で返せます。",
            )
        stats = await self._graph_statistics(snapshot)
        description = service_description(_endpoint_url(request), snapshot, stats, self.config)
        rdflib_format = {"turtle": "turtle", "json-ld": "json-ld", "nt": "nt", "rdfxml": "xml"}[rdf_format]
        body = description.serialize(format=rdflib_format, encoding="utf-8")
        return Response(body, media_type=MEDIA_TYPES[rdf_format])

    async def _graph_statistics(self, snapshot: SnapshotLike) -> GraphStatistics:
        cached = self._statistics
        if cached is not None and cached[0] is snapshot:
            return cached[1]
        # One pass over the graph: off the event loop, once per snapshot.
        stats = await anyio.to_thread.run_sync(graph_statistics, snapshot.graph)
        if held_graphs(getattr(snapshot, "store", None)):
            graphs = await anyio.to_thread.run_sync(describe_graphs, cast("Snapshot", snapshot))
            stats = dataclasses.replace(stats, graphs=tuple(graphs))
        self._statistics = (snapshot, stats)
        return stats

    def _page(self, request: Request, snapshot: SnapshotLike) -> Response:
        template = self._templates.get_template("sparql.html")
        html = template.render(
            endpoint=request.url.path,
            queries=dict(sorted(snapshot.queries.items())),
            id_base=ID_BASE,
            graph_iri=GRAPH_IRI,
            triple_count=snapshot.triple_count,
            content_hash=snapshot.content_hash,
            time_limit=f"{self.config.time_limit:g}",
            row_limit=self.config.row_limit,
        )
        return HTMLResponse(html)


def _internal(request_id: str) -> str:
    return _say(
        f"Internal error (request id {request_id}); it has been logged.",
        f"内部エラーが発生しました（リクエスト ID {request_id}）。記録済みです。",
    )


def _endpoint_url(request: Request) -> str:
    return str(request.url.replace(query="", fragment=""))


# --- wiring ---------------------------------------------------------------------------------------------------

_open_endpoints: list[SPARQLEndpoint] = []


def sparql_routes(holder: SnapshotHolder, config: SPARQLConfig | None = None, *, path: str = "") -> list[BaseRoute]:
    """The endpoint's routes over `holder`; `await close()` in the app's lifespan shutdown ends its workers.

    path="" gives routes for `Mount("/sparql", routes=...)`; path="/sparql" gives routes to splice into the
    app's list, so that /sparql itself answers instead of redirecting to /sparql/ (recommended).
    `config` defaults to SPARQLConfig.from_env().
    """
    endpoint = SPARQLEndpoint(holder, config)
    _open_endpoints.append(endpoint)
    return endpoint.routes(path)


async def close() -> None:
    """End the worker processes of every endpoint made by sparql_routes (call once at shutdown)."""
    while _open_endpoints:
        await _open_endpoints.pop().close()
