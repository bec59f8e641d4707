"""The Starlette application: one snapshot holder, the adapters' routes, and /healthz.

The snapshot is built in a worker thread after the server starts listening, so /healthz can say 503
("loading") until the graph is loaded and valid, and the reason if it is not.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from graph.layout import DataLayout
from graph.problems import InvalidGraph
from graph.snapshot import Snapshot, build_snapshot
from server.state import SnapshotHolder

log = logging.getLogger("hvkg")


def healthz(holder: SnapshotHolder) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:
        snapshot = holder.current
        if snapshot is None:
            body = {"status": "invalid" if holder.last_error else "loading", "error": holder.last_error}
            return JSONResponse(body, status_code=503)
        return JSONResponse(
            {
                "status": "ok",
                "triples": snapshot.triple_count,
                "contentHash": snapshot.content_hash,
                "lastReloadError": holder.last_error,
            }
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
    holder.swap(snapshot)
    log.info("snapshot %s loaded: %d triples", snapshot.content_hash[:12], snapshot.triple_count)
    return True


def create_app(layout: DataLayout | None = None, holder: SnapshotHolder | None = None) -> Starlette:
    layout = layout or DataLayout()
    holder = holder or SnapshotHolder()
    routes: list[BaseRoute] = [Route("/healthz", healthz(holder))]
    routes.extend(adapter_routes(holder))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with anyio.create_task_group() as group:
            if holder.current is None:
                group.start_soon(anyio.to_thread.run_sync, load_into, holder, layout)
            yield
            group.cancel_scope.cancel()
        from server.sparql import close as close_sparql

        await close_sparql()  # the SPARQL worker processes end with the app

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.holder = holder
    return app


def adapter_routes(holder: SnapshotHolder) -> list[BaseRoute]:
    """Every interface's routes; each adapter reads `holder.current` once per request."""
    from server.graphql_app import graphql_routes
    from server.pages import page_routes
    from server.sparql import sparql_routes

    return [*graphql_routes(holder), *sparql_routes(holder, path="/sparql"), *page_routes(holder)]
