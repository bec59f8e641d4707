"""The front door at `/`: against a real server, every link it shows answers, in both languages; what it says
of the graph is what the snapshot holds (counted here another way, by SPARQL over the snapshot's graph and the
question functions); `Accept: application/json` gives an index of the same links; and the docs site's own
index.html is a home page whose links all land on pages of the site."""

from __future__ import annotations

import datetime
import posixpath
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from graph.catalog import guest_support, products
from graph.layout import VOCAB
from graph.model import LANGS
from graph.snapshot import Snapshot
from server.app import create_app
from server.ops.negotiation import choose_language
from server.ops.state import SnapshotHolder
from server.web.docs import build_site

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PREFIXES = f"PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX hv: <{VOCAB}> "


class Page(HTMLParser):
    """A page as a client reads it: its language, its links (with the `type` each names), its elements' text by id,
    and the links inside <main>."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = ""
        self.links: list[tuple[str, str, str | None]] = []  # (tag, href, type)
        self.main_links: list[str] = []
        self.ids: dict[str, str] = {}
        self.langs: dict[str, str] = {}  # href -> lang attribute of the link (the language switch)
        self._open: list[tuple[str, str | None, int]] = []
        self._text: list[str] = []
        self._in_main = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = found.get("lang", "")
        if tag == "main":
            self._in_main = True
        if tag in ("a", "link") and "href" in found:
            self.links.append((tag, found["href"], found.get("type")))
            if tag == "a" and self._in_main:
                self.main_links.append(found["href"])
            if "lang" in found:
                self.langs[found["href"]] = found["lang"]
        if tag not in ("link", "meta"):
            self._open.append((tag, found.get("id"), len(self._text)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self._in_main = False
        while self._open:
            open_tag, element_id, start = self._open.pop()
            if element_id is not None:
                self.ids[element_id] = "".join(self._text[start:]).strip()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        self._text.append(data)


@pytest.fixture(scope="module")
def client(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as http:
        yield http


def count(snapshot: Snapshot, select: str) -> int:
    rows: Any = list(snapshot.graph.query(PREFIXES + select))
    return int(rows[0][0])


@pytest.fixture(scope="module")
def expected(snapshot: Snapshot) -> dict[str, Any]:
    """What the front door must say, read from the snapshot by other routes than the front door's."""
    loaded = datetime.datetime.fromtimestamp(snapshot.built_at, tz=datetime.UTC)
    found: dict[str, Any] = {
        # a fact is a resource that cites a passage; blank nodes (statements' axioms) cite passages too
        "facts": count(snapshot, "SELECT (COUNT(DISTINCT ?t) AS ?n) { ?t prov:wasDerivedFrom ?p FILTER isIRI(?t) }"),
        "passagesCited": count(snapshot, "SELECT (COUNT(DISTINCT ?p) AS ?n) { ?t prov:wasDerivedFrom ?p }"),
        "products": len(products(snapshot)),
        "guestRows": sum(len(guest_support(snapshot, p.id)) for p in products(snapshot)),
        "triples": len(snapshot.graph),
        "contentHash": snapshot.content_hash,
        "loadedAt": loaded.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    # the same numbers by a second road, so that neither road alone decides them
    assert found["products"] == count(snapshot, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a hv:Product }")
    assert found["guestRows"] == count(snapshot, "SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { ?r a hv:GuestSupport }")
    assert found["passagesCited"] <= count(snapshot, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a hv:Passage }")
    assert min(found["facts"], found["passagesCited"], found["products"], found["guestRows"]) > 0
    return found


def front(client: httpx.Client, lang: str) -> tuple[httpx.Response, Page]:
    response = client.get(f"/?lang={lang}", headers={"accept": BROWSER})
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    return response, Page(response.text)


# ---- every link answers --------------------------------------------------------------------------------------------


def test_every_link_answers_in_both_languages(client: httpx.Client) -> None:
    answered: dict[str, int] = {}
    for lang in LANGS:
        response, page = front(client, lang)
        assert page.lang == lang
        assert response.headers["content-language"] == lang
        assert {"accept", "accept-language"} <= {v.strip().lower() for v in response.headers["vary"].split(",")}
        # the visible switch to the other language, named in that language
        other = next(code for code in LANGS if code != lang)
        assert page.langs.get(f"/?lang={other}") == other
        assert len(page.links) > 25
        for tag, href, media in page.links:
            parts = urlsplit(href)
            if not parts.path:  # a fragment of this page (the skip link)
                assert parts.fragment in page.ids, href
                continue
            assert not parts.scheme and not parts.netloc and href.startswith("/"), href  # this server only
            if href not in answered:
                got = client.get(href, headers={"accept": BROWSER})
                answered[href] = got.status_code
                assert got.status_code == 200, (lang, tag, href, got.status_code, got.text[:200])
                if media is not None:  # a download says what it is, and is that
                    assert got.headers["content-type"].split(";")[0] == media, href
                    assert got.content
    # all the interfaces are among them
    for needed in ("/graphql", "/sparql", "/healthz", "/metrics", "/id/ontology", "/docs/en/", "/docs/ja/"):
        assert needed in answered
    assert {h for h in answered if h.startswith("/download/")} >= {"/download/graph.ttl", "/download/graph.trig"}


def test_the_page_language_follows_accept_language(client: httpx.Client) -> None:
    for header, lang in (("ja-JP,ja;q=0.9,en;q=0.5", "ja"), ("en-GB, ja;q=0.3", "en"), ("fr, de", "en"), ("", "en")):
        response = client.get("/", headers={"accept": BROWSER, "accept-language": header})
        assert response.status_code == 200
        assert Page(response.text).lang == lang, header
    # ?lang= wins over the header, as a link from the other page must
    response = client.get("/?lang=en", headers={"accept": BROWSER, "accept-language": "ja"})
    assert Page(response.text).lang == "en"


def test_head_answers_like_get(client: httpx.Client) -> None:
    got = client.get("/", headers={"accept": BROWSER})
    head = client.head("/", headers={"accept": BROWSER})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"]


# ---- what it says is the snapshot ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_the_counts_are_the_snapshots(client: httpx.Client, expected: dict[str, Any], lang: str) -> None:
    _, page = front(client, lang)
    shown = {
        "facts": page.ids["count-facts"],
        "passagesCited": page.ids["count-passages"],
        "products": page.ids["count-products"],
        "guestRows": page.ids["count-guest-rows"],
        "triples": page.ids["count-triples"],
    }
    assert {key: int(value.replace(",", "")) for key, value in shown.items()} == {k: expected[k] for k in shown}
    assert page.ids["content-hash"] == expected["contentHash"]
    assert page.ids["loaded-at"] == expected["loadedAt"]
    # the source article's citation: its title in the article's language, and its page
    assert "/id/doc-article" in page.main_links
    assert "Hyper-Vのアーキテクチャ" in page.ids["citation"]


def test_json_index_names_the_same_links(client: httpx.Client, expected: dict[str, Any]) -> None:
    for lang in LANGS:
        response = client.get(f"/?lang={lang}", headers={"accept": "application/json"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["content-language"] == lang
        body = response.json()
        assert {k: body["snapshot"][k] for k in expected} == expected
        hrefs = {link["href"] for link in body["links"]}
        _, page = front(client, lang)
        # the links of the page's content, no more and no fewer (the rights statement is the article's own)
        assert set(page.main_links) == hrefs | {body["article"]["rights"]["href"]}
        for link in body["links"]:
            assert all(link["title"][code].strip() for code in LANGS), link
            assert link["rel"]
        assert {link["rel"] for link in body["links"]} >= {"graphql", "sparql", "docs", "health", "metrics", "download"}
        assert body["article"]["href"] in hrefs


# ---- bad requests and a server still loading -----------------------------------------------------------------------


def test_bad_requests_are_told_why(snapshot: Snapshot) -> None:
    holder = SnapshotHolder()
    client = TestClient(create_app(holder=holder))
    assert client.get("/", headers={"accept": BROWSER}).status_code == 503  # no snapshot yet
    holder.swap(snapshot)
    for query in ("?lang=fr", "?lang=", "?lang=" + "x" * 5000, "?lang=%3Cscript%3E"):
        response = client.get("/" + query, headers={"accept": BROWSER})
        assert response.status_code == 400, query
        assert "en, ja" in response.text and "いずれか" in response.text
        assert "Traceback" not in response.text
        assert response.headers["content-type"].startswith("text/plain")  # what it echoes is never markup
        assert len(response.text) < 300
    refused = client.get("/", headers={"accept": "text/plain"})
    assert refused.status_code == 406
    assert "application/json" in refused.text
    assert client.post("/").status_code == 405


# ---- the language choice, for any header ---------------------------------------------------------------------------

TAGS = st.sampled_from(["en", "en-US", "EN-gb", "ja", "ja-JP", "fr", "de-DE", "*", "", "x-klingon"])
QUALITIES = st.sampled_from([None, "0", "0.1", "0.5", "0.9", "1", "1.0", "bad", "2"])


def _quality(value: str | None) -> float:
    if value is None:
        return 1.0
    try:
        return min(max(float(value), 0.0), 1.0)
    except ValueError:
        return 0.0


@given(items=st.lists(st.tuples(TAGS, QUALITIES), max_size=6), noise=st.text(max_size=40))
def test_the_chosen_language_is_never_less_wanted_than_the_other(
    items: list[tuple[str, str | None]], noise: str
) -> None:
    header = ", ".join(tag + (f";q={q}" if q is not None else "") for tag, q in items)
    chosen = choose_language(None, header)
    assert chosen in LANGS
    wanted = dict.fromkeys(LANGS, 0.0)
    for tag, q in items:
        primary = tag.lower().split("-")[0]
        if primary in wanted:
            wanted[primary] = max(wanted[primary], _quality(q))
    other = next(code for code in LANGS if code != chosen)
    assert wanted[chosen] >= wanted[other]
    if not any(wanted.values()):
        assert chosen == "en"
    # junk never breaks it, and ?lang= always decides
    assert choose_language(None, noise) in LANGS
    assert choose_language("ja", header) == "ja"
    assert choose_language("en", header) == "en"


# ---- the docs site opens on its home page --------------------------------------------------------------------------


def test_the_docs_site_index_is_its_home(snapshot: Snapshot) -> None:
    files = build_site(snapshot, "both")
    index = Page(files["index.html"].decode("utf-8"))
    home = Page(files["en/index.html"].decode("utf-8"))
    assert index.lang == "en"
    assert index.ids["main"] == home.ids["main"]  # the English home's content, word for word
    assert len(index.ids["main"]) > 500
    assert index.langs.get("ja/index.html") == "ja"  # a visible switch to the Japanese home
    checked = 0
    for _, href, _ in index.links:
        parts = urlsplit(href)
        assert not parts.scheme and not parts.netloc and not href.startswith("/"), href  # works from file://
        if not parts.path:
            assert parts.fragment in index.ids, href
            continue
        target = posixpath.normpath(parts.path)
        assert target in files, href
        if parts.fragment and target.endswith(".html"):
            assert f'id="{parts.fragment}"' in files[target].decode("utf-8"), href
        checked += 1
    assert checked > 20
    # every section of both languages is reachable from it: directly, or through the Japanese home
    japanese = Page(files["ja/index.html"].decode("utf-8"))
    reached = {posixpath.normpath(urlsplit(h).path) for _, h, _ in index.links} | {
        posixpath.normpath(posixpath.join("ja", urlsplit(h).path)) for _, h, _ in japanese.links
    }
    for lang in LANGS:
        assert {f"{lang}/guests.html", f"{lang}/hosts.html", f"{lang}/sources.html"} <= reached
