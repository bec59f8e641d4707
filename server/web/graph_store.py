"""Graph Store reads: /store, the service's graphs as RDF documents (SPARQL 1.1 Graph Store HTTP Protocol).

Owns the route /store (as Oxigraph's server names it) and what a request there names, by indirect
identification (the protocol's section 4.2):
- `?default`: the default graph, the whole merged graph every query without a dataset answers from;
- `?graph=IRI`: one named graph, one per source (graph.named_graphs: each document's, the editorial graph, the
  ontology's), as the SPARQL endpoint's GRAPH and FROM see them; an IRI the service does not hold is 404, and
  so is every IRI when the named graphs are not kept (HVKG_NAMED_GRAPHS), saying so;
- neither: the whole dataset, as TriG or N-Quads: the named graphs, whose union is the default graph (not
  written twice), or, without named graphs, the default graph alone (its Turtle is TriG, its N-Triples are
  N-Quads);
- both: 400, for they name two graphs.
A graph is offered in Turtle, JSON-LD, N-Triples and RDF/XML, the dataset in TriG and N-Quads, chosen by
Accept. The bytes are server.web.rdf_files', the downloads' own: `/store?default` in Turtle is
/download/graph.ttl, the dataset in TriG is /download/graph.trig.

Reads only: PUT, POST, DELETE, PATCH (and any other method) get 405 with `Allow: GET, HEAD`. The graph changes
by editing its Turtle and reloading (`hvkg reload`), never over HTTP.
"""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from graph.named_graphs import filed
from graph.named_graphs import order as graph_order
from graph.snapshot import Snapshot
from server.ops.negotiation import negotiate
from server.ops.state import SnapshotHolder
from server.web.rdf_files import QUAD_DOWNLOADS, RDF_FORMATS, dataset, named_graph, whole_graph

ALLOW = "GET, HEAD"
# (media type, key): a graph in each rdflib format of the downloads; the dataset as quads
GRAPH_OFFERS = tuple((media, key) for key, (media, _) in RDF_FORMATS.items())
DATASET_OFFERS = tuple(QUAD_DOWNLOADS.values())
# The dataset without named graphs is the default graph alone: written as the format that the quad format
# extends (Turtle is TriG, N-Triples are N-Quads).
AS_TRIPLES = {"trig": "turtle", "nquads": "nt"}
# Every answer depends on Accept (server.ops.middleware adds this for the paths it knows; /store is new to it).
VARY = {"Vary": "Accept"}


def held(snapshot: Snapshot) -> tuple[str, ...]:
    """The named graphs the snapshot's store holds, in graph.named_graphs' order; () when none are kept."""
    import pyoxigraph as ox

    if snapshot.store is None or not filed(snapshot):
        return ()
    return tuple(graph_order(g.value for g in snapshot.store.named_graphs() if isinstance(g, ox.NamedNode)))


def _text(status: int, english: str, japanese: str, **headers: str) -> Response:
    return PlainTextResponse(f"{english} / {japanese}\n", status_code=status, headers={**VARY, **headers})


def _not_acceptable(offers: tuple[tuple[str, str], ...]) -> Response:
    offered = ", ".join(media for media, _ in offers)
    return _text(406, f"not acceptable; offered: {offered}", "対応できる形式がありません")


async def read(request: Request, holder: SnapshotHolder) -> Response:
    """GET or HEAD /store: the graph or dataset the query string names, in the format Accept asks for."""
    snapshot = holder.current
    if snapshot is None:
        return _text(503, "the graph is loading", "グラフを読み込み中です")
    params = request.query_params
    names = params.getlist("graph")
    if "default" in params and names:
        return _text(
            400,
            "?default and ?graph name two graphs; give one (or neither, for the whole dataset)",
            "?default と ?graph は別のグラフを指します。どちらか一方を指定してください(両方なしはデータセット全体)",
        )
    if len(names) > 1 or (names and not names[0].strip()):
        return _text(400, "?graph names one graph by its IRI", "?graph にはグラフのIRIを1つ指定します")
    accept = request.headers.get("accept")
    if not names and "default" not in params:
        chosen = negotiate(accept, DATASET_OFFERS)
        if chosen is None:
            return _not_acceptable(DATASET_OFFERS)
        media = next(media for media, key in DATASET_OFFERS if key == chosen)
        if held(snapshot):
            body = await anyio.to_thread.run_sync(dataset, snapshot, chosen)
        else:
            body = await anyio.to_thread.run_sync(whole_graph, snapshot, AS_TRIPLES[chosen])
        return Response(body, media_type=media, headers=VARY)
    key = negotiate(accept, GRAPH_OFFERS)
    if key is None:
        return _not_acceptable(GRAPH_OFFERS)
    media, fmt = RDF_FORMATS[key]
    if not names:
        body = await anyio.to_thread.run_sync(whole_graph, snapshot, fmt)
        return Response(body, media_type=media, headers=VARY)
    name = names[0].strip()
    graphs = held(snapshot)
    if not graphs:
        return _text(
            404,
            f"no named graph <{name[:200]}>: this service keeps no named graphs (HVKG_NAMED_GRAPHS is off, or auto "
            "and the input is large); ?default is the whole graph",
            "名前付きグラフを保持していません(HVKG_NAMED_GRAPHS が off、または auto で入力が大きい)。"
            "?default がグラフ全体です",
        )
    if name not in graphs:
        listed = ", ".join(f"<{g}>" for g in graphs)
        return _text(
            404,
            f"no named graph <{name[:200]}> in this service; its graphs: {listed}",
            "このサービスにその名前付きグラフはありません",
        )
    body = await anyio.to_thread.run_sync(named_graph, snapshot, name, fmt)
    return Response(body, media_type=media, headers=VARY)


class GraphStore:
    """/store as an ASGI app, so that every method reaches it: a Route's own 405 is in English only and lists
    its methods in no fixed order."""

    def __init__(self, holder: SnapshotHolder) -> None:
        self.holder = holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method in ("GET", "HEAD"):
            response = await read(request, self.holder)
        else:
            response = _text(
                405,
                f"the graph store is read-only ({ALLOW}); the graph changes by editing its data and reloading",
                "グラフストアは読み取り専用です(GET、HEAD)。グラフはデータを編集して再読み込みすると変わります",
                Allow=ALLOW,
            )
        await response(scope, receive, send)


def graph_store_routes(holder: SnapshotHolder) -> list[BaseRoute]:
    return [Route("/store", GraphStore(holder))]
