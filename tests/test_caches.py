"""Every cache stays correct across a reload of the graph: the validated-snapshot cache, the GraphQL answer and
document caches, the per-snapshot memo of the question functions, and the SPARQL engine's copy of the graph.

A reload here is what the server does: build a new snapshot from the files and swap it into the holder.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from graph import verdicts
from graph.build import build_snapshot, cache_directory, cache_key
from graph.layout import DataLayout
from graph.model import Architecture
from graph.problems import InvalidGraph
from server.graphql import execution
from server.graphql.cache import AnswerCache
from server.graphql.execution import prepare
from server.graphql.view import graphql_routes
from server.ops.state import SnapshotHolder
from server.sparql.config import SPARQLConfig
from server.sparql.engine import oxigraph_may_answer
from server.sparql.jobs import QueryJob
from server.sparql.protocol import SPARQLEndpoint
from tests.live import serve

ROW_08 = "hv:maxVirtualProcessors 2 ;\n    hv:rowNumber 8 ;"  # Windows XP SP3 (x86): at most 2
XP_SP3_WITH_3 = {"os": "Windows XP", "sp": 3, "arch": "X86", "vcpus": 3}
CHECK_GUEST = (
    "query CheckGuest($os: String!, $sp: Int! = 0, $arch: Architecture!, $vcpus: Int! = 1) {"
    " checkGuest(operatingSystem: $os, servicePack: $sp, architecture: $arch, virtualProcessors: $vcpus)"
    " { supported maxVirtualProcessors reasons { code } } }"
)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def xp_verdict(layout: DataLayout, cache: Path) -> tuple[bool, int | None]:
    verdict = verdicts.check_guest(build_snapshot(layout, cache_dir=cache), "hyper-v", "Windows XP", None, 3,
                                   Architecture.X86, 3)  # fmt: skip
    return verdict.supported, verdict.max_virtual_processors


# --- the validated-snapshot cache ------------------------------------------------------------------------------


@pytest.fixture
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache directory of its own, outside the data copy (which lives in tmp_path)."""
    return tmp_path_factory.mktemp("snapshot-cache")


def test_a_valid_snapshot_is_kept_and_read_back(data_copy: DataLayout, cache: Path) -> None:
    first = build_snapshot(data_copy, cache_dir=cache)
    assert not first.from_cache
    assert len(list(cache.glob("*.snapshot"))) == 1
    second = build_snapshot(data_copy, cache_dir=cache)
    assert second.from_cache
    assert second.content_hash == first.content_hash
    assert second.triple_count == first.triple_count == len(second.graph)
    assert second.tables == first.tables
    assert dict(second.graph.namespaces()) == dict(first.graph.namespaces())
    # the store holds the default graph and the named graphs (graph/named_graphs.py), as the first build's did
    assert second.store is not None and first.store is not None and len(second.store) == len(first.store)
    assert dict(second.descriptions) == dict(first.descriptions)
    # nothing was written beside the data
    assert not list(data_copy.root.rglob("*.snapshot"))


def test_a_changed_fact_is_a_new_entry_and_a_new_answer(data_copy: DataLayout, cache: Path) -> None:
    assert xp_verdict(data_copy, cache) == (False, 2)
    assert xp_verdict(data_copy, cache) == (False, 2)  # read back from the cache
    edit(data_copy.root / "graph/facts/guests.ttl", ROW_08, ROW_08.replace(" 2 ;", " 3 ;"))
    fresh = build_snapshot(data_copy, cache_dir=cache)
    assert not fresh.from_cache
    assert xp_verdict(data_copy, cache) == (True, 3)


def test_an_invalid_graph_is_never_served_from_the_cache(data_copy: DataLayout, cache: Path) -> None:
    build_snapshot(data_copy, cache_dir=cache)
    guests = data_copy.root / "graph/facts/guests.ttl"
    valid = guests.read_text(encoding="utf-8")
    edit(guests, ROW_08, "hv:maxVirtualProcessors 0 ;\n    hv:rowNumber 8 ;")  # a shape violation
    with pytest.raises(InvalidGraph):
        build_snapshot(data_copy, cache_dir=cache)
    with pytest.raises(InvalidGraph):  # and not cached as if it were valid either
        build_snapshot(data_copy, cache_dir=cache)
    guests.write_text(valid, encoding="utf-8")
    assert build_snapshot(data_copy, cache_dir=cache).from_cache


def test_a_changed_source_text_is_validated_again(data_copy: DataLayout, cache: Path) -> None:
    """The quotes are checked against graph/sources/article-ja.txt, which is not a Turtle file: still an input."""
    build_snapshot(data_copy, cache_dir=cache)
    article = data_copy.root / "graph/sources/article-ja.txt"
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("ハイパーバイザ", "ハイパバイザ"), encoding="utf-8")
    with pytest.raises(InvalidGraph) as caught:
        build_snapshot(data_copy, cache_dir=cache)
    assert any(p.rule == "verbatim-quote" for p in caught.value.problems)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "triples", "no triples"])
def test_a_damaged_entry_falls_back_to_full_validation(data_copy: DataLayout, cache: Path, damage: str) -> None:
    build_snapshot(data_copy, cache_dir=cache)
    (entry,) = cache.glob("*.snapshot")
    data = entry.read_bytes()
    triples = entry.with_suffix(".nt")
    if damage == "triples":  # one triple more than was validated
        triples.write_bytes(
            triples.read_bytes() + b"<https://x.example/a> <https://x.example/b> <https://x.example/c> .\n"
        )
    elif damage == "no triples":
        triples.unlink()
    elif damage == "truncate":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        entry.write_bytes(data[:-10] + bytes(b ^ 0xFF for b in data[-10:]))
    else:
        entry.write_bytes(b"not a snapshot at all")
    again = build_snapshot(data_copy, cache_dir=cache)
    assert not again.from_cache
    assert xp_verdict(data_copy, cache) == (False, 2)
    assert build_snapshot(data_copy, cache_dir=cache).from_cache  # the entry was written anew


def test_a_code_change_is_a_new_key(data_copy: DataLayout, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build_snapshot(data_copy, cache_dir=cache)
    before = cache_key(data_copy)
    monkeypatch.setattr("graph.build.code_version", lambda: "another version of graph/")
    assert cache_key(data_copy) != before
    assert not build_snapshot(data_copy, cache_dir=cache).from_cache


def test_the_cache_directory_is_never_in_the_data(data_copy: DataLayout, cache: Path) -> None:
    tmp_path = cache
    root = data_copy.root
    for inside in (root, root / "graph", root / "graph" / "cache", root / "ontology", root / "queries" / "x"):
        assert cache_directory(data_copy, {"HVKG_CACHE_DIR": str(inside)}) is None
    assert cache_directory(data_copy, {"HVKG_CACHE_DIR": "off"}) is None
    assert cache_directory(data_copy, {"HVKG_CACHE_DIR": str(tmp_path / "c")}) == (tmp_path / "c").resolve()
    xdg = cache_directory(data_copy, {"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert xdg == (tmp_path / "xdg" / "hyperv-kg").resolve()


# --- GraphQL: documents and whole answers -----------------------------------------------------------------------


def post(base: str, variables: dict[str, object]) -> dict[str, object]:
    response = httpx.post(base + "/graphql", json={"query": CHECK_GUEST, "variables": variables}, timeout=30)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_answers_change_with_a_reload(data_copy: DataLayout, cache: Path) -> None:
    holder = SnapshotHolder(current=build_snapshot(data_copy, cache_dir=cache))
    answers = AnswerCache()
    with serve(Starlette(routes=graphql_routes(holder, answers))) as base:
        before = post(base, XP_SP3_WITH_3)
        assert before == post(base, XP_SP3_WITH_3)  # the second one came from the cache
        assert len(answers) == 1
        assert before["data"] == {
            "checkGuest": {
                "supported": False,
                "maxVirtualProcessors": 2,
                "reasons": [{"code": "TOO_MANY_VIRTUAL_PROCESSORS"}],
            }
        }
        edit(data_copy.root / "graph/facts/guests.ttl", ROW_08, ROW_08.replace(" 2 ;", " 3 ;"))
        holder.swap(build_snapshot(data_copy, cache_dir=cache))  # the reload
        after = post(base, XP_SP3_WITH_3)
        assert after["data"] == {
            "checkGuest": {"supported": True, "maxVirtualProcessors": 3, "reasons": [{"code": "SUPPORTED"}]}
        }
        assert answers.snapshot is holder.current and len(answers) == 1


def test_internal_errors_are_not_kept(snapshot_holder: SnapshotHolder, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = AnswerCache()
    calls: list[int] = []

    def failing_check_guest(*args: object) -> object:
        calls.append(1)
        raise RuntimeError("boom")

    monkeypatch.setattr(verdicts, "check_guest", failing_check_guest)
    with serve(Starlette(routes=graphql_routes(snapshot_holder, answers))) as base:
        for _ in range(2):
            body = post(base, XP_SP3_WITH_3)
            assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"  # type: ignore[index]
    # Each request ran it twice (its plan, then graphql-core for the error: server.graphql.plan); the second
    # request was not answered from the cache.
    assert len(calls) == 4
    assert len(answers) == 0


def test_bad_input_answers_are_kept_like_any_other(snapshot_holder: SnapshotHolder) -> None:
    answers = AnswerCache()
    with serve(Starlette(routes=graphql_routes(snapshot_holder, answers))) as base:
        body = post(base, {**XP_SP3_WITH_3, "vcpus": 0})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"  # type: ignore[index]
        assert post(base, {**XP_SP3_WITH_3, "vcpus": "two"})["errors"]  # a variable of the wrong type
    assert len(answers) == 2


def test_the_answer_cache_is_bounded() -> None:
    answers = AnswerCache(max_entries=3, max_bytes=1000).for_snapshot(object())
    for n in range(5):
        answers.put(str(n).encode(), b"x" * 10, "CheckGuest")
    assert len(answers) == 3
    assert answers.get(b"0") is None and answers.get(b"4") == (b"x" * 10, "CheckGuest")
    answers.put(b"big", b"x" * 900, "other")  # more than a sixteenth of the bytes: not kept
    assert answers.get(b"big") is None
    for n in range(40):
        answers.put(f"k{n}".encode(), b"y" * 60, "other")
    assert len(answers) <= 3
    assert answers.for_snapshot(object()).get(b"k39") is None  # another snapshot starts empty


def test_prepared_documents_are_reused_and_refusals_too() -> None:
    first = prepare(CHECK_GUEST, None)
    assert first is prepare(CHECK_GUEST, None) and first.document is not None and first.quick
    broken = prepare("{ checkGuest(", None)
    assert broken.document is None and broken.errors is not None
    assert broken.errors[0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert prepare("{ checkGuest(", None) is broken
    assert not prepare("{ products { id } }", None).quick  # runs in the thread pool
    assert execution.prepare.cache_info().maxsize is not None  # bounded


# --- the question functions' memo -------------------------------------------------------------------------------


def test_suggestions_and_verdicts_follow_the_snapshot(data_copy: DataLayout, cache: Path) -> None:
    before = build_snapshot(data_copy, cache_dir=cache)
    assert "windows-xp" in [n.id for n in before.names.suggest("Windows XPP", "OperatingSystem")]
    edit(data_copy.root / "graph/facts/operating-systems.ttl", '"Windows XP"@en', '"Windows Experience"@en')
    after = build_snapshot(data_copy, cache_dir=cache)
    assert before.names.suggest("Windows Experiance", "OperatingSystem") != after.names.suggest(
        "Windows Experiance", "OperatingSystem"
    )
    assert after.names.suggest("Windows Experiance", "OperatingSystem")[0].id == "windows-xp"
    assert verdicts.check_guest(after, "hyper-v", "Windows Experience", None, 3, Architecture.X86, 1).supported
    assert (
        verdicts.check_guest(before, "hyper-v", "Windows Experience", None, 3, Architecture.X86, 1).reasons[0].code.name
        == "UNKNOWN_OPERATING_SYSTEM"
    )


# --- SPARQL: the engine's copy of the graph -------------------------------------------------------------------


SELECT_XP_MAX = """PREFIX hv: <https://hyperv-kg.example.org/id/ontology/>
SELECT ?max WHERE { <https://hyperv-kg.example.org/id/guest-row-08> hv:maxVirtualProcessors ?max }"""


def test_sparql_answers_change_with_a_reload(data_copy: DataLayout, cache: Path) -> None:
    holder = SnapshotHolder(current=build_snapshot(data_copy, cache_dir=cache))
    endpoint = SPARQLEndpoint(holder, SPARQLConfig(max_concurrent=1))
    try:
        with serve(Starlette(routes=endpoint.routes("/sparql"))) as base:

            def xp_max() -> str:
                response = httpx.post(base + "/sparql", data={"query": SELECT_XP_MAX}, timeout=30)
                assert response.status_code == 200, response.text
                return str(response.json()["results"]["bindings"][0]["max"]["value"])

            assert xp_max() == "2"
            edit(data_copy.root / "graph/facts/guests.ttl", ROW_08, ROW_08.replace(" 2 ;", " 3 ;"))
            holder.swap(build_snapshot(data_copy, cache_dir=cache))
            assert xp_max() == "3"
    finally:
        asyncio.run(endpoint.close())


@pytest.mark.parametrize(
    ("text", "fast"),
    [
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", True),
        ("ASK { ?s ?p ?o }", True),
        ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", False),
        ("select * where { service <http://x/> { ?s ?p ?o } }", False),
        ('SELECT * WHERE { ?s ?p "service" }', True),  # a word inside a string is no keyword: the parse says so
        ("SELECT * FROM <http://x/> WHERE { ?s ?p ?o }", False),
        ("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", False),
        ("SELECT * WHERE { \\u0053ERVICE <http://x/> { ?s ?p ?o } }", False),
        ("DESCRIBE <http://x/>", False),
        ("INSERT DATA { <a> <b> <c> }", False),
        ("SELECT ?wasDerivedFrom WHERE { ?s ?p ?wasDerivedFrom }", True),
    ],
)
def test_only_plain_queries_reach_pyoxigraph(text: str, fast: bool) -> None:
    job = QueryJob(text, "http://127.0.0.1/sparql", "json", "turtle", None, None, 10, False, "r")
    assert oxigraph_may_answer(job) is fast
    assert not oxigraph_may_answer(QueryJob(text, "http://x/", "json", None, ("http://x/g",), None, 10, False, "r"))


@pytest.fixture(scope="module")
def snapshot_holder() -> SnapshotHolder:
    return SnapshotHolder(current=build_snapshot(cache_dir=None))


def test_the_answer_bytes_are_what_jsonresponse_writes(snapshot_holder: SnapshotHolder) -> None:
    with serve(Starlette(routes=graphql_routes(snapshot_holder))) as base:
        response = httpx.post(base + "/graphql", json={"query": CHECK_GUEST, "variables": XP_SP3_WITH_3})
    assert response.headers["content-type"] == "application/json"
    body = json.loads(response.content)
    assert response.content == json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
