"""Structured logs: one JSON object per line, each stamped with the id of the request it belongs to.

`RequestIdMiddleware` gives every HTTP request an id (the client's `X-Request-Id` when it is a sane token, else a
new one), keeps it in a context variable for the duration of the request, so that every log line written while
the request runs carries it, answers it in `X-Request-Id`, and writes one access line when the response is done.
It is pure ASGI: it never reads or buffers a body, so streaming responses and the SPARQL endpoint's own chunked
body reading are untouched.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.config import Config

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("hvkg_request_id", default=None)

_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Attributes every LogRecord has; anything else on a record came from `extra=` and is written as a field.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_QUIET_PATHS = ("/healthz", "/metrics")  # probed every few seconds by load balancers and Prometheus
_HANDLER_MARK = "_hvkg_handler"

access_log = logging.getLogger("hvkg.access")


class JSONFormatter(logging.Formatter):
    """time, level, logger, message, pid, requestId, any `extra=` fields, and the exception as text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        current = getattr(record, "request_id", None) or request_id.get()
        if current and current != "-":
            entry["requestId"] = current
        for key, value in record.__dict__.items():
            if key in _STANDARD or key == "request_id" or key.startswith(("color_", "_")):
                continue
            entry[key] = value
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class _RequestIdFilter(logging.Filter):
    """For the text format: `%(request_id)s` is always defined."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id.get() or "-"
        return True


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def formatter(log_format: str) -> logging.Formatter:
    return JSONFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(config: Config) -> None:
    """Send every log line (ours, uvicorn's, rdflib's) through one handler on stderr, in the configured format.

    Called when the app is imported by the server process (server.main), after uvicorn set up its own logging:
    uvicorn's loggers lose their handlers and propagate to ours, and its access log gives way to
    RequestIdMiddleware's, which knows the request id. Calling it again replaces the handler, never adds one.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(config.log_format))
    handler.addFilter(_RequestIdFilter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(config.log_level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
    uvicorn_access.disabled = True
    access_log.disabled = not config.access_log


def uvicorn_log_config(config: Config) -> dict[str, Any]:
    """A `log_config` for uvicorn.run, so that the supervisor of `--workers N` writes the same format too."""
    formatter_spec: dict[str, Any] = (
        {"()": "server.logs.JSONFormatter"} if config.log_format == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "server.logs._RequestIdFilter"}},
        "formatters": {"default": formatter_spec},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": config.log_level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def incoming_request_id(scope: Scope) -> str | None:
    """The client's X-Request-Id if it is a short token of safe characters (it is echoed into logs)."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _SANE_ID.fullmatch(text) else None
    return None


class RequestIdMiddleware:
    """Assigns the request id, answers it in X-Request-Id, and writes the access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_request_id(scope) or new_request_id()
        scope["hvkg.request_id"] = rid
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        answered_id: str | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered_id
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", ()))
                # An adapter that names its own id in the response (and in its error messages) keeps it; the
                # access line records both, so either finds the other.
                answered_id = next((v.decode("latin-1") for k, v in headers if k.lower() == b"x-request-id"), None)
                if answered_id is None:
                    headers.append((b"x-request-id", rid.encode("latin-1")))
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _access(scope, status, time.perf_counter() - started, rid, answered_id)
            request_id.reset(token)


def _access(scope: Scope, status: int, seconds: float, rid: str, answered_id: str | None) -> None:
    if access_log.disabled:
        return
    path: str = scope.get("path", "")
    level = logging.DEBUG if path in _QUIET_PATHS and status < 500 else logging.INFO
    if not access_log.isEnabledFor(level):
        return
    interface, operation = scope.get("hvkg.labels", ("other", "other"))
    fields: dict[str, Any] = {
        "request_id": rid,
        "method": scope.get("method"),
        "path": path[:200],
        "status": status,
        "durationMs": round(seconds * 1000, 2),
        "interface": interface,
        "operation": operation,
    }
    if answered_id is not None and answered_id != rid:
        fields["responseRequestId"] = answered_id
    client = scope.get("client")
    if client:
        fields["client"] = client[0]
    access_log.log(level, "%s %s %d", fields["method"], fields["path"], status, extra=fields)
