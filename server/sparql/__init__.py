"""The SPARQL adapter: the read-only SPARQL 1.1 endpoint at /sparql, over the snapshot (graph/snapshot.py).

What it owns, by module, in the order a query meets them:

    protocol   the HTTP resource: GET, POST form and POST application/sparql-query, negotiation, refusals,
               the query page; `sparql_routes()` and `close()` for the app
    params     reading a request: parameters, Content-Type, the body under a size cap
    errors     refusals with their status and words in English and Japanese
    config     the limits (SPARQLConfig, from HVKG_SPARQL_*) and what a snapshot must offer
    service    the service description (sd: and VoID), GET without a query
    workers    the pool of forked worker processes, with a hard time limit and a queue; it knows no SPARQL
    processes  forking a worker, its pipe, and its life inside; wall: how it loses the network
    jobs       what crosses the pipe (QueryJob, QueryOutcome; pickled, so their module path is their name)
    engine     in the worker: the gate's verdict, the dataset, then pyoxigraph or rdflib
    lexer, gate, screen, guard
               the query gate: escapes and tokens, the parse and every safety decision on it, the fast path on
               tokens alone, and what a process that evaluates queries does to rdflib first
    dataset    FROM / FROM NAMED / default-graph-uri / named-graph-uri: which graphs a query reads
    formats    media types and the writers of SELECT, ASK and graph results
    remote     HVKG_SPARQL_ENDPOINT: the workers gate the query, a shared store answers it (store_answers
               reads its answer, store_graphs names the snapshots it holds); publish loads a snapshot into it

What it may import: graph/* (the snapshot, the named graphs), and the server's shared modules in server.ops: config,
endpoint, logs, metrics, negotiation, state. Never another adapter's internals (server.graphql, server.web).
Names with a leading underscore are the package's own: imported between its modules and by its tests, by nobody
else.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.sparql.config import SPARQLConfig
    from server.sparql.dataset import GRAPH_IRI, ID_BASE
    from server.sparql.protocol import SPARQLEndpoint, close, sparql_routes

__all__ = ["GRAPH_IRI", "ID_BASE", "SPARQLConfig", "SPARQLEndpoint", "close", "sparql_routes"]

# The package's face, each name from its module, imported on first use: importing one module of the package (the
# gate, for `hvkg query`) must not import the HTTP layer with it (measured: 0.3 to 0.8 s more per command).
_HOMES = {
    "GRAPH_IRI": "dataset",
    "ID_BASE": "dataset",
    "SPARQLConfig": "config",
    "SPARQLEndpoint": "protocol",
    "close": "protocol",
    "sparql_routes": "protocol",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
