"""The GraphiQL page at /graphql for a browser, with the portals' operations as tabs (server/static/graphiql)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

STATIC = Path(__file__).resolve().parent.parent / "static" / "graphiql"
OPERATIONS = STATIC / "operations"

# Content-Security-Policy of the GraphiQL page: nothing leaves for another origin.
IDE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


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


IDE_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hyperv-kg GraphQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{static}/graphiql.min.css">
<link rel="stylesheet" href="{static}/page.css">
</head>
<body>
<div id="graphiql" data-endpoint="{endpoint}">
<p class="loading">Loading GraphiQL… / GraphiQL を読み込んでいます…</p>
<noscript><p>GraphiQL needs JavaScript. Without it, POST JSON to {endpoint}.
GraphiQL には JavaScript が必要です。JavaScript なしでは {endpoint} に JSON を POST してください。</p></noscript>
</div>
<script type="application/json" id="graphiql-tabs">{tabs}</script>
<script src="{static}/react.production.min.js"></script>
<script src="{static}/react-dom.production.min.js"></script>
<script src="{static}/graphiql.min.js"></script>
<script src="{static}/init.js"></script>
</body>
</html>
"""


def ide_page(request: Request) -> Response:
    endpoint = request.url_for("graphql").path
    static = request.url_for("graphql-static", path="/").path.rstrip("/")
    page = IDE_PAGE.format(static=static, endpoint=endpoint, tabs=ide_tabs())
    return HTMLResponse(page, headers={"Content-Security-Policy": IDE_CSP})
