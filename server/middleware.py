"""One pass over every HTTP request: its id, its count and timing, and its access line.

`RequestMiddleware` gives the request an id (the client's `X-Request-Id` when it is a sane token, else a new
one), keeps it in `scope["hvkg.request_id"]` for the adapters and in a context variable for every log line
written meanwhile, answers it in `X-Request-Id`, and when the last body byte is sent counts the request in
`server.metrics` and writes its access line (`server.logs`).

One middleware, not one per concern: each layer of ASGI wrapping costs a coroutine and a `send` closure per
request, which at cached-answer speed is a fifth of the time (bench/README.md). It is pure ASGI: it never
buffers a body. The label of a request (`interface`, `operation`) comes from the adapter that answered it
when it knows (`scope["hvkg.operation"]`: the GraphQL adapter names the operation from the document it
prepared anyway, the SPARQL endpoint from the query it read); otherwise from the path and the query string
(`server.metrics.operation_of`): a request refused before its body was read is "other".
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.logs import incoming_request_id, new_request_id, request_id, write_access
from server.metrics import Metrics, interface_of, operation_of


class RequestMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = incoming_request_id(scope) or new_request_id()
        scope["hvkg.request_id"] = rid
        token = request_id.set(rid)
        path: str = scope["path"]
        interface = interface_of(path)
        status = 500
        answered_id: str | None = None
        done = False
        metrics = self.metrics

        def finish() -> None:
            nonlocal done
            if done:
                return
            done = True
            operation = scope.get("hvkg.operation") or operation_of(scope, interface, path)
            seconds = time.perf_counter() - started
            metrics.record(interface, operation, status, seconds)
            write_access(scope, interface, operation, status, seconds, rid, answered_id)

        async def observed_send(message: Message) -> None:
            nonlocal status, answered_id
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                headers = message.get("headers") or []
                # An adapter that names its own id in the response (and in its error messages) keeps it; the
                # access line records both, so either finds the other.
                answered_id = next((v.decode("latin-1") for k, v in headers if k.lower() == b"x-request-id"), None)
                if answered_id is None:
                    message = {**message, "headers": [*headers, (b"x-request-id", rid.encode("latin-1"))]}
            await send(message)
            if kind == "http.response.body" and not message.get("more_body", False):
                finish()

        metrics.in_flight += 1
        try:
            await self.app(scope, receive, observed_send)
        finally:
            metrics.in_flight -= 1
            finish()
            request_id.reset(token)
