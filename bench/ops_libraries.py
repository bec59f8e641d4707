"""server/ops/ against the well-kept libraries that do the same jobs: behaviour first, then time, same inputs.

    python bench/ops_libraries.py [--repeat 20000] [--rounds 3]

    config       Config.from_env (ours) against a pydantic-settings BaseSettings with the same fields, defaults
                 and checks (both also run the base IRI and named-graph checks); and what importing
                 pydantic_settings adds to a process that imported the app (which imports no pydantic)
    logs         one JSON line: the formatter we wrote before (kept here as `HandFormatter`) against
                 server.ops.logs.JSONFormatter, which is python-json-logger's JsonFormatter since issue 15; and
                 the access line `hvkg serve` writes without a LogRecord (server.ops.logs._access_json)
    request ids  one request through server.ops.middleware.RequestMiddleware, with and without
                 asgi-correlation-id's CorrelationIdMiddleware around it (our validator and generator given to
                 it), against a bare ASGI app, in-process
    negotiation  the offered format for one Accept header (the adapters' own offers), uncached: ours,
                 python-mimeparse's best_match, accept-types' get_best_match; and ours as the adapters call it
                 (remembered per header)

Each behaviour section prints where the library answers otherwise than our contract; each time is the best of
--rounds rounds of --repeat calls, in microseconds per call. The decisions taken from the figures are in
docs/decisions.md, "Operations: libraries or measured reasons".
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import logging
import os
import subprocess
import sys
import time
import timeit
import traceback
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import accept_types  # noqa: E402
import mimeparse  # noqa: E402
from asgi_correlation_id import CorrelationIdMiddleware, correlation_id  # noqa: E402
from pydantic import ValidationError, field_validator  # noqa: E402
from pydantic_settings import BaseSettings, SettingsConfigDict  # noqa: E402
from starlette.types import Message, Receive, Scope, Send  # noqa: E402

from graph.layout import base_iri  # noqa: E402
from graph.named_graphs import named_graphs_setting  # noqa: E402
from server.ops import logs  # noqa: E402
from server.ops.config import Config, ConfigError  # noqa: E402
from server.ops.metrics import Metrics  # noqa: E402
from server.ops.middleware import RequestMiddleware  # noqa: E402
from server.ops.negotiation import negotiate, parse_accept, quality  # noqa: E402
from server.sparql.formats import GRAPH_OFFERS, RESULT_OFFERS  # noqa: E402
from server.web.pages import OFFERS as PAGE_OFFERS  # noqa: E402

Offers = Sequence[tuple[str, str]]


def best(rounds: int, repeat: int, call: Callable[[], object]) -> float:
    """Microseconds per call, the best of `rounds` rounds of `repeat` calls."""
    return min(timeit.repeat(call, number=repeat, repeat=rounds)) / repeat * 1e6


def row(*cells: object) -> None:
    print("  " + " | ".join(str(cell) for cell in cells))


# --- configuration --------------------------------------------------------------------------------------------


class LibConfig(BaseSettings):
    """What Config.from_env reads, as pydantic-settings reads it: HVKG_<FIELD>, empty = unset, values in any
    letter case."""

    model_config = SettingsConfigDict(env_prefix="HVKG_", env_ignore_empty=True, frozen=True, extra="ignore")
    data: Path | None = None
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    access_log: bool = True
    pid_file: Path | None = None

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


def lib_config(env: Mapping[str, str]) -> LibConfig:
    base_iri(env)
    named_graphs_setting(env)
    return LibConfig()


CONFIG_CASES: tuple[dict[str, str], ...] = (
    {},
    {"HVKG_LOG_FORMAT": "TEXT", "HVKG_LOG_LEVEL": "debug", "HVKG_ACCESS_LOG": "off", "HVKG_PID_FILE": "/run/x"},
    {"HVKG_LOG_FORMAT": "  "},
    {"HVKG_LOG_FORMAT": "xml"},
    {"HVKG_LOG_LEVEL": "loud"},
    {"HVKG_ACCESS_LOG": "maybe"},
    {"HVKG_ACCESS_LOG": "t"},
)


def with_environ(env: Mapping[str, str], call: Callable[[], object]) -> object:
    saved = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith("HVKG_")}
    os.environ.update(env)
    try:
        return call()
    finally:
        for name in env:
            os.environ.pop(name, None)
        os.environ.update(saved)


def config_section(rounds: int, repeat: int) -> None:
    print("config: Config.from_env against pydantic-settings")
    for env in CONFIG_CASES:
        try:
            got = Config.from_env(env)
            ours = f"log_format={got.log_format} log_level={got.log_level} access_log={got.access_log}"
        except ConfigError as error:
            ours = f"ConfigError: {error}"
        try:
            lib = with_environ(env, partial(lib_config, env))
            assert isinstance(lib, LibConfig)
            theirs = f"log_format={lib.log_format} log_level={lib.log_level} access_log={lib.access_log}"
        except ValidationError as error:
            theirs = f"{type(error).__name__}: " + " ".join(str(error).split())[:150]
        row(json.dumps(env), "ours: " + ours, "pydantic-settings: " + theirs)
    swallowed = LibConfig(Path("/srv/data"), "text")  # type: ignore[call-arg]
    row("LibConfig(Path('/srv/data'), 'text')", f"data={swallowed.data} log_format={swallowed.log_format}")
    env = dict(CONFIG_CASES[1])
    ours_us = best(rounds, repeat, lambda: Config.from_env(env))
    lib_us = with_environ(env, lambda: best(rounds, repeat, lambda: lib_config(env)))
    row("load, µs", f"ours {ours_us:.1f}", f"pydantic-settings {lib_us:.1f}")
    # What pydantic-settings would add to every process `hvkg serve` starts (the supervisor and each worker):
    # its import in a fresh interpreter that has imported the application already.
    code = (
        "import time, server.app; t = time.perf_counter(); import pydantic_settings; "
        "print((time.perf_counter() - t) * 1000)"
    )
    added = min(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout)
        for _ in range(rounds)
    )
    row("import pydantic_settings after server.app, fresh interpreter", f"+{added:.0f} ms")


# --- logs -----------------------------------------------------------------------------------------------------


class HandFormatter(logging.Formatter):
    """server.ops.logs.JSONFormatter as it was before issue 15: the line built by hand, json.dumps."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": logs._timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process or logs._Process.pid,
        }
        current = getattr(record, "request_id", None) or logs.request_id.get()
        if current and current != "-":
            entry["requestId"] = current
        for key, value in record.__dict__.items():
            if key in logs._STANDARD or key == "request_id" or key.startswith(("color_", "_")):
                continue
            entry[key] = value
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


ACCESS_FIELDS: dict[str, Any] = {
    "request_id": "5f1e2d3c00000001",
    "method": "GET",
    "path": "/id/vmbus",
    "status": 200,
    "durationMs": 1.23,
    "interface": "page",
    "operation": "page",
    "client": "127.0.0.1",
}


def records() -> dict[str, logging.LogRecord]:
    logger = logging.getLogger("hvkg")
    try:
        raise ValueError("bad / 不正")
    except ValueError:
        failed = logger.makeRecord("hvkg", logging.ERROR, __file__, 1, "failed %s", ("ここ",), sys.exc_info())
    return {
        "a warning": logger.makeRecord("hvkg.test", logging.WARNING, __file__, 1, "worth a line / 記録", (), None),
        "an access record": logger.makeRecord(
            "hvkg.access", logging.INFO, __file__, 0, "%s %s %d", ("GET", "/id/vmbus", 200), None, extra=ACCESS_FIELDS
        ),
        "an error with its traceback": failed,
        "a warning with stack_info": logger.makeRecord(
            "hvkg", logging.WARNING, __file__, 1, "where", (), None, sinfo="Stack (most recent call last):\n  x"
        ),
    }


def logs_section(rounds: int, repeat: int) -> None:
    print("logs: one JSON line")
    hand, lib = HandFormatter(), logs.JSONFormatter()
    for name, record in records().items():
        before, after = json.loads(hand.format(record)), json.loads(lib.format(record))
        lost = sorted(set(after) - set(before))
        row(name, "same fields and values" if before == after else f"differs; only python-json-logger writes {lost}")
        row(
            "",
            f"hand-written {best(rounds, repeat, partial(hand.format, record)):.2f} µs",
            f"python-json-logger {best(rounds, repeat, partial(lib.format, record)):.2f} µs",
        )
    direct = best(rounds, repeat, lambda: logs._access_json(ACCESS_FIELDS, logging.INFO, 200))
    row("the access line without a LogRecord (hvkg serve's path)", f"{direct:.2f} µs")


# --- request ids ----------------------------------------------------------------------------------------------


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def adapter(scope: Scope, receive: Receive, send: Send) -> None:
    """What the GraphQL and SPARQL adapters do: name the request's id in their own answer."""
    rid = correlation_id.get() or "none"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-request-id", rid.encode())]})
    await send({"type": "http.response.body", "body": b"{}"})


def sane(value: str) -> bool:
    return logs._SANE_ID.fullmatch(value) is not None


def library(app: Any) -> Any:
    return CorrelationIdMiddleware(app, validator=sane, generator=logs.new_request_id, update_request_header=False)


def scope_of(request_id: bytes | None) -> Scope:
    headers = [(b"host", b"localhost"), (b"accept", b"*/*")]
    if request_id is not None:
        headers.append((b"x-request-id", request_id))
    return {"type": "http", "method": "GET", "path": "/healthz", "query_string": b"", "headers": headers}


async def call(app: Any, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def request_ids_section(rounds: int, repeat: int) -> None:
    print("request ids: asgi-correlation-id")
    (start, _) = asyncio.run(call(library(adapter), scope_of(None)))
    named = [value.decode() for name, value in start["headers"] if name.lower() == b"x-request-id"]
    row("an adapter that names the id in its answer", f"X-Request-Id fields sent: {len(named)} {named}")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger("asgi_correlation_id").addHandler(handler)
    default = CorrelationIdMiddleware(bare)
    (start, _) = asyncio.run(call(default, scope_of(b"lb-7f3a.42:9")))
    answered = dict(start["headers"])[b"x-request-id"].decode()
    row("its default validator, client id lb-7f3a.42:9", f"answered {answered}", f"logged: {stream.getvalue()!r}")
    logging.getLogger("asgi_correlation_id").removeHandler(handler)

    logging.getLogger("hvkg.access").disabled = True  # the middleware alone: no access line in either
    ours = RequestMiddleware(bare, Metrics())
    both = library(RequestMiddleware(bare, Metrics()))
    scope = scope_of(b"lb-7f3a.42:9")

    def per_request(app: Any) -> float:
        async def run() -> float:
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                for _ in range(repeat):
                    await app(dict(scope), receive_nothing, discard)
                times.append(time.perf_counter() - started)
            return min(times) / repeat * 1e6

        return asyncio.run(run())

    row(
        "µs per request",
        f"bare app {per_request(bare):.2f}",
        f"RequestMiddleware {per_request(ours):.2f}",
        f"CorrelationIdMiddleware around it {per_request(both):.2f}",
    )
    id_work = best(rounds, repeat, lambda: logs.incoming_request_id(scope) or logs.new_request_id())
    row("our id work in RequestMiddleware (read, check or make)", f"{id_work:.2f} µs")


async def receive_nothing() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def discard(message: Message) -> None:
    return None


# --- negotiation ----------------------------------------------------------------------------------------------


def by_mimeparse(accept: str | None, offers: Offers) -> str | None:
    if accept is None or not accept.strip():
        return offers[0][1]
    # best_match prefers the last of equal candidates: the offers reversed, so that the first offer wins
    chosen = mimeparse.best_match([media for media, _ in reversed(offers)], accept)
    return next((key for media, key in offers if media == chosen), None)


def by_accept_types(accept: str | None, offers: Offers) -> str | None:
    if accept is None or not accept.strip():
        return offers[0][1]
    chosen = accept_types.get_best_match(accept, [media for media, _ in offers])
    return next((key for media, key in offers if media == chosen), None)


NEGOTIATORS: dict[str, Callable[[str | None, Offers], str | None]] = {
    "ours": negotiate.__wrapped__,
    "python-mimeparse": by_mimeparse,
    "accept-types": by_accept_types,
}
# The contract's cases (tests/test_sparql_protocol.py) and the edges where the three differ.
NEGOTIATION_CASES: tuple[tuple[str, Offers, str | None], ...] = (
    ("text/*;q=0.3, text/csv;q=0", RESULT_OFFERS, "tsv"),
    ("application/sparql-results+json;q=0", RESULT_OFFERS, None),
    ("text/html;q=0.5, */*", PAGE_OFFERS, "turtle"),
    ("TEXT/HTML", PAGE_OFFERS, "html"),
    ("foo, text/turtle", PAGE_OFFERS, "turtle"),
    ("text/turtle;q=1.2.3, text/html;q=0.5", PAGE_OFFERS, "html"),
    ("text/html;level=1, text/html;q=0.1, text/turtle;q=0.5", PAGE_OFFERS, "turtle"),
    ("text/turtle;charset=utf-8", GRAPH_OFFERS, "turtle"),
)
# RFC 9110 section 12.5.1's example (with erratum 7138: text/html;level=3 takes text/*'s 0.3).
RFC_RANGES = (
    "text/*;q=0.3",
    "text/plain;q=0.7",
    "text/plain;format=flowed",
    "text/plain;format=fixed;q=0.4",
    "*/*;q=0.5",
)
RFC_TABLE = {
    "text/plain;format=flowed": 1.0,
    "text/plain": 0.7,
    "text/html": 0.3,
    "image/jpeg": 0.5,
    "text/plain;format=fixed": 0.4,
    "text/html;level=3": 0.3,
}
TIMED_HEADERS: tuple[tuple[str, Offers], ...] = (
    ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", PAGE_OFFERS),
    ("*/*", PAGE_OFFERS),
    ("application/sparql-results+json", RESULT_OFFERS),
    ("application/sparql-results+json,application/sparql-results+xml;q=0.9,text/csv;q=0.5,*/*;q=0.1", RESULT_OFFERS),
    ("text/turtle;q=1.0, application/rdf+xml;q=0.9, application/n-triples;q=0.8, */*;q=0.1", GRAPH_OFFERS),
)


def answer(negotiator: Callable[[str | None, Offers], str | None], accept: str, offers: Offers) -> str:
    try:
        return str(negotiator(accept, offers))
    except Exception as error:
        return f"raises {type(error).__name__}"


def negotiation_section(rounds: int, repeat: int) -> None:
    print("negotiation: the offered format for an Accept header")
    for accept, offers, expected in NEGOTIATION_CASES:
        got = {name: answer(negotiator, accept, offers) for name, negotiator in NEGOTIATORS.items()}
        row(repr(accept), f"contract {expected}", *(f"{name} {value}" for name, value in got.items()))
    orders = list(itertools.permutations(RFC_RANGES))
    mimeparse_q = sum(
        mimeparse.quality(media, ", ".join(order)) == q for order in orders for media, q in RFC_TABLE.items()
    )
    ours_q = sum(
        quality(media, parse_accept(", ".join(order)))[0] == q for order in orders for media, q in RFC_TABLE.items()
    )
    total = len(orders) * len(RFC_TABLE)
    row(
        f"RFC 9110 12.5.1 table, its ranges in all {len(orders)} orders",
        f"ours {ours_q}/{total} right",
        f"python-mimeparse {mimeparse_q}/{total} right",
    )
    for name, negotiator in NEGOTIATORS.items():
        per_header = [best(rounds, repeat, partial(negotiator, a, o)) for a, o in TIMED_HEADERS]
        row(
            f"{name}, uncached",
            " ".join(f"{us:.2f}" for us in per_header),
            f"mean {sum(per_header) / len(per_header):.2f} µs",
        )
    cached = [best(rounds, repeat, partial(negotiate, a, o)) for a, o in TIMED_HEADERS]
    row(
        "ours as the adapters call it (remembered)",
        " ".join(f"{us:.2f}" for us in cached),
        f"mean {sum(cached) / len(cached):.2f} µs",
    )


# --- the contract's tests with a library in our code's place ---------------------------------------------------


def swap(library_name: str) -> None:
    """Put a library where our code is, for the tests: `HVKG_SWAP=<name> PYTHONPATH=bench pytest -p ops_libraries
    tests/...` runs them so (docs/decisions.md cites the tests that then fail). mimeparse and accept-types replace
    `negotiate`; correlation-id puts CorrelationIdMiddleware, with our id rules, in front of every app."""
    import server.app
    import server.ops.negotiation

    if library_name in ("mimeparse", "accept-types"):
        chosen = by_mimeparse if library_name == "mimeparse" else by_accept_types
        server.ops.negotiation.negotiate = lru_cache(maxsize=512)(chosen)
    elif library_name == "correlation-id":
        create_app = server.app.create_app

        def with_library(*args: Any, **kwargs: Any) -> Any:
            app = create_app(*args, **kwargs)
            app.add_middleware(
                CorrelationIdMiddleware, validator=sane, generator=logs.new_request_id, update_request_header=False
            )
            return app

        server.app.create_app = with_library
    else:
        raise SystemExit(f"HVKG_SWAP: mimeparse, accept-types or correlation-id, not {library_name!r}")


if __name__ != "__main__" and os.environ.get("HVKG_SWAP"):
    swap(os.environ["HVKG_SWAP"])  # loaded by pytest -p, before any test module imports what it patches


SECTIONS = {
    "config": config_section,
    "logs": logs_section,
    "ids": request_ids_section,
    "negotiation": negotiation_section,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join(SECTIONS)} (all when none is named)")
    parser.add_argument("--repeat", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; best of {args.rounds} rounds of {args.repeat}")
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f"no section {', '.join(unknown)}; the sections are {', '.join(SECTIONS)}")
    for name in args.sections or SECTIONS:
        SECTIONS[name](args.rounds, args.repeat)


if __name__ == "__main__":
    main()
