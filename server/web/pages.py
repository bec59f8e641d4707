"""Linked-data pages: every IRI the graph mints resolves under /id/, as HTML for people and RDF for machines.

The page reads one precomputed Description (graph.describe); the whole graph is downloadable too. The HTML
is rendered by server.web.render, which the static docs (server.web.docs) use as well: the same templates and
the same base layout, with a `Links` that points to /id/... here and to relative files there.

What /id/NAME answers, for every Accept (each answer says `Vary: Accept`, server.ops.middleware):
- a renamed IRI (dcterms:isReplacedBy in the data, graph/facts/deprecated.ttl) redirects, 308, to its
  replacement's /id/ path: before negotiation, so an RDF client and a browser both follow it;
- the ontology's IRI (/id/ontology) is the whole vocabulary: its header and every term under the vocabulary
  namespace, as RDF and as a page listing each term;
- any other IRI the graph mints is its concise bounded description (graph.describe.bounded): blank nodes,
  reifications and owl:Axiom annotations included, shown on the page as nested tables.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote

import anyio
from rdflib import RDF, Graph, Namespace, URIRef
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from graph.describe import (
    bounded,
    describe,
    ontology_iri,
    replaced_by,
    vocabulary,
)
from graph.layout import BASE
from graph.snapshot import Snapshot
from graph.tables import local_id
from server.ops.negotiation import negotiate
from server.ops.state import SnapshotHolder
from server.web.docs_links import Links
from server.web.rdf_files import (
    DOWNLOADS,
    QUAD_DOWNLOADS,
    RDF_FORMATS,
    dataset,
    kept,
    serialize,
    snapshot_prefixes,
    whole_graph,
)
from server.web.render import WORDS, render_page, render_resource

# The whole graph mixes the project's data (CC BY 4.0) with the article's quotes, which stay under their
# publisher's copyright (LICENSE, docs/decisions.md "Licence"): the licence link is the project's, and the
# graph itself says per document and passage what each is under (dcterms:license, dcterms:rights).
DOWNLOAD_HEADERS = {
    "Content-Disposition": "attachment",
    "Link": '<https://creativecommons.org/licenses/by/4.0/>; rel="license"',
}
LDP = Namespace("http://www.w3.org/ns/ldp#")
# What /id/NAME offers, by Accept: the page, each RDF format, and compact JSON-LD for a client that asks for
# plain JSON (answered as application/json, so a fetch() that reads JSON gets what it asked for).
JSON_OFFER = ("application/json", "json")
OFFERS = (("text/html", "html"), *((media, key) for key, (media, _) in RDF_FORMATS.items()), JSON_OFFER)


def graph_of(snapshot: Snapshot, resource_name: str) -> Graph | None:
    """What /id/NAME serves as RDF: the whole vocabulary for the ontology's IRI, else the resource's concise
    bounded description; None when the graph does not mint the IRI."""
    found = describe(snapshot, resource_name)
    if found is None:
        return None
    if found.iri == ontology_iri(snapshot.graph):
        return vocabulary(snapshot.graph)
    return bounded(snapshot.graph, found.iri)


def _serialized(snapshot: Snapshot, resource_name: str, fmt: str) -> bytes | None:
    """/id/NAME's RDF in an rdflib format; the vocabulary's, the same for every request, is kept per snapshot."""
    if BASE + resource_name == ontology_iri(snapshot.graph):
        prefixes = snapshot_prefixes(snapshot)
        return kept(snapshot, "vocabulary", fmt, lambda: serialize(vocabulary(snapshot.graph), fmt, prefixes))
    graph = graph_of(snapshot, resource_name)
    return None if graph is None else serialize(graph, fmt, snapshot_prefixes(snapshot))


def _moved(replacement: str, query: str) -> Response:
    """A renamed IRI: 308 to the replacement's /id/ path (relative, as every redirect of the app; the query
    string, a ?format=, kept), with a body that says where it went."""
    location = "/id/" + quote(local_id(replacement)) + (f"?{query}" if query else "")
    body = (
        f"This IRI was renamed; it is now {replacement}\nこのIRIは名前が変わりました。新しいIRIは {replacement} です\n"
    )
    return PlainTextResponse(body, status_code=308, headers={"Location": location})


def _unavailable() -> Response:
    return PlainTextResponse("the graph is loading / グラフを読み込み中です", status_code=503)


def _chosen(request: Request) -> str | Response:
    """The representation asked for: ?format= (html or a key of RDF_FORMATS), else the best offer for the
    Accept header; the 400 or 406 to send when there is none."""
    key = request.query_params.get("format")
    if key is not None and key not in RDF_FORMATS and key != "html":
        return PlainTextResponse(
            f"unknown format {key[:40]!r}; use one of: html, {', '.join(RDF_FORMATS)} / 不明な形式です",
            status_code=400,
        )
    chosen = key or negotiate(request.headers.get("accept"), OFFERS)
    if chosen is None:
        offered = ", ".join(media for media, _ in OFFERS)
        return PlainTextResponse(f"not acceptable; offered: {offered} / 対応できる形式がありません", status_code=406)
    return chosen


def _media(chosen: str) -> tuple[str, str]:
    """(media type, rdflib format) of a representation other than html: plain JSON is the compact JSON-LD."""
    return (JSON_OFFER[0], "json-ld") if chosen == JSON_OFFER[1] else RDF_FORMATS[chosen]


def index_html(snapshot: Snapshot) -> bytes:
    """/id/ for people: every resource the graph describes under its most specific class, grouped as the docs'
    index groups them (server.web.docs_pages.resource_groups), with both languages' names."""

    def make() -> bytes:
        from server.web.docs_pages import resource_groups  # it imports this module: read when first asked
        from server.web.docs_site import Site

        site = Site(snapshot)
        headings_ja = {kind: heading for kind, heading, _ in resource_groups(site, "ja")}
        groups = [
            (
                kind,
                {"en": heading, "ja": headings_ja[kind]},
                [(iri, {"en": site.label(iri, "en"), "ja": site.label(iri, "ja")}) for iri in iris],
            )
            for kind, heading, iris in resource_groups(site, "en")
        ]
        html = render_page("id-index.html", snapshot, Links.for_live("en"), "en", groups=groups, words=WORDS)
        return html.encode("utf-8")

    return kept(snapshot, "id-index", "html", make)


def index_rdf(snapshot: Snapshot, fmt: str) -> bytes:
    """/id/ for machines: the base IRI as an LDP container that contains every resource the graph describes,
    each with its types (what the page groups by)."""

    def make() -> bytes:
        graph = Graph(bind_namespaces="none")
        container = URIRef(BASE)
        graph.add((container, RDF.type, LDP.BasicContainer))
        for iri in snapshot.descriptions:
            member = URIRef(iri)
            graph.add((container, LDP.contains, member))
            for kind in snapshot.graph.objects(member, RDF.type):
                graph.add((member, RDF.type, kind))
        prefixes = Graph(bind_namespaces="none")
        for prefix, namespace in [*snapshot_prefixes(snapshot).namespaces(), ("ldp", LDP)]:
            prefixes.bind(prefix, namespace)
        return serialize(graph, fmt, prefixes)

    return kept(snapshot, "id-index", fmt, make)


def page_routes(holder: SnapshotHolder) -> list[BaseRoute]:
    async def resource(request: Request) -> Response:
        snapshot = holder.current
        if snapshot is None:
            return _unavailable()
        resource_name: str = request.path_params["name"]
        # A renamed IRI moves whatever is asked of it: decided before the format, so every client follows.
        replacement = replaced_by(snapshot.graph, BASE + resource_name)
        if replacement is not None:
            return _moved(replacement, request.url.query)
        chosen = _chosen(request)
        if isinstance(chosen, Response):
            return chosen
        if chosen == "html":
            html = render_resource(snapshot, resource_name)
            if html is None:
                return HTMLResponse(_not_found_html(resource_name), status_code=404)
            return HTMLResponse(html)
        media, fmt = _media(chosen)
        body = _serialized(snapshot, resource_name, fmt)
        if body is None:
            return PlainTextResponse(f"no resource {BASE + resource_name[:200]} / 該当するリソースがありません", 404)
        return Response(body, media_type=media)

    async def index(request: Request) -> Response:
        snapshot = holder.current
        if snapshot is None:
            return _unavailable()
        chosen = _chosen(request)
        if isinstance(chosen, Response):
            return chosen
        if chosen == "html":
            return HTMLResponse(await anyio.to_thread.run_sync(index_html, snapshot))
        media, fmt = _media(chosen)
        return Response(await anyio.to_thread.run_sync(index_rdf, snapshot, fmt), media_type=media)

    async def download(request: Request) -> Response:
        snapshot = holder.current
        if snapshot is None:
            return _unavailable()
        quads = QUAD_DOWNLOADS.get(request.path_params["file"])
        if quads is not None:
            media, fmt = quads
            body = await anyio.to_thread.run_sync(dataset, snapshot, fmt)
            return Response(body, media_type=media, headers=DOWNLOAD_HEADERS)
        chosen = DOWNLOADS.get(request.path_params["file"])
        if chosen is None:
            files = ", ".join([*DOWNLOADS, *QUAD_DOWNLOADS])
            return PlainTextResponse(f"no such download; offered: {files} / ダウンロードできません", status_code=404)
        media, fmt = RDF_FORMATS[chosen]
        body = await anyio.to_thread.run_sync(whole_graph, snapshot, fmt)
        return Response(body, media_type=media, headers=DOWNLOAD_HEADERS)

    return [
        Route("/id/", index),
        Route("/id/{name:path}", resource),
        Route("/download/{file:str}", download),
    ]


def _not_found_html(resource_name: str) -> str:
    shown = escape(resource_name[:200])
    # a language, a <main> and a viewport, as every page has (the Nu checker and axe read this one too)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>Not found</title></head>"
        "<body><main><h1>Not found / <span lang='ja'>見つかりません</span></h1>"
        f"<p>The graph mints no IRI <code>{escape(BASE)}{shown}</code>.</p>"
        "<p><a href='/sparql'>SPARQL</a></p></main></body></html>"
    )
