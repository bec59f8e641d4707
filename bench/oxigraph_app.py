"""The fastest peer: a minimal Starlette + pyoxigraph SPARQL endpoint over the same graph as the real server.

It loads the data files of HVKG_DATA (default: the checkout) into one in-memory pyoxigraph store and answers
`query` (GET or POST form) with pyoxigraph's own SPARQL JSON writer. The query runs in the event loop, as
the shortest possible endpoint would: no thread hop, no process, no limits, no checks.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs

import pyoxigraph as ox
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ROOT = Path(os.environ.get("HVKG_DATA") or Path(__file__).resolve().parent.parent)


def load(root: Path) -> ox.Store:
    store = ox.Store()
    files = [root / "ontology" / "hvkg.ttl", root / "graph" / "sources.ttl"]
    files += sorted((root / "graph" / "facts").glob("*.ttl"))
    for path in files:
        store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.as_uri())
    return store


STORE = load(ROOT)


async def sparql(request: Request) -> Response:
    if request.method == "POST":  # a form body; parse_qs needs no python-multipart
        query = parse_qs((await request.body()).decode()).get("query", [""])[0]
    else:
        query = request.query_params.get("query", "")
    try:
        results = STORE.query(query)
    except SyntaxError as error:
        return Response(str(error), status_code=400)
    body = results.serialize(format=ox.QueryResultsFormat.JSON)
    return Response(body, media_type="application/sparql-results+json")


app = Starlette(routes=[Route("/sparql", sparql, methods=["GET", "POST"])])
