"""Turtle files -> one merged rdflib graph, remembering which file said what.

Two ways to hold the graph, one API (rdflib's Graph) for everything downstream:
- up to LARGE_INPUT_BYTES of Turtle (2 MB; the article's graph is ~180 KB), rdflib parses each file and keeps the
  triples in its memory store;
- above that (a large catalogue), pyoxigraph parses them into its store, and the Graph is a view on that
  store (oxrdflib): rdflib's parser and memory store take ~30 s and ~1.4 GB for a million triples, pyoxigraph
  ~4 s and ~0.3 GB, and SPARQL on the graph (the named queries, the violation queries) runs in pyoxigraph.

The files are written under DEFAULT_BASE; a deployment's HVKG_BASE_IRI (graph.layout.BASE) is applied here, to
the text of every Turtle file, the shapes and the named queries before they are parsed (`rebase`), so that
everything downstream (pages, RDF, SPARQL, the docs) names the configured IRIs and no code translates them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from rdflib import Graph
from rdflib.namespace import NamespaceManager
from rdflib.term import Node

from graph.layout import BASE, DEFAULT_BASE, DEFAULT_SITE, VOCAB, DataLayout, site_of
from graph.problems import Problem

if TYPE_CHECKING:
    import pyoxigraph as ox

LARGE_INPUT_BYTES = 2 * 1024 * 1024


@dataclass
class Loaded:
    graph: Graph
    shapes: Graph
    queries: dict[str, str]
    # subject -> the files that make statements about it, to name the file in a violation message
    origin: Mapping[Node, list[str]] = field(default_factory=dict)
    content_hash: str = ""
    # the pyoxigraph store the graph is a view on (large inputs), else None
    store: ox.Store | None = None
    _copy: ox.Store | None = field(default=None, repr=False, compare=False)

    def oxigraph(self) -> ox.Store:
        """The graph in pyoxigraph, where the SHACL constraints, the tables and SPARQL run: the store a large input
        was parsed into, else one copy of the rdflib graph, made on first use and shared by the validation and
        the snapshot (a few hundredths of a second for the article; rdflib's own SPARQL engine took about a
        second for the constraints' queries)."""
        if self.store is not None:
            return self.store
        if self._copy is None:
            self._copy = default_graph_store(self.graph)
        return self._copy


def default_graph_store(graph: Graph) -> ox.Store:
    """A pyoxigraph store whose default graph holds the graph's triples, blank nodes keeping their ids (so that
    rows name the graph's nodes, and the named graphs filed later share them)."""
    import pyoxigraph as ox
    from oxrdflib._converter import to_ox

    store = ox.Store()
    store.bulk_extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in graph)  # type: ignore[arg-type]
    return store


# The default base, or else the default site (the docs the ontology's rdfs:seeAlso names): one pass, longest
# first, so a configured base that itself contains the default site is never replaced twice.
_DEFAULT_IRIS = re.compile(re.escape(DEFAULT_BASE) + "|" + re.escape(DEFAULT_SITE))


def rebase(text: str, base: str = BASE) -> str:
    """The data's text with the default base replaced by `base` (and the default site by its site).

    A textual replacement is safe because the default base is a string that occurs in the data only where it
    means the base: inside IRIs (<…>, @prefix, PREFIX) and in the literals that name the namespace itself
    (sh:namespace, vann:preferredNamespaceUri, the STRSTARTS filters of the shapes and queries), which must
    follow it. The article's quotes are Japanese prose that never contains it; tests/test_publishing.py
    loads the data under another base and checks that only IRIs and those namespace literals changed.
    """
    if base == DEFAULT_BASE:
        return text
    site = site_of(base)
    return _DEFAULT_IRIS.sub(lambda found: base if found.group(0) == DEFAULT_BASE else site, text)


def rebase_bytes(data: bytes) -> bytes:
    """`rebase` on a file's bytes, before they are decoded: a file that is not UTF-8 still fails where its
    parse is reported (the base is ASCII, and UTF-8 never encodes another character with ASCII bytes)."""
    if BASE == DEFAULT_BASE:
        return data
    return rebase(data.decode("utf-8", errors="surrogateescape")).encode("utf-8", errors="surrogateescape")


def read_queries(layout: DataLayout) -> dict[str, str]:
    return {p.stem: rebase(p.read_text(encoding="utf-8")) for p in sorted(layout.queries_dir.glob("*.rq"))}


def input_bytes(layout: DataLayout) -> int:
    return sum(path.stat().st_size for path in layout.data_files() if path.is_file())


def load_files(layout: DataLayout) -> tuple[Loaded | None, list[Problem]]:
    """Parse every data file on its own (a syntax error names its file and line), then merge."""
    if input_bytes(layout) > LARGE_INPUT_BYTES:
        return load_files_oxigraph(layout)
    problems: list[Problem] = []
    merged = Graph()
    origin: dict[Node, list[str]] = {}
    digest = hashlib.sha256()
    shapes = Graph()
    for path in [*layout.data_files(), layout.shapes]:
        name = layout.relative(path)
        if not path.is_file():
            problems.append(Problem(name, None, "file-missing", "the file does not exist / ファイルがない"))
            continue
        data = rebase_bytes(path.read_bytes())
        digest.update(name.encode() + b"\0" + data + b"\0")
        part = Graph()
        try:
            part.parse(data=data.decode("utf-8"), format="turtle", publicID=path.as_uri())
        except Exception as error:  # rdflib raises many kinds; all of them mean "this file is broken"
            problems.append(Problem(name, None, "turtle-syntax", _first_line(error)))
            continue
        if path == layout.shapes:
            shapes = part
            continue
        for subject in set(part.subjects()):
            origin.setdefault(subject, []).append(name)
        merged += part
    queries = read_queries(layout)
    for stem, text in queries.items():
        digest.update(stem.encode() + b"\0" + text.encode() + b"\0")
    if problems:
        return None, problems
    merged.namespace_manager = namespaces(merged)
    return Loaded(merged, shapes, queries, origin, digest.hexdigest()), []


def load_files_oxigraph(layout: DataLayout) -> tuple[Loaded | None, list[Problem]]:
    """As load_files, into one pyoxigraph store; the returned Loaded.graph is an rdflib view on it."""
    import pyoxigraph as ox

    problems: list[Problem] = []
    store = ox.Store()
    digest = hashlib.sha256()
    shapes = Graph()
    files: list[tuple[str, bytes, str]] = []
    for path in [*layout.data_files(), layout.shapes]:
        name = layout.relative(path)
        if not path.is_file():
            problems.append(Problem(name, None, "file-missing", "the file does not exist / ファイルがない"))
            continue
        try:
            data = rebase_bytes(path.read_bytes())
            digest.update(name.encode() + b"\0" + data + b"\0")
            if path == layout.shapes:
                shapes.parse(data=data.decode("utf-8"), format="turtle", publicID=path.as_uri())
            else:
                store.load(data, format=ox.RdfFormat.TURTLE, base_iri=path.as_uri())
                files.append((name, data, path.as_uri()))
        except Exception as error:  # a syntax error, bad UTF-8: "this file is broken"
            problems.append(Problem(name, None, "turtle-syntax", _first_line(error)))
    queries = read_queries(layout)
    for stem, text in queries.items():
        digest.update(stem.encode() + b"\0" + text.encode() + b"\0")
    if problems:
        return None, problems
    graph = oxigraph_graph(store)
    return Loaded(graph, shapes, queries, _Origin(files), digest.hexdigest(), store), []


def oxigraph_graph(store: ox.Store) -> Graph:
    """An rdflib Graph over the store's default graph, with the project's prefixes."""
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

    # The default graph's own identifier: with any other, oxrdflib would read a named graph of that name.
    graph = Graph(store=_view_store()(store=store), identifier=DATASET_DEFAULT_GRAPH_ID)
    graph.namespace_manager = namespaces(graph)
    return graph


@cache
def _view_store() -> type[Any]:
    """oxrdflib's store, with the rows of a SELECT converted to rdflib terms once per distinct term.

    A query on a million-triple catalogue's view (the violation queries, the descriptions) reads many rows whose
    terms repeat (every row names its class, its product, its date): oxrdflib converts each term of each row
    anew (and an IRI's conversion checks the IRI that pyoxigraph parsed already), then rdflib makes a dict and a
    mapping of the labels for each row. Here each distinct term is converted once per query and the rows share
    one mapping. Measured on the 100k catalogue, when the tables still read rdflib rows: 1.8 s of CPU through
    oxrdflib, 0.9 s through this. (graph/tables.py now reads plain strings straight from the store.)"""
    import pyoxigraph as ox
    from oxrdflib import OxigraphStore as Base
    from oxrdflib._converter import from_ox, to_ox
    from rdflib import Literal, URIRef, Variable
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
    from rdflib.query import Result, ResultRow

    class _Rows(Result):
        """A SELECT's rows as rdflib's ResultRow, made as they are read and kept for a second reading (what
        Result does with a dict per row and a mapping of the labels per row)."""

        def __init__(self, names: list[Variable], rows: Iterator[ResultRow]) -> None:
            super().__init__("SELECT")
            self.vars = names
            self._rows = rows
            self._read: list[ResultRow] = []
            # rdflib's bindings (a dict per row), read from the same rows only if asked for
            self.bindings = ({n: v for n, v in zip(names, row, strict=True) if v is not None} for row in self)

        def __iter__(self) -> Iterator[ResultRow]:
            yield from self._read
            for row in self._rows:
                self._read.append(row)
                yield row

        def __len__(self) -> int:
            return sum(1 for _ in self)

    class OxigraphStore(Base):
        def query(
            self,
            query: Any,
            initNs: Mapping[str, Any],  # noqa: N803 - rdflib's names
            initBindings: Mapping[str, Any],  # noqa: N803
            queryGraph: Any,  # noqa: N803
            **kwargs: object,
        ) -> Result:
            if not isinstance(query, str) or kwargs or queryGraph != DATASET_DEFAULT_GRAPH_ID:
                return super().query(query, initNs, initBindings, queryGraph, **kwargs)
            bound: dict[Any, Any] = {ox.Variable(k): to_ox(v) for k, v in initBindings.items()}
            found = self._inner.query(query, prefixes=dict(self._namespace_for_prefix, **initNs), substitutions=bound)
            if isinstance(found, ox.QueryBoolean):
                answer = Result("ASK")
                answer.askAnswer = bool(found)
                return answer
            if not isinstance(found, ox.QuerySolutions):  # CONSTRUCT, DESCRIBE: oxrdflib's way
                return super().query(query, initNs, initBindings, queryGraph, **kwargs)
            terms: dict[Any, Any] = {}
            datatypes: dict[str, URIRef] = {}

            def term(value: Any) -> Any:
                node = terms.get(value)
                if node is None:
                    if isinstance(value, ox.NamedNode):
                        node = str.__new__(URIRef, value.value)  # what URIRef() makes, without checking the IRI again
                    elif isinstance(value, ox.Literal) and not value.language:
                        iri = value.datatype.value
                        node = Literal(
                            value.value, datatype=datatypes.get(iri) or datatypes.setdefault(iri, URIRef(iri))
                        )
                    else:
                        node = from_ox(value)
                    terms[value] = node
                return node

            names = [Variable(v.value) for v in found.variables]
            labels = {str(name): i for i, name in enumerate(names)}
            width = range(len(names))

            def rows() -> Iterator[ResultRow]:
                for solution in found:
                    row = tuple.__new__(ResultRow, [None if solution[i] is None else term(solution[i]) for i in width])
                    row.labels = labels  # one mapping for every row; ResultRow() makes one per row
                    yield row

            return _Rows(names, rows())

    return OxigraphStore


class _Origin(Mapping[Node, list[str]]):
    """Which files state something about a subject: worked out only when a problem must name its file."""

    def __init__(self, files: list[tuple[str, bytes, str]]) -> None:
        self._files = files
        self._origin: dict[Node, list[str]] | None = None

    def _all(self) -> dict[Node, list[str]]:
        if self._origin is None:
            import pyoxigraph as ox
            from oxrdflib._converter import from_ox

            origin: dict[Node, list[str]] = {}
            for name, data, base in self._files:
                subjects = {q.subject for q in ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=base)}
                for subject in subjects:
                    node = from_ox(subject)
                    if isinstance(node, Node):
                        origin.setdefault(node, []).append(name)
            self._origin = origin
        return self._origin

    def __getitem__(self, key: Node) -> list[str]:
        return self._all()[key]

    def __iter__(self) -> Iterator[Node]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (self._all(),))


def _first_line(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text[:500] or type(error).__name__


def namespaces(graph: Graph) -> NamespaceManager:
    """The prefixes the graph is written and queried with."""
    manager = NamespaceManager(graph, bind_namespaces="core")
    manager.bind("hv", VOCAB)
    manager.bind("kg", BASE)
    # passages are minted under their document (graph/sources.ttl writes them with these prefixes)
    manager.bind("article", BASE + "doc-article/")
    manager.bind("notes", BASE + "doc-external-facts/")
    manager.bind("skos", "http://www.w3.org/2004/02/skos/core#")
    manager.bind("prov", "http://www.w3.org/ns/prov#")
    manager.bind("dcterms", "http://purl.org/dc/terms/")
    manager.bind("oa", "http://www.w3.org/ns/oa#")
    manager.bind("foaf", "http://xmlns.com/foaf/0.1/")
    return manager
