"""GraphiQL in a real headless Chromium, against a real uvicorn on loopback, with no internet needed.

Chromium's own NetLog records every request the browser made; the page's requests (those whose initiator is
the page, or the page itself) must all go to our server. Name resolution for every other host is switched
off, so nothing could leave even if the page tried (and the NetLog would show the attempt).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette

from graph.build import build_snapshot
from server.graphql.view import graphql_routes
from server.ops.state import SnapshotHolder
from tests.browser import run_chromium
from tests.live import serve

SCREENSHOT = Path(tempfile.gettempdir()) / "graphiql.png"  # /tmp/graphiql.png, to look at


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    holder = SnapshotHolder()
    holder.swap(build_snapshot())
    app = Starlette(routes=graphql_routes(holder))
    with serve(app, lifespan="off") as base:
        yield base + "/graphql"


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_chromium(
        tmp_path / "profile",
        "--disable-default-apps",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--virtual-time-budget=10000",
        "--window-size=1400,900",
        *args,
        timeout=90,
    )


def page_requests(netlog: Path, origin: str) -> list[tuple[str, str]]:
    """(method, URL) of every request that the page caused (initiator: the page) or that loaded it."""
    log = json.loads(netlog.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    found = []
    for event in log["events"]:
        params = event.get("params", {})
        if event["type"] == start_job and (
            params.get("initiator") == origin or params.get("request_type") == "main frame"
        ):
            found.append((params["method"], params["url"]))
    return found


def test_graphiql_renders_offline_and_asks_only_our_server(url: str, tmp_path: Path) -> None:
    netlog = tmp_path / "netlog.json"
    done = chromium(tmp_path, f"--log-net-log={netlog}", "--dump-dom", url)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    # These only exist once React rendered GraphiQL.
    assert "graphiql-container" in dom
    assert "graphiql-tab" in dom
    for operation in ("CheckGuest", "GuestTable", "IoPath", "Products"):
        assert operation in dom
    assert "Loading GraphiQL" not in dom  # React replaced the placeholder

    origin = "http://127.0.0.1:" + str(urlsplit(url).port)
    requests = page_requests(netlog, origin)
    hosts = {urlsplit(u).netloc for _, u in requests}
    assert hosts == {urlsplit(url).netloc}, requests
    paths = {(method, urlsplit(u).path) for method, u in requests}
    assert ("GET", "/graphql") in paths
    assert ("GET", "/graphql/static/graphiql.min.js") in paths
    assert ("GET", "/graphql/static/react-dom.production.min.js") in paths
    assert ("POST", "/graphql") in paths  # GraphiQL fetched the schema


def test_screenshot_shows_the_ide(url: str, tmp_path: Path) -> None:
    SCREENSHOT.unlink(missing_ok=True)
    done = chromium(tmp_path, f"--screenshot={SCREENSHOT}", url)
    assert done.returncode == 0, done.stderr[-2000:]
    png = SCREENSHOT.read_bytes()
    assert png.startswith(b"\x89PNG")
    assert len(png) > 20_000  # a blank page is a few kilobytes
