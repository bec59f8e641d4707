"""Turtle files -> one merged rdflib graph, remembering which file said what."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from rdflib import Graph
from rdflib.namespace import NamespaceManager
from rdflib.term import Node

from graph.layout import BASE, VOCAB, DataLayout
from graph.problems import Problem


@dataclass
class Loaded:
    graph: Graph
    shapes: Graph
    queries: dict[str, str]
    # subject -> the files that make statements about it, to name the file in a violation message
    origin: dict[Node, list[str]] = field(default_factory=dict)
    content_hash: str = ""


def read_queries(layout: DataLayout) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(layout.queries_dir.glob("*.rq"))}


def load_files(layout: DataLayout) -> tuple[Loaded | None, list[Problem]]:
    """Parse every data file on its own (a syntax error names its file and line), then merge."""
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
        data = path.read_bytes()
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
    merged.namespace_manager = _namespaces(merged)
    return Loaded(merged, shapes, queries, origin, digest.hexdigest()), []


def _first_line(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text[:500] or type(error).__name__


def _namespaces(graph: Graph) -> NamespaceManager:
    manager = NamespaceManager(graph, bind_namespaces="core")
    manager.bind("hv", VOCAB)
    manager.bind("kg", BASE)
    manager.bind("skos", "http://www.w3.org/2004/02/skos/core#")
    manager.bind("prov", "http://www.w3.org/ns/prov#")
    manager.bind("dcterms", "http://purl.org/dc/terms/")
    return manager
