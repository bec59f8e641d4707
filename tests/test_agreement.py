"""A SPARQL user and a portal read the same snapshot, so they get the same guest table."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from graph.snapshot import Snapshot
from server.graphql.view import graphql_routes
from server.ops.state import SnapshotHolder
from server.sparql.protocol import close, sparql_routes

SPARQL = """PREFIX hv: <https://hyperv-kg.example.org/id/ontology/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?os ?arch ?max (GROUP_CONCAT(DISTINCT STR(?sp); separator=",") AS ?sps) WHERE {
  ?row a hv:GuestSupport ; hv:product <https://hyperv-kg.example.org/id/hyper-v> ;
       hv:operatingSystem/skos:prefLabel ?os ; hv:architecture/skos:prefLabel ?arch ;
       hv:maxVirtualProcessors ?max ; hv:servicePack ?sp .
  FILTER(LANG(?os) = "en" && LANG(?arch) = "en")
} GROUP BY ?row ?os ?arch ?max"""

GRAPHQL = "{ guestSupport { operatingSystem architecture maxVirtualProcessors servicePacks } }"


@pytest.fixture(scope="module")
def client(snapshot: Snapshot) -> Iterator[TestClient]:
    holder = SnapshotHolder()
    holder.swap(snapshot)
    app = Starlette(routes=[*graphql_routes(holder), *sparql_routes(holder, path="/sparql")])
    yield TestClient(app)
    asyncio.run(close())


def test_graphql_and_sparql_give_the_same_guest_table(client: TestClient) -> None:
    portal = client.post("/graphql", json={"query": GRAPHQL}).json()["data"]["guestSupport"]
    from_graphql = sorted(
        (r["operatingSystem"], r["architecture"].lower(), r["maxVirtualProcessors"], tuple(sorted(r["servicePacks"])))
        for r in portal
    )
    answer = client.post("/sparql", data={"query": SPARQL}, headers={"accept": "application/sparql-results+json"})
    assert answer.status_code == 200
    from_sparql = sorted(
        (
            b["os"]["value"],
            b["arch"]["value"],
            int(b["max"]["value"]),
            tuple(sorted(int(sp) for sp in b["sps"]["value"].split(","))),
        )
        for b in answer.json()["results"]["bindings"]
    )
    assert len(from_graphql) == 12
    assert from_graphql == from_sparql
