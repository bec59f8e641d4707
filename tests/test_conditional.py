"""ETag, Last-Modified, Cache-Control and 304 on what only a reload changes (server.ops.conditional).

Against the whole app on a real uvicorn: a client that revalidates with the tag it was given gets 304 and no body;
another representation (Accept, language, path) or another snapshot never matches; what depends on the moment
(/healthz, /metrics, /sparql) gets no validators.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from email.utils import formatdate

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.snapshot import Snapshot
from server.app import create_app
from server.ops.conditional import entity_tag, none_match, not_modified_since
from server.ops.state import SnapshotHolder
from tests.live import serve

PAGES = ["/id/vmbus", "/id/ontology", "/download/graph.ttl", "/download/graph.nq", "/docs/", "/"]


@pytest.fixture(scope="module")
def live(snapshot: Snapshot) -> Iterator[tuple[str, SnapshotHolder]]:
    holder = SnapshotHolder()
    holder.swap(snapshot)
    with serve(create_app(holder=holder)) as base:
        yield base, holder


@pytest.mark.parametrize("path", PAGES)
def test_a_revalidation_with_the_given_tag_is_304_without_a_body(live: tuple[str, SnapshotHolder], path: str) -> None:
    base, _ = live
    first = httpx.get(base + path, timeout=30)
    assert first.status_code == 200 and first.content
    tag = first.headers["etag"]
    assert tag.startswith('W/"') and first.headers["cache-control"]
    again = httpx.get(base + path, headers={"if-none-match": tag}, timeout=30)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    # the strong form of the same tag matches too (weak comparison), a list with it too
    strong = tag.removeprefix("W/")
    assert httpx.get(base + path, headers={"if-none-match": f'"x", {strong}'}, timeout=30).status_code == 304
    assert httpx.get(base + path, headers={"if-none-match": '"other"'}, timeout=30).status_code == 200
    since = first.headers["last-modified"]
    assert httpx.get(base + path, headers={"if-modified-since": since}, timeout=30).status_code == 304
    head = httpx.head(base + path, headers={"if-none-match": tag}, timeout=30)
    assert head.status_code == 304


def test_each_representation_has_its_own_tag(live: tuple[str, SnapshotHolder]) -> None:
    base, _ = live
    tags = {
        httpx.get(base + "/id/vmbus", headers={"accept": accept}, timeout=30).headers["etag"]
        for accept in ("text/html", "text/turtle", "application/n-triples", "application/ld+json")
    }
    assert len(tags) == 4
    html = httpx.get(base + "/id/vmbus", headers={"accept": "text/html"}, timeout=30)
    turtle = httpx.get(
        base + "/id/vmbus", headers={"accept": "text/turtle", "if-none-match": html.headers["etag"]}, timeout=30
    )
    assert turtle.status_code == 200 and turtle.text.startswith("@prefix")


def test_a_reload_changes_every_tag(live: tuple[str, SnapshotHolder], snapshot: Snapshot) -> None:
    base, holder = live
    before = httpx.get(base + "/id/vmbus", timeout=30).headers["etag"]
    holder.swap(replace(snapshot, content_hash="0" * 64, built_at=time.time() + 5))
    try:
        after = httpx.get(base + "/id/vmbus", headers={"if-none-match": before}, timeout=30)
        assert after.status_code == 200 and after.headers["etag"] != before
    finally:
        holder.swap(snapshot)


@pytest.mark.parametrize("path", ["/healthz", "/metrics", "/sparql?query=ASK%7B%7D"])
def test_what_depends_on_the_moment_has_no_validators(live: tuple[str, SnapshotHolder], path: str) -> None:
    base, _ = live
    got = httpx.get(base + path, headers={"accept": "application/sparql-results+json"}, timeout=30)
    assert got.status_code == 200 and "etag" not in got.headers


def test_an_error_page_has_no_validators(live: tuple[str, SnapshotHolder]) -> None:
    base, _ = live
    got = httpx.get(base + "/id/no-such-thing", headers={"if-none-match": "*"}, timeout=30)
    assert got.status_code == 404 and "etag" not in got.headers


TAG = st.text(alphabet="abcdef0123456789", min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(TAG, st.lists(TAG, max_size=4), st.booleans())
def test_none_match_is_the_weak_comparison(tag_body: str, others: list[str], weak: bool) -> None:
    """A list names the tag when one of its entries is the tag, weak or strong; never otherwise."""
    tag = f'W/"{tag_body}"'
    rest = [f'"{o}"' for o in others if o != tag_body]
    named = f'W/"{tag_body}"' if weak else f'"{tag_body}"'
    assert none_match(", ".join([*rest, named]), tag)
    assert none_match("*", tag)
    if rest:
        assert not none_match(", ".join(rest), tag)


def test_an_unreadable_date_is_ignored() -> None:
    assert not not_modified_since("yesterday", 1.0)
    assert not_modified_since(formatdate(100.0, usegmt=True), 100.5)
    assert not not_modified_since(formatdate(100.0, usegmt=True), 101.0)


def test_the_tag_reads_the_snapshot_the_path_and_the_representation() -> None:
    from starlette.datastructures import Headers

    scope = {"path": "/id/x", "query_string": b""}
    html = Headers({"content-type": "text/html"})
    assert entity_tag("a", scope, html) == entity_tag("a", scope, html)
    assert entity_tag("a", scope, html) != entity_tag("b", scope, html)
    assert entity_tag("a", scope, html) != entity_tag("a", {**scope, "path": "/id/y"}, html)
    assert entity_tag("a", scope, html) != entity_tag("a", {**scope, "query_string": b"lang=ja"}, html)
    assert entity_tag("a", scope, html) != entity_tag("a", scope, Headers({"content-type": "text/turtle"}))


@pytest.mark.parametrize(
    "path", ["/download/graph.ttl", "/id/vmbus", "/docs/", "/sparql?query=SELECT%20*%7B?s%20?p%20?o%7DLIMIT%20200"]
)
def test_gzip_for_who_asks_the_same_bytes_unzipped(live: tuple[str, SnapshotHolder], path: str) -> None:
    """Starlette's GZipMiddleware: gzip only when Accept-Encoding asks for it, and it changes no byte of the answer
    (httpx unzips it); the weak tag is the representation's either way, so a gzip client revalidates with it."""
    base, _ = live
    plain = httpx.get(base + path, headers={"accept-encoding": "identity"}, timeout=30)
    zipped = httpx.get(base + path, headers={"accept-encoding": "gzip"}, timeout=30)
    assert plain.status_code == zipped.status_code == 200
    assert "content-encoding" not in plain.headers and zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(plain.content) == len(zipped.content)
    assert zipped.content == plain.content or path.startswith("/sparql")  # a SELECT's row order may differ
    assert "accept-encoding" in zipped.headers["vary"].lower()
    if "etag" in plain.headers:
        again = httpx.get(base + path, headers={"accept-encoding": "gzip", "if-none-match": plain.headers["etag"]})
        assert again.status_code == 304
