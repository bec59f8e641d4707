"""The front door, `GET /`: what the service holds and where each of its interfaces is, for people and clients.

It owns the one page at `/` (server/templates/front.html, in the docs' layout and style sheet) and its JSON twin:
`Accept: application/json` answers a small index of the same links, a client's entry point. Both are built
from one list (`links`), so the page and the index never name different places.

What it says of the graph is read from the snapshot being served, never written down here: the cited facts
and the passages they cite (the tables' citations, and the passages single statements cite, by the named query
`statement-axioms`), the products (graph.catalog), the guest support rows, the triples, the content hash and
when the snapshot was loaded. The downloads are the formats server.web.pages offers.

The language: the docs pick it by path (/docs/en/, /docs/ja/); the front door has one path, so `?lang=en|ja`
names it instead, else the client's Accept-Language, else English. The page links to itself in the other
language, and each of its texts is in both (server.web.docs_text for the docs' words, `WORDS` for its own).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from graph.catalog import products
from graph.describe import Value
from graph.layout import BASE
from graph.model import LANGS, Text, text
from graph.nodes import ARTICLE
from graph.snapshot import Snapshot
from graph.tables import local_id
from server.ops.negotiation import choose_language, language_refused, negotiate
from server.ops.state import SnapshotHolder
from server.web.docs_links import Links
from server.web.docs_text import UI
from server.web.rdf_files import DOWNLOADS, QUAD_DOWNLOADS, RDF_FORMATS
from server.web.render import render_page

OFFERS = (("text/html", "html"), ("application/json", "json"))
DCTERMS = "http://purl.org/dc/terms/"
# The front door's own words, in both languages (the docs' words come from server.web.docs_text).
WORDS: dict[str, Text] = {
    "title": {"en": "Start here", "ja": "はじめに"},
    "lead": {
        "en": "A knowledge graph of what one Japanese article (August 2008) says about Microsoft Hyper-V, served "
        "over GraphQL, SPARQL and linked-data pages. Every fact cites the verbatim passage it comes from.",
        "ja": "Microsoft Hyper-Vについての日本語記事(2008年8月)の内容をナレッジグラフにし、GraphQL、SPARQL、"
        "Linked Dataのページで提供しています。すべての事実に、根拠となる原文の引用箇所が付いています。",
    },
    "holds": {"en": "What it holds", "ja": "収録内容"},
    "facts": {"en": "Cited facts (resources that cite a passage)", "ja": "出典付きの事実(引用箇所を示すリソース)"},
    "products": {"en": "Products", "ja": "製品"},
    "guest_rows": {"en": "Guest support rows", "ja": "ゲストOS対応表の行"},
    "passages": {"en": "Passages cited", "ja": "引用している箇所"},
    "triples": {"en": "Triples", "ja": "トリプル"},
    "base": {"en": "Every IRI it mints starts with", "ja": "発行するIRIの接頭辞"},
    "hash": {"en": "Snapshot content hash", "ja": "スナップショットのコンテンツハッシュ"},
    "loaded": {"en": "Snapshot loaded (UTC)", "ja": "スナップショットの読み込み時刻(UTC)"},
    "load_took": {"en": "loading took {seconds} s", "ja": "読み込み時間 {seconds} 秒"},
    "source": {"en": "The source", "ja": "出典"},
    "issued": {"en": "published", "ja": "発行"},
    "rights": {"en": "Rights", "ja": "権利"},
    "ask": {"en": "Ask it", "ja": "問い合わせる"},
    "graphql": {"en": "GraphQL (GraphiQL in a browser)", "ja": "GraphQL(ブラウザではGraphiQL)"},
    "graphql_desc": {
        "en": "The portals' API: support verdicts, I/O paths, every node with its evidence.",
        "ja": "ポータル向けAPI。対応可否の判定、I/O経路、根拠付きのすべてのノード。",
    },
    "sparql": {"en": "SPARQL query editor", "ja": "SPARQLクエリ・エディタ"},
    "sparql_desc": {
        "en": "SPARQL 1.1, read-only, with the named queries as examples.",
        "ja": "読み取り専用のSPARQL 1.1。名前付きクエリを例として使えます。",
    },
    "read": {"en": "Read it", "ja": "読む"},
    "docs_desc": {
        "en": "Tables, diagrams, glossary and sources, every value linked to its quote.",
        "ja": "表、図、用語集、出典。すべての値が引用箇所にリンクしています。",
    },
    "index": {"en": "Index of every resource (/id/)", "ja": "すべてのリソースの索引(/id/)"},
    "index_desc": {
        "en": "Every IRI the graph mints, by type; each resolves under /id/ as HTML or RDF.",
        "ja": "グラフが発行するすべてのIRI(種類別)。それぞれ /id/ でHTMLまたはRDFとして参照できます。",
    },
    "vocabulary": {"en": "The vocabulary (/id/ontology)", "ja": "語彙(/id/ontology)"},
    "vocabulary_desc": {
        "en": "Every class and property, as a page or as RDF.",
        "ja": "すべてのクラスとプロパティ。ページまたはRDFとして。",
    },
    "download": {"en": "Download the graph", "ja": "グラフのダウンロード"},
    "whole": {"en": "the whole graph", "ja": "グラフ全体"},
    "named": {"en": "one named graph per source", "ja": "出典ごとの名前付きグラフ"},
    "operate": {"en": "Operate it", "ja": "運用"},
    "healthz": {"en": "Health (/healthz)", "ja": "ヘルスチェック(/healthz)"},
    "healthz_desc": {
        "en": "200 with the triple count and content hash once the graph is served; 503 while it loads.",
        "ja": "グラフの提供中はトリプル数とコンテンツハッシュ付きで200、読み込み中は503。",
    },
    "metrics": {"en": "Metrics (/metrics)", "ja": "メトリクス(/metrics)"},
    "metrics_desc": {"en": "Prometheus text: requests, latency, the snapshot.", "ja": "Prometheus形式の計測値。"},
    "article": {"en": "The source article", "ja": "出典の記事"},
    "docs": {"en": UI["docs"][0], "ja": UI["docs"][1]},
}
# How a download's format is called; a format server.web.pages adds later is shown by its file name.
FORMAT_NAMES = {
    "turtle": "Turtle",
    "json-ld": "JSON-LD",
    "nt": "N-Triples",
    "xml": "RDF/XML",
    "trig": "TriG",
    "nquads": "N-Quads",
}


@dataclass(frozen=True)
class Link:
    """One place the front door points to: the page lists it under its group, the JSON index as it is."""

    rel: str
    href: str
    title: Text
    group: str
    description: Text | None = None
    media_type: str | None = None


@dataclass(frozen=True)
class Summary:
    """What the front door says of the snapshot being served."""

    facts: int
    products: int
    guest_rows: int
    passages_cited: int
    triples: int
    content_hash: str
    loaded_at: str  # ISO 8601, UTC
    load_seconds: float


class FrontLinks(Links):
    """The docs' live links, but the language switch goes to this page in the other language."""

    def language(self, lang: str) -> str:
        return f"/?lang={lang}"


# The summary of the snapshot being served: counting the passages runs a query, once per snapshot.
_SUMMARIES: dict[str, Summary] = {}


def summary(snapshot: Snapshot) -> Summary:
    if snapshot.content_hash not in _SUMMARIES:
        _SUMMARIES.clear()
        tables = snapshot.tables
        cited = {c.iri for citations in tables.citations.values() for c in citations}
        # A single statement (an owl:Axiom naming it) may rest on a passage no whole resource cites.
        rows: Any = snapshot.graph.query(snapshot.queries["statement-axioms"])
        cited.update(str(row.passage) for row in rows if row.passage is not None)
        loaded = datetime.datetime.fromtimestamp(snapshot.built_at, tz=datetime.UTC)
        _SUMMARIES[snapshot.content_hash] = Summary(
            facts=len(tables.citations),
            products=len(products(snapshot)),
            guest_rows=len(tables.guest_rows),
            passages_cited=len(cited),
            triples=snapshot.triple_count,
            content_hash=snapshot.content_hash,
            loaded_at=loaded.strftime("%Y-%m-%dT%H:%M:%SZ"),
            load_seconds=round(snapshot.build_seconds, 3),
        )
    return _SUMMARIES[snapshot.content_hash]


def links(lang: str) -> tuple[Link, ...]:
    """Every place the front door names, in the order the page shows them; the docs in the page's language."""
    downloads = [
        Link("download", f"/download/{name}", _format_name(RDF_FORMATS[key][1], name, "whole"), "download",
             media_type=RDF_FORMATS[key][0])
        for name, key in DOWNLOADS.items()
    ]  # fmt: skip
    downloads += [
        Link("download", f"/download/{name}", _format_name(fmt, name, "named"), "download", media_type=media)
        for name, (media, fmt) in QUAD_DOWNLOADS.items()
    ]
    return (
        Link("graphql", "/graphql", WORDS["graphql"], "ask", WORDS["graphql_desc"]),
        Link("sparql", "/sparql", WORDS["sparql"], "ask", WORDS["sparql_desc"]),
        Link("docs", f"/docs/{lang}/", WORDS["docs"], "read", WORDS["docs_desc"], "text/html"),
        Link("index", "/id/", WORDS["index"], "read", WORDS["index_desc"], "text/html"),
        Link("vocabulary", "/id/ontology", WORDS["vocabulary"], "read", WORDS["vocabulary_desc"], "text/html"),
        Link("article", "/id/" + local_id(ARTICLE), WORDS["article"], "source", media_type="text/html"),
        *downloads,
        Link("health", "/healthz", WORDS["healthz"], "operate", WORDS["healthz_desc"], "application/json"),
        Link("metrics", "/metrics", WORDS["metrics"], "operate", WORDS["metrics_desc"], "text/plain"),
    )


def _format_name(fmt: str, name: str, what: str) -> Text:
    shown = FORMAT_NAMES.get(fmt, name)
    return {code: f"{shown} ({name}): {text(WORDS[what], code)}" for code in LANGS}


@dataclass(frozen=True)
class Citation:
    """The source article as the front door cites it: titles with their languages, publisher, date, rights."""

    href: str
    titles: tuple[Value, ...]
    publisher: Text | None
    issued: str | None
    rights: Value | None


def article_citation(snapshot: Snapshot) -> Citation | None:
    found = snapshot.descriptions.get(ARTICLE)
    if found is None:
        return None

    def values(predicate: str) -> list[Value]:
        return [s.value for s in found.outgoing if s.predicate == DCTERMS + predicate]

    # the title in the article's own language first, as a citation names it; a translation after it
    original = next((v.iri.rstrip("/").rsplit("/", 1)[-1] for v in values("language") if v.iri), None)
    titles = sorted(values("title"), key=lambda v: (v.language != original, v.language or ""))
    publisher = next((v.label or {"en": v.text} for v in values("publisher")), None)
    issued = next((v.text for v in values("issued")), None)
    rights = next((v for v in values("rights") if v.iri is not None and v.iri.startswith(BASE)), None)
    return Citation("/id/" + local_id(ARTICLE), tuple(titles), publisher, issued, rights)


def index(snapshot: Snapshot, lang: str) -> dict[str, Any]:
    """The JSON index: the summary, the article and the same links as the page, each title in both languages."""
    found = summary(snapshot)
    cited = article_citation(snapshot)
    return {
        "name": {"en": UI["site"][0], "ja": UI["site"][1]},
        "description": dict(WORDS["lead"]),
        "snapshot": {
            "contentHash": found.content_hash,
            "loadedAt": found.loaded_at,
            "loadSeconds": found.load_seconds,
            "triples": found.triples,
            "facts": found.facts,
            "products": found.products,
            "guestRows": found.guest_rows,
            "passagesCited": found.passages_cited,
        },
        "article": None
        if cited is None
        else {
            "iri": ARTICLE,
            "href": cited.href,
            "title": {v.language or "": v.text for v in cited.titles},
            "publisher": dict(cited.publisher) if cited.publisher else None,
            "issued": cited.issued,
            "rights": None
            if cited.rights is None or cited.rights.iri is None
            else {"href": "/id/" + local_id(cited.rights.iri), "label": dict(cited.rights.label or {})},
        },
        "links": [
            {"rel": link.rel, "href": link.href, "title": dict(link.title)}
            | ({"type": link.media_type} if link.media_type else {})
            for link in links(lang)
        ],
    }


def render_front(snapshot: Snapshot, lang: str) -> str:
    found = links(lang)
    return render_page(
        "front.html",
        snapshot,
        FrontLinks("/docs/" + lang + "/", "/docs/", "/id/", "", live=True, lang=lang),
        lang,
        LANGS,
        title=text(WORDS["title"], lang),
        words=WORDS,
        summary=summary(snapshot),
        article=article_citation(snapshot),
        groups={group: [link for link in found if link.group == group] for group in ("ask", "read", "download")},
        operate=[link for link in found if link.group == "operate"],
        base=BASE,
    )


def front_routes(holder: SnapshotHolder) -> list[BaseRoute]:
    async def front(request: Request) -> Response:
        # Every answer here depends on both headers: a cache must keep them apart.
        headers = {"Vary": "Accept, Accept-Language", "Cache-Control": "no-cache"}
        lang = choose_language(request.query_params.get("lang"), request.headers.get("accept-language"))
        if lang is None:
            return language_refused(request.query_params.get("lang", ""), headers)
        chosen = negotiate(request.headers.get("accept"), OFFERS)
        if chosen is None:
            offered = ", ".join(media for media, _ in OFFERS)
            return PlainTextResponse(
                f"not acceptable; offered: {offered} / 対応できる形式がありません", status_code=406, headers=headers
            )
        snapshot = holder.current
        if snapshot is None:
            return PlainTextResponse("the graph is loading / グラフを読み込み中です", status_code=503, headers=headers)
        # The language is said in JSON too: its docs links are that language's (and a cache's tag reads it).
        headers["Content-Language"] = lang
        if chosen == "json":
            return JSONResponse(index(snapshot, lang), headers=headers)
        return HTMLResponse(render_front(snapshot, lang), headers=headers)

    return [Route("/", front, methods=["GET", "HEAD"])]
