"""Structured logs with request ids, and the configuration from the environment (documented in full)."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from graph.layout import ROOT
from graph.snapshot import Snapshot
from server.app import create_app
from server.ops.config import VARIABLES, Config, ConfigError, default_pid_file
from server.ops.logs import JSONFormatter, LineHandler, configure, formatter, new_request_id, write_access
from server.ops.state import SnapshotHolder
from server.sparql.config import SPARQLConfig
from tests.test_reload import serve

OPERATIONS_DOC = ROOT / "docs" / "operations.md"


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JSONFormatter())
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def captured() -> Iterator[Captured]:
    handler = Captured()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    access = logging.getLogger("hvkg.access")
    was_disabled = access.disabled
    access.disabled = False
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        access.disabled = was_disabled


@pytest.fixture
def client(snapshot: Snapshot) -> Iterator[TestClient]:
    app = create_app(holder=SnapshotHolder(current=snapshot))

    def noisy(request: Request) -> PlainTextResponse:
        logging.getLogger("hvkg.test").warning("something worth a line / 記録する価値のあること")
        return PlainTextResponse("ok")

    app.router.routes.append(Route("/noisy", noisy))
    with TestClient(app) as test_client:
        yield test_client


def access_lines(captured: Captured) -> list[dict[str, object]]:
    return [line for line in captured.lines if line["logger"] == "hvkg.access"]


def test_a_json_line_has_the_fields_and_the_exception_as_text() -> None:
    try:
        raise ValueError("bad / 不正")
    except ValueError:
        record = logging.getLogger("hvkg").makeRecord(
            "hvkg", logging.ERROR, __file__, 1, "failed %s", ("ここ",), sys.exc_info(), extra={"rows": 3}
        )
    line = JSONFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "error" and entry["logger"] == "hvkg" and entry["message"] == "failed ここ"
    assert entry["rows"] == 3 and isinstance(entry["pid"], int)
    assert entry["time"].endswith("+00:00")
    assert "ValueError: bad / 不正" in entry["exception"] and "Traceback" in entry["exception"]
    assert "requestId" not in entry  # outside a request


def test_each_request_gets_an_id_in_its_header_its_access_line_and_every_line_it_logs(
    client: TestClient, captured: Captured
) -> None:
    response = client.get("/noisy")
    rid = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{16}", rid)
    warning = next(line for line in captured.lines if line["logger"] == "hvkg.test")
    assert warning["requestId"] == rid and warning["message"] == "something worth a line / 記録する価値のあること"
    (access,) = access_lines(captured)
    assert access["requestId"] == rid
    assert (access["method"], access["path"], access["status"]) == ("GET", "/noisy", 200)
    assert access["interface"] == "other" and isinstance(access["durationMs"], float)
    assert client.get("/noisy").headers["x-request-id"] != rid


def test_a_sane_client_request_id_is_kept_and_any_other_replaced(client: TestClient, captured: Captured) -> None:
    assert client.get("/healthz", headers={"x-request-id": "lb-7f3a.42:9"}).headers["x-request-id"] == "lb-7f3a.42:9"
    for insane in ("a b", "x" * 65, "<script>", "ＩＤ"):
        answered = client.get("/healthz", headers={"x-request-id": insane.encode()})
        assert answered.headers["x-request-id"] != insane
        assert re.fullmatch(r"[0-9a-f]{16}", answered.headers["x-request-id"])
    lines = access_lines(captured)
    assert lines[0]["requestId"] == "lb-7f3a.42:9"
    assert all(line["level"] == "debug" for line in lines)  # /healthz is probed often: quiet


def test_an_adapters_own_request_id_stays_in_the_response_and_the_access_line_names_both(
    client: TestClient, captured: Captured
) -> None:
    response = client.post("/graphql", json={"query": "{ products { id } }"})
    answered = response.headers["x-request-id"]
    (access,) = access_lines(captured)
    assert access["operation"] == "anonymous" and access["interface"] == "graphql"
    assert answered in (access["requestId"], access.get("responseRequestId"))


def test_hvkg_serve_writes_json_lines(tmp_path: Path) -> None:
    with serve(tmp_path) as running:
        status, headers, _ = running.request("GET", "/id/vmbus", headers={"x-request-id": "soak-check-1"})
        assert status == 200 and headers["x-request-id"] == "soak-check-1"
    lines = [line for line in running.log.read_text(encoding="utf-8").splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(e["logger"] == "uvicorn.error" and "Application startup complete" in e["message"] for e in entries)
    assert any(e["logger"] == "hvkg" and "loaded" in e["message"] for e in entries)
    access = [e for e in entries if e["logger"] == "hvkg.access" and e.get("requestId") == "soak-check-1"]
    assert len(access) == 1 and access[0]["status"] == 200 and access[0]["interface"] == "page"
    assert not any(e["logger"] == "uvicorn.access" for e in entries)  # replaced by hvkg.access


def test_the_text_format_names_the_request_id() -> None:
    record = logging.makeLogRecord({"name": "hvkg", "msg": "hello", "levelname": "INFO", "request_id": "r1"})
    assert formatter("text").format(record).endswith("INFO hvkg [r1] hello")


def test_configure_installs_one_handler_and_silences_uvicorns_access_log() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        configure(Config(log_format="json", log_level="warning", access_log=False))
        configure(Config(log_format="text", log_level="warning", access_log=False))
        ours = [h for h in root.handlers if h not in before]
        assert len(ours) == 1
        assert root.level == logging.WARNING
        assert logging.getLogger("uvicorn.access").disabled
        assert logging.getLogger("hvkg.access").disabled
        stream = io.StringIO()
        ours[0].setStream(stream)  # type: ignore[attr-defined]
        logging.getLogger("hvkg.test").warning("plain")
        assert stream.getvalue().rstrip().endswith("WARNING hvkg.test [-] plain")
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)
        logging.getLogger("hvkg.access").disabled = False


@pytest.fixture
def restored_logging() -> Iterator[list[logging.Handler]]:
    """The root logger's handlers and level, and logging's record flags, as they were (configure changes them)."""
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    flags = (logging.logThreads, logging.logMultiprocessing, logging.logProcesses)
    access_disabled = logging.getLogger("hvkg.access").disabled
    try:
        yield before
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)
        logging.logThreads, logging.logMultiprocessing, logging.logProcesses = flags
        logging.getLogger("hvkg.access").disabled = access_disabled


ACCESS_SCOPE = {"type": "http", "method": "POST", "path": '/graphql?ü"<', "client": ("127.0.0.1", 4242)}


def test_the_access_line_written_directly_is_the_line_of_the_formatter(restored_logging: list[logging.Handler]) -> None:
    """`hvkg serve` writes access lines without a LogRecord; with any other handler they go through logging. The
    two lines say the same, field for field and in the same order."""
    configure(Config(log_format="json", log_level="info", access_log=True))
    (ours,) = [h for h in logging.getLogger().handlers if h not in restored_logging]
    stream = io.StringIO()
    assert isinstance(ours, LineHandler)
    ours.setStream(stream)
    write_access(ACCESS_SCOPE, "graphql", "CheckGuest", 200, 0.00123, "r1", "adapter-id")  # no loop: written now
    direct = json.loads(stream.getvalue())
    other = Captured()
    logging.getLogger().addHandler(other)  # another handler: the record path
    write_access(ACCESS_SCOPE, "graphql", "CheckGuest", 200, 0.00123, "r1", "adapter-id")
    (through_logging,) = other.lines
    assert json.loads(stream.getvalue().splitlines()[1]) == through_logging
    for line in (direct, through_logging):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", str(line.pop("time")))
    assert list(direct.items()) == list(through_logging.items())
    assert direct["path"] == ACCESS_SCOPE["path"] and direct["message"] == f"POST {ACCESS_SCOPE['path']} 200"
    assert (direct["requestId"], direct["responseRequestId"], direct["durationMs"]) == ("r1", "adapter-id", 1.23)


def test_access_lines_on_the_event_loop_are_written_together_and_other_lines_at_once_in_order() -> None:
    writes: list[str] = []

    class Stream(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return len(text)

    handler = LineHandler(Stream())
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("hvkg.test.lines")
    logger.propagate = False
    logger.addHandler(handler)
    try:

        async def lines() -> list[str]:
            for n in range(3):
                handler.write_line(f"access {n}")
            kept = list(writes)
            await asyncio.sleep(LineHandler.FLUSH_SECONDS * 5)  # the loop turns: what was kept is written
            handler.write_line("access 3")
            logger.warning("an error")  # written at once, after the access line before it
            handler.write_line("access 4")
            handler.flush()  # as logging.shutdown does at exit
            return kept

        assert asyncio.run(lines()) == []
        assert writes == ["access 0\naccess 1\naccess 2\n", "access 3\nan error\n", "access 4\n"]
        handler.write_line("off the loop")  # no loop running: written at once
        assert writes[-1] == "off the loop\n"
    finally:
        logger.removeHandler(handler)


def test_request_ids_are_unique_tokens() -> None:
    ids = [new_request_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-f]{16}", rid) for rid in ids)


# --- configuration --------------------------------------------------------------------------------------------


def test_configuration_is_read_from_the_environment(tmp_path: Path) -> None:
    config = Config.from_env(
        {
            "HVKG_DATA": str(tmp_path),
            "HVKG_LOG_FORMAT": "TEXT",
            "HVKG_LOG_LEVEL": "debug",
            "HVKG_ACCESS_LOG": "off",
            "HVKG_PID_FILE": str(tmp_path / "x.pid"),
        }
    )
    assert config == Config(tmp_path, "text", "debug", False, tmp_path / "x.pid")
    assert config.layout().root == tmp_path.resolve()
    assert Config.from_env({}).log_format == "json" and Config.from_env({}).access_log
    assert Config.from_env({}).layout().root == ROOT


@pytest.mark.parametrize(
    ("name", "value"), [("HVKG_LOG_FORMAT", "xml"), ("HVKG_LOG_LEVEL", "loud"), ("HVKG_ACCESS_LOG", "maybe")]
)
def test_a_bad_value_is_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Config.from_env({name: value})


def test_the_pid_file_lives_in_the_runtime_or_temporary_directory(tmp_path: Path) -> None:
    assert default_pid_file({"HVKG_PID_FILE": "/run/x.pid"}) == Path("/run/x.pid")
    assert default_pid_file({"XDG_RUNTIME_DIR": str(tmp_path)}) == tmp_path / "hvkg.pid"
    fallback = default_pid_file({"XDG_RUNTIME_DIR": str(tmp_path / "missing")})
    assert fallback.name.startswith("hvkg-") and ROOT not in fallback.parents


def test_every_variable_is_documented_and_every_variable_read_is_listed() -> None:
    listed = {variable.name for variable in VARIABLES}
    sparql = {"HVKG_SPARQL_" + f.name.upper() for f in dataclasses.fields(SPARQLConfig)}
    assert sparql <= listed
    read_in_code = set()
    for path in (ROOT / "server").rglob("*.py"):
        read_in_code |= set(re.findall(r"HVKG_[A-Z_]*[A-Z]", path.read_text(encoding="utf-8")))
    assert read_in_code - {"HVKG_SPARQL"} <= listed
    documented = OPERATIONS_DOC.read_text(encoding="utf-8")
    for name in sorted(listed):
        assert f"`{name}`" in documented, name
