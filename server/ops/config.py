"""Every environment variable the service reads, in one place, with its default and meaning.

`Config.from_env()` reads the service's own variables; the SPARQL endpoint's limits (HVKG_SPARQL_*) are read by
`server.sparql.SPARQLConfig.from_env()` and only listed here, so that `VARIABLES` (and docs/operations.md, which a
test holds to it) names every variable a deployment can set.

Ours, not pydantic-settings: it reads only os.environ (`from_env` takes any mapping, as the tests
do), its messages name the field, not the variable, and in English only, a positional `Config(...)`
is taken silently as its own options, and importing it (with pydantic, which nothing else here needs) costs
a fresh process tens of milliseconds before it serves (docs/decisions.md, "Operations: libraries or measured
reasons").
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from graph.layout import DEFAULT_BASE, BaseIRIError, DataLayout, base_iri
from graph.named_graphs import named_graphs_setting

LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("debug", "info", "warning", "error")
SWITCHES = ("on", "off", "true", "false", "yes", "no", "1", "0")
SWITCH_ON = ("on", "true", "yes", "1")


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    meaning: str


VARIABLES: tuple[Variable, ...] = (
    Variable("HVKG_DATA", "the checkout", "project root holding ontology/, graph/ and queries/ (read, never written)"),
    Variable(
        "HVKG_BASE_IRI",
        DEFAULT_BASE,
        "the base of every IRI served (pages, RDF, SPARQL, docs), such as https://w3id.org/hyperv-kg/id/; "
        "an absolute http(s) IRI ending in `/`",
    ),
    Variable("HVKG_LOG_FORMAT", "json", "`json`: one JSON object per line; `text`: plain lines for a terminal"),
    Variable("HVKG_LOG_LEVEL", "info", "`debug`, `info`, `warning` or `error`"),
    Variable("HVKG_ACCESS_LOG", "on", "`off`: no line per request (the metrics still count them)"),
    Variable("HVKG_DEBUG", "unset", "`1`: the command line prints the traceback of an unexpected error"),
    Variable(
        "HVKG_PID_FILE",
        "$XDG_RUNTIME_DIR/hvkg.pid, else <tmp>/hvkg-<uid>.pid",
        "where `hvkg serve` writes the pid that `hvkg reload` signals",
    ),
    Variable(
        "HVKG_CACHE_DIR",
        "$XDG_CACHE_HOME/hyperv-kg, else ~/.cache/hyperv-kg",
        "where validated snapshots are kept by content hash so a restart skips validation; `off`: no cache",
    ),
    # prometheus_client's own variable (server.ops.metrics, server.ops.supervisor.metrics_directory).
    Variable(
        "PROMETHEUS_MULTIPROC_DIR",
        "with --workers N: a new <tmp>/hvkg-metrics-<pid>-* per run, removed at exit",
        "where the workers keep their counts for /metrics, added up by every scrape; emptied at start",
    ),
    # Read by server.ops.http_limits.HTTPLimits.from_env(), in each server process.
    Variable("HVKG_MAX_URL_BYTES", "262144", "longest request line (URL); longer gets 414"),
    Variable("HVKG_MAX_HEADER_BYTES", "65536", "request header fields in all; more gets 431"),
    Variable("HVKG_MAX_HEADERS", "100", "request header fields in number; more gets 431"),
    Variable("HVKG_HEADER_TIMEOUT", "10", "seconds to send a whole request head; then 408 and the connection closed"),
    Variable(
        "HVKG_SEND_TIMEOUT", "30", "seconds a client may read nothing of an answer before its connection is closed"
    ),
    Variable("HVKG_SPARQL_TIME_LIMIT", "5", "seconds a SPARQL query may run (parse, evaluate, serialise)"),
    Variable("HVKG_SPARQL_ROW_LIMIT", "10000", "rows (or triples) per SPARQL response"),
    Variable("HVKG_SPARQL_MAX_CONCURRENT", "4", "SPARQL queries running at once per process (worker processes)"),
    Variable("HVKG_SPARQL_MAX_QUERY_BYTES", "65536", "longest SPARQL query text"),
    Variable("HVKG_SPARQL_MAX_BODY_BYTES", "1048576", "largest SPARQL POST body"),
    Variable("HVKG_SPARQL_DRAIN_LIMIT_BYTES", "16777216", "an oversized body up to this size is read before the 413"),
    Variable(
        "HVKG_SPARQL_MEMORY_LIMIT_BYTES", "1073741824", "memory a SPARQL worker may add; `none`/`off`/`0`: no limit"
    ),
    Variable("HVKG_SPARQL_STRICT_DATASET", "false", "`true`: refuse (400) a FROM / graph IRI other than the graph's"),
    Variable(
        "HVKG_NAMED_GRAPHS",
        "auto",
        "`on`/`off`: file one named graph per source for FROM / GRAPH; `auto`: unless the input is over 2 MB",
    ),
    Variable(
        "HVKG_SPARQL_MAX_NESTING", "100", "levels of { } ( ) [ ] a query may nest; deeper: 400 before any engine parses"
    ),
    Variable(
        "HVKG_SPARQL_QUEUE",
        "4 × HVKG_SPARQL_MAX_CONCURRENT",
        "SPARQL queries that may wait (FIFO, at most the time limit) for a busy worker; `0`: none wait",
    ),
    Variable(
        "HVKG_SPARQL_ENDPOINT",
        "unset (the embedded engine)",
        "an http(s) query URL of a SPARQL 1.1 store (loaded by `hvkg publish`) that answers the queries the gate "
        "accepts",
    ),
    Variable(
        "HVKG_ISQL",
        "`isql-vt`, else `isql` on the PATH",
        "Virtuoso's isql client, for `hvkg publish isql://…` (its bulk loader)",
    ),
    Variable(
        "HVKG_CORS_ORIGINS",
        "unset (no cross-origin reads)",
        "comma-separated origins (`https://portal.example.org`) whose pages may read the answers of /graphql, "
        "/sparql, /id/, /download/ and /store; `*`: any page (the service is read-only and takes no credentials)",
    ),
    Variable(
        "HVKG_SPARQL_RECYCLE_BYTES",
        "67108864",
        "a SPARQL worker that grew by more than this in one query exits after it; `none`/`off`/`0`: never",
    ),
)


class ConfigError(ValueError):
    """An environment variable has a value the service cannot use; the message names it, in English and Japanese."""


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> str:
    """`value` in lower case when it is one of `allowed`; else the ConfigError naming the variable."""
    if value.lower() in allowed:
        return value.lower()
    choices = ", ".join(allowed)
    raise ConfigError(f"{name} must be one of {choices}, not {value[:40]!r} / {name} は {choices} のいずれかです")


# An origin as a browser sends it in the Origin header (RFC 6454 section 6.1): scheme, host in lower case, a
# port only when it is not the scheme's default; no path, no slash at the end. Starlette's CORSMiddleware
# compares the configured origin with the header exactly, so any other spelling would silently match nothing.
_ORIGIN = re.compile(r"(https?)://([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::([1-9][0-9]{0,4}))?")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
# What a cross-origin page may do (Starlette's CORSMiddleware, server.app): read, and POST a query; send the
# headers a client of GraphQL, SPARQL or a revalidation sends; and read the headers it needs (a request's id,
# SPARQL's row limit, count and cut, the tag to revalidate with, when to retry, the licence link, a 405's Allow).
CORS_METHODS = ("GET", "HEAD", "POST")
# (Accept, Accept-Language, Content-Language and Content-Type Starlette allows by itself.)
CORS_HEADERS = ("If-Modified-Since", "If-None-Match", "X-Request-Id")
CORS_EXPOSED = (
    "X-Request-Id",
    "X-SPARQL-Row-Limit",
    "X-SPARQL-Row-Count",
    "X-SPARQL-Truncated",
    "ETag",
    "Retry-After",
    "Link",
    "Allow",
)


def cors_origins(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """HVKG_CORS_ORIGINS: the origins whose pages may read the service's answers; ("*",) for any; () unset.

    `*` is allowed because it gives nothing away: the service only reads (GET, HEAD, and POST of a query),
    sends no cookie and takes no credentials (CORSMiddleware is not told to allow them), so what a page in
    any origin can read through a visitor's browser is what anyone can fetch without one. The one exception is
    a service reachable only inside a private network: there `*` lets any web page a visitor of that network
    opens read it, so list the portals' origins instead (docs/operations.md)."""
    env = os.environ if environ is None else environ
    raw = env.get("HVKG_CORS_ORIGINS", "")
    origins = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if "*" in origins and len(origins) > 1:
        raise ConfigError(
            "HVKG_CORS_ORIGINS: `*` (any origin) stands alone, not in a list / `*`(すべてのオリジン)は単独で指定します"
        )
    for origin in origins:
        if origin != "*":
            _check_origin(origin)
    return origins


def _check_origin(origin: str) -> None:
    found = _ORIGIN.fullmatch(origin)
    port = found and found[3]
    if found and (port is None or (int(port) <= 65535 and port != _DEFAULT_PORTS[found[1]])):
        return
    shown = origin[:80]
    hint = _canonical_origin(origin)
    english = (
        f"HVKG_CORS_ORIGINS: {shown!r} is not an origin as browsers send it (http(s)://host[:port] in lower case, "
        "no path, no default port)" + (f"; write {hint!r}" if hint else "")
    )
    japanese = (
        f"{shown!r} はブラウザが送る形のオリジン(http(s)://ホスト[:ポート]、小文字、パスなし、既定のポートなし)"
        "ではありません" + (f"。{hint!r} と書いてください" if hint else "")
    )
    raise ConfigError(f"{english} / {japanese}")


def _canonical_origin(origin: str) -> str | None:
    """The origin a browser would send for what was probably meant (`HTTPS://Portal.example.org:443/`), or None."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(origin.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment:
        return None
    shown = f"[{host}]" if ":" in host else host
    suffix = f":{port}" if port is not None and str(port) != _DEFAULT_PORTS[scheme] else ""
    candidate = f"{scheme}://{shown}{suffix}"
    return candidate if _ORIGIN.fullmatch(candidate) else None


@dataclass(frozen=True)
class Config:
    data: Path | None = None
    log_format: str = "json"
    log_level: str = "info"
    access_log: bool = True
    pid_file: Path | None = None
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ

        def read(name: str) -> str | None:
            raw = env.get(name)
            return None if raw is None or not raw.strip() else raw.strip()

        data = read("HVKG_DATA")
        try:
            base_iri(env)  # graph.layout read it at import; a bad value is refused here, before anything is served
        except BaseIRIError as error:
            raise ConfigError(str(error)) from None
        try:
            named_graphs_setting(env)  # read at every build; a bad value is refused here too
        except ValueError as error:
            raise ConfigError(str(error)) from None
        log_format = _one_of("HVKG_LOG_FORMAT", read("HVKG_LOG_FORMAT") or "json", LOG_FORMATS)
        log_level = _one_of("HVKG_LOG_LEVEL", read("HVKG_LOG_LEVEL") or "info", LOG_LEVELS)
        access = _one_of("HVKG_ACCESS_LOG", read("HVKG_ACCESS_LOG") or "on", SWITCHES)
        pid_file = read("HVKG_PID_FILE")
        origins = cors_origins(env)
        return cls(
            data=Path(data) if data else None,
            log_format=log_format,
            log_level=log_level,
            access_log=access in SWITCH_ON,
            pid_file=Path(pid_file) if pid_file else default_pid_file(env),
            cors_origins=origins,
        )

    def layout(self) -> DataLayout:
        return DataLayout(self.data.resolve()) if self.data else DataLayout()


def default_pid_file(environ: Mapping[str, str] | None = None) -> Path:
    """$HVKG_PID_FILE, else a per-user file in $XDG_RUNTIME_DIR or the temporary directory; never the data."""
    env = os.environ if environ is None else environ
    explicit = env.get("HVKG_PID_FILE", "").strip()
    if explicit:
        return Path(explicit)
    runtime = env.get("XDG_RUNTIME_DIR", "").strip()
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "hvkg.pid"
    return Path(tempfile.gettempdir()) / f"hvkg-{os.getuid()}.pid"
