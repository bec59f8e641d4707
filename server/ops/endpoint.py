"""A request function served as a plain ASGI app.

Starlette wraps a function route in `request_response`, which adds exception handling and two more layers
around every `send`; an endpoint that answers every error itself needs neither, and at cached-answer speed
they are a measurable part of a request (bench/README.md). As an app, a route also passes every method to the
endpoint unless the route lists its methods, so an endpoint can answer other methods itself, in both languages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class Endpoint:
    def __init__(self, handle: Callable[[Request], Awaitable[Response]]) -> None:
        self.handle = handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)
