"""Reading a shared store's answer (server/sparql/remote.py): SPARQL results XML and N-Triples, streamed and cut
one row past the row limit, its graph names mapped back to ours; an answer that cannot be read is a 502.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NoReturn
from xml.etree import ElementTree

import httpx
import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.term import Node

from server.sparql.formats import _XSD_STRING, _ox_rdflib_term
from server.sparql.store_graphs import NO_GRAPH, unscoped_graph

_RESULTS = "{http://www.w3.org/2005/sparql-results#}"


async def read_some(response: httpx.Response) -> bytes:
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > 64 * 1024:
            break
    return data


def ask_row(row: Mapping[Node, Node]) -> bool:
    """Virtuoso's ASK row: its one value, 1 for true."""
    values = [str(value) for value in row.values()]
    if len(values) != 1 or values[0] not in ("0", "1", "true", "false"):
        raise_unreadable("an ASK answered with a table")
    return values[0] in ("1", "true")


def raise_unreadable(what: str) -> NoReturn:
    raise ValueError(f"the store answered {what}")


class ResultReader:
    """application/sparql-results+xml, fed in chunks (a pull parser: the answer is never held whole)."""

    def __init__(self, content_hash: str) -> None:
        self.parser: ElementTree.XMLPullParser[Any] = ElementTree.XMLPullParser(events=("end",))
        self.content_hash = content_hash
        self.count = 0
        self.bnodes: dict[str, BNode] = {}

    def feed(self, chunk: bytes) -> Iterator[tuple[str, Any]]:
        self.parser.feed(chunk)
        yield from self._events()

    def close(self) -> Iterator[tuple[str, Any]]:
        self.parser.close()
        yield from self._events()

    def _events(self) -> Iterator[tuple[str, Any]]:
        for event in self.parser.read_events():
            element: object = event[-1]
            if not isinstance(element, ElementTree.Element):
                continue
            tag = element.tag
            if tag == _RESULTS + "head":
                yield "head", [Variable(v.get("name", "")) for v in element.findall(_RESULTS + "variable")]
            elif tag == _RESULTS + "boolean":
                yield "boolean", (element.text or "").strip() == "true"
            elif tag == _RESULTS + "result":
                row: dict[Node, Node] = {}
                for binding in element.findall(_RESULTS + "binding"):
                    term = self._term(binding)
                    if term is None:
                        break  # the row names the placeholder graph: dropped
                    row[Variable(binding.get("name", ""))] = term
                else:
                    self.count += 1
                    yield "row", row
                element.clear()

    def _term(self, binding: ElementTree.Element) -> Node | None:
        """The binding's term, with our graph names again; None for NO_GRAPH."""
        value = next(iter(binding), None)
        if value is None:
            raise_unreadable("a binding without a value")
        text = value.text or ""
        if value.tag == _RESULTS + "uri":
            return _iri(self.content_hash, text)
        if value.tag == _RESULTS + "bnode":
            return self.bnodes.setdefault(text, BNode())
        lang = value.get("{http://www.w3.org/XML/1998/namespace}lang")
        datatype = value.get("datatype")
        if lang:
            return Literal(text, lang=lang)
        if datatype and datatype != _XSD_STRING:
            return Literal(text, datatype=URIRef(datatype), normalize=False)
        return Literal(text)


class TripleReader:
    """application/n-triples, fed in chunks: one triple a line, each distinct triple counted once."""

    def __init__(self, content_hash: str) -> None:
        self.content_hash = content_hash
        self.rest = b""
        self.count = 0
        self.seen: set[tuple[Node, Node, Node]] = set()
        self.bnodes: dict[str, BNode] = {}

    def feed(self, chunk: bytes) -> Iterator[tuple[str, Any]]:
        lines = (self.rest + chunk).split(b"\n")
        self.rest = lines.pop()
        yield from self._triples(b"\n".join(lines))

    def close(self) -> Iterator[tuple[str, Any]]:
        rest, self.rest = self.rest, b""
        yield from self._triples(rest)

    def _triples(self, text: bytes) -> Iterator[tuple[str, Any]]:
        if not text.strip():
            return
        for found in ox.parse(text, format=ox.RdfFormat.N_TRIPLES):
            terms = (self._term(found.subject), self._term(found.predicate), self._term(found.object))
            if terms[0] is None or terms[1] is None or terms[2] is None:
                continue
            triple = (terms[0], terms[1], terms[2])
            if triple in self.seen:
                continue
            self.seen.add(triple)
            self.count += 1
            yield "triple", triple

    def _term(self, term: object) -> Node | None:
        if isinstance(term, ox.NamedNode):
            return _iri(self.content_hash, term.value)
        if isinstance(term, ox.BlankNode):
            return self.bnodes.setdefault(term.value, BNode())
        return _ox_rdflib_term(term)


def _iri(content_hash: str, text: str) -> URIRef | None:
    """An IRI of the store's answer as ours: a graph name mapped back, NO_GRAPH as None."""
    if text == NO_GRAPH:
        return None
    return URIRef(unscoped_graph(content_hash, text) or text)
