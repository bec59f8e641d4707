"""/metrics counts what happened: requests by interface, operation and status, timeouts, rejections, the
snapshot served and the reloads; in a valid Prometheus text exposition."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from graph.layout import ROOT, DataLayout
from graph.snapshot import Snapshot
from server.app import create_app
from server.ops.labels import KNOWN_OPERATIONS, graphql_operation, known_operations, sparql_form
from server.ops.metrics import BUCKETS, REJECTED, TIMED_OUT, Metrics, exposition, label_values
from server.ops.reload import Reloader
from server.ops.state import SnapshotHolder
from tests.test_metrics_workers import promtool_check

CHECK_GUEST = (ROOT / "server" / "static" / "graphiql" / "operations" / "CheckGuest.graphql").read_text()
VARIABLES = {"os": "Windows Server 2008", "edition": "Enterprise", "sp": 0, "arch": "X64", "vcpus": 4}
SELECT = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"
# Sample lines of the text format: name, optional labels, a number.
SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.e+]+(Inf)?$')


@pytest.fixture
def client(snapshot: Snapshot) -> Iterator[TestClient]:
    with TestClient(create_app(holder=SnapshotHolder(current=snapshot))) as test_client:
        yield test_client


def scrape(client: TestClient) -> list[str]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines: list[str] = response.text.splitlines()
    return lines


def requests_total(lines: list[str]) -> dict[str, float]:
    return label_values(lines, "hvkg_http_requests_total")


def key(interface: str, operation: str, status: int) -> str:
    return f'{{interface="{interface}",operation="{operation}",status="{status}"}}'


def test_requests_are_counted_by_interface_operation_and_status(client: TestClient) -> None:
    body = {"query": CHECK_GUEST, "operationName": "CheckGuest", "variables": VARIABLES}
    for _ in range(2):
        assert client.post("/graphql", json=body).status_code == 200
    unknown = {"query": "query NotAPortalOperation { products { id } }", "operationName": "NotAPortalOperation"}
    assert client.post("/graphql", json=unknown).status_code == 200
    assert client.post("/graphql", json={"query": "query CheckGuest { products { id } }"}).status_code == 200
    assert client.get("/graphql", params={"query": "{ products { id } }"}).status_code == 200
    sparql = {"accept": "application/sparql-results+json"}
    assert client.get("/sparql", params={"query": SELECT}, headers=sparql).status_code == 200
    ask = "PREFIX ask: <urn:x:> # SELECT in a comment\nASK { ?s ?p ?o }"
    assert client.post(
        "/sparql", content=ask, headers={**sparql, "content-type": "application/sparql-query"}
    ).is_success
    construct = {"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1"}
    assert client.post("/sparql", data=construct, headers={"accept": "text/turtle"}).status_code == 200
    describe = "DESCRIBE <https://hyperv-kg.example.org/id/vmbus>"
    assert client.get("/sparql", params={"query": describe}, headers={"accept": "text/turtle"}).status_code == 200
    assert client.post("/sparql", data={"update": "CLEAR ALL"}).status_code == 403
    assert client.get("/sparql", headers={"accept": "text/turtle"}).status_code == 200
    assert client.get("/id/vmbus").status_code == 200
    assert client.get("/id/no-such-thing").status_code == 404
    assert client.get("/download/graph.nt").status_code == 200
    assert client.get("/healthz").status_code == 200

    counted = requests_total(scrape(client))
    assert counted == {
        key("graphql", "CheckGuest", 200): 3,
        key("graphql", "other", 200): 1,
        key("graphql", "anonymous", 200): 1,
        key("sparql", "select", 200): 1,
        key("sparql", "ask", 200): 1,
        key("sparql", "construct", 200): 1,
        key("sparql", "describe", 200): 1,
        key("sparql", "update", 403): 1,
        key("sparql", "description", 200): 1,
        key("page", "page", 200): 1,
        key("page", "page", 404): 1,
        key("download", "download", 200): 1,
        key("health", "healthz", 200): 1,
    }
    # The scrape itself is counted once it is answered: the next scrape shows it.
    assert requests_total(scrape(client))[key("metrics", "metrics", 200)] == 1
    rejections = label_values(scrape(client), "hvkg_rejections_total")
    assert rejections == {'{interface="sparql",status="403"}': 1}


def test_latency_histograms_are_cumulative_and_add_up(client: TestClient) -> None:
    for _ in range(3):
        client.get("/id/vmbus")
    lines = scrape(client)
    buckets = label_values(lines, "hvkg_http_request_duration_seconds_bucket")
    page = [value for labels, value in buckets.items() if 'interface="page"' in labels]
    assert len(page) == len(BUCKETS) + 1
    assert page == sorted(page) and page[-1] == 3
    count = label_values(lines, "hvkg_http_request_duration_seconds_count")
    assert count['{interface="page",operation="page"}'] == 3
    total = label_values(lines, "hvkg_http_request_duration_seconds_sum")['{interface="page",operation="page"}']
    assert total > 0


def test_timeouts_and_rejections_are_counted(snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVKG_SPARQL_TIME_LIMIT", "0.3")
    with TestClient(create_app(holder=SnapshotHolder(current=snapshot))) as client:
        slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        assert client.get("/sparql", params={"query": slow}).status_code == 504
        huge = json.dumps({"query": "{ products { id } }", "padding": "x" * 200_000})
        assert client.post("/graphql", content=huge, headers={"content-type": "application/json"}).status_code == 413
        assert client.post("/sparql", content="CLEAR ALL", headers={"content-type": "application/sparql-update"})
        lines = scrape(client)
    assert label_values(lines, "hvkg_query_timeouts_total") == {'{interface="sparql"}': 1}
    assert label_values(lines, "hvkg_rejections_total") == {
        '{interface="graphql",status="413"}': 1,
        '{interface="sparql",status="403"}': 1,
    }
    # Before a snapshot is loaded every interface answers 503, and that is a rejection too (not /healthz's).
    empty = TestClient(create_app(DataLayout(ROOT), SnapshotHolder()))  # no lifespan: nothing loads
    assert empty.post("/graphql", json={"query": "{ products { id } }"}).status_code == 503
    assert empty.get("/sparql", params={"query": SELECT}).status_code == 503
    assert empty.get("/healthz").status_code == 503
    lines = scrape(empty)
    assert label_values(lines, "hvkg_rejections_total") == {
        '{interface="graphql",status="503"}': 1,
        '{interface="sparql",status="503"}': 1,
    }
    assert label_values(lines, "hvkg_snapshot_loaded") == {"": 0}
    assert label_values(lines, "hvkg_snapshot_info") == {}


def test_snapshot_gauges_describe_what_is_served(client: TestClient, snapshot: Snapshot) -> None:
    lines = scrape(client)
    assert label_values(lines, "hvkg_snapshot_loaded") == {"": 1}
    assert label_values(lines, "hvkg_snapshot_triples") == {"": snapshot.triple_count}
    assert label_values(lines, "hvkg_snapshot_info") == {f'{{content_hash="{snapshot.content_hash}"}}': 1}
    assert label_values(lines, "hvkg_snapshot_age_seconds")[""] >= 0
    assert label_values(lines, "hvkg_reloads_total") == {"": 0}
    assert label_values(lines, "hvkg_reloads_failed_total") == {"": 0}
    assert label_values(lines, "process_resident_memory_bytes")[""] > 10_000_000


def test_reloads_are_counted_and_a_failed_one_is_told_apart(snapshot: Snapshot) -> None:
    metrics = Metrics()
    holder = SnapshotHolder(current=snapshot)
    outcomes = iter([True, False, True])

    def loader(target: SnapshotHolder, layout: DataLayout) -> bool:
        ok = next(outcomes)
        if ok:
            target.swap(snapshot)
        else:
            target.last_error = "broken"
        return ok

    reloader = Reloader(holder, DataLayout(ROOT), metrics, loader)

    async def three_reloads() -> None:
        for _ in range(3):
            await reloader.load()

    anyio.run(three_reloads)
    assert (metrics.reloads, metrics.reloads_failed) == (3, 1)
    lines = exposition(metrics, holder).splitlines()
    assert label_values(lines, "hvkg_reloads_total") == {"": 3}
    assert label_values(lines, "hvkg_reloads_failed_total") == {"": 1}
    assert label_values(lines, "hvkg_snapshot_generation") == {"": 2}


def test_requests_for_one_reload_fold_into_one(snapshot: Snapshot) -> None:
    """SIGHUPs that arrive while a reload runs make one more reload, not one each."""
    metrics = Metrics()
    holder = SnapshotHolder(current=snapshot)
    calls: list[int] = []
    reloader: Reloader

    def loader(target: SnapshotHolder, layout: DataLayout) -> bool:
        calls.append(len(calls))
        return True

    reloader = Reloader(holder, DataLayout(ROOT), metrics, loader)

    async def scenario() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(reloader.run)
            for _ in range(5):
                reloader.request()
            while metrics.reloads < 1:
                await anyio.sleep(0.01)
            group.cancel_scope.cancel()

    anyio.run(scenario)
    assert calls == [0]


def test_the_exposition_is_valid_text_format(client: TestClient) -> None:
    client.get("/id/vmbus")
    client.post("/graphql", json={"query": "{ products { id label(lang: EN) } }", "operationName": 'a"b\\c\nd'})
    lines = scrape(client)
    declared: set[str] = set()
    for line in lines:
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            assert kind in ("counter", "gauge", "histogram")
            declared.add(name)
        elif line.startswith("# HELP "):
            continue
        else:
            assert SAMPLE.match(line), line
            name = line.split("{")[0].split(" ")[0]
            assert name in declared or name.rsplit("_", 1)[0] in declared, line


def test_graphql_labels_never_grow_past_the_known_operations() -> None:
    assert graphql_operation("CheckGuest", None) == "CheckGuest"
    assert {graphql_operation(f"Op{n}", None) for n in range(1000)} == {"other"}
    assert graphql_operation(None, "query Search($q: String!) { search(text: $q) { id } }") == "Search"
    assert graphql_operation(None, "query A { a } query B { b }") == "other"
    assert graphql_operation(None, "{ products { id } }") == "anonymous"
    assert graphql_operation(["CheckGuest"], None) == "other"
    assert "CheckGuest" in KNOWN_OPERATIONS and "IntrospectionQuery" in KNOWN_OPERATIONS


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "select"),
        ("prefix ask: <urn:ask:> select ?x where { ?x ask:y 1 }", "select"),
        ("# ASK me\nCONSTRUCT WHERE { ?s ?p ?o }", "construct"),
        ("BASE <http://example.org/select/> describe <x>", "describe"),
        ('ASK { ?s ?p "SELECT" }', "ask"),
        ("INSERT DATA { <a> <b> <c> }", "update"),
        ("DELETE WHERE { ?s ?p ?o }", "update"),
        ("", "other"),
        ("\x00\xff garbage", "other"),
    ],
)
def test_sparql_query_form(text: str, form: str) -> None:
    assert sparql_form(text) == form


def test_promtool_finds_nothing_to_fix(client: TestClient) -> None:
    client.get("/id/vmbus")
    client.get("/id/no-such-thing")
    client.post("/graphql", json={"query": "{ products { id } }", "operationName": 'a"b\\c\nd'})
    client.get("/sparql", params={"query": SELECT}, headers={"accept": "application/sparql-results+json"})
    client.post("/sparql", data={"update": "CLEAR ALL"})
    client.get("/metrics")
    promtool_check(client.get("/metrics").text)


RECORDS = st.lists(
    st.tuples(
        st.sampled_from(["graphql", "sparql", "page", "health"]),
        st.sampled_from(["CheckGuest", "other", "select"]),
        st.sampled_from([200, 400, 403, 404, 413, 503, 504]),
        st.floats(min_value=0, max_value=30, allow_nan=False),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(RECORDS)
def test_every_request_recorded_is_in_the_exposition_once(records: list[tuple[str, str, int, float]]) -> None:
    metrics = Metrics()
    for record in records:
        metrics.record(*record)
    lines = exposition(metrics, SnapshotHolder()).splitlines()
    expected: dict[str, int] = {}
    for interface, operation, status, _ in records:
        expected[key(interface, operation, status)] = expected.get(key(interface, operation, status), 0) + 1
    assert requests_total(lines) == expected
    counts = label_values(lines, "hvkg_http_request_duration_seconds_count")
    assert sum(counts.values()) == len(records)
    (histogram,) = (f for f in text_string_to_metric_families("\n".join(lines)) if f.type == "histogram")
    by_series: dict[tuple[str, str], list[float]] = {}
    for sample in histogram.samples:
        if sample.name.endswith("_bucket"):
            by_series.setdefault((sample.labels["interface"], sample.labels["operation"]), []).append(sample.value)
    assert len(by_series) == len(counts)
    for (interface, operation), cumulative in by_series.items():
        assert len(cumulative) == len(BUCKETS) + 1 and cumulative == sorted(cumulative)
        assert cumulative[-1] == counts[f'{{interface="{interface}",operation="{operation}"}}']
    timeouts = sum(label_values(lines, "hvkg_query_timeouts_total").values())
    assert timeouts == sum(status == TIMED_OUT for _, _, status, _ in records)
    refused = sum(label_values(lines, "hvkg_rejections_total").values())
    assert refused == sum(status in REJECTED and interface != "health" for interface, _, status, _ in records)


def test_the_portal_operations_are_read_from_files_that_exist(tmp_path: Path) -> None:
    """A moved module once looked for them in a folder that was not there and counted every portal as "other"."""
    assert {"CheckGuest", "IntrospectionQuery"} <= KNOWN_OPERATIONS
    with pytest.raises(FileNotFoundError):
        known_operations(tmp_path)
