"""One pass over every HTTP request: its id, its count and timing, its access line, its security headers,
and its body sent in pieces.

`RequestMiddleware` gives the request an id (the client's `X-Request-Id` when it is a sane token, else a new
one), keeps it in `scope["hvkg.request_id"]` for the adapters and in a context variable for every log line
written meanwhile, answers it in `X-Request-Id`, and when the last body byte is sent counts the request in
`server.ops.metrics` and writes its access line (`server.ops.logs`). Not asgi-correlation-id's middleware: it
appends its own X-Request-Id even when an adapter answered with one (two fields on every GraphQL and SPARQL
answer), and it is one more layer per request (docs/decisions.md, "Operations: libraries or measured reasons").

One middleware, not one per concern: each layer of ASGI wrapping costs a coroutine and a `send` closure per
request, which at cached-answer speed is a fifth of the time (bench/README.md). It is pure ASGI: it never
buffers a body. The label of a request (`interface`, `operation`) comes from the adapter that answered it
when it knows (`scope["hvkg.operation"]`: the GraphQL adapter names the operation from the document it
prepared anyway, the SPARQL endpoint from the query it read); otherwise from the path and the query string
(`server.ops.labels.operation_of`): a request refused before its body was read is "other".

Security headers (`secured`) are added here, to every response, so that no page can forget them: a
Content-Security-Policy that allows scripts, styles and connections from this server only and no inline script
(`PAGE_CSP`; a response that brings its own policy, GraphiQL's, keeps it), `X-Content-Type-Options: nosniff`,
`X-Frame-Options: DENY` with `frame-ancestors 'none'`, and `Referrer-Policy: same-origin`.

`Vary: Accept` is added here too, to every response of a path whose answer depends on the Accept header
(`NEGOTIATED`: /id/ pages and RDF, their redirects, 404s and 406s; /sparql; /graphql, which gives a browser
GraphiQL and anyone else JSON), so that a cache never hands the HTML to an RDF client or the reverse.

A body larger than `CHUNK` is sent in pieces of that size. uvicorn writes each `send` whole into the socket's
buffer and waits for the buffer to drain only *before* the next one: one 40 MB answer to a client that reads
nothing stayed in the server for good. In pieces, each waits until the client has taken the one before, and a
client that takes nothing for HVKG_SEND_TIMEOUT seconds is disconnected (server.ops.http_limits).
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.ops.labels import interface_of, operation_of
from server.ops.logs import incoming_request_id, new_request_id, request_id, write_access
from server.ops.metrics import Metrics

CHUNK = 64 * 1024
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", PAGE_CSP.encode("ascii")),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
_SECURITY_NAMES = frozenset(name for name, _ in SECURITY_HEADERS)
# Paths whose responses are chosen by the Accept header: a prefix (ending in "/") or a whole path.
NEGOTIATED = ("/id/", "/sparql", "/graphql")


def negotiated(path: str) -> bool:
    return any(path.startswith(p) if p.endswith("/") else path == p for p in NEGOTIATED)


def varied(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`headers` with Accept among the Vary header's fields (added to it, or a Vary header of its own)."""
    fields = [
        field.strip().lower() for name, value in headers if name.lower() == b"vary" for field in value.split(b",")
    ]
    if b"accept" in fields or b"*" in fields:
        return headers
    return [*headers, (b"vary", b"Accept")]


def secured(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`headers` with each security header it does not set itself."""
    present = {name.lower() for name, _ in headers if name.lower() in _SECURITY_NAMES}
    return [*headers, *(header for header in SECURITY_HEADERS if header[0] not in present)]


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
                headers = secured(list(message.get("headers") or []))
                if negotiated(path):
                    headers = varied(headers)
                # An adapter that names its own id in the response (and in its error messages) keeps it; the
                # access line records both, so either finds the other.
                answered_id = next((v.decode("latin-1") for k, v in headers if k.lower() == b"x-request-id"), None)
                if answered_id is None:
                    headers.append((b"x-request-id", rid.encode("latin-1")))
                message = {**message, "headers": headers}
            elif kind == "http.response.body" and len(message.get("body", b"")) > CHUNK:
                await send_in_pieces(send, message)
                if not message.get("more_body", False):
                    finish()
                return
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


async def send_in_pieces(send: Send, message: Message) -> None:
    """One body message as several of at most CHUNK bytes; `more_body` as the message had it on the last."""
    body = memoryview(message["body"])
    more_body = message.get("more_body", False)
    for start in range(0, len(body), CHUNK):
        last = start + CHUNK >= len(body)
        piece = bytes(body[start : start + CHUNK])
        await send({"type": "http.response.body", "body": piece, "more_body": more_body or not last})
