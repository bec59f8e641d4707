"""The Starlette application: one snapshot holder, the adapters' routes, /healthz and /metrics.

The adapters' routes are collected in `adapter_routes`; the front door at `/` is the web adapter's
(server.web.front), which links to every other route.

The snapshot is built in a worker thread after the server starts listening, so /healthz can say 503
("loading") until the graph is loaded and valid, and the reason if it is not. A SIGHUP (`hvkg reload`) builds
a new snapshot the same way and swaps it in whole, or keeps the old one and says why (server.ops.reload).

/healthz answers anyone, so the reason it gives names only the file and line of each problem and its rule
(`public_reason`), never the data: a Turtle syntax error's message quotes the text around the error. The whole
problem goes to the log, and `hvkg validate` prints it.

Redirects are relative. Starlette's own trailing-slash redirect builds an absolute URL from the request's Host
header (a hostile Host makes it point elsewhere); it is off, and `fallback` redirects to the path alone.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import urllib.parse
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketClose

from graph.build import build_snapshot
from graph.layout import DataLayout
from graph.problems import InvalidGraph, Problem
from graph.snapshot import Snapshot
from server.ops.compression import GzipWhenAsked
from server.ops.conditional import ConditionalMiddleware
from server.ops.config import CORS_EXPOSED, CORS_HEADERS, CORS_METHODS, cors_origins
from server.ops.metrics import Metrics, metrics_endpoint
from server.ops.middleware import RequestMiddleware, secured
from server.ops.reload import (
    Reloader,
    install_sighup,
    is_spawned_worker,
    main_pid,
    remove_pid_file,
    write_pid_file,
)
from server.ops.state import SnapshotHolder
from server.ops.supervisor import die_with_parent

log = logging.getLogger("hvkg")

# The pages' own scripts and style sheets (the SPARQL query page's), served from here: the pages' policy
# allows no inline script or style.
STATIC = Path(__file__).parent / "static" / "pages"
# Problems /healthz names, at most; the rest are counted.
SHOWN_PROBLEMS = 5
_LINE = re.compile(r"\bline (\d+)")


def healthz(holder: SnapshotHolder) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:
        snapshot = holder.current
        if snapshot is None:
            body = {"status": "invalid" if holder.last_error else "loading", "error": holder.last_error}
            return JSONResponse(body, status_code=503, headers={"Cache-Control": "no-store"})
        return JSONResponse(
            {
                "status": "ok",
                "triples": snapshot.triple_count,
                "contentHash": snapshot.content_hash,
                "generation": holder.generation,
                "lastReloadError": holder.last_error,
            },
            headers={"Cache-Control": "no-store"},
        )

    return endpoint


def load_into(holder: SnapshotHolder, layout: DataLayout) -> bool:
    """Build a snapshot and swap it in; on failure keep what is served and remember why (file and line only:
    /healthz shows it to anyone; the log has the whole problem)."""
    try:
        snapshot: Snapshot = build_snapshot(layout)
    except InvalidGraph as error:
        holder.last_error = public_reason(error.problems, layout)
        log.error("graph invalid, not served:\n%s", error)
        return False
    except Exception as error:
        # A file unreadable mid-edit (permissions, bad encoding, vanished): the same answer as invalid data.
        where = _data_file(getattr(error, "filename", None), layout)
        holder.last_error = (
            f"the data could not be read ({type(error).__name__}{', ' + where if where else ''}); "
            "see the server log / データを読み込めませんでした。詳細はサーバーのログを参照してください"
        )
        log.exception("graph could not be loaded, not served")
        return False
    holder.swap(snapshot)
    log.info("snapshot %s loaded: %d triples", snapshot.content_hash[:12], snapshot.triple_count)
    return True


def public_reason(problems: Sequence[Problem], layout: DataLayout) -> str:
    """Where the data is wrong, for anyone to read: each problem's file, line (when known) and rule."""
    places = []
    for problem in problems[:SHOWN_PROBLEMS]:
        files = problem.file.split(", ") if problem.file else []
        line = None
        if problem.rule == "turtle-syntax":
            line = _syntax_line(files, layout) or _line_in(problem.message)
        elif problem.resource:
            line, files = _subject_line(problem.resource, files, layout)
        where = (_data_file(files[0], layout) or "(graph)") if files else "(graph)"
        places.append(f"{where}{f' line {line}' if line else ''} [{_safe_rule(problem.rule)}]")
    more = len(problems) - len(places)
    shown = "; ".join(places) + (f"; {more} more" if more > 0 else "")
    return (
        f"invalid data: {shown}; the server log and `hvkg validate` tell more / "
        f"データが不正です（{len(problems)} 件）。詳細はサーバーのログと `hvkg validate` で確認してください"
    )


def _line_in(message: str) -> int | None:
    found = _LINE.search(message)
    return int(found[1]) if found else None


def _syntax_line(files: list[str], layout: DataLayout) -> int | None:
    """The line of a Turtle file's first syntax error, as pyoxigraph finds it: rdflib's message can name
    another line (for storage.ttl with a bad line 70 it said "line 77" and quoted line 58)."""
    import pyoxigraph as ox

    for name in files[:1]:
        try:
            data = (layout.root / name).read_bytes()
            for _ in ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=(layout.root / name).as_uri()):
                pass
        except SyntaxError as error:
            return _line_in(str(error))
        except (OSError, ValueError):
            return None
    return None


def _data_file(name: object, layout: DataLayout) -> str | None:
    """`name` as a path inside the data (relative), or None: no path outside it is shown."""
    if not isinstance(name, str) or not name:
        return None
    path = Path(name)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(layout.root.resolve()).as_posix()
        except ValueError:
            return None
    return path.as_posix() if ".." not in path.parts else None


def _safe_rule(rule: str) -> str:
    # Rules are the project's names (turtle-syntax, hv:GuestRowShape, queries/x-violation.rq): keep it so.
    return rule if re.fullmatch(r"[\w:./-]{1,80}", rule) else "rule"


def _subject_line(resource: str, files: list[str], layout: DataLayout) -> tuple[int | None, list[str]]:
    """The line where `resource` (kg:guest-row-05, or an IRI) starts a statement in one of `files`."""
    local = re.split(r"[:/#]", resource)[-1]
    if not local:
        return None, files
    starts = re.compile(rf"^(?:\S*[:/#<])?{re.escape(local)}>?(?=[\s;,.]|$)")
    for name in files:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            for number, text in enumerate((layout.root / name).read_text(encoding="utf-8").splitlines(), 1):
                if starts.match(text):
                    return number, [name]
    return None, files


def fallback(routes: Sequence[BaseRoute]) -> ASGIApp:
    """What answers when no route matches: a redirect to the path with its trailing slash added or removed,
    when that path exists (Starlette's redirect_slashes, but relative), else 404."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await WebSocketClose()(scope, receive, send)
            return
        path: str = scope["path"]
        other = path.rstrip("/") if path.endswith("/") else path + "/"
        if other and other != path:
            probe = {**scope, "path": other}
            if any(route.matches(probe)[0] is not Match.NONE for route in routes):
                await RedirectResponse(relative(other, scope), status_code=307)(scope, receive, send)
                return
        await PlainTextResponse("Not Found / 見つかりません", status_code=404)(scope, receive, send)

    return app


def relative(path: str, scope: Scope) -> str:
    """A Location for `path` on this site, with the request's query: never a host, never `//host`."""
    location = "/" + urllib.parse.quote(path, safe="/:@!$&'()*+,;=~").lstrip("/")
    query = scope.get("query_string", b"")
    return f"{location}?{query.decode('latin-1')}" if query else location


async def internal_error(request: Request, error: Exception) -> Response:
    """The 500 of an unexpected error (the error itself is logged by uvicorn): short, with the headers every
    response has; it is sent outside RequestMiddleware, so they are added here."""
    headers = {name.decode(): value.decode() for name, value in secured([])}
    return PlainTextResponse("Internal Server Error / 内部エラー", status_code=500, headers=headers)


def create_app(
    layout: DataLayout | None = None,
    holder: SnapshotHolder | None = None,
    *,
    service: bool = False,
    pid_file: Path | None = None,
) -> Starlette:
    """The app over `layout`'s data. `service=True` (server.main) makes it the process's server: SIGHUP
    reloads, `pid_file` names the process for `hvkg reload`, and a worker of `--workers N` loads its first
    snapshot before it reports ready (see server.ops.reload)."""
    layout = layout or DataLayout()
    holder = holder or SnapshotHolder()
    metrics = Metrics()
    # The adapters first: Starlette tries routes in order, and the portals' requests are most of the traffic.
    routes: list[BaseRoute] = adapter_routes(holder)
    routes += [
        Route("/healthz", healthz(holder)),
        Route("/metrics", metrics_endpoint(metrics, holder)),
        Mount("/static/pages", app=StaticFiles(directory=STATIC), name="page-static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        reloader = Reloader(holder, layout, metrics, load_into)
        app.state.reloader = reloader
        # rdflib's SPARQL modules import one another in a circle: imported first by two threads at once (a first
        # SPARQL query and a first GraphQL question on a fresh replica), one of them got a half-made module and
        # answered 500 (tests/test_deploy.py, behind haproxy, saw it at every rolling restart). Imported here,
        # once, before the first request.
        from server.sparql.engine import import_rdflib_sparql

        await anyio.to_thread.run_sync(import_rdflib_sparql)
        undo_signal: Callable[[], None] = lambda: None  # noqa: E731
        if service and is_spawned_worker():
            die_with_parent()  # a worker of --workers N ends with its supervisor, even a killed one
        pid = main_pid()
        if service:
            undo_signal = install_sighup(reloader.request)
            if pid_file is not None:
                try:
                    write_pid_file(pid_file, pid)
                except OSError as error:
                    log.warning("cannot write the pid file %s (hvkg reload needs --pid): %s", pid_file, error)
        first_load = holder.current is None
        if first_load and service and is_spawned_worker():
            # uvicorn's supervisor counts a worker as ready once start-up ends, and on SIGHUP stops the old
            # worker then: so a worker is not ready before it serves.
            await reloader.load(reload=False)
            first_load = False
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(functools.partial(reloader.run, first_load=first_load))
                yield
                group.cancel_scope.cancel()
        finally:
            undo_signal()
            if service and pid_file is not None and not is_spawned_worker():
                remove_pid_file(pid_file, pid)
            from server.sparql.protocol import close as close_sparql

            await close_sparql()  # the SPARQL worker processes end with the app

    # Outermost first: the request's id, count and access line; CORS (Starlette's) for the origins of
    # HVKG_CORS_ORIGINS, none unless set: outside everything that answers, so a preflight is answered before
    # routing (which would say 405) and every answer, an error (400, 404, 413) too, carries the headers a page
    # needs to read it, while the request is still counted and given its id; gzip for who asks
    # (server.ops.compression, over every answer of 500 bytes or more); the validators and 304s of what only a
    # reload changes (server.ops.conditional). A 500 is sent outside them all (Starlette's ServerErrorMiddleware).
    origins = cors_origins()
    cors = [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSED,
        )
    ]
    middleware = [
        Middleware(RequestMiddleware, metrics=metrics),
        *(cors if origins else []),
        Middleware(GzipWhenAsked, minimum_size=500),
        Middleware(ConditionalMiddleware, holder=holder),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={Exception: internal_error},
    )
    app.router.redirect_slashes = False
    app.router.default = fallback(app.router.routes)
    app.state.holder = holder
    app.state.metrics = metrics
    return app


def adapter_routes(holder: SnapshotHolder) -> list[BaseRoute]:
    """Every interface's routes; each adapter reads `holder.current` once per request."""
    from server.graphql.view import graphql_routes
    from server.sparql.protocol import sparql_routes
    from server.web.docs import docs_routes
    from server.web.front import front_routes
    from server.web.graph_store import graph_store_routes
    from server.web.pages import page_routes

    return [
        *graphql_routes(holder),
        *sparql_routes(holder, path="/sparql"),
        *page_routes(holder),
        *graph_store_routes(holder),
        *docs_routes(holder),
        *front_routes(holder),
    ]
