"""Linked-data pages: every IRI the graph mints resolves under /id/, as HTML for people and RDF for machines.

The page reads one precomputed Description (graph.describe); the whole graph is downloadable too. The HTML
is rendered by `render_page`, the one render function the static docs (server.web.docs) use as well: the same
templates and the same base layout, with a `Links` that points to /id/... here and to relative files there.

What /id/NAME answers, for every Accept (each answer says `Vary: Accept`, server.ops.middleware):
- a renamed IRI (dcterms:isReplacedBy in the data, graph/facts/deprecated.ttl) redirects, 308, to its
  replacement's /id/ path: before negotiation, so an RDF client and a browser both follow it;
- the ontology's IRI (/id/ontology) is the whole vocabulary: its header and every term under the vocabulary
  namespace, as RDF and as a page listing each term;
- any other IRI the graph mints is its concise bounded description (graph.describe.bounded): blank nodes,
  reifications and owl:Axiom annotations included, shown on the page as nested tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
from jinja2 import Environment, FileSystemLoader, select_autoescape
from rdflib import BNode, Graph
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from graph.describe import (
    Description,
    Value,
    axioms_about,
    bounded,
    describe,
    ontology_iri,
    replaced_by,
    replacing,
    shown_value,
    vocabulary,
    vocabulary_terms,
)
from graph.layout import BASE, VOCAB
from graph.model import Text, text
from graph.named_graphs import serialize as serialize_quads
from graph.snapshot import Snapshot
from graph.tables import local_id
from server.ops.negotiation import negotiate
from server.ops.state import SnapshotHolder
from server.web.docs_links import Links
from server.web.docs_text import LANGUAGE_NAMES, as_of, translator

# The words of the /id/ pages that the docs' vocabulary (server.web.docs_text) does not have, in both languages.
WORDS: dict[str, Text] = {
    "deprecated": {
        "en": "Deprecated: this IRI was renamed and redirects to",
        "ja": "非推奨: このIRIは名前が変わり、次のIRIへリダイレクトされます:",
    },
    "replaces": {"en": "Replaces (deprecated IRIs)", "ja": "置き換えた旧IRI(非推奨)"},
    "annotations": {"en": "About its statements", "ja": "文についての注釈"},
    "vocabulary": {"en": "The vocabulary", "ja": "語彙"},
    "classes": {"en": "Classes", "ja": "クラス"},
    "object_properties": {"en": "Object properties", "ja": "オブジェクト・プロパティ"},
    "datatype_properties": {"en": "Datatype properties", "ja": "データ型プロパティ"},
    "annotation_properties": {"en": "Annotation properties", "ja": "注釈プロパティ"},
    "properties": {"en": "Properties", "ja": "プロパティ"},
    "individuals": {"en": "Individuals", "ja": "個体"},
    "reference": {"en": "Ontology reference (pyLODE)", "ja": "オントロジー・リファレンス(pyLODE)"},
}
# The whole graph mixes the project's data (CC BY 4.0) with the article's quotes, which stay under their
# publisher's copyright (LICENSE, docs/decisions.md "Licence"): the licence link is the project's, and the
# graph itself says per document and passage what each is under (dcterms:license, dcterms:rights).
DOWNLOAD_HEADERS = {
    "Content-Disposition": "attachment",
    "Link": '<https://creativecommons.org/licenses/by/4.0/>; rel="license"',
}
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parents[1] / "templates"),
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
# the named graphs, one per source (graph/named_graphs.py), as quads
QUAD_DOWNLOADS = {"graph.trig": ("application/trig", "trig"), "graph.nq": ("application/n-quads", "nquads")}
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
        shown = _shown_value(
            shown_value(snapshot.graph, obj, snapshot.tables) if isinstance(obj, BNode) else statement.value
        )
        by_predicate.setdefault(statement.predicate, []).append(shown)
        known = snapshot.tables.labels.get(statement.predicate)
        labels[statement.predicate] = known or {"en": compact(statement.predicate)}
    return tuple(Shown(p, labels[p], tuple(v)) for p, v in by_predicate.items())


def _shown_value(value: Value) -> Value:
    """A value as a page shows it: an unlabelled IRI of another vocabulary by its prefixed name (oa:exact),
    inside blank nodes too."""
    if value.members is not None:
        return replace(value, members=tuple(_shown_value(m) for m in value.members))
    if value.nested is not None:
        return replace(value, nested=tuple(replace(s, value=_shown_value(s.value)) for s in value.nested))
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
    graph = snapshot.graph
    is_ontology = found.iri == ontology_iri(graph)
    return render_page(
        "resource.html",
        snapshot,
        links or Links.for_live(lang),
        lang,
        languages,
        d=found,
        shown=statements(snapshot, found),
        words=WORDS,
        replaced=replaced_by(graph, found.iri),
        replaces=[Value(local_id(iri), iri, snapshot.tables.labels.get(iri)) for iri in replacing(graph, found.iri)],
        axioms=tuple(_shown_value(a) for a in axioms_about(graph, found.iri, snapshot.tables)),
        vocabulary=vocabulary_terms(graph, snapshot.tables) if is_ontology else (),
    )


def graph_of(snapshot: Snapshot, resource_name: str) -> Graph | None:
    """What /id/NAME serves as RDF: the whole vocabulary for the ontology's IRI, else the resource's concise
    bounded description; None when the graph does not mint the IRI."""
    found = describe(snapshot, resource_name)
    if found is None:
        return None
    if found.iri == ontology_iri(snapshot.graph):
        return vocabulary(snapshot.graph)
    return bounded(snapshot.graph, found.iri)


# The vocabulary's RDF, per snapshot and format: it is the same for every request.
_VOCABULARY: dict[tuple[str, str], str] = {}


def _serialized(snapshot: Snapshot, resource_name: str, fmt: str) -> str | None:
    vocabulary_page = BASE + resource_name == ontology_iri(snapshot.graph)
    key = (snapshot.content_hash, fmt)
    if vocabulary_page and key in _VOCABULARY:
        return _VOCABULARY[key]
    graph = graph_of(snapshot, resource_name)
    if graph is None:
        return None
    text = graph.serialize(format=fmt)
    if vocabulary_page:
        for old in [k for k in _VOCABULARY if k[0] != snapshot.content_hash]:
            del _VOCABULARY[old]
        _VOCABULARY[key] = text
    return text


def _moved(replacement: str, query: str) -> Response:
    """A renamed IRI: 308 to the replacement's /id/ path (relative, as every redirect of the app; the query
    string, a ?format=, kept), with a body that says where it went."""
    location = "/id/" + quote(local_id(replacement)) + (f"?{query}" if query else "")
    body = (
        f"This IRI was renamed; it is now {replacement}\nこのIRIは名前が変わりました。新しいIRIは {replacement} です\n"
    )
    return PlainTextResponse(body, status_code=308, headers={"Location": location})


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
        # A renamed IRI moves whatever is asked of it: decided before the format, so every client follows.
        replacement = replaced_by(snapshot.graph, BASE + resource_name)
        if replacement is not None:
            return _moved(replacement, request.url.query)
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
        media, fmt = RDF_FORMATS[chosen]
        text = _serialized(snapshot, resource_name, fmt)
        if text is None:
            return PlainTextResponse(f"no resource {BASE + resource_name[:200]} / 該当するリソースがありません", 404)
        return Response(text, media_type=media)

    async def download(request: Request) -> Response:
        snapshot = holder.current
        if snapshot is None:
            return _unavailable()
        quads = QUAD_DOWNLOADS.get(request.path_params["file"])
        if quads is not None:
            media, fmt = quads
            body = await anyio.to_thread.run_sync(serialize_quads, snapshot, fmt)
            return Response(body, media_type=media, headers=DOWNLOAD_HEADERS)
        chosen = DOWNLOADS.get(request.path_params["file"])
        if chosen is None:
            files = ", ".join([*DOWNLOADS, *QUAD_DOWNLOADS])
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
