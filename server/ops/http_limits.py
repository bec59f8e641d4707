"""What one HTTP connection may make the server hold or wait for: uvicorn's httptools protocol, bounded.

`hvkg serve` runs uvicorn with `http=BoundedHttpToolsProtocol` (single process and --workers alike):

- **The request head.** The request line is at most HVKG_MAX_URL_BYTES (else 414), the header fields at most
  HVKG_MAX_HEADER_BYTES in all and HVKG_MAX_HEADERS in number (else 431), each with a short body and
  `Connection: close`. httptools (llhttp) has no limit of its own and keeps a header's value until it is whole,
  growing it by concatenation: 16 clients each sending 32 MB of one header that never ends grew the server by
  ~600 MiB. Bytes are counted as they arrive, so a head that never ends is refused once it passes the limit.
- **Time to send the head.** A connection has HVKG_HEADER_TIMEOUT seconds from its opening (and a later request
  on a kept-alive connection from its first byte) to send a whole head; else 408 and the connection is closed.
  A client dribbling a header byte by byte (slowloris), or opening connections and sending nothing, no longer
  holds a connection for ever. The body is not covered: the adapters bound it and read it themselves.
- **A client that does not read.** When the socket's write buffer stays above its high-water mark for
  HVKG_SEND_TIMEOUT seconds (the client took nothing in that time), the connection is aborted: its buffer is
  freed and the request's task ends. With the middleware sending large bodies in 64 KiB pieces
  (server.ops.middleware), such a client holds at most a piece or two of its answer, and only that long.

A refusal is written by the protocol, below the app: after it the server shuts its side, keeps reading (and
dropping) what the client still sends for LINGER seconds, then closes. Closing a socket with unread input
makes the kernel send a reset, and a client still sending its huge header would see the reset, not the 431.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from server.ops.config import ConfigError

log = logging.getLogger("hvkg.http")

# Seconds a refused connection keeps reading (and dropping) before it is closed.
LINGER = 2.0
# Request-line bytes the parser sees besides the URL ("GET ", " HTTP/1.1\r\n"): slack for the head count.
REQUEST_LINE_SLACK = 64

REFUSALS = {
    408: "the request head did not arrive in time / リクエストヘッダーが時間内に届きませんでした",
    414: "the request URL is too long / リクエストURLが長すぎます",
    431: "the request header fields are too large or too many / リクエストヘッダーが大きすぎるか多すぎます",
}


@dataclass(frozen=True)
class HTTPLimits:
    max_url_bytes: int = 256 * 1024
    max_header_bytes: int = 64 * 1024
    max_headers: int = 100
    header_timeout: float = 10.0
    send_timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HTTPLimits:
        """HVKG_<FIELD> for each field; a value that is not a positive number stops the server naming it."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in fields(cls):
            name = "HVKG_" + field.name.upper()
            raw = env.get(name, "").strip()
            if not raw:
                continue
            kind = float if field.type in (float, "float") else int
            try:
                value = kind(raw)
            except ValueError:
                shown = f"{raw[:40]!r}"
                raise ConfigError(f"{name} must be a number, not {shown} / {name} は数値で指定してください") from None
            if not (value > 0 and math.isfinite(value)):  # zero, negative, NaN: "no limit" is not an option
                raise ConfigError(
                    f"{name} must be greater than 0, not {raw[:40]!r} / {name} は 0 より大きい値にしてください"
                )
            values[field.name] = value
        return cls(**values)


_LIMITS: HTTPLimits | None = None


def limits() -> HTTPLimits:
    """This process's limits, read from the environment once (a --workers child inherits it)."""
    global _LIMITS  # noqa: PLW0603 -- one immutable value per process, read on first use
    if _LIMITS is None:
        _LIMITS = HTTPLimits.from_env()
    return _LIMITS


class HeadRefused(Exception):
    """Raised inside a parser callback: llhttp stops, and data_received answers `status`."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above; everything else is uvicorn's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits()
        self._awaiting_head = True  # bytes that arrive now belong to a request head
        self._head_bytes = 0  # of the head being received, as they arrived (a head that never ends)
        self._field_bytes = 0  # of its whole header fields, as parsed
        self._fields = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._send_timer: asyncio.TimerHandle | None = None
        self._refused = False  # a refusal was written: whatever still arrives is dropped

    # --- the connection ---------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()  # a connection that sends nothing is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._unset_keepalive_if_required()
        if self._awaiting_head:
            self._head_bytes += len(data)
            if self._head_timer is None:
                self._start_head_timer()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            refused = error.__context__
            if isinstance(refused, HeadRefused):
                self._refuse(refused.status)
            else:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._awaiting_head and not self._refused:
            # A head still incomplete: llhttp holds what came so far (the URL, a header's partial value), and
            # on_header has not seen the field that is still arriving.
            url = len(getattr(self, "url", b""))
            if self._head_bytes - url > self.limits.max_header_bytes + REQUEST_LINE_SLACK:
                self._refuse(431)

    # --- parser callbacks ---------------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._field_bytes = 0
        self._fields = 0
        if self._head_timer is None:
            self._start_head_timer()
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_url_bytes:
            raise HeadRefused(414)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._fields += 1
        self._field_bytes += len(name) + len(value) + 4  # ": " and CRLF
        if self._fields > self.limits.max_headers or self._field_bytes > self.limits.max_header_bytes:
            raise HeadRefused(431)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._head_bytes = 0
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # What arrives next is the next request's head; its timer starts with its first byte (on_message_begin
        # or data_received), not now: the answer to this request may take longer than the head timeout.
        self._awaiting_head = True
        self._head_bytes = 0

    # --- a client that does not read ----------------------------------------------------------------------------

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(self.limits.send_timeout, self._send_timed_out)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    def _send_timed_out(self) -> None:
        self._send_timer = None
        log.info("client %s read nothing for %g s; connection closed", _peer(self.client), self.limits.send_timeout)
        self.transport.abort()  # drops the unsent buffer; the request's pending send returns at once

    # --- the head timer and refusals ------------------------------------------------------------------------------

    def _start_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head_timer()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self._refused:
            return
        if self._head_bytes:
            self._refuse(408)
        else:
            self.transport.close()  # nothing was asked: nothing to answer

    def _refuse(self, status: int) -> None:
        """Answer `status` with a short body and end the connection, after a moment of lingering."""
        self._refused = True
        self._cancel_head_timer()
        log.info("refused a request head from %s: %d", _peer(self.client), status)
        if self.cycle is not None and not self.cycle.response_complete:
            # The previous request's answer is still being written: no refusal in the middle of it, the
            # connection just ends after it.
            self.cycle.keep_alive = False
            self.flow.pause_reading()
            return
        body = REFUSALS[status].encode("utf-8")
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[status],
                    *(name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers),
                    b"content-type: text/plain; charset=utf-8\r\n",
                    b"content-length: %d\r\n" % len(body),
                    b"x-content-type-options: nosniff\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.flow.resume_reading()
        self.loop.call_later(LINGER, self._end)

    def _end(self) -> None:
        if not self.transport.is_closing():
            self.transport.abort()


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "?"
