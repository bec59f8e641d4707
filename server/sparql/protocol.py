"""The SPARQL 1.1 Protocol endpoint, read-only: GET, POST form and POST `application/sparql-query`.

What a request goes through, in the server process:

    parse the parameters (GET query string, or a body read in chunks under a size cap; server/sparql/params.py)
    -> refuse updates (403) -> negotiate the result format from Accept (406 when nothing fits)
    -> hand the query text to a worker process of `WorkerPool` (server/sparql/workers.py)

and in the worker, server/sparql/engine.py. GET without a query answers the query page to browsers and the
service description (server/sparql/service.py) to everyone else; a browser opening a /sparql?query=… link
gets the page too, which runs the query. The page's editor (Yasgui) is served from /sparql/static/.

Messages that a person reads are in English and Japanese ("English / 日本語"); no response ever carries a
traceback.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, cast

import anyio.to_thread
import jinja2
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from graph.named_graphs import describe as describe_graphs
from server.ops.endpoint import Endpoint
from server.ops.labels import sparql_form
from server.ops.logs import request_id_of
from server.ops.negotiation import negotiate, parse_accept, quality
from server.sparql.config import SnapshotLike, SPARQLConfig
from server.sparql.dataset import GRAPH_IRI, ID_BASE, check_graph_iri, held_graphs
from server.sparql.engine import _prepare_worker, import_rdflib_sparql
from server.sparql.errors import ProtocolError, _internal, _refuse, _say, _text
from server.sparql.formats import (
    DESCRIPTION_OFFERS,
    GRAPH_OFFERS,
    GRAPH_TYPES,
    MEDIA_TYPES,
    RESULT_OFFERS,
    RESULT_TYPES,
)
from server.sparql.gate import UPDATE_REFUSED
from server.sparql.jobs import QueryJob, QueryOutcome
from server.sparql.params import _content_type, _Params, _parse_params, _read_body
from server.sparql.remote import Forward, RemoteEngine, _prepare_gate
from server.sparql.service import GraphStatistics, graph_statistics, service_description
from server.sparql.workers import (
    PoolBusy,
    PoolClosed,
    WorkerFailed,
    WorkerOutOfMemory,
    WorkerPool,
    WorkerTimeout,
)

if TYPE_CHECKING:
    from graph.snapshot import Snapshot
    from server.ops.state import SnapshotHolder

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# The query editor's files (Yasgui, built; server/static/yasgui/README.md), served under /sparql/static/.
EDITOR = Path(__file__).resolve().parent.parent / "static" / "yasgui"
FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"


class SPARQLEndpoint:
    """The /sparql resource over a SnapshotHolder, with its worker pool. Await `close()` at shutdown."""

    def __init__(self, holder: SnapshotHolder, config: SPARQLConfig | None = None) -> None:
        self.holder = holder
        self.config = config or SPARQLConfig.from_env()
        # HVKG_SPARQL_ENDPOINT: the workers only gate the query, a shared store answers it (server/sparql/remote.py)
        self.remote = None if self.config.endpoint is None else RemoteEngine(self.config)
        self.pool: WorkerPool[SnapshotLike, QueryJob, QueryOutcome | Forward] = WorkerPool(
            _prepare_worker if self.remote is None else _prepare_gate,
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
        editor = StaticFiles(directory=EDITOR)
        if not path:
            return [Route("/", app, name="sparql"), Mount("/static", app=editor, name="sparql-static")]
        path = path.rstrip("/")
        return [
            Route(path, app, name="sparql"),
            Route(path + "/", app, name="sparql-slash"),
            Mount(path + "/static", app=editor, name="sparql-static"),
        ]

    async def close(self) -> None:
        await self.pool.close()
        if self.remote is not None:
            await self.remote.close()

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
        if not from_body and _opened_in_browser(request):
            # A /sparql?query=… link opened in a browser: the editor, which runs the query from its address.
            scope["hvkg.operation"] = "description"
            return self._page(request, self._snapshot())
        # The label of this request in /metrics and the access line (server.ops.middleware).
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
            await anyio.to_thread.run_sync(import_rdflib_sparql)
            self._rdflib_imported = True
        try:
            if self.remote is not None:
                return await self.remote.run(self.pool, snapshot, job)
            outcome = await self.pool.run(snapshot, job)
            assert isinstance(outcome, QueryOutcome)  # the embedded engine's workers answer nothing else
            return outcome
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
            editor=request.url_for("sparql-static", path="/").path.rstrip("/"),
            queries=dict(sorted(snapshot.queries.items())),
            # The graph's own prefixes: the editor completes them and the result table writes IRIs with them.
            prefixes={prefix: str(iri) for prefix, iri in sorted(snapshot.graph.namespaces()) if prefix},
            id_base=ID_BASE,
            graph_iri=GRAPH_IRI,
            triple_count=snapshot.triple_count,
            content_hash=snapshot.content_hash,
            time_limit=f"{self.config.time_limit:g}",
            row_limit=self.config.row_limit,
        )
        return HTMLResponse(html)


def _opened_in_browser(request: Request) -> bool:
    """Whether a GET with a query is a browser opening a link for a person, not a client reading data: its
    Accept prefers text/html, named outright, to every data format, and it loads a document (`Sec-Fetch-Dest`,
    sent over HTTPS and loopback; without it, over plain HTTP, the application/xhtml+xml that every browser's
    navigation names). A script's fetch (`Sec-Fetch-Dest: empty`) and a client naming text/html alone get data."""
    ranges = parse_accept(request.headers.get("accept") or "")
    html_q, html_specificity = quality("text/html", ranges)
    if html_specificity != 2 or html_q <= 0:
        return False
    data_q = max(quality(media, ranges)[0] for media, _ in (*RESULT_OFFERS, *GRAPH_OFFERS) if media != "text/html")
    if html_q < data_q:
        return False
    destination = request.headers.get("sec-fetch-dest")
    if destination is not None:
        return destination == "document"
    return quality("application/xhtml+xml", ranges)[1] == 2


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
