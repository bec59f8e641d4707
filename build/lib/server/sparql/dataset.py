"""The query's dataset: which of the service's graphs make its default graph and its named graphs.

The service's dataset (graph/named_graphs.py, docs/decisions.md "Named graphs"): one named graph per source,
held in the snapshot's pyoxigraph store beside its default graph, which is the whole graph, their union. So
every query without a dataset answers as it always did; FROM, FROM NAMED, GRAPH and the protocol's
default-graph-uri / named-graph-uri choose among the named graphs:
- BASE + "doc-article" (the article), BASE + "doc-external-facts" (and every other outside document): what
  each document says; BASE + "graph/editorial": what the project decides; BASE + "ontology": the vocabulary;
- BASE + "graph" (GRAPH_IRI) names the whole graph in FROM / FROM NAMED, as before named graphs were split;
  it is not among the named graphs GRAPH ?g lists, where it would repeat every triple;
- an IRI under the service's own base that it does not hold is refused (400), saying why when no named
  graphs are kept (HVKG_NAMED_GRAPHS); any other http(s) IRI names an empty graph (the W3C protocol tests
  send such IRIs), any other scheme is
  refused (400), and HVKG_SPARQL_STRICT_DATASET refuses every IRI the service does not hold. Nothing is ever
  fetched: the choice is made on the gate's parse, and pyoxigraph is given that dataset explicitly.
A snapshot without named graphs (tests' stand-ins) has GRAPH_IRI as its one named graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pyoxigraph as ox

from graph.layout import BASE
from graph.named_graphs import order as graph_order
from server.sparql.errors import PLAIN, ProtocolError, _refuse
from server.sparql.jobs import QueryJob, QueryOutcome, _Answer

if TYPE_CHECKING:
    from server.sparql.gate import Gated

ID_BASE = BASE
GRAPH_IRI = ID_BASE + "graph"


def held_graphs(store: ox.Store | None) -> tuple[str, ...]:
    """The named graphs a snapshot's store holds (graph/named_graphs.py), in order; () for none."""
    if store is None:
        return ()
    return tuple(graph_order(g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)))


def check_graph_iri(iri: str, strict: bool, held: tuple[str, ...] = ()) -> None:
    """Refuse (400) a dataset IRI this service does not hold, unless it may stand for an empty graph."""
    if iri == GRAPH_IRI or iri in held:
        return
    names = ", ".join(f"<{name}>" for name in (*held, GRAPH_IRI))
    if iri.startswith(ID_BASE):
        # an IRI under our own base names one of our graphs or none: never an empty graph that looks like an
        # answer (a large catalogue keeps no named graphs by default: HVKG_NAMED_GRAPHS, graph/named_graphs.py)
        kept = (
            ("", "")
            if held
            else (
                " This service keeps no named graphs for its data (HVKG_NAMED_GRAPHS=auto skips them for a large"
                " catalogue; set it to on to keep them).",
                "このサービスはこのデータの名前付きグラフを保持していません(大きなカタログでは HVKG_NAMED_GRAPHS=auto"
                " が作りません。on にすると作ります)。",
            )
        )
        _refuse(
            400,
            f"<{iri}> is not one of this service's graphs ({names}).{kept[0]}",
            f"<{iri}> はこのサービスのグラフ({names})ではありません。{kept[1]}",
        )
    if not strict and urlsplit(iri).scheme.lower() in ("http", "https"):
        return
    _refuse(
        400,
        f"The dataset may only name this service's graphs ({names}); <{iri}> is not a graph of this service, "
        "and graphs are never fetched or read from files.",
        f"データセットに指定できるのはこのサービスのグラフ（{names}）だけです。<{iri}> はこのサービスのグラフでは"
        "ありません。グラフを取得したりファイルから読んだりすることはありません。",
    )


# (the default graph's names, the named graphs' names); None: the service's own (the union; every named graph)
Chosen = tuple[tuple[str, ...] | None, tuple[str, ...] | None]


def _dataset(gated: Gated, job: QueryJob, held: tuple[str, ...] = ()) -> Chosen:
    """The dataset of this query: which graphs make its default graph, which are its named graphs.

    The protocol's parameters, when given, replace the query's FROM / FROM NAMED (SPARQL 1.1 Protocol 2.1.4).
    Every IRI is checked, the replaced ones too; none is ever loaded: a name the service holds selects that
    graph, an unknown http(s) IRI an empty graph.
    """
    from_default, from_named = gated.default_graphs, gated.named_graphs
    for iri in [*from_default, *from_named, *(job.default_graphs or ()), *(job.named_graphs or ())]:
        try:
            check_graph_iri(iri, job.strict_dataset, held)
        except ProtocolError as error:
            raise _Answer(QueryOutcome(error.status, PLAIN, (error.message + "\n").encode())) from None
    if job.default_graphs is not None or job.named_graphs is not None:
        return tuple(job.default_graphs or ()), tuple(job.named_graphs or ())
    if from_default or from_named:
        return tuple(from_default), tuple(from_named)
    return None, None
