"""Validators and conditional GETs for what only a reload can change: ETag, Last-Modified, Cache-Control, 304.

A page, a download or a docs file is a function of the snapshot and the request (its path, its query string and
the representation negotiated from Accept / Accept-Language), so its tag is read from those, not from the body:
the snapshot's content hash and build time, the target and the response's own Content-Type and
Content-Language. No body is hashed, so a streamed download costs nothing more. The tag is weak (W/): the same
representation may be sent gzipped or not (Starlette's GZipMiddleware sits outside this one).

A request whose If-None-Match names the tag (or, without If-None-Match, whose If-Modified-Since is not older than
the snapshot) gets 304 with the same validators and no body (RFC 9110 section 13.1, 15.4.5). The response is
still computed first: what is saved is the network, and the code stays one way through the adapters.

The tag reads `holder.current` when the response starts; an adapter reads it when the request starts. A reload
that lands between the two (microseconds) gives one response the new tag on the old body: its next
revalidation fetches the new body, since the tags then differ.
"""

from __future__ import annotations

import hashlib
from email.utils import formatdate, parsedate_to_datetime

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.ops.state import SnapshotHolder

# Where answers depend on the snapshot and the request alone (not /sparql: a query may read the time, NOW()).
CACHED_PREFIXES = ("/id/", "/download/", "/docs", "/store")
CACHE_CONTROL = "public, max-age=300"


def cached_path(path: str) -> bool:
    return path == "/" or path.startswith(CACHED_PREFIXES)


def entity_tag(content_hash: str, scope: Scope, headers: Headers, built_at: float = 0.0) -> str:
    """The snapshot (its content and when it was built: the front door shows the load time), the target and the
    representation."""
    target = scope.get("raw_path") or scope["path"].encode()
    parts = (
        content_hash.encode(),
        repr(built_at).encode(),
        bytes(target),
        bytes(scope.get("query_string", b"")),
        headers.get("content-type", "").encode("latin-1"),
        headers.get("content-language", "").encode("latin-1"),
    )
    return 'W/"' + hashlib.sha256(b"\0".join(parts)).hexdigest()[:32] + '"'


def none_match(header: str, tag: str) -> bool:
    """If-None-Match compares weakly (RFC 9110 section 13.1.2): W/"x" and "x" are the same tag."""
    if header.strip() == "*":
        return True
    opaque = tag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == opaque for candidate in header.split(","))


def not_modified_since(header: str, modified: float) -> bool:
    try:
        since = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False  # an unreadable date is ignored, as RFC 9110 section 13.1.3 says
    return int(modified) <= since


class ConditionalMiddleware:
    def __init__(self, app: ASGIApp, holder: SnapshotHolder) -> None:
        self.app = app
        self.holder = holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or not cached_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        if_none_match = request_headers.get("if-none-match")
        if_modified_since = request_headers.get("if-modified-since")
        swallowing = False

        async def conditional_send(message: Message) -> None:
            nonlocal swallowing
            if message["type"] == "http.response.start":
                snapshot = self.holder.current
                headers = MutableHeaders(scope=message)
                if message["status"] != 200 or snapshot is None or "etag" in headers:
                    await send(message)
                    return
                tag = entity_tag(snapshot.content_hash, scope, headers, snapshot.built_at)
                headers["ETag"] = tag
                headers["Last-Modified"] = formatdate(snapshot.built_at, usegmt=True)
                headers.setdefault("Cache-Control", CACHE_CONTROL)
                fresh = (
                    none_match(if_none_match, tag)
                    if if_none_match is not None
                    else if_modified_since is not None and not_modified_since(if_modified_since, snapshot.built_at)
                )
                if fresh:
                    swallowing = True
                    for name in ("content-length", "content-type", "content-encoding"):
                        del headers[name]
                    message["status"] = 304
                await send(message)
            elif swallowing:
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                await send(message)

        await self.app(scope, receive, conditional_send)
