"""The limit: a bare Starlette endpoint that reads the request body and answers a fixed small JSON document.

Nothing a real endpoint can do costs less than this over the same uvicorn loop and HTTP parser, so every
throughput figure of bench/README.md is a fraction of this one.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = b'{"data":{"ok":true}}'


async def endpoint(request: Request) -> Response:
    await request.body()
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST"])])
