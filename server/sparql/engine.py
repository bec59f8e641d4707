"""Answering a job inside a worker: the gate's verdict, the dataset, then pyoxigraph or rdflib.

In the worker process (forked from the server with the snapshot, see server/sparql/workers.py):

    the gate (server/sparql/gate.py): resolve the \\u escapes -> refuse nesting past the limit (400) -> parse
    -> refuse updates and LOAD (403), SERVICE anywhere in the parse (403), a malformed query (400)
    -> resolve the dataset from FROM / FROM NAMED or the protocol parameters, without ever fetching a graph
    -> evaluate (pyoxigraph when the gate allows it, else rdflib on the gate's algebra) under the time limit
    -> cut at the row limit -> serialise to bytes in the negotiated format (server/sparql/formats.py)

The gate runs in the worker too: pyparsing on a hostile query can take as long as evaluation can.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import pyoxigraph as ox
from rdflib import Dataset, Graph, URIRef

from graph.named_graphs import order as graph_order
from server.sparql.config import SnapshotLike
from server.sparql.dataset import GRAPH_IRI, Chosen, _dataset, held_graphs
from server.sparql.errors import PLAIN, _internal
from server.sparql.formats import (
    GRAPH_TYPES,
    OX_WRITERS,
    RESULT_TYPES,
    _ask_outcome,
    _graph_outcome,
    _ox_rdflib_term,
    _ox_select_outcome,
    _ox_whole_outcome,
    _select_outcome,
)
from server.sparql.gate import Gated, inspect, worded
from server.sparql.guard import allow_deep_queries, lock_rdflib, mend_rdflib
from server.sparql.jobs import QueryJob, QueryOutcome, _Answer, _answer
from server.sparql.lexer import Refused
from server.sparql.lexer import short as _short
from server.sparql.screen import Screened, screen

logger = logging.getLogger(__name__)


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


def import_rdflib_sparql() -> None:
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
            if job.result_format in OX_WRITERS and gated.limited_to(job.row_limit):
                return _ox_whole_outcome(job.result_format, result)  # no row can be cut: pyoxigraph writes it
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
