"""The GraphiQL page at /graphql for a browser, with the portals' operations as tabs (server/static/graphiql).

The page speaks the browser's language: `?lang=en|ja` when given, else the first of ours in Accept-Language,
else English. Its own words (the heading, the names init.js gives what GraphiQL leaves unnamed) come in that
language; GraphiQL's interface itself is English, so its root is marked lang="en".
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from server.ops.negotiation import choose_language, language_refused

STATIC = Path(__file__).resolve().parent.parent / "static" / "graphiql"
OPERATIONS = STATIC / "operations"

# Content-Security-Policy of the GraphiQL page: nothing leaves for another origin.
IDE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

# The page's own words; "names" are the accessible names init.js points what GraphiQL renders unnamed at (the
# editors' textareas and scrolling areas, the list of tabs), through aria-labelledby: the names carry the page's
# language while GraphiQL's subtree stays lang="en". init.js says which axe rule each answers.
WORDS: dict[str, dict[str, str]] = {
    "title": {"en": "GraphQL — hyperv-kg", "ja": "GraphQL — hyperv-kg"},
    "heading": {
        "en": "GraphQL queries on the Hyper-V knowledge graph (GraphiQL)",
        "ja": "Hyper-V ナレッジグラフへの GraphQL クエリ(GraphiQL)",
    },
    "loading": {"en": "Loading GraphiQL…", "ja": "GraphiQL を読み込んでいます…"},
    "noscript": {
        "en": "GraphiQL needs JavaScript. Without it, POST JSON to {endpoint}.",
        "ja": "GraphiQL には JavaScript が必要です。JavaScript なしでは {endpoint} に JSON を POST してください。",
    },
}
NAMES: dict[str, dict[str, str]] = {
    "tabs": {"en": "Operations", "ja": "操作"},
    "query": {"en": "Query editor (GraphQL)", "ja": "クエリエディタ(GraphQL)"},
    "variables": {"en": "Variables editor (JSON)", "ja": "変数エディタ(JSON)"},
    "headers": {"en": "Headers editor (JSON)", "ja": "ヘッダーエディタ(JSON)"},
    "response": {"en": "Response (read-only)", "ja": "レスポンス(読み取り専用)"},
    "scroll": {"en": "scrolling area", "ja": "スクロール領域"},
}


@cache
def ide_tabs() -> str:
    """The portals' operations as GraphiQL tabs, with example variables (static/.../operations/index.json)."""
    index = json.loads((OPERATIONS / "index.json").read_text(encoding="utf-8"))
    tabs = [
        {
            "query": (OPERATIONS / item["file"]).read_text(encoding="utf-8"),
            "variables": json.dumps(item.get("variables", {}), ensure_ascii=False, indent=2),
        }
        for item in index["operations"]
    ]
    data = {"tabs": tabs, "defaultQuery": index["defaultQuery"]}
    # Safe inside <script type="application/json">: no "<" can close the element.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


# The <main> landmark, the <h1> and the lang attribute are the page's (axe: landmark-one-main, region,
# page-has-heading-one, html-has-lang); what GraphiQL renders inside #graphiql is fixed by init.js.
IDE_PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{static}/graphiql.min.css">
<link rel="stylesheet" href="{static}/page.css">
</head>
<body>
<main>
<h1 class="visually-hidden">{heading}</h1>
<div hidden lang="{lang}">
{names}
</div>
<div id="graphiql" lang="en" data-endpoint="{endpoint}">
<p class="loading" lang="{lang}">{loading}</p>
<noscript><p lang="{lang}">{noscript}</p></noscript>
</div>
</main>
<script type="application/json" id="graphiql-tabs">{tabs}</script>
<script src="{static}/react.production.min.js"></script>
<script src="{static}/react-dom.production.min.js"></script>
<script src="{static}/graphiql.min.js"></script>
<script src="{static}/init.js"></script>
</body>
</html>
"""


@cache
def render_ide(lang: str, static: str, endpoint: str) -> str:
    names = "\n".join(f'<span id="graphiql-name-{key}">{words[lang]}</span>' for key, words in NAMES.items())
    return IDE_PAGE.format(
        lang=lang,
        static=static,
        endpoint=endpoint,
        title=WORDS["title"][lang],
        heading=WORDS["heading"][lang],
        loading=WORDS["loading"][lang],
        noscript=WORDS["noscript"][lang].format(endpoint=endpoint),
        tabs=ide_tabs(),
        names=names,
    )


def ide_page(request: Request) -> Response:
    # The answer depends on both headers (Accept picks the page, Accept-Language its language).
    headers = {"Vary": "Accept, Accept-Language"}
    lang = choose_language(request.query_params.get("lang"), request.headers.get("accept-language"))
    if lang is None:
        return language_refused(request.query_params.get("lang", ""), headers)
    endpoint = request.url_for("graphql").path
    static = request.url_for("graphql-static", path="/").path.rstrip("/")
    page = render_ide(lang, static, endpoint)
    return HTMLResponse(page, headers={"Content-Security-Policy": IDE_CSP, **headers})
