"""Linked-data pages: every IRI the graph mints resolves under /id/, as HTML for people and RDF for machines.

The page reads one precomputed Description (graph.describe); the whole graph is downloadable too. The HTML
is rendered by `render_page`, the one render function the static docs (server.docs) use as well: the same
templates and the same base layout, with a `Links` that points to /id/... here and to relative files there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from rdflib import RDF, BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, Namespace
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from graph.describe import Description, Value, describe
from graph.layout import BASE, VOCAB
from graph.model import Text, text
from graph.snapshot import Snapshot
from server.docs_links import Links
from server.docs_text import LANGUAGE_NAMES, as_of, translator
from server.negotiation import negotiate
from server.state import SnapshotHolder

OA = Namespace("http://www.w3.org/ns/oa#")
# The whole graph mixes the project's data (CC BY 4.0) with the article's quotes, which stay under their
# publisher's copyright (LICENSE, docs/decisions.md "Licence"): the licence link is the project's, and the
# graph itself says per document and passage what each is under (dcterms:license, dcterms:rights).
DOWNLOAD_HEADERS = {
    "Content-Disposition": "attachment",
    "Link": '<https://creativecommons.org/licenses/by/4.0/>; rel="license"',
}
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    # templates are read once: an edit on disk takes effect with a restart, never halfway through serving
    auto_reload=False,
)
# (media type, rdflib format), in the order offered; ?format= picks one by its key
RDF_FORMATS = {
    "turtle": ("text/turtle", "turtle"),
    "json-ld": ("application/ld+json", "json-ld"),
    "nt": ("application/n-triples", "nt"),
    "xml": ("application/rdf+xml", "xml"),
}
OFFERS = (("text/html", "html"), *((media, key) for key, (media, _) in RDF_FORMATS.items()))
DOWNLOADS = {"graph.ttl": "turtle", "graph.jsonld": "json-ld", "graph.nt": "nt", "graph.rdf": "xml"}
PREFIXES = {
    VOCAB: "hv:",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf:",
    "http://www.w3.org/2000/01/rdf-schema#": "rdfs:",
    "http://www.w3.org/2002/07/owl#": "owl:",
    "http://www.w3.org/2001/XMLSchema#": "xsd:",
    "http://www.w3.org/2004/02/skos/core#": "skos:",
    "http://www.w3.org/ns/prov#": "prov:",
    "http://purl.org/dc/terms/": "dcterms:",
    "http://www.w3.org/ns/oa#": "oa:",
    "http://xmlns.com/foaf/0.1/": "foaf:",
}
# The top of the docs, in the order of the navigation bar: (UI word, page path in a language's directory).
NAVIGATION = (
    ("home", "index.html"),
    ("guests", "guests.html"),
    ("hosts", "hosts.html"),
    ("licensing", "licensing.html"),
    ("storage", "storage.html"),
    ("comparison", "comparison.html"),
    ("architecture", "architecture.html"),
    ("glossary", "glossary.html"),
    ("ontology", "ontology.html"),
    ("sources", "sources.html"),
    ("resources", "resources.html"),
)


def compact(iri: str) -> str:
    """A prefixed name for a well-known namespace (xsd:integer), else the IRI itself."""
    for namespace, prefix in PREFIXES.items():
        if iri.startswith(namespace):
            return prefix + iri[len(namespace) :]
    return iri


def render_page(
    template: str,
    snapshot: Snapshot,
    links: Links,
    lang: str,
    languages: Sequence[str] = (),
    **context: Any,
) -> str:
    """The one render function of every HTML page, live or static: the same base layout and helpers."""

    def tx(value: Text | None) -> str:
        return text(value, lang) if value else ""

    def other(value: Text | None) -> str:
        """The other language's text, when it differs from the page's (shown beside it)."""
        if not value:
            return ""
        second = text(value, "en" if lang == "ja" else "ja")
        return "" if second == tx(value) else second

    sentences = relation_names(snapshot)

    def called(value: Value | Description) -> Text:
        """How a resource is called: a relation statement read as a sentence, else its label, else its id."""
        if value.iri in sentences:
            return sentences[value.iri]
        if value.label:
            return value.label
        return {"en": value.text if isinstance(value, Value) else value.id}

    def name(value: Value | Description) -> str:
        return tx(called(value))

    def predicate_name(predicate: str) -> str:
        label = snapshot.tables.labels.get(predicate)
        return tx(label) if label else compact(predicate)

    return TEMPLATES.get_template(template).render(
        snapshot=snapshot,
        links=links,
        lang=lang,
        other_lang="en" if lang == "ja" else "ja",
        languages=languages,
        language_names=LANGUAGE_NAMES,
        navigation=NAVIGATION,
        t=translator(lang),
        tx=tx,
        other=other,
        compact=compact,
        name=name,
        called=called,
        predicate_name=predicate_name,
        as_of=lambda date: as_of(date, lang),
        **context,
    )


@dataclass(frozen=True)
class Shown:
    """One predicate of a resource as its page shows it: every value of that predicate, in graph order."""

    predicate: str
    label: Text
    values: tuple[Value, ...]


def _blank(graph: Graph, node: BNode, snapshot: Snapshot) -> tuple[Value, ...]:
    """What a blank node stands for, by its content: a blank node's own id is random per parse and means
    nothing to a reader, so it is never shown (which also keeps the static site byte-identical)."""
    members = graph.value(node, OWL.unionOf)
    if isinstance(members, BNode):
        found = []
        for item in Collection(graph, members):
            iri = str(item)
            found.append(Value(compact(iri), iri, snapshot.tables.labels.get(iri)))
        return tuple(found)
    kind = graph.value(node, RDF.type)
    name = compact(str(kind)) if isinstance(kind, URIRef) else ""
    # a Web Annotation selector is shown by what it selects: the exact text, or the character offsets
    exact = graph.value(node, OA.exact)
    start, end = graph.value(node, OA.start), graph.value(node, OA.end)
    if exact is not None:
        return (Value(f"[{name} “{exact}”]"),)
    if start is not None and end is not None:
        return (Value(f"[{name} {start}–{end}]"),)
    return (Value("[" + name + "]" if name else "[]"),)


# The sentences of the relation statements (hv:ComponentRelation has no label of its own), per snapshot.
_SENTENCES: dict[str, dict[str, Text]] = {}


def relation_names(snapshot: Snapshot) -> dict[str, Text]:
    """Each documented relation read as a sentence in both languages: "VSC sends I/O to VMBus",
    "VSCはVMBusにI/O要求を渡す" (the Japanese labels of relations are the predicate with its particle)."""
    if snapshot.content_hash not in _SENTENCES:
        _SENTENCES.clear()
        tables = snapshot.tables
        names: dict[str, Text] = {}
        for relation in tables.relations:
            subject = tables.components[relation.subject].label
            target = tables.components[relation.object].label
            verb = tables.labels.get(relation.predicate, {"en": compact(relation.predicate)})
            names[relation.iri] = {
                "en": f"{text(subject, 'en')} {text(verb, 'en')} {text(target, 'en')}",
                "ja": f"{text(subject, 'ja')}は{text(target, 'ja')}{text(verb, 'ja')}",
            }
        _SENTENCES[snapshot.content_hash] = names
    return _SENTENCES[snapshot.content_hash]


def statements(snapshot: Snapshot, found: Description) -> tuple[Shown, ...]:
    by_predicate: dict[str, list[Value]] = {}
    labels: dict[str, Text] = {}
    for statement, (_, _, obj) in zip(found.outgoing, found.triples, strict=True):
        values = _blank(snapshot.graph, obj, snapshot) if isinstance(obj, BNode) else (_shown_value(statement.value),)
        by_predicate.setdefault(statement.predicate, []).extend(values)
        known = snapshot.tables.labels.get(statement.predicate)
        labels[statement.predicate] = known or {"en": compact(statement.predicate)}
    return tuple(Shown(p, labels[p], tuple(v)) for p, v in by_predicate.items())


def _shown_value(value: Value) -> Value:
    if value.iri is not None and not value.iri.startswith(BASE) and value.label is None:
        return Value(compact(value.iri), value.iri)
    return value


def render_resource(
    snapshot: Snapshot,
    resource_name: str,
    lang: str = "en",
    links: Links | None = None,
    languages: Sequence[str] = (),
) -> str | None:
    found = describe(snapshot, resource_name)
    if found is None:
        return None
    return render_page(
        "resource.html",
        snapshot,
        links or Links.for_live(lang),
        lang,
        languages,
        d=found,
        shown=statements(snapshot, found),
    )


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
        return Response(whole_graph(snapshot, fmt), media_type=media, headers=DOWNLOAD_HEADERS)

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
