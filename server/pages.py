"""Linked-data pages: every IRI the graph mints resolves under /id/, as HTML for people and RDF for machines.

The page reads one precomputed Description (graph.describe); the whole graph is downloadable too.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from rdflib import Graph
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from graph.describe import Value, describe
from graph.layout import BASE
from graph.snapshot import Snapshot
from server.negotiation import negotiate
from server.state import SnapshotHolder

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)
# (media type, rdflib format), in the order offered; ?format= picks one by its key
RDF_FORMATS = {
    "turtle": ("text/turtle", "turtle"),
    "json-ld": ("application/ld+json", "json-ld"),
    "nt": ("application/n-triples", "nt"),
    "xml": ("application/rdf+xml", "xml"),
}
OFFERS = [("text/html", "html"), *((media, key) for key, (media, _) in RDF_FORMATS.items())]
DOWNLOADS = {"graph.ttl": "turtle", "graph.jsonld": "json-ld", "graph.nt": "nt", "graph.rdf": "xml"}


def link(iri: str | None) -> str:
    """Where an IRI resolves on this server: our own under /id/, others as they are."""
    if iri is None:
        return "#"
    return "/id/" + iri[len(BASE) :] if iri.startswith(BASE) else iri


def name(value: Value) -> str:
    if value.label:
        return value.label.get("en") or value.label.get("ja") or value.text
    return value.text


def render_resource(snapshot: Snapshot, resource_name: str, lang: str = "en") -> str | None:
    found = describe(snapshot, resource_name)
    if found is None:
        return None
    return TEMPLATES.get_template("resource.html").render(d=found, link=link, name=name, lang=lang)


def _graph_of(snapshot: Snapshot, resource_name: str) -> Graph | None:
    found = describe(snapshot, resource_name)
    if found is None:
        return None
    graph = Graph()
    graph.namespace_manager = snapshot.graph.namespace_manager
    for triple in found.triples:
        graph.add(triple)
    return graph


# Serialising the whole graph costs ~100 ms; keep one copy per format of the snapshot being served.
_DOWNLOADS: dict[tuple[str, str], bytes] = {}


def whole_graph(snapshot: Snapshot, fmt: str) -> bytes:
    key = (snapshot.content_hash, fmt)
    if key not in _DOWNLOADS:
        for old in [k for k in _DOWNLOADS if k[0] != snapshot.content_hash]:
            del _DOWNLOADS[old]
        _DOWNLOADS[key] = snapshot.graph.serialize(format=fmt).encode("utf-8")
    return _DOWNLOADS[key]


def _unavailable() -> Response:
    return PlainTextResponse("the graph is loading / グラフを読み込み中です", status_code=503)


def page_routes(holder: SnapshotHolder) -> list[BaseRoute]:
    async def resource(request: Request) -> Response:
        snapshot = holder.current
        if snapshot is None:
            return _unavailable()
        resource_name: str = request.path_params["name"]
        key = request.query_params.get("format")
        if key is not None and key not in RDF_FORMATS and key != "html":
            return PlainTextResponse(
                f"unknown format {key[:40]!r}; use one of: html, {', '.join(RDF_FORMATS)} / 不明な形式です",
                status_code=400,
            )
        chosen = key or negotiate(request.headers.get("accept"), OFFERS)
        if chosen is None:
            offered = ", ".join(media for media, _ in OFFERS)
            return PlainTextResponse(
                f"not acceptable; offered: {offered} / 対応できる形式がありません", status_code=406
            )
        if chosen == "html":
            html = render_resource(snapshot, resource_name)
            if html is None:
                return HTMLResponse(_not_found_html(resource_name), status_code=404)
            return HTMLResponse(html)
        graph = _graph_of(snapshot, resource_name)
        if graph is None:
            return PlainTextResponse(f"no resource {BASE + resource_name[:200]} / 該当するリソースがありません", 404)
        media, fmt = RDF_FORMATS[chosen]
        return Response(graph.serialize(format=fmt), media_type=media, headers={"Vary": "Accept"})

    async def download(request: Request) -> Response:
        snapshot = holder.current
        if snapshot is None:
            return _unavailable()
        chosen = DOWNLOADS.get(request.path_params["file"])
        if chosen is None:
            files = ", ".join(DOWNLOADS)
            return PlainTextResponse(f"no such download; offered: {files} / ダウンロードできません", status_code=404)
        media, fmt = RDF_FORMATS[chosen]
        return Response(whole_graph(snapshot, fmt), media_type=media, headers={"Content-Disposition": "attachment"})

    return [
        Route("/id/{name:path}", resource),
        Route("/download/{file:str}", download),
    ]


def _not_found_html(resource_name: str) -> str:
    shown = escape(resource_name[:200])
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Not found</title></head><body>"
        f"<h1>Not found / 見つかりません</h1><p>The graph mints no IRI <code>{escape(BASE)}{shown}</code>.</p>"
        "<p><a href='/sparql'>SPARQL</a></p></body></html>"
    )
