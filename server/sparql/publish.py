"""`hvkg publish URL`: load a snapshot into a shared SPARQL store, under graphs named by its content hash.

What a store holds after publishing snapshot HASH (the names: server/sparql/store_graphs.py):
- <urn:hvkg:snapshot:HASH>: the whole graph (our default graph), and <urn:hvkg:snapshot:HASH:ESCAPED-IRI> for
  each source's named graph (graph/named_graphs.py), all loaded from one N-Quads document, so a blank node
  the whole graph and a source's graph share stays one node, as in the embedded store;
- in the catalogue graph <urn:hvkg:published>: `<urn:hvkg:snapshot:HASH> urn:hvkg:tripleCount N`, one
  `urn:hvkg:graph <scoped name>` per graph and `urn:hvkg:publishedAt` (xsd:dateTime), written LAST.
A service reads a snapshot only when its marker is in the catalogue, so a store being loaded is never read
half-loaded, and a service that reloads to a new snapshot switches to its graphs in one step. Publishing a
snapshot the catalogue already lists does nothing. Graphs of an unfinished earlier load of the same hash are
cleared first.

Two ways to load, by the URL's scheme:
- http(s)://HOST:PORT/store: the SPARQL 1.1 Graph Store Protocol endpoint (Oxigraph's /store): the N-Quads
  document in one POST (Oxigraph takes a dataset there), then the marker with POST ?graph=<catalogue>;
  pruning replaces the catalogue (PUT) before it deletes the graphs (DELETE ?graph=).
- isql://USER:PASSWORD@HOST:PORT?dir=DIR: Virtuoso's bulk loader through its `isql` client (HVKG_ISQL, else
  isql-vt or isql on PATH): the document is written to DIR (which must be in the server's DirsAllowed), then
  `ld_dir(DIR, file, ...)`, `rdf_loader_run()`, `checkpoint`, then the marker by SPARQL INSERT DATA.

`keep=N` prunes: every snapshot but the N published last leaves the catalogue, then the store. Prune only
snapshots no running service still serves (they would answer from an empty graph until they reload).

The plain function `publish()` is the command's whole logic; the CLI prints its `Published` or its
`PublishError` (English and Japanese).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pyoxigraph as ox

from server.sparql.config import SnapshotLike
from server.sparql.store_graphs import CATALOGUE, HOLDS_GRAPH, PUBLISHED_AT, TRIPLE_COUNT, scoped_graph, snapshot_graph

__all__ = ["PublishError", "Published", "dataset_nquads", "publish"]

NQUADS = "application/n-quads"
NTRIPLES = "application/n-triples"
_XSD = "http://www.w3.org/2001/XMLSchema#"


class PublishError(Exception):
    """Publishing failed: what the person reads, in English and Japanese."""

    def __init__(self, english: str, japanese: str) -> None:
        super().__init__(f"{english} / {japanese}")
        self.english = english
        self.japanese = japanese


@dataclass(frozen=True)
class Published:
    content_hash: str
    graph: str  # the store's name of the whole graph
    quads: int  # quads loaded (0 when the snapshot was there already)
    loaded: bool  # False: the catalogue listed it already
    pruned: tuple[str, ...]  # content hashes removed

    def message(self, lang: str = "en") -> str:
        if lang == "ja":
            done = f"{self.quads} 個のクアッドを読み込みました" if self.loaded else "公開済みでした"
            gone = f"、削除: {', '.join(self.pruned)}" if self.pruned else ""
            return f"スナップショット {self.content_hash} を <{self.graph}> に{done}{gone}。"
        done = f"loaded {self.quads} quads" if self.loaded else "already published"
        gone = f"; pruned {', '.join(self.pruned)}" if self.pruned else ""
        return f"snapshot {self.content_hash} in <{self.graph}>: {done}{gone}."


def _quads(snapshot: SnapshotLike) -> Iterator[ox.Quad]:
    """Every triple of the snapshot in its hash-scoped graphs: the whole graph, and each source's graph."""
    content_hash = snapshot.content_hash
    whole = ox.NamedNode(snapshot_graph(content_hash))
    store: ox.Store | None = getattr(snapshot, "store", None)
    if store is None:
        # no pyoxigraph store (a stand-in snapshot): the rdflib graph, through N-Triples
        data = snapshot.graph.serialize(format="nt", encoding="utf-8")
        for triple in ox.parse(data, format=ox.RdfFormat.N_TRIPLES):
            yield ox.Quad(triple.subject, triple.predicate, triple.object, whole)
        return
    for quad in store:
        graph = quad.graph_name
        name = whole if isinstance(graph, ox.DefaultGraph) else ox.NamedNode(scoped_graph(content_hash, graph.value))
        yield ox.Quad(quad.subject, quad.predicate, quad.object, name)


def dataset_nquads(snapshot: SnapshotLike) -> tuple[bytes, tuple[str, ...], int]:
    """The snapshot as one N-Quads document under its hash-scoped graph names, those names, and its quad count."""
    quads = list(_quads(snapshot))
    names = tuple(dict.fromkeys(q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)))
    data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""
    return data, names or (snapshot_graph(snapshot.content_hash),), len(quads)


def _marker(content_hash: str, names: tuple[str, ...], count: int) -> str:
    """The catalogue's triples for one snapshot, as N-Triples (also valid inside INSERT DATA)."""
    subject = f"<{snapshot_graph(content_hash)}>"
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lines = [f'{subject} <{TRIPLE_COUNT}> "{count}"^^<{_XSD}integer> .']
    lines += [f"{subject} <{HOLDS_GRAPH}> <{name}> ." for name in names]
    lines.append(f'{subject} <{PUBLISHED_AT}> "{now}"^^<{_XSD}dateTime> .')
    return "\n".join(lines) + "\n"


def publish(url: str, snapshot: SnapshotLike, *, keep: int | None = None, timeout: float = 300.0) -> Published:
    """Load `snapshot` into the store at `url` (see the module docstring) and prune to `keep` snapshots."""
    if keep is not None and keep < 1:
        raise PublishError("--keep must be at least 1.", "--keep は 1 以上にしてください。")
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        return _publish_gsp(url, snapshot, keep, timeout)
    if scheme == "isql":
        return _publish_isql(url, snapshot, keep, timeout)
    raise PublishError(
        f"{url} is neither a Graph Store Protocol URL (http://HOST:PORT/store) nor isql://USER:PASSWORD@HOST:PORT"
        "?dir=DIR (Virtuoso).",
        f"{url} はグラフストアプロトコルの URL(http://HOST:PORT/store)でも isql://USER:PASSWORD@HOST:PORT?dir=DIR"
        "(Virtuoso)でもありません。",
    )


# --- the Graph Store Protocol (Oxigraph) ----------------------------------------------------------------------


Entry = tuple[str, str, str]  # a catalogue triple's subject, predicate and object, as their values


def _catalogue(entries: list[Entry]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """subject -> (publishedAt, graph names) of the catalogue's triples."""
    found: dict[str, tuple[str, list[str]]] = {}
    for subject, predicate, value in entries:
        _, graphs = found.setdefault(subject, ("", []))
        if predicate == PUBLISHED_AT:
            found[subject] = (value, graphs)
        elif predicate == HOLDS_GRAPH:
            graphs.append(value)
    return {subject: (at, tuple(graphs)) for subject, (at, graphs) in found.items()}


def _value(term: object) -> str:
    return str(getattr(term, "value", term))


def _to_prune(catalogue: dict[str, tuple[str, tuple[str, ...]]], current: str, keep: int | None) -> list[str]:
    """The subjects of snapshots beyond the `keep` published last (the current one is always kept)."""
    if keep is None:
        return []
    newest = sorted((s for s in catalogue if s != current), key=lambda s: catalogue[s][0], reverse=True)
    return newest[keep - 1 :]


def _publish_gsp(url: str, snapshot: SnapshotLike, keep: int | None, timeout: float) -> Published:
    content_hash = snapshot.content_hash
    current = snapshot_graph(content_hash)
    with httpx.Client(timeout=timeout, trust_env=False) as client:

        def call(method: str, graph: str | None, body: bytes | None = None, media: str | None = None) -> httpx.Response:
            params = {} if graph is None else {"graph": graph}
            headers = {"Accept": NTRIPLES} if method == "GET" else {"Content-Type": media or NTRIPLES}
            try:
                response = client.request(method, url, params=params, content=body, headers=headers)
            except httpx.HTTPError as error:
                raise PublishError(
                    f"The store at {url} did not answer ({error}).", f"ストア {url} が応答しません({error})。"
                ) from None
            if response.status_code >= 400 and not (method in ("GET", "DELETE") and response.status_code == 404):
                said = " ".join(response.text.split())[:300]
                raise PublishError(
                    f"The store at {url} answered {response.status_code} to {method}: {said}",
                    f"ストア {url} が {method} に {response.status_code} を返しました：{said}",
                )
            return response

        def read_catalogue() -> list[ox.Triple]:
            response = call("GET", CATALOGUE)
            if response.status_code == 404 or not response.content.strip():
                return []
            found = ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)
            return [ox.Triple(q.subject, q.predicate, q.object) for q in found]

        def entries(triples: list[ox.Triple]) -> list[Entry]:
            return [(_value(t.subject), _value(t.predicate), _value(t.object)) for t in triples]

        catalogue = _catalogue(entries(read_catalogue()))
        loaded, count = current not in catalogue, 0
        if loaded:
            data, names, count = dataset_nquads(snapshot)
            for name in names:
                call("DELETE", name)  # what an unfinished earlier load of this hash left
            call("POST", None, data, NQUADS)
            call("POST", CATALOGUE, _marker(content_hash, names, count).encode())
        after = read_catalogue()
        catalogue = _catalogue(entries(after))
        gone = _to_prune(catalogue, current, keep)
        if gone:
            kept = [t for t in after if _value(t.subject) not in gone]
            call("PUT", CATALOGUE, ox.serialize(kept, format=ox.RdfFormat.N_TRIPLES) or b"")
            for subject in gone:
                for name in catalogue.get(subject, ("", ()))[1] or (subject,):
                    call("DELETE", name)
    return Published(content_hash, current, count, loaded, tuple(s.rsplit(":", 1)[-1] for s in gone))


# --- Virtuoso's bulk loader, through isql ---------------------------------------------------------------------


def _isql_program() -> str:
    for name in (os.environ.get("HVKG_ISQL"), "isql-vt", "isql"):
        if name and shutil.which(name):
            return name
    raise PublishError(
        "Virtuoso's isql client was not found (set HVKG_ISQL, or install virtuoso-opensource).",
        "Virtuoso の isql クライアントが見つかりません(HVKG_ISQL を設定するか virtuoso-opensource を入れてください)。",
    )


def _publish_isql(url: str, snapshot: SnapshotLike, keep: int | None, timeout: float) -> Published:
    parts = urlsplit(url)
    folder = (parse_qs(parts.query).get("dir") or [""])[0]
    if not folder or not Path(folder).is_dir() or "'" in folder:
        raise PublishError(
            f"isql://…?dir=DIR needs a folder that exists and that the Virtuoso server may read (DirsAllowed); got "
            f"{folder!r}.",
            f"isql://…?dir=DIR には存在し Virtuoso が読めるフォルダ(DirsAllowed)を指定してください。指定: {folder!r}。",
        )
    program = _isql_program()
    address = f"{parts.hostname or '127.0.0.1'}:{parts.port or 1111}"
    user, password = unquote(parts.username or "dba"), unquote(parts.password or "dba")

    def isql(statements: str) -> str:
        try:
            run = subprocess.run(
                [program, address, user, password, f"exec={statements}"],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PublishError(f"isql failed: {error}", f"isql が失敗しました：{error}") from None
        output = run.stdout + run.stderr
        if run.returncode != 0 or "*** Error" in output:
            said = " ".join(output.split())[:400]
            raise PublishError(f"Virtuoso refused: {said}", f"Virtuoso が拒否しました：{said}")
        return output

    content_hash = snapshot.content_hash
    current = snapshot_graph(content_hash)

    # Every value put into isql's SQL below is the service's own: the hash (letters and digits kept), the
    # catalogue's names, and a folder without a quote.
    def read_catalogue() -> dict[str, tuple[str, tuple[str, ...]]]:
        output = isql(
            f"SPARQL SELECT ?s ?p ?o FROM <{CATALOGUE}> WHERE {{ ?s ?p ?o FILTER(?p IN (<{PUBLISHED_AT}>, "  # noqa: S608
            f"<{HOLDS_GRAPH}>)) }};"
        )
        # isql prints one row a line, its cells separated by blanks (none of these values holds one)
        rows = [line.split() for line in output.splitlines()]
        return _catalogue([(c[0], c[1], c[2]) for c in rows if len(c) == 3 and c[0].startswith("urn:hvkg:snapshot:")])

    catalogue = read_catalogue()
    loaded, count = current not in catalogue, 0
    if loaded:
        data, names, count = dataset_nquads(snapshot)
        name = f"hvkg-{re.sub('[^0-9A-Za-z]', '', content_hash)}.nq"
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            clear = "".join(f"SPARQL CLEAR GRAPH <{graph}>;" for graph in names)
            isql(
                f"{clear}DELETE FROM DB.DBA.load_list WHERE ll_file LIKE '%/{name}';"  # noqa: S608
                f"ld_dir('{Path(folder).resolve()}', '{name}', '{current}');rdf_loader_run();checkpoint;"
            )
            failed = isql(
                f"SELECT ll_error FROM DB.DBA.load_list WHERE ll_file LIKE '%/{name}' AND ll_error IS NOT NULL;"  # noqa: S608
            )
            if "0 Rows" not in failed:
                said = " ".join(failed.split())[:400]
                raise PublishError(
                    f"Virtuoso's bulk loader failed: {said}", f"Virtuoso の一括ローダーが失敗しました：{said}"
                )
            isql(
                f"SPARQL INSERT DATA {{ GRAPH <{CATALOGUE}> {{ {_marker(content_hash, names, count)} }} }};checkpoint;"
            )
        finally:
            path.unlink(missing_ok=True)
    catalogue = read_catalogue()
    gone = _to_prune(catalogue, current, keep)
    for subject in gone:
        isql(f"SPARQL DELETE WHERE {{ GRAPH <{CATALOGUE}> {{ <{subject}> ?p ?o }} }};")
        isql("".join(f"SPARQL CLEAR GRAPH <{graph}>;" for graph in catalogue[subject][1] or (subject,)) + "checkpoint;")
    return Published(content_hash, current, count, loaded, tuple(s.rsplit(":", 1)[-1] for s in gone))
