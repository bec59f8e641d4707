"""Structured logs: one JSON object per line, each stamped with the id of the request it belongs to.

server.ops.middleware gives every HTTP request an id and keeps it in `request_id` (a context variable) while the
request runs, so that every log line written meanwhile carries it; it calls `write_access` once the response
is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import json
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from starlette.types import Scope

from server.ops.config import Config

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("hvkg_request_id", default=None)

_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Attributes every LogRecord has; anything else on a record came from `extra=` and is written as a field.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_QUIET_PATHS = ("/healthz", "/metrics")  # probed every few seconds by load balancers and Prometheus
_HANDLER_MARK = "_hvkg_handler"

access_log = logging.getLogger("hvkg.access")


class _Process:
    """What every line of this process shares. The pid is read once (and again in a forked child): configure()
    stops every LogRecord from asking the kernel for it."""

    pid = os.getpid()
    json_handler: LineHandler | None = None  # the handler configure() installed, when it writes JSON
    clock: tuple[int, str] = (-1, "")  # a second and its text, for _timestamp


def _forked() -> None:
    _Process.pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


class JSONFormatter(JsonFormatter):
    """time, level, logger, message, pid, requestId, any `extra=` fields, and the exception as text.

    python-json-logger's formatter, given our field names: it also writes `stack_info`, a dict logged as the
    message as fields, and dates, bytes or dataclasses in `extra=` as JSON rather than as their str(), no slower
    than the line we wrote by hand (bench/ops_libraries.py). Under load the access line, one per request, does
    not come through here (write_access)."""

    def __init__(self) -> None:
        super().__init__(
            reserved_attrs=[*_STANDARD, "request_id", "color_message"],  # uvicorn's colour copy of its message
            rename_fields={"exc_info": "exception"},
            json_ensure_ascii=False,
        )

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data["time"] = _timestamp(record.created)
        log_data["level"] = record.levelname.lower()
        log_data["logger"] = record.name
        log_data["message"] = record.message
        log_data["pid"] = record.process or _Process.pid
        current = getattr(record, "request_id", None) or request_id.get()
        if current and current != "-":
            log_data["requestId"] = current
        super().add_fields(log_data, record, message_dict)  # `extra=` fields, the exception, the stack


def _timestamp(created: float) -> str:
    """ISO 8601 in UTC to the millisecond; the date and time of the second are made once per second."""
    second = int(created)
    cached_second, prefix = _Process.clock
    if second != cached_second:
        prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _Process.clock = (second, prefix)  # one assignment: a thread never sees a second with another's prefix
    return f"{prefix}.{int((created - second) * 1000):03d}+00:00"


class _RequestIdFilter(logging.Filter):
    """For the text format: `%(request_id)s` is always defined."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id.get() or "-"
        return True


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler that writes the access lines of a few milliseconds together.

    Under load every request writes an access line; a write and a flush of its own for each was a tenth of the
    server's time (bench/README.md). So an access line written on an event loop (`write_line`) is kept, and
    FLUSH_SECONDS later everything kept is written in one write. Every other line (`emit`) is written at once,
    after what is kept, so the order of lines is always the order they were logged in, and the lines uvicorn
    writes while shutting down carry the last access lines out with them. `flush` (also called at exit by
    logging.shutdown) writes what is kept. A process killed outright loses at most FLUSH_SECONDS of access lines.
    """

    FLUSH_SECONDS = 0.02

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._kept: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:  # called with the handler's lock held
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._kept.append(line + self.terminator)
        self._write_kept()

    def write_line(self, line: str) -> None:
        """An access line, formatted already (server.ops.logs.write_access)."""
        with self.lock or contextlib.nullcontext():
            self._kept.append(line + self.terminator)
            if len(self._kept) > 1:
                return  # a write is due already
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not on an event loop: nothing would write it later
                self._write_kept()
                return
            loop.call_later(self.FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        with self.lock or contextlib.nullcontext():
            self._write_kept()

    def _write_kept(self) -> None:
        if not self._kept:
            return
        text = "".join(self._kept)
        self._kept.clear()
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:  # a closed or broken stderr: logging must never take a request down
            self.handleError(logging.makeLogRecord({"msg": text[:200]}))


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def formatter(log_format: str) -> logging.Formatter:
    return JSONFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure(config: Config) -> None:
    """Send every log line (ours, uvicorn's, rdflib's) through one handler on stderr, in the configured format.

    Called when the app is imported by the server process (server.main), after uvicorn set up its own logging:
    uvicorn's loggers lose their handlers and propagate to ours, and its access log gives way to the access line
    of server.ops.middleware, which knows the request id. Calling it again replaces the handler, never adds one.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    handler = LineHandler(sys.stderr)
    handler.setFormatter(formatter(config.log_format))
    _Process.json_handler = handler if config.log_format == "json" else None
    handler.addFilter(_RequestIdFilter())
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(config.log_level.upper())
    # Fields no line of ours writes, each a lookup (the pid a system call) in every LogRecord: the access line
    # of each request is one (the JSON format writes the pid it read once, `_Process.pid`).
    logging.logThreads = False
    logging.logMultiprocessing = False
    logging.logProcesses = False
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
        {"()": "server.ops.logs.JSONFormatter"} if config.log_format == "json" else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "server.ops.logs._RequestIdFilter"}},
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


# A request id: this process's random prefix and a counter, 16 hex digits. Unique among the processes of a
# deployment for all practical purposes, and far cheaper than uuid4 per request.
_ID_PREFIX = os.urandom(4).hex()
_id_counter = itertools.count(int.from_bytes(os.urandom(2)))


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_id_counter) & 0xFFFFFFFF:08x}"


def request_id_of(scope: Scope) -> str:
    """The id server.ops.middleware gave this request (a new one for an app served without it)."""
    rid = scope.get("hvkg.request_id")
    return rid if isinstance(rid, str) else new_request_id()


def incoming_request_id(scope: Scope) -> str | None:
    """The client's X-Request-Id if it is a short token of safe characters (it is echoed into logs)."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _SANE_ID.fullmatch(text) else None
    return None


def write_access(
    scope: Scope, interface: str, operation: str, status: int, seconds: float, rid: str, answered_id: str | None
) -> None:
    """The access line of one answered request (server.ops.middleware calls it once the last byte is sent)."""
    if access_log.disabled:
        return
    path: str = scope.get("path", "")
    level = logging.DEBUG if path in _QUIET_PATHS and status < 500 else logging.INFO
    if not access_log.isEnabledFor(level):
        return
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
    direct = _Process.json_handler
    if direct is not None and not access_log.handlers and logging.root.handlers == [direct]:
        direct.write_line(_access_json(fields, level, status))
        return
    # makeRecord and handle: what Logger.log does, less the search of the stack for the caller's line.
    args = (fields["method"], fields["path"], status)
    record = access_log.makeRecord(access_log.name, level, __file__, 0, "%s %s %d", args, None, extra=fields)
    access_log.handle(record)


_string = json.encoder.c_encode_basestring or json.encoder.py_encode_basestring  # type: ignore[attr-defined]


def _access_json(fields: dict[str, Any], level: int, status: int) -> str:
    """The line JSONFormatter writes for an access record, written without the record: under load there is one
    per request, and a LogRecord with its formatting costs three times as much (bench/README.md)."""
    q = _string
    method, path = str(fields["method"]), fields["path"]
    line = (
        f'{{"time": {q(_timestamp(time.time()))}, "level": "{"debug" if level == logging.DEBUG else "info"}", '
        f'"logger": {q(access_log.name)}, "message": {q(f"{method} {path} {status}")}, "pid": {_Process.pid}, '
        f'"requestId": {q(fields["request_id"])}, "method": {q(method)}, "path": {q(path)}, "status": {status}, '
        f'"durationMs": {fields["durationMs"]!r}, "interface": {q(fields["interface"])}, '
        f'"operation": {q(fields["operation"])}'
    )
    if "responseRequestId" in fields:
        line += f', "responseRequestId": {q(fields["responseRequestId"])}'
    if "client" in fields:
        line += f', "client": {q(str(fields["client"]))}'
    return line + "}"
