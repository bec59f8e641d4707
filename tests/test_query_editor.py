"""The query editor of /sparql (Yasgui, server/static/yasgui/) in a real headless DevTools, against the service's
own app on loopback.

DevTools is driven over the DevTools protocol through a pipe (`--remote-debugging-pipe`: file descriptors 3
and 4, no port and no package beyond the standard library), so a test can type, press keys and read the page
as it changes, which `--dump-dom` cannot. Each test gets a browser context of its own (its own storage: tabs,
history), and checks at its end that every request of its page went to our server and that no script error
was thrown. Name resolution for every other host is switched off besides, so nothing could leave anyway.

What the editor shows is compared with what rdflib answers for the same query over the same snapshot, and
IRIs with rdflib's own prefixed form of them, never with text copied from the page.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import RDF, Literal, URIRef, namespace

from graph.snapshot import Snapshot
from server.sparql.dataset import ID_BASE
from tests.browser import DevTools, Tab

CTRL = 2  # the DevTools protocol's modifier bit for Control


class Page(Tab):
    """One page of the query editor, in a browser context of its own."""

    wait_seconds = 15

    def __init__(self, browser: DevTools, base: str) -> None:
        super().__init__(browser, ("Page", "Runtime", "Network"))
        self.base = base

    def open(self, path: str) -> None:
        self.send("Page.navigate", url=self.base + path)
        self.wait("document.readyState === 'complete' && window.hvkgEditor !== undefined")

    def reload(self) -> None:
        self.js("window.hvkgEditor = undefined")
        self.send("Page.reload")
        self.wait("document.readyState === 'complete' && window.hvkgEditor !== undefined")

    def key(self, key: str, code: str, keycode: int, modifiers: int = 0) -> None:
        for kind in ("rawKeyDown", "keyUp"):
            self.send(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=code,
                windowsVirtualKeyCode=keycode,
                modifiers=modifiers,
            )

    def type(self, text: str) -> None:
        """Type into the focused editor, a character at a time, as a person does."""
        for char in text:
            self.send("Input.insertText", text=char)

    def clear_editor(self) -> None:
        self.js("hvkgEditor.getTab().getYasqe().focus()")
        self.key("a", "KeyA", 65, CTRL)
        self.key("Backspace", "Backspace", 8)
        assert self.js("hvkgEditor.getTab().getYasqe().getValue()") == ""

    def run_and_wait(self) -> None:
        """Ctrl+Enter in the editor, then wait for the answer's row count in the status line."""
        self.js("document.getElementById('status').textContent = ''")
        self.key("Enter", "Enter", 13, CTRL)
        self.wait("/rows/.test(document.getElementById('status').textContent)")

    def table(self) -> list[list[str]]:
        """The result table's cells as shown, without the row numbers."""
        cells: list[list[str]] = self.js(
            "[...document.querySelectorAll('.yasr tbody tr')].map(tr => "
            "[...tr.querySelectorAll('td')].slice(1).map(td => td.innerText.trim()))"
        )
        return cells

    def download(self, link: str, folder: Path) -> str:
        """Click a download link, as a person does; the file DevTools saved, as text."""
        self.browser.send(
            "Browser.setDownloadBehavior",
            behavior="allow",
            downloadPath=str(folder),
            browserContextId=self.context,
            eventsEnabled=True,
        )
        done = len(self._downloads())
        self.js(f"document.getElementById('{link}').click()")
        deadline = time.monotonic() + 15
        while len(self._downloads()) == done:
            assert time.monotonic() < deadline, f"{link} downloaded nothing"
            time.sleep(0.05)  # polling for DevTools's event, not timing anything
        name = str(self.js(f"document.getElementById('{link}').getAttribute('download')"))
        return (folder / name).read_text(encoding="utf-8")

    def _downloads(self) -> list[dict[str, Any]]:
        return [
            e
            for e in self.browser.events
            if e["method"] == "Browser.downloadProgress" and e["params"]["state"] == "completed"
        ]

    def assert_stayed_home(self) -> None:
        """Every request of this page went to our server (blob: downloads stay in the page), and no script
        error was thrown."""
        events = [e for e in self.browser.events if e.get("sessionId") == self.session]
        urls = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
        assert urls
        netloc = urlsplit(self.base).netloc
        away = [u for u in urls if not (u.startswith("blob:") or urlsplit(u).netloc == netloc)]
        assert not away, away
        errors = [e["params"]["exceptionDetails"] for e in events if e["method"] == "Runtime.exceptionThrown"]
        assert not errors, json.dumps(errors)[:3000]

    def close(self) -> None:
        self.browser.send("Target.disposeBrowserContext", browserContextId=self.context)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevTools]:
    chromium = DevTools(tmp_path_factory.mktemp("chromium") / "profile")
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: DevTools, base: str) -> Iterator[Page]:
    opened = Page(browser, base)
    yield opened
    opened.close()


def prefixes(snapshot: Snapshot) -> dict[str, str]:
    return {prefix: str(iri) for prefix, iri in snapshot.graph.namespaces() if prefix}


def shown(snapshot: Snapshot, term: object) -> str:
    """A term as the table should show it: an IRI in rdflib's prefixed form, a literal as its bare value."""
    if isinstance(term, URIRef):
        return snapshot.graph.namespace_manager.qname(term)
    assert isinstance(term, Literal)
    return str(term)


def test_a_link_runs_its_query_and_the_table_shows_prefixed_names_and_plain_values(
    page: Page, snapshot: Snapshot
) -> None:
    hv = prefixes(snapshot)["hv"]
    query = f"PREFIX hv: <{hv}> SELECT ?row ?max WHERE {{ ?row hv:maxVirtualProcessors ?max }} ORDER BY ?row LIMIT 5"
    expected = [tuple(row) for row in snapshot.graph.query(query)]  # type: ignore[arg-type]
    assert len(expected) == 5 and all(getattr(row[1], "datatype", None) == namespace.XSD.integer for row in expected)

    page.open("/sparql?query=" + quote(query))  # a browser's GET with a query gets the editor, which runs it
    page.wait(f"document.querySelectorAll('.yasr tbody tr').length === {len(expected)}")
    assert page.table() == [[shown(snapshot, term) for term in row] for row in expected]
    assert "^^" not in page.js("document.querySelector('.yasr table').innerText")
    # the graph's own IRIs lead to their pages on this server
    hrefs = page.js("[...document.querySelectorAll('.yasr tbody a.iri')].map(a => a.getAttribute('href'))")
    assert hrefs == ["/id/" + str(row[0])[len(ID_BASE) :] for row in expected]
    # the link's query is the only tab (a first visit), and stays the address
    assert page.js("Object.keys(hvkgEditor._tabs).length") == 1
    assert page.js("new URLSearchParams(location.search).get('query')") == query
    page.assert_stayed_home()


def test_a_typed_query_runs_with_ctrl_enter_and_goes_into_the_address(page: Page, snapshot: Snapshot) -> None:
    page.open("/sparql")
    assert page.js("location.search") == ""
    page.clear_editor()
    query = "SELECT ?type (COUNT(?thing) AS ?n) WHERE { ?thing a ?type } GROUP BY ?type ORDER BY DESC(?n) ?type LIMIT 4"
    page.type(query)
    page.run_and_wait()
    expected = [[shown(snapshot, term) for term in row] for row in snapshot.graph.query(query)]  # type: ignore[union-attr]
    assert page.table() == expected
    assert all(count.isdigit() for _, count in page.table())  # COUNT's xsd:integer, shown as a plain number
    # the address now holds the query, on the page's own path: a link to these results
    assert page.js("location.pathname") == "/sparql"
    assert page.js("new URLSearchParams(location.search).get('query')") == query
    assert page.js("hvkgEditor.getTab().getShareableLink()") == page.js("location.href")
    # opening that address again (a reload) finds the same tab, runs the query again, adds no tab
    page.reload()
    page.wait("/rows/.test(document.getElementById('status').textContent)")
    assert page.table() == expected
    assert page.js("Object.keys(hvkgEditor._tabs).length") == 1
    page.assert_stayed_home()


def test_the_results_download_as_csv_and_json(page: Page, snapshot: Snapshot, tmp_path: Path) -> None:
    query = snapshot.queries["host-table"]
    expected = snapshot.graph.query(query)
    names = [str(v) for v in expected.vars or []]
    page.open("/sparql?query=" + quote(query))
    page.wait("!document.getElementById('downloads').hidden")
    links = page.js(
        "[...document.querySelectorAll('#downloads a')].filter(a => !a.hidden)"
        ".map(a => [a.id, a.getAttribute('download'), a.href.slice(0, 5)])"
    )
    assert [(i, name.rsplit(".", 1)[1], href) for i, name, href in links] == [
        ("download-csv", "csv", "blob:"),
        ("download-json", "json", "blob:"),
    ]
    rows = [[str(term) if term is not None else "" for term in row] for row in expected]  # type: ignore[union-attr]
    header, *table = csv.reader(io.StringIO(page.download("download-csv", tmp_path)))
    assert header == names and sorted(table) == sorted(rows)
    data = json.loads(page.download("download-json", tmp_path))
    assert data["head"]["vars"] == names and len(data["results"]["bindings"]) == len(expected)
    page.assert_stayed_home()


def test_prefix_completion_offers_the_graphs_own_prefixes(page: Page, snapshot: Snapshot) -> None:
    graph_prefixes = prefixes(snapshot)
    hints_js = "[...document.querySelectorAll('.CodeMirror-hint')].map(li => li.innerText)"
    page.open("/sparql")
    page.clear_editor()
    # the first letter most of the graph's prefixes share (r: rdf, rdfs), so that several are offered
    letter = max(sorted({p[0] for p in graph_prefixes}), key=lambda c: sum(p.startswith(c) for p in graph_prefixes))
    page.type("PREFIX " + letter)
    # (the list of every prefix, shown after "PREFIX ", narrows as the letter comes in)
    hints = set(page.wait(f"(h => h.length && h.every(x => x.startsWith('{letter}')) && h)({hints_js})"))
    # exactly the graph's prefixes that start so: none of the prefix.cc list bundled in Yasgui (rdfa:, rev:, …)
    assert hints == {f"{p}: <{iri}>" for p, iri in graph_prefixes.items() if p.startswith(letter)}
    assert len(hints) >= 2
    # a prefixed name written in the query brings its PREFIX line along
    page.key("Escape", "Escape", 27)
    page.clear_editor()
    page.type("SELECT * WHERE { ?x a hv:")
    page.wait("hvkgEditor.getTab().getYasqe().getValue().includes('PREFIX hv:')")
    declared = page.js("hvkgEditor.getTab().getYasqe().getPrefixesFromQuery()")
    assert declared == {"hv": graph_prefixes["hv"]}
    # Ctrl+Space completes the graph's own classes after "a", and its properties in a predicate's place
    graph = snapshot.graph
    classes = {str(c) for c in graph.objects(None, RDF.type) if isinstance(c, URIRef)}
    for typed, terms in (("Gu", classes), (" ; hv:max", {str(p) for p in graph.predicates()})):
        page.type(typed)
        page.key(" ", "Space", 32, CTRL)
        start = graph_prefixes["hv"] + typed.split("hv:")[-1].strip()
        expected = {graph.namespace_manager.qname(term) for term in terms if term.startswith(start)}
        assert expected and page.wait(hints_js) and set(page.js(hints_js)) == expected, typed
        page.key("Escape", "Escape", 27)
    page.assert_stayed_home()


def test_named_queries_open_as_tabs_and_the_history_keeps_what_ran(page: Page, snapshot: Snapshot) -> None:
    page.open("/sparql")
    options = page.js("[...document.querySelectorAll('#examples option')].map(o => o.value).filter(Boolean)")
    assert options == sorted(snapshot.queries)
    page.js("document.getElementById('examples').value = 'guest-table'")
    page.js("document.getElementById('examples').dispatchEvent(new Event('change'))")
    assert page.js("hvkgEditor.getTab().getName()") == "guest-table"
    assert page.js("hvkgEditor.getTab().getQuery()") == snapshot.queries["guest-table"]
    assert page.js("Object.keys(hvkgEditor._tabs).length") == 2  # beside the first tab
    page.run_and_wait()
    rows = len(snapshot.graph.query(snapshot.queries["guest-table"]))
    assert page.js("document.getElementById('status').textContent").startswith(f"{rows} rows")
    # the tabs and the history stay in this browser
    page.reload()
    names = page.js("Object.values(hvkgEditor._tabs).map(t => t.getName())")
    assert len(names) == 2 and "guest-table" in names
    history = page.js("[...document.querySelectorAll('#history option')].map(o => o.value).filter(Boolean)")
    assert history == [snapshot.queries["guest-table"]]
    page.assert_stayed_home()


def test_the_page_has_a_main_landmark_and_every_control_a_name(page: Page, snapshot: Snapshot) -> None:
    page.open("/sparql?query=" + quote(snapshot.queries["products"]))
    page.wait("document.querySelectorAll('.yasr tbody tr').length > 0")
    assert page.js("document.querySelectorAll('main').length") == 1
    assert page.js("document.querySelector('main').contains(document.querySelector('.yasgui'))")
    # the names a screen reader reads for each control shown (as axe's "label", "select-name",
    # "button-name" rules read them)
    unnamed = page.js(
        """[...document.querySelectorAll('input, select, textarea, button, a[role=button]')]
          .filter(e => e.checkVisibility({visibilityProperty: true}) || e.closest('.CodeMirror'))
          .filter(e => !(e.getAttribute('aria-label') || '').trim()
            && !(e.getAttribute('aria-labelledby') && document.getElementById(e.getAttribute('aria-labelledby')))
            && !(e.id && document.querySelector('label[for="' + e.id + '"]'))
            && !e.closest('label')
            && !(e.title || '').trim()
            && !((e.tagName === 'BUTTON' || e.tagName === 'A') && e.innerText.trim()))
          .map(e => e.outerHTML.slice(0, 120))"""
    )
    assert unnamed == []
    # the tab list holds tabs only (ARIA's required children): the "+" button stands beside it
    assert page.js("document.querySelector('[role=tablist] button') === null")
    assert page.js("document.querySelector('.tabBar > .addTab') !== null")
    page.assert_stayed_home()


def test_a_bad_query_shows_the_servers_message(page: Page, base: str) -> None:
    query = "SELECT ?x WHERE { ?x ?y }"  # a triple with no object
    answer = httpx.post(base + "/sparql", data={"query": query}, headers={"accept": "application/sparql-results+json"})
    assert answer.status_code == 400
    page.open("/sparql?query=" + quote(query))
    page.wait("document.querySelector('.yasr .errorResult') !== null")
    shown_text = page.js("document.querySelector('.yasr .errorResult').innerText")
    assert answer.text.strip().splitlines()[0] in shown_text  # the server's own words, in both languages
    assert page.js("document.getElementById('status').className") == "error"
    assert page.js("document.getElementById('downloads').hidden")
    page.assert_stayed_home()


# --- who gets the page for a GET with a query (server/sparql/protocol.py), without a browser --------------------

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
ASK = "ASK { ?s ?p ?o }"


def answer_kind(base: str, method: str, headers: dict[str, str]) -> str:
    if method == "GET":
        response = httpx.get(base + "/sparql", params={"query": ASK}, headers=headers)
    else:
        response = httpx.post(base + "/sparql", data={"query": ASK}, headers=headers)
    assert response.status_code in (200, 406), response.text
    if response.headers["content-type"].startswith("text/html"):
        assert 'id="page-config"' in response.text
        return "page"
    return "data" if response.status_code == 200 else "406"


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ({"accept": BROWSER_ACCEPT}, "page"),  # a browser over plain HTTP sends no fetch metadata
        ({"accept": BROWSER_ACCEPT, "sec-fetch-dest": "document"}, "page"),
        ({"accept": "text/html", "sec-fetch-dest": "document"}, "page"),
        ({"accept": BROWSER_ACCEPT, "sec-fetch-dest": "empty"}, "data"),  # a script's fetch
        ({"accept": BROWSER_ACCEPT, "sec-fetch-dest": "iframe"}, "data"),
        ({"accept": "text/html"}, "data"),  # a client naming text/html alone keeps its results
        ({"accept": "text/html;q=0.5, application/xhtml+xml, application/sparql-results+json"}, "data"),
        ({"accept": "application/sparql-results+json", "sec-fetch-dest": "document"}, "data"),
        ({"accept": "*/*"}, "data"),
    ],
)
def test_a_get_with_a_query_gets_the_page_only_when_a_browser_opens_it(
    base: str, headers: dict[str, str], kind: str
) -> None:
    assert answer_kind(base, "GET", headers) == kind
    assert answer_kind(base, "POST", headers) == "data"  # a POST is always a client's: never the page


media_ranges = st.sampled_from(
    [
        "text/html",
        "application/xhtml+xml",
        "application/xml",
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/turtle",
        "text/*",
        "*/*",
        "image/png",
    ]
)
accepts = st.lists(
    st.tuples(media_ranges, st.sampled_from(["", ";q=0", ";q=0.3", ";q=0.8", ";q=1"])), min_size=1, max_size=5
).map(lambda items: ", ".join(media + q for media, q in items))


@given(accept=accepts, dest=st.sampled_from([None, "document", "empty", "iframe", "script"]))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_only_a_document_load_that_prefers_html_gets_the_page(base: str, accept: str, dest: str | None) -> None:
    headers = {"accept": accept} | ({} if dest is None else {"sec-fetch-dest": dest})
    kind = answer_kind(base, "GET", headers)
    ranges = [part.strip() for part in accept.split(",")]
    names_html = any(r.split(";")[0] == "text/html" and r != "text/html;q=0" for r in ranges)
    if kind == "page":
        assert names_html and dest in (None, "document")
    if not names_html or dest not in (None, "document"):
        assert kind != "page"
