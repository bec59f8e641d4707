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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from graphql import OperationDefinitionNode, parse
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette

from graph.build import build_snapshot
from graph.model import LANGS
from server.graphql.ide import NAMES, OPERATIONS, WORDS
from server.graphql.view import graphql_routes
from server.ops.negotiation import choose_language as page_language
from server.ops.state import SnapshotHolder
from tests.browser import DevTools, Tab, run_chromium
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


# ---- the page's language ---------------------------------------------------------------------------------

headers_text = st.text(st.sampled_from("enjafrde-,;q=0.5 *"), max_size=40)


@given(asked=st.sampled_from(LANGS), header=headers_text)
def test_graphiql_page_asked_language_wins_over_the_header(asked: str, header: str) -> None:
    assert page_language(asked, header) == asked


@given(asked=st.text(max_size=10).filter(lambda a: a not in LANGS), header=headers_text)
def test_graphiql_page_refuses_a_language_not_ours(asked: str, header: str) -> None:
    assert page_language(asked, header) is None


@given(lang=st.sampled_from(LANGS), header=st.none() | headers_text)
def test_graphiql_page_takes_the_first_language_of_ours_the_header_accepts(lang: str, header: str | None) -> None:
    found = page_language(None, header)
    assert found in LANGS
    assert page_language(None, f"{lang}-XX, {header or ''}") == lang  # listed first: chosen
    assert page_language(None, f"{lang};q=0, {header or ''}") == found  # refused (q=0): changes nothing


@pytest.mark.parametrize("lang", LANGS)
def test_graphiql_page_speaks_the_language_asked_for(url: str, lang: str) -> None:
    for query, header in ((f"?lang={lang}", "xx"), ("", f"{lang};q=0.9, xx")):
        page = httpx.get(url + query, headers={"Accept": "text/html", "Accept-Language": header}, timeout=30)
        assert page.status_code == 200
        assert f'<html lang="{lang}">' in page.text
        assert f'<h1 class="visually-hidden">{WORDS["heading"][lang]}</h1>' in page.text
        assert "Accept-Language" in page.headers["vary"]
    bad = httpx.get(url + "?lang=fr", headers={"Accept": "text/html"}, timeout=30)
    assert bad.status_code == 400
    assert "'fr'" in bad.text and "en, ja" in bad.text and "指定してください" in bad.text


def test_screenshot_shows_the_ide(url: str, tmp_path: Path) -> None:
    SCREENSHOT.unlink(missing_ok=True)
    done = chromium(tmp_path, f"--screenshot={SCREENSHOT}", url)
    assert done.returncode == 0, done.stderr[-2000:]
    png = SCREENSHOT.read_bytes()
    assert png.startswith(b"\x89PNG")
    assert len(png) > 20_000  # a blank page is a few kilobytes


# ---- accessibility after GraphiQL re-renders -----------------------------------------------------------------
# axe (tests/test_validators.py) checks the page as it loads. GraphiQL then re-renders as it is used: a tab
# switch moves "selected" to another tab, a new tab brings new elements, a query's answer fills the response
# editor. init.js mends each render (server/static/graphiql/init.js); these tests drive the page as a person
# does, over the DevTools protocol, and read what Chromium itself computes for assistive technology (its
# accessibility tree: roles, names, focusability), in both languages of the page.


class Page(Tab):
    """One page, in a browser context of its own (its own storage: GraphiQL keeps its tabs there)."""

    wait_seconds = 60

    def __init__(self, browser: DevTools, url: str) -> None:
        super().__init__(browser, ("Page", "Runtime", "Accessibility"))
        self.send("Page.navigate", url=url)

    def click(self, selector: str) -> None:
        """A real mouse click (press and release) on the middle of the element."""
        box = self.js(
            f"(e => e && (r => [r.x + r.width / 2, r.y + r.height / 2])(e.getBoundingClientRect()))"
            f"(document.querySelector({json.dumps(selector)}))"
        )
        assert box, selector
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def errors(self) -> list[dict[str, Any]]:
        """The page's uncaught exceptions and console errors so far."""
        return [
            event
            for event in self.browser.events
            if event.get("sessionId") == self.session
            and (
                event["method"] == "Runtime.exceptionThrown"
                or (event["method"] == "Runtime.consoleAPICalled" and event["params"]["type"] == "error")
            )
        ]


@dataclass(frozen=True)
class Seen:
    """What Chromium's accessibility tree shows of the page."""

    textboxes: list[str]  # the names of the text boxes (the editors)
    scroll_areas: list[tuple[str, bool]]  # the editors' scrolling areas: name, focusable
    tabs: list[tuple[str, bool]]  # the tabs as their tab list owns them: name, selected
    tablist: str  # the tab list's name
    tab_elsewhere: int  # tabs whose parent is no tab list
    main: int
    headings_1: list[str]


def seen(page: Page) -> Seen:
    nodes = [n for n in page.send("Accessibility.getFullAXTree")["nodes"] if not n.get("ignored")]
    by_id = {n["nodeId"]: n for n in nodes}

    def role(node: dict[str, Any] | None) -> str:
        return str((node or {}).get("role", {}).get("value", ""))

    def name(node: dict[str, Any]) -> str:
        return str(node.get("name", {}).get("value", ""))

    def prop(node: dict[str, Any], key: str) -> Any:
        return next((p["value"].get("value") for p in node.get("properties", []) if p["name"] == key), None)

    lists = [n for n in nodes if role(n) == "tablist"]
    assert len(lists) == 1, [name(n) for n in lists]
    owned = [by_id[i] for i in lists[0].get("childIds", []) if i in by_id]
    return Seen(
        textboxes=[name(n) for n in nodes if role(n) == "textbox"],
        scroll_areas=[(name(n), bool(prop(n, "focusable"))) for n in nodes if role(n) == "group" and name(n)],
        tabs=[(name(n), bool(prop(n, "selected"))) for n in owned if role(n) == "tab"],
        tablist=name(lists[0]),
        tab_elsewhere=sum(1 for n in nodes if role(n) == "tab" and role(by_id.get(n.get("parentId", ""))) != "tablist"),
        main=sum(1 for n in nodes if role(n) == "main"),
        headings_1=[name(n) for n in nodes if role(n) == "heading" and prop(n, "level") == 1],
    )


def operation_name(text: str) -> str:
    """The name of the first operation of a GraphQL document (graphql-core's parser, not the page's)."""
    found = [d for d in parse(text).definitions if isinstance(d, OperationDefinitionNode)]
    assert found and found[0].name is not None, text
    return found[0].name.value


def test_graphiql_a11y_fixes_survive_tab_switches_new_tabs_and_queries(url: str, tmp_path: Path) -> None:
    index = json.loads((OPERATIONS / "index.json").read_text(encoding="utf-8"))
    queries = [(OPERATIONS / item["file"]).read_text(encoding="utf-8") for item in index["operations"]]
    names = [operation_name(query) for query in queries]
    chosen = 2  # a tab other than the first, with variables
    browser = DevTools(tmp_path / "profile", window_size="1400,900")
    try:
        for lang in LANGS:
            page = Page(browser, f"{url}?lang={lang}")
            editors = sorted(NAMES[key][lang] for key in ("query", "variables", "response"))
            scroll_areas = sorted((f"{editor} {NAMES['scroll'][lang]}", True) for editor in editors)
            page.wait(
                "document.querySelectorAll('.graphiql-tab').length > 1 && !!document.getElementById('graphiql-tablist')"
            )

            loaded = seen(page)
            assert loaded.main == 1
            assert loaded.headings_1 == [WORDS["heading"][lang]]
            assert loaded.tablist == NAMES["tabs"][lang]
            assert loaded.tabs == [(name, i == 0) for i, name in enumerate(names)]
            assert loaded.tab_elsewhere == 0
            assert sorted(loaded.textboxes) == editors
            assert sorted(loaded.scroll_areas) == scroll_areas

            # Another operation's tab: React moves "selected" (on its <li>); the tab list must follow.
            page.click(f"#graphiql-session-tab-{chosen}")
            page.wait(f"document.querySelector('.graphiql-tab-active #graphiql-session-tab-{chosen}') !== null")
            editor = "document.querySelector('.graphiql-{0} .CodeMirror').CodeMirror.getValue()"
            assert page.js(editor.format("query-editor")) == queries[chosen]
            switched = seen(page)
            assert switched.tabs == [(name, i == chosen) for i, name in enumerate(names)]
            assert switched.tab_elsewhere == 0
            assert sorted(switched.textboxes) == editors
            assert sorted(switched.scroll_areas) == scroll_areas

            # Its query runs, and shows what the server answers to the same request. (GraphiQL reads the
            # operation's name from the editor a moment after the switch, and keeps it in its saved tabs: a run
            # before that would name the previous tab's operation.)
            saved = "JSON.parse(localStorage.getItem('graphiql:tabState') || '{\"tabs\": []}')"
            page.wait(f"{saved}.tabs[{chosen}]?.operationName === {json.dumps(names[chosen])}")
            page.click(".graphiql-execute-button")
            shown = page.wait(f"(v => v.trim().startsWith('{{') && v)({editor.format('response')})")
            variables = json.loads(page.js(editor.format("editor-tool")))
            assert variables == index["operations"][chosen]["variables"]  # the tab's example variables
            asked = {"query": queries[chosen], "variables": variables, "operationName": names[chosen]}
            assert json.loads(shown) == httpx.post(url, json=asked, timeout=60).json()
            answered = seen(page)
            assert sorted(answered.textboxes) == editors
            assert sorted(answered.scroll_areas) == scroll_areas

            # A new tab: new elements, which React creates after init.js first ran.
            page.click(".graphiql-tab-add")
            page.wait(f"document.querySelectorAll('.graphiql-tab').length === {len(names) + 1}")
            added = seen(page)
            assert [selected for _, selected in added.tabs] == [False] * len(names) + [True]
            assert [name for name, _ in added.tabs][:-1] == names
            assert added.tab_elsewhere == 0
            assert sorted(added.textboxes) == editors

            # Closed again: the tab list owns no element that is gone.
            page.click(".graphiql-tab-active .graphiql-tab-close")
            page.wait(f"document.querySelectorAll('.graphiql-tab').length === {len(names)}")
            closed = seen(page)
            assert [name for name, _ in closed.tabs] == names
            owns = page.js("document.getElementById('graphiql-tablist').getAttribute('aria-owns').split(' ')")
            assert page.js(f"{json.dumps(owns)}.every(id => document.getElementById(id))"), owns
            assert page.errors() == []
    finally:
        browser.close()
