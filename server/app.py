"""The Starlette application: one snapshot holder, the adapters' routes, /healthz and /metrics.

The snapshot is built in a worker thread after the server starts listening, so /healthz can say 503
("loading") until the graph is loaded and valid, and the reason if it is not. A SIGHUP (`hvkg reload`) builds
a new snapshot the same way and swaps it in whole, or keeps the old one and says why (server.reload).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from graph.layout import DataLayout
from graph.problems import InvalidGraph
from graph.snapshot import Snapshot, build_snapshot
from server.metrics import Metrics, metrics_endpoint
from server.middleware import RequestMiddleware
from server.reload import (
    Reloader,
    install_sighup,
    is_spawned_worker,
    main_pid,
    remove_pid_file,
    write_pid_file,
)
from server.state import SnapshotHolder

log = logging.getLogger("hvkg")


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
    """Build a snapshot and swap it in; on failure keep what is served and remember why."""
    try:
        snapshot: Snapshot = build_snapshot(layout)
    except InvalidGraph as error:
        holder.last_error = str(error)
        log.error("graph invalid, not served:\n%s", error)
        return False
    except Exception as error:
        # A file unreadable mid-edit (permissions, bad encoding, vanished): the same answer as invalid data.
        holder.last_error = f"the data could not be read: {' '.join(str(error).split())[:500] or type(error).__name__}"
        log.exception("graph could not be loaded, not served")
        return False
    holder.swap(snapshot)
    log.info("snapshot %s loaded: %d triples", snapshot.content_hash[:12], snapshot.triple_count)
    return True


def create_app(
    layout: DataLayout | None = None,
    holder: SnapshotHolder | None = None,
    *,
    service: bool = False,
    pid_file: Path | None = None,
) -> Starlette:
    """The app over `layout`'s data. `service=True` (server.main) makes it the process's server: SIGHUP
    reloads, `pid_file` names the process for `hvkg reload`, and a worker of `--workers N` loads its first
    snapshot before it reports ready (see server.reload)."""
    layout = layout or DataLayout()
    holder = holder or SnapshotHolder()
    metrics = Metrics()
    # The adapters first: Starlette tries routes in order, and the portals' requests are most of the traffic.
    routes: list[BaseRoute] = adapter_routes(holder)
    routes += [Route("/healthz", healthz(holder)), Route("/metrics", metrics_endpoint(metrics, holder))]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        reloader = Reloader(holder, layout, metrics, load_into)
        app.state.reloader = reloader
        undo_signal: Callable[[], None] = lambda: None  # noqa: E731
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
            from server.sparql import close as close_sparql

            await close_sparql()  # the SPARQL worker processes end with the app

    middleware = [Middleware(RequestMiddleware, metrics=metrics)]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.holder = holder
    app.state.metrics = metrics
    return app


def adapter_routes(holder: SnapshotHolder) -> list[BaseRoute]:
    """Every interface's routes; each adapter reads `holder.current` once per request."""
    from server.docs import docs_routes
    from server.graphql_app import graphql_routes
    from server.pages import page_routes
    from server.sparql import sparql_routes

    return [
        *graphql_routes(holder),
        *sparql_routes(holder, path="/sparql"),
        *page_routes(holder),
        *docs_routes(holder),
    ]
