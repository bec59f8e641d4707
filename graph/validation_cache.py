"""After an edit, validate again only what the edit can have changed.

The snapshot cache (graph/build.py) answers a restart with unchanged files; any change to any file is a new key
and, without this module, a whole validation: at a million triples, seconds of checks for an analyst who
changed one number. Here the last graph that validated leaves a state in the cache directory (in
`validation/`): the content hash of each data file, the bytes of those files (stored by hash), and the core
shapes' warnings with their focus nodes. The next validation of the same data directory, with the same shapes,
named queries, code and language, compares the files:

- the files that changed (or came, or went) are parsed again as they were and as they are; the triples that
  differ name the subjects whose own triples changed;
- the core shapes (graph/shacl_core.py) are checked again on those subjects, on the nodes whose focus comes
  from them (sh:targetObjectsOf), and on every node that reaches one of them within the shapes' reach (a row
  whose sh:class value lost its type is checked again: `Shape.reach` links back from the changed node);
  the last state's core warnings stand for every other node, whose own triples and whose values' triples did
  not change, so whose verdict cannot have;
- a SPARQL constraint can look anywhere, so it runs on the whole graph again, unless none of its triple
  patterns, property paths or targets reads a predicate of a changed triple (rdflib's parse of the query says
  which; a variable predicate reads them all) and none of its last findings is about a changed node: then its
  answer cannot have changed, and its last findings stand;
- the violation queries and the quotes run on the whole graph as always.

Whenever that reasoning would not hold, the whole graph is validated: no state, another context, a file whose
earlier bytes are gone, a changed triple with a blank node (blank nodes get new names at every parse, so they
cannot be matched with the store's), a changed rdfs:subClassOf (it moves the focus of sh:targetClass and the
reach of sh:class), or a shape pyshacl has to check. A state is only written after a validation that found no
violation, so an invalid graph never becomes the base of the next one. tests/test_validation_speed.py checks
that an edit validated this way finds exactly what a whole validation finds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

from graph.findings import SH, Finding
from graph.layout import BASE, DataLayout, code_version
from graph.loading import Loaded, rebase_bytes
from graph.problems import Problem
from graph.shacl_sparql import sparql_constraints
from graph.validation import Report, check, compiled, language, log_warnings

log = logging.getLogger(__name__)

STATE_FORMAT = "hvkg-validation-2"
STATES_KEPT = 8  # newest states kept per cache directory (one per data directory and context)
_SUBCLASS = ox.NamedNode(str(RDFS.subClassOf))


@dataclass
class Outcome:
    """What a validation found, and how: "whole" or "edit" (with how many nodes the core shapes checked)."""

    report: Report
    mode: str
    checked: int | None = None


def validate_cached(loaded: Loaded, layout: DataLayout, directory: Path | None) -> tuple[list[Problem], dict[str, str]]:
    """The violations found, and the source files the quotes were checked against (name -> sha256); with a cache
    directory, only what changed since its last valid graph is checked again. Warnings do not refuse the graph:
    they are logged (printed on stderr by `hvkg validate`)."""
    outcome = revalidate(loaded, layout, directory)
    log_warnings(outcome.report, language())
    return outcome.report.violations, outcome.report.sources


def revalidate(loaded: Loaded, layout: DataLayout, directory: Path | None) -> Outcome:
    """Validate, checking the core shapes again only where the files changed since the last valid graph."""
    lang = language()
    if directory is None:
        return Outcome(check(loaded, layout, lang), "whole")
    files = _files(layout)
    context = _context(layout, lang)
    state = _read_state(directory, context)
    outcome = _after_edit(loaded, layout, directory, state, files, lang) if state is not None else None
    if outcome is None:
        outcome = Outcome(check(loaded, layout, lang), "whole")
    if not outcome.report.violations:
        constraints = sparql_constraints(loaded.shapes)
        footprints = state.get("footprints", {}) if state is not None else {}
        # read now, not at the first edit: parsing the 33 queries took 0.58 s of an edit's 5.5 s at 1M triples
        for shape, _constraint, query, key in constraints:
            if key not in footprints:
                footprints[key] = _footprint_of(loaded.shapes, shape, query)
        _write_state(directory, context, files, outcome.report, [key for *_, key in constraints], footprints)
    return outcome


# --- what changed ----------------------------------------------------------------------------------------------------


def _files(layout: DataLayout) -> dict[str, bytes]:
    """Each data file's bytes as they are loaded (graph/loading.py applies the base IRI first)."""
    found = {}
    for path in layout.data_files():
        with contextlib.suppress(OSError):
            found[layout.relative(path)] = rebase_bytes(path.read_bytes())
    return found


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _triples(data: bytes, base: str) -> set[ox.Triple]:
    return {quad.triple for quad in ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=base)}


def _after_edit(
    loaded: Loaded,
    layout: DataLayout,
    directory: Path,
    state: dict[str, Any],
    files: dict[str, bytes],
    lang: str,
) -> Outcome | None:
    """The validation of the edit since `state`, or None when only a whole validation is sound."""
    plan = compiled(loaded.shapes)
    if plan.left_over:
        return None  # pyshacl checks those shapes on the whole graph anyway
    before: dict[str, str] = state["files"]
    changed: set[ox.Triple] = set()
    for name in sorted(set(before) | set(files)):
        now = files.get(name)
        if now is not None and before.get(name) == _digest(now):
            continue
        earlier = b""
        if name in before:
            try:
                earlier = (directory / "validation" / "files" / before[name]).read_bytes()
            except OSError:
                return None
            if _digest(earlier) != before[name]:
                return None
        base = (layout.root / name).as_uri()
        try:
            changed |= _triples(earlier, base) ^ _triples(now or b"", base)
        except (SyntaxError, ValueError):
            return None  # the loader reports a file it cannot parse; this only compares parsed files
    for triple in changed:
        if triple.predicate == _SUBCLASS or any(isinstance(t, ox.BlankNode) for t in triple):
            return None
    subjects = _reached(loaded, plan, changed)
    keys = {str(node) for node in subjects}
    carried = [_finding(kept) for kept in state["core"] if kept["focus"] not in keys]
    reuse = _unchanged_constraints(loaded, state, {t.predicate.value for t in changed}, keys)
    report = check(loaded, layout, lang, subjects=subjects, carried=carried, reuse=reuse)
    return Outcome(report, "edit", len(subjects))


def _unchanged_constraints(
    loaded: Loaded, state: dict[str, Any], predicates: set[str], nodes: set[str]
) -> dict[str, list[Finding]]:
    """The SPARQL constraints whose answer the edit cannot have changed, with their last findings: none of their
    triple patterns (nor their shape's targets) reads a changed predicate, no pattern has a variable predicate,
    and none of their last findings is about a node whose triples changed (its file may be named otherwise)."""
    footprints: dict[str, list[str] | None] = state.get("footprints", {})  # written with the state (revalidate)
    last: dict[str, list[dict[str, Any]]] = state.get("sparql", {})
    reuse = {}
    for *_, key in sparql_constraints(loaded.shapes):
        if key not in last:
            continue
        footprint = footprints.get(key)  # none known: it may read anything
        if footprint is None or predicates & set(footprint) or any(f["focus"] in nodes for f in last[key]):
            continue
        reuse[key] = [_finding(kept) for kept in last[key]]
    return reuse


def _footprint_of(shapes: Graph, shape: Node, query: str) -> list[str] | None:
    """What a SPARQL constraint reads: its query's predicates and its shape's targets' (None: anything)."""
    read = _footprint(query)
    return None if read is None else sorted(read | _target_predicates(shapes, shape))


def _target_predicates(shapes: Graph, shape: Node) -> set[str]:
    """The predicates that decide which nodes a shape's targets select."""
    found = {str(p) for t in (SH.targetSubjectsOf, SH.targetObjectsOf) for p in shapes.objects(shape, t)}
    if (shape, SH.targetClass, None) in shapes:
        found.add(str(RDF.type))
    return found


class _AnyPredicate(Exception):
    """A pattern that can match a triple of any predicate."""


def _footprint(query: str) -> set[str] | None:
    """The predicates a query's triple patterns and property paths can match (rdflib's parse of it); None when a
    pattern has a variable predicate or a negated path, which any triple can match."""
    from rdflib.paths import NegatedPath
    from rdflib.paths import Path as PropertyPath
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.plugins.sparql.algebra import translateGroupGraphPattern
    from rdflib.plugins.sparql.parserutils import CompValue

    found: set[str] = set()

    def path(step: object) -> None:
        if isinstance(step, URIRef):
            found.add(str(step))
        elif isinstance(step, NegatedPath) or not isinstance(step, PropertyPath):
            raise _AnyPredicate
        else:
            for part in (*getattr(step, "args", ()), getattr(step, "arg", None), getattr(step, "path", None)):
                if part is not None:
                    path(part)

    def walk(node: object) -> None:
        if isinstance(node, CompValue):
            if node.name == "GroupGraphPatternSub":  # inside EXISTS / NOT EXISTS rdflib keeps the parse
                node = translateGroupGraphPattern(node)
                assert isinstance(node, CompValue)
            if node.name == "BGP":
                for triple in node["triples"]:
                    path(triple[1])
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    try:
        walk(prepareQuery(query).algebra)
    except _AnyPredicate:
        return None
    except Exception:  # a query rdflib cannot read: nothing is known of it
        return None
    return found


def _reached(loaded: Loaded, plan: Any, changed: Iterable[ox.Triple]) -> set[Any]:
    """The nodes whose verdict the changed triples can move: their subjects, the objects that are focus nodes
    through sh:targetObjectsOf, and whatever links to those within the shapes' reach."""
    objects_of = {
        ox.NamedNode(str(value))
        for shape in plan.shapes
        for target, value in shape.targets
        if target == SH.targetObjectsOf
    }
    nodes: set[Any] = set()
    for triple in changed:
        nodes.add(triple.subject)
        if triple.predicate in objects_of:
            nodes.add(triple.object)
    store = loaded.oxigraph()
    graph = ox.DefaultGraph()
    frontier = set(nodes)
    for _ in range(max((shape.reach for shape in plan.shapes), default=0)):
        linked = {
            quad.subject
            for node in frontier
            if not isinstance(node, ox.Literal)
            for quad in store.quads_for_pattern(None, None, node, graph)
        }
        frontier = linked - nodes
        nodes |= linked
    return nodes


# --- the state of the last valid graph --------------------------------------------------------------------------------


def _context(layout: DataLayout, lang: str) -> str:
    """What a state holds for besides the data files: the data directory (relative IRIs resolve against it),
    the base IRI, the shapes, the named queries (the violation queries), the code and the language."""
    digest = hashlib.sha256(STATE_FORMAT.encode() + code_version().encode())
    digest.update(f"{layout.root.resolve()}\0{BASE}\0{lang}\0".encode())
    for path in [layout.shapes, *sorted(layout.queries_dir.glob("*.rq"))]:
        with contextlib.suppress(OSError):
            digest.update(layout.relative(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _state_path(directory: Path, context: str) -> Path:
    return directory / "validation" / f"{context}.json"


def _read_state(directory: Path, context: str) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads(_state_path(directory, context).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if state.get("format") != STATE_FORMAT or not isinstance(state.get("files"), dict):
        return None
    return state


def _record(finding: Finding) -> dict[str, Any]:
    p = finding.problem
    return {
        "file": p.file,
        "resource": p.resource,
        "rule": p.rule,
        "message": p.message,
        "severity": str(finding.severity),
        "focus": finding.focus,
        "constraint": finding.constraint,
    }


def _finding(kept: dict[str, Any]) -> Finding:
    problem = Problem(kept["file"], kept["resource"], kept["rule"], kept["message"])
    severity = SH.Warning if kept["severity"] == str(SH.Warning) else SH.Info
    return Finding(problem, severity, kept["focus"], kept.get("constraint"))


def _write_state(
    directory: Path,
    context: str,
    files: dict[str, bytes],
    report: Report,
    constraints: list[str],
    footprints: dict[str, Any],
) -> None:
    """Keep the state of a graph that validated (its core findings are warnings); failures only cost the next
    validation its shortcut."""
    root = directory / "validation"
    partial = root / f".{os.getpid()}.{threading.get_ident()}.partial"
    try:
        (root / "files").mkdir(parents=True, exist_ok=True, mode=0o700)
        digests = {}
        for name, data in files.items():
            digests[name] = digest = _digest(data)
            kept = root / "files" / digest
            if not kept.exists():
                partial.write_bytes(data)
                partial.replace(kept)
        sparql: dict[str, list[dict[str, Any]]] = {key: [] for key in constraints}
        for finding in report.sparql:
            if finding.constraint in sparql:
                sparql[finding.constraint].append(_record(finding))
        state = {
            "format": STATE_FORMAT,
            "files": digests,
            "core": [_record(f) for f in report.core if not f.is_violation],
            "sparql": sparql,
            "footprints": {key: footprints[key] for key in constraints if key in footprints},
        }
        partial.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        partial.replace(_state_path(directory, context))
        _evict(root)
    except OSError as error:
        log.warning("could not keep the validation state in %s: %s", root, error)
        with contextlib.suppress(OSError):
            partial.unlink()


def _evict(root: Path) -> None:
    states = sorted(root.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in states[STATES_KEPT:]:
        with contextlib.suppress(OSError):
            old.unlink()
    used = set()
    for path in states[:STATES_KEPT]:
        with contextlib.suppress(OSError, ValueError):
            used.update(json.loads(path.read_text(encoding="utf-8")).get("files", {}).values())
    for kept in (root / "files").iterdir():
        if kept.name not in used:
            with contextlib.suppress(OSError):
                kept.unlink()
