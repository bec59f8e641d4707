"""gzip for the clients that ask for it: Starlette's GZipMiddleware, entered only by a request that names gzip.

Starlette's middleware costs ~11.5 us on every request even when the client asks for no compression (it builds a
responder and reads the excluded content types again each time): the portals' cached CheckGuest lost its goal to
it (bench/README.md, "Issue 15: before and after the rooms"). A request whose Accept-Encoding does not name gzip
goes straight to the app; one that does gets Starlette's own compression, unchanged.
"""

from __future__ import annotations

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


def asks_for_gzip(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept-encoding":
            return b"gzip" in value.lower()
    return False


class GzipWhenAsked:
    def __init__(self, app: ASGIApp, minimum_size: int = 500) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and asks_for_gzip(scope):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
