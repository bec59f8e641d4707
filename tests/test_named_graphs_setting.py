"""HVKG_NAMED_GRAPHS: whether a build files one named graph per source into the store (graph/named_graphs.py).

The named graphs double the store; on a large catalogue that costs the 1 GB goal of bench/README.md, so by
default (`auto`) only an input small enough for rdflib's parser (the article's graph) gets them."""

from __future__ import annotations

import httpx
import pytest

from graph.build import build_snapshot, cache_key
from graph.layout import DataLayout
from graph.named_graphs import filed, named_graphs_setting, wanted
from server.ops.config import Config, ConfigError


@pytest.mark.parametrize(
    ("setting", "large", "expected"),
    [
        ("auto", False, True),
        ("auto", True, False),
        ("on", True, True),
        ("on", False, True),
        ("off", False, False),
        ("off", True, False),
        ("", False, True),  # unset is auto
        (" ON ", True, True),  # as people type it
    ],
)
def test_the_setting_decides_whether_a_build_files_them(setting: str, large: bool, expected: bool) -> None:
    assert wanted(large, {"HVKG_NAMED_GRAPHS": setting}) is expected


@pytest.mark.parametrize("value", ["yes", "1", "sometimes", "offf", "auto on"])
def test_a_bad_value_is_refused_in_both_languages(value: str) -> None:
    with pytest.raises(ValueError, match="HVKG_NAMED_GRAPHS") as caught:
        named_graphs_setting({"HVKG_NAMED_GRAPHS": value})
    assert "いずれか" in str(caught.value)
    with pytest.raises(ConfigError, match="HVKG_NAMED_GRAPHS"):
        Config.from_env({"HVKG_NAMED_GRAPHS": value})


def test_off_keeps_the_default_graph_only_and_on_files_every_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HVKG_NAMED_GRAPHS", "off")
    without = build_snapshot(cache_dir=None)
    assert without.store is not None and not filed(without)
    assert len(without.store) == without.triple_count
    off_key = cache_key(DataLayout())
    monkeypatch.setenv("HVKG_NAMED_GRAPHS", "on")
    with_them = build_snapshot(cache_dir=None)
    assert with_them.store is not None and filed(with_them)
    names = {str(g.value) for g in with_them.store.named_graphs()}  # type: ignore[attr-defined]
    assert {"doc-article", "doc-external-facts", "graph/editorial", "ontology"} <= {
        n.rsplit("id/", 1)[-1] for n in names
    }
    assert len(with_them.store) > with_them.triple_count
    # a cached store holds what its setting filed: the two settings never share a cache entry
    assert cache_key(DataLayout()) != off_key


ARTICLE_ONLY = "SELECT (COUNT(*) AS ?n) FROM <https://hyperv-kg.example.org/id/doc-article> WHERE { ?s ?p ?o }"


@pytest.mark.parametrize("setting", ["off", "on"])
def test_a_query_naming_a_source_graph_is_answered_or_told_why_not(setting: str) -> None:
    """A real `hvkg serve`: with the named graphs kept, FROM <article> counts the article's triples; without
    them it is a 400 that names HVKG_NAMED_GRAPHS, never an empty graph that reads as "the article says
    nothing". An IRI under the service's base that names no graph of it is refused either way."""
    from tests.test_sparql_workers import free_port, hvkg_serve, wait_ready

    with hvkg_serve(free_port(), HVKG_NAMED_GRAPHS=setting, HVKG_CACHE_DIR="off") as (process, base, log):
        wait_ready(process, base, log)
        answer = httpx.get(base + "/sparql", params={"query": ARTICLE_ONLY}, headers={"accept": "text/csv"})
        if setting == "on":
            assert answer.status_code == 200, answer.text
            count = int(answer.text.split()[1])
            assert (
                0
                < count
                < int(
                    httpx.get(
                        base + "/sparql",
                        params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                        headers={"accept": "text/csv"},
                    ).text.split()[1]
                )
            )
        else:
            assert answer.status_code == 400, answer.text
            assert "HVKG_NAMED_GRAPHS" in answer.text and "名前付きグラフ" in answer.text
        nowhere = ARTICLE_ONLY.replace("doc-article", "doc-nowhere")
        refused = httpx.get(base + "/sparql", params={"query": nowhere})
        assert refused.status_code == 400 and "doc-nowhere" in refused.text
