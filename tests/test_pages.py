"""/id/ pages: every minted IRI resolves, as HTML (escaped, with its quotes) or RDF by Accept."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from starlette.testclient import TestClient

from graph.build import build_snapshot
from graph.layout import BASE, DataLayout
from graph.snapshot import Snapshot
from server.app import create_app
from server.ops.state import SnapshotHolder


def client_for(snapshot: Snapshot) -> TestClient:
    holder = SnapshotHolder()
    holder.swap(snapshot)
    return TestClient(create_app(holder=holder))


@pytest.fixture(scope="module")
def client(snapshot: Snapshot) -> TestClient:
    return client_for(snapshot)


def test_every_minted_iri_resolves_as_html(client: TestClient, snapshot: Snapshot) -> None:
    assert len(snapshot.descriptions) > 250
    for iri, description in snapshot.descriptions.items():
        response = client.get("/id/" + iri[len(BASE) :], headers={"accept": "text/html"})
        assert response.status_code == 200, iri
        assert response.headers["content-type"].startswith("text/html")
        for citation in description.evidence:
            assert citation.quote.replace("&", "&amp;").replace('"', "&#34;").replace("<", "&lt;") in response.text


def test_page_shows_both_labels_relations_and_quotes(client: TestClient) -> None:
    page = client.get("/id/vsc", headers={"accept": "text/html"}).text
    assert "VSC (Virtualization Service Client)" in page
    assert "VSC(Virtualization Service Client)" in page
    assert 'href="/id/vmbus"' in page  # the relation is a link
    assert "仮想マシンからの命令やI/O要求は" in page


@pytest.mark.parametrize(
    ("media", "fmt"),
    [
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/n-triples", "nt"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_rdf_by_accept(client: TestClient, media: str, fmt: str) -> None:
    response = client.get("/id/guest-row-09", headers={"accept": f"text/html;q=0.5, {media}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    graph = Graph().parse(data=response.text, format=fmt)
    row = URIRef(BASE + "guest-row-09")
    max_vp = graph.value(row, URIRef(BASE + "ontology/maxVirtualProcessors"))
    assert max_vp is not None
    assert int(max_vp) == 1


def test_unknown_name_is_404_and_unacceptable_is_406(client: TestClient) -> None:
    assert client.get("/id/no-such-thing", headers={"accept": "text/html"}).status_code == 404
    assert client.get("/id/no-such-thing", headers={"accept": "text/turtle"}).status_code == 404
    assert client.get("/id/vsc", headers={"accept": "image/png"}).status_code == 406
    assert client.get("/id/vsc?format=nope").status_code == 400


def test_whole_graph_download(client: TestClient, snapshot: Snapshot) -> None:
    for name, fmt in (("graph.ttl", "turtle"), ("graph.nt", "nt")):
        response = client.get("/download/" + name)
        assert response.status_code == 200
        assert len(Graph().parse(data=response.text, format=fmt)) == snapshot.triple_count
    assert client.get("/download/graph.exe").status_code == 404


def test_everything_is_escaped(data_copy: DataLayout) -> None:
    path = data_copy.root / "graph/facts/products.ttl"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"Hyper-V"@en ,', '"Hyper-V <script>alert(1)</script>"@en ,', 1), encoding="utf-8")
    page = client_for(build_snapshot(data_copy)).get("/id/hyper-v", headers={"accept": "text/html"}).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
