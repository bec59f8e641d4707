"""Fuzzing the linked-data pages (/id/..., /docs..., /download/...) on a real uvicorn with hypothesis: random
unicode, percent-encoding, very long names, traversal attempts, odd query strings and Accept headers, and raw
request lines that a client library would refuse to send.

Whatever comes in: a status below 500 (or the announced 503), no traceback, nothing from outside the graph
(no /etc/passwd), an answer within a generous client timeout.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.snapshot import Snapshot
from server.app import create_app
from server.ops.state import SnapshotHolder
from tests.live import serve

EXAMPLES = int(os.environ.get("HVKG_FUZZ_EXAMPLES", "60"))
CLIENT_TIMEOUT = 30
SETTINGS = settings(
    max_examples=EXAMPLES * 15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def address(snapshot: Snapshot) -> Iterator[tuple[str, int]]:
    with serve(create_app(holder=SnapshotHolder(current=snapshot))) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def ascii_target(target: str) -> str:
    """Non-ASCII, spaces and controls percent-encoded (as a browser sends them); all the rest left as it is."""
    return "".join(
        char if 0x20 < ord(char) < 0x7F else quote(char.encode("utf-8", "surrogatepass"), safe="") for char in target
    )


def get(address: tuple[str, int], target: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(*address, timeout=CLIENT_TIMEOUT)
    try:
        conn.putrequest("GET", ascii_target(target), skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def assert_answered_well(status: int, body: bytes) -> None:
    assert status < 500 or status == 503, (status, body[:500])
    assert b"Traceback" not in body, body[:2000]
    assert b"root:x:0:0" not in body  # /etc/passwd never leaks


names = st.one_of(
    st.sampled_from(["vmbus", "hyper-v", "guest-row-01", "ontology/maxVirtualProcessors", "graph", "", "/", "id"]),
    st.sampled_from(
        [
            "../../etc/passwd",
            "..%2F..%2Fetc%2Fpasswd",
            "%2e%2e/%2e%2e/etc/passwd",
            "....//....//etc/passwd",
            "..\\..\\windows\\win.ini",
            "vmbus%00.html",
            "%00",
            "%ff%fe",
            "%",
            "%zz",
            "vmbus/../../../../etc/passwd",
            "ハイパーバイザ",
            "%E3%83%8F%E3%82%A4%E3%83%91%E3%83%BC",
            "vmbus?format=turtle",
            "vmbus#x",
            "a" * 10_000,
            "%2F" * 2000,
            "<script>alert(1)</script>",
        ]
    ),
    st.text(max_size=60).map(lambda text: quote(text, safe="/%")),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30).map(
        lambda text: quote(text.encode("utf-8", "surrogatepass"))
    ),
)
prefixes = st.sampled_from(["/id/", "/id/", "/id/", "/docs/", "/docs", "/download/", "/id/ontology/"])
queries = st.one_of(
    st.just(""),
    st.sampled_from(["?format=turtle", "?format=html", "?format=../../x", "?format=", "?lang=ja", "?lang=xx"]),
    st.text(max_size=40).map(lambda text: "?" + quote(text, safe="=&")),
)
accepts = st.sampled_from(
    [
        "text/html",
        "text/turtle",
        "application/ld+json",
        "application/rdf+xml",
        "application/n-triples",
        "*/*",
        "image/png",
        "text/html;q=0",
        "text/*;q=abc",
        ",,,;;;",
        "",
    ]
)


@given(prefix=prefixes, name=names, query=queries, accept=accepts, language=st.sampled_from(["", "ja", "en", "*"]))
@SETTINGS
def test_any_page_request_is_answered_without_a_server_error(
    address: tuple[str, int], prefix: str, name: str, query: str, accept: str, language: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    if language:
        headers["Accept-Language"] = language
    status, body = get(address, prefix + name + query, headers)
    assert_answered_well(status, body)


@given(raw=st.binary(min_size=1, max_size=120), prefix=st.sampled_from([b"/id/", b"/docs/", b"/download/"]))
@settings(SETTINGS, max_examples=EXAMPLES * 5)
def test_raw_bytes_in_the_request_line_are_refused_cleanly(address: tuple[str, int], raw: bytes, prefix: bytes) -> None:
    """Bytes no client library sends (spaces, controls, non-UTF-8): uvicorn answers 400 or the app answers."""
    request = b"GET " + prefix + raw.replace(b"\r", b"").replace(b"\n", b"") + b" HTTP/1.1\r\nHost: x\r\n"
    request += b"Connection: close\r\n\r\n"
    with socket.create_connection(address, timeout=CLIENT_TIMEOUT) as conn:
        conn.sendall(request)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := conn.recv(65536):
                answer += chunk
    if answer:  # a request line it cannot parse may simply be dropped
        status = int(answer.split(b" ", 2)[1])
        assert_answered_well(status, answer)


def test_a_name_as_long_as_a_url_may_be_is_answered(address: tuple[str, int]) -> None:
    status, body = get(address, "/id/" + "x" * 60_000, {"Accept": "text/html"})
    assert status in (404, 414, 431)
    assert_answered_well(status, body)
