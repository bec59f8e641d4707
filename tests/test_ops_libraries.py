"""What server/ops/ holds to where it kept its own code or took a library's (docs/decisions.md, "Operations:
libraries or measured reasons"): precedence of media ranges per RFC 9110, bilingual configuration errors, the
JSON lines python-json-logger writes for us, one X-Request-Id per answer."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from graph.snapshot import Snapshot
from server.app import create_app
from server.ops.config import Config, ConfigError
from server.ops.logs import JSONFormatter
from server.ops.negotiation import negotiate, parse_accept, quality
from server.ops.state import SnapshotHolder
from server.sparql.formats import GRAPH_OFFERS, RESULT_OFFERS
from server.web.pages import OFFERS as PAGE_OFFERS

# --- negotiation ----------------------------------------------------------------------------------------------

# RFC 9110 section 12.5.1: "Accept: text/*;q=0.3, text/plain;q=0.7, text/plain;format=flowed,
# text/plain;format=fixed;q=0.4, */*;q=0.5" and the quality it gives each media type (the last row as erratum
# 7138 corrects it: text/html;level=3 is matched by text/* only).
RFC_RANGES = [
    "text/*;q=0.3",
    "text/plain;q=0.7",
    "text/plain;format=flowed",
    "text/plain;format=fixed;q=0.4",
    "*/*;q=0.5",
]
RFC_TABLE = {
    "text/plain;format=flowed": 1.0,
    "text/plain": 0.7,
    "text/html": 0.3,
    "image/jpeg": 0.5,
    "text/plain;format=fixed": 0.4,
    "text/html;level=3": 0.3,
}


@given(st.permutations(RFC_RANGES))
def test_the_rfc_9110_quality_table_holds_whatever_the_order_of_the_ranges(ranges: list[str]) -> None:
    parsed = parse_accept(", ".join(ranges))
    assert {media: quality(media, parsed)[0] for media in RFC_TABLE} == RFC_TABLE


MEDIA = ["text/plain", "text/html", "text/*", "*/*", "image/png", "image/*"]
PARAMS = ["", ";format=flowed", ";format=fixed", ";charset=utf-8"]
a_range = st.tuples(st.sampled_from(MEDIA), st.sampled_from(PARAMS), st.sampled_from(["", ";q=0", ";q=0.5", ";q=1"]))


headers = st.lists(a_range.map("".join), min_size=1, max_size=8).flatmap(
    lambda ranges: st.tuples(st.just(ranges), st.permutations(ranges))
)


@given(headers)
def test_the_order_of_the_ranges_never_changes_a_quality(header: tuple[list[str], list[str]]) -> None:
    ranges, shuffled = header
    for media in ("text/plain", "text/plain;format=flowed", "text/html", "image/png", "application/json"):
        assert quality(media, parse_accept(", ".join(ranges))) == quality(media, parse_accept(", ".join(shuffled)))


@given(st.text(max_size=200))
def test_any_header_gets_an_offered_format_or_none_never_an_error(accept: str) -> None:
    for offers in (PAGE_OFFERS, RESULT_OFFERS, GRAPH_OFFERS):
        assert negotiate.__wrapped__(accept, offers) in {key for _, key in offers} | {None}


@pytest.mark.parametrize(
    ("accept", "offers", "expected"),
    [
        ("TEXT/Turtle", PAGE_OFFERS, "turtle"),  # media types are case-insensitive (RFC 9110 8.3.1)
        ("foo, text/turtle", PAGE_OFFERS, "turtle"),  # a malformed range is skipped, the others count
        ("text/turtle;q=1.2.3, text/html;q=0.5", PAGE_OFFERS, "html"),  # a q that is no number refuses its range
        ("text/html;level=1, text/html;q=0.1, text/turtle;q=0.5", PAGE_OFFERS, "turtle"),  # the range fitting exactly
        ("text/turtle;charset=utf-8", GRAPH_OFFERS, "turtle"),  # a parameter the offer leaves open still asks for it
        ("text/turtle;charset=utf-8;q=0, */*", GRAPH_OFFERS, "json-ld"),  # and refuses it with q=0
        ("text/html;q=0.5, */*", PAGE_OFFERS, "turtle"),  # */* at 1 beats text/html at 0.5 for the others
    ],
)
def test_negotiation_edges(accept: str, offers: tuple[tuple[str, str], ...], expected: str) -> None:
    assert negotiate(accept, offers) == expected


# --- configuration --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [("HVKG_LOG_FORMAT", "xml"), ("HVKG_LOG_LEVEL", "loud"), ("HVKG_ACCESS_LOG", "maybe"), ("HVKG_ACCESS_LOG", "t")],
)
def test_a_bad_value_is_refused_in_english_and_japanese_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Config.from_env({name: value})
    english, japanese = str(refused.value).split(" / ")
    assert english.startswith(name) and repr(value) in english
    assert japanese.startswith(name) and "いずれか" in japanese


def test_a_blank_value_is_the_default_and_values_are_read_in_any_case() -> None:
    assert Config.from_env({"HVKG_LOG_FORMAT": "  ", "HVKG_LOG_LEVEL": "", "HVKG_ACCESS_LOG": " "}) == Config.from_env(
        {}
    )
    assert Config.from_env({"HVKG_LOG_LEVEL": "WARNING", "HVKG_ACCESS_LOG": "No"}).log_level == "warning"
    assert not Config.from_env({"HVKG_ACCESS_LOG": "No"}).access_log


# --- JSON lines -----------------------------------------------------------------------------------------------


def test_a_stack_and_a_dict_message_are_written_as_fields() -> None:
    logger = logging.getLogger("hvkg.test.lines")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("here / ここ", stack_info=True)
        logger.warning({"rows": 3, "table": "guest"})
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    with_stack, with_dict = (json.loads(line) for line in stream.getvalue().splitlines())
    assert with_stack["message"] == "here / ここ" and "test_a_stack_and_a_dict_message" in with_stack["stack_info"]
    assert (with_dict["rows"], with_dict["table"], with_dict["level"]) == (3, "guest", "warning")


def test_an_exception_is_text_and_the_line_is_one_line() -> None:
    try:
        raise KeyError("鍵")
    except KeyError:
        record = logging.getLogger("hvkg").makeRecord("hvkg", logging.ERROR, __file__, 1, "m", (), sys.exc_info())
    line = JSONFormatter().format(record)
    assert "\n" not in line and "鍵" in line  # not escaped: the Japanese stays readable
    assert json.loads(line)["exception"].endswith("KeyError: '鍵'")


# --- request ids ----------------------------------------------------------------------------------------------


@pytest.fixture
def client(snapshot: Snapshot) -> Iterator[TestClient]:
    with TestClient(create_app(holder=SnapshotHolder(current=snapshot))) as test_client:
        yield test_client


def test_an_answer_carries_one_request_id_whether_or_not_its_adapter_named_it(client: TestClient) -> None:
    named_by_graphql = client.post("/graphql", json={"query": "{ products { id } }"}, headers={"x-request-id": "c-1"})
    named_by_us = client.get("/healthz", headers={"x-request-id": "c-2"})
    assert named_by_graphql.headers.get_list("x-request-id") == ["c-1"]
    assert named_by_us.headers.get_list("x-request-id") == ["c-2"]
