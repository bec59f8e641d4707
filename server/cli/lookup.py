"""`hvkg search TEXT` and `hvkg node ID`: finding things by their words, and everything said about one.

Search is graph.catalog.search (names in both languages, aliases, the article's passages), as the GraphQL
`search` answers it; a node is graph.nodes.node, as `node(id)` answers it: every statement with its basis and
passages. A node is named by its id (vhd), a prefixed name (kg:vhd, hv:Rule) or its IRI; one the graph does
not mint is bad input, with the closest things search finds.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from graph import catalog, nodes
from graph.layout import VOCAB
from graph.model import BadInput, Text, text
from graph.names import MAX_NAME_LENGTH
from graph.snapshot import Snapshot
from graph.tables import local_id
from server.cli.data import snapshot_of
from server.cli.errors import lang_of
from server.cli.reading import blank_text, expand, shown
from server.cli.tables import Answer, Prefixes, Sources, Table, cut, emit, evidence_json, labels
from server.cli.text import word

# How much of a matched passage or a long name a row shows (the JSON has it whole)
MATCHED_CELLS = 60
NAME_CELLS = 60


def type_label(snapshot: Snapshot, kind: str, lang: str) -> str:
    """A class's label in the language asked (hv:Passage: "Passage", "出典箇所"), else its name."""
    found = snapshot.tables.labels.get(VOCAB + kind, {})
    return found.get(lang) or kind


# ---- search ---------------------------------------------------------------------------------------------------


def search_answer(snapshot: Snapshot, words: str, first: int, lang: str) -> Answer:
    if not words.strip():
        raise blank_text(
            "text",
            {"en": "words to look for (VMBus, virtual hard disk)", "ja": "探す言葉(VMBus、仮想ハードディスク など)"},
        )
    prefixes = Prefixes.of(snapshot)
    sources = Sources(prefixes)
    hits = catalog.search(snapshot, words, first)
    table = Table(
        tuple(word(k, lang) for k in ("type", "name", "id", "sources", "matched")),
        tuple(
            (
                type_label(snapshot, h.type, lang),
                cut(text(h.label, lang), NAME_CELLS),
                prefixes.name(h.iri),
                sources.ref(h.evidence),
                f"「{cut(h.matched, MATCHED_CELLS)}」",
            )
            for h in hits
        ),
        f"{word('search_title', lang)}: {words.strip()}",
        "hits",
    )
    data = {
        "hits": [
            {
                "id": h.id,
                "iri": h.iri,
                "type": h.type,
                "label": labels(h.label),
                "score": h.score,
                "matched": h.matched,
                "evidence": evidence_json(h.evidence),
            }
            for h in hits
        ]
    }
    return Answer((table,), sources, data, empty=word("nothing_found", lang))


# ---- node -----------------------------------------------------------------------------------------------------


def _language(value: Text) -> str | None:
    """The language of a statement's value when it is a tagged literal (one key), else None."""
    return next(iter(value)) if len(value) == 1 else None


def _in(tag: str, lang: str) -> bool:
    return tag == lang or tag.startswith(lang + "-")


def shown_statements(statements: Sequence[nodes.NodeStatement], lang: str) -> list[nodes.NodeStatement]:
    """The statements a table in `lang` shows: all but a literal in the other language where the same property
    has one in this language (skos:prefLabel "Hyper-V"@en beside "Hyper-V"@ja). A property said in one
    language only (a passage's Japanese quote) is shown as the graph says it."""
    said_in = {s.predicate.iri for s in statements if (tag := _language(s.value)) is not None and _in(tag, lang)}
    return [
        s for s in statements if (tag := _language(s.value)) is None or _in(tag, lang) or s.predicate.iri not in said_in
    ]


def _property(statement: nodes.NodeStatement, prefixes: Prefixes, lang: str) -> str:
    """The property's label in the language asked, else its prefixed name (skos:altLabel): a property without
    a label of its own is labelled by its local name alone (graph.describe)."""
    label = statement.predicate.label
    unlabelled = dict(label) == {"en": statement.predicate.id}
    return label[lang] if lang in label and not unlabelled else prefixes.name(statement.predicate.iri)


def _value(statement: nodes.NodeStatement, prefixes: Prefixes, lang: str) -> str:
    # a literal in neither language (a reading in hiragana, ja-Hira) as written
    said = text(statement.value, lang) or next(iter(statement.value.values()), "")
    if statement.object is not None:
        return f"{said} ({prefixes.name(statement.object)})"
    named = prefixes.name(said)  # an IRI outside the graph's own (owl:Class) by its prefixed name
    return said if named.startswith("<") else named


def _basis(statement: nodes.NodeStatement, prefixes: Prefixes, lang: str) -> str:
    said = word(statement.basis.value, lang)
    return f"{said}: {prefixes.name(statement.rule)}" if statement.rule else said


def _statement_json(statement: nodes.NodeStatement) -> dict[str, Any]:
    return {
        "predicate": {
            "id": statement.predicate.id,
            "iri": statement.predicate.iri,
            "label": labels(statement.predicate.label),
        },
        "value": labels(statement.value),
        "object": statement.object,
        "datatype": statement.datatype,
        "basis": statement.basis.value,
        "rule": statement.rule,
        "asOf": statement.as_of,
        "evidence": evidence_json(statement.evidence),
    }


def _unknown(snapshot: Snapshot, given: str) -> BadInput:
    close = list(catalog.search(snapshot, given, 5)) if len(given) <= MAX_NAME_LENGTH else []
    prefixes = Prefixes.of(snapshot)
    near = ", ".join(prefixes.name(h.iri) for h in close)
    return BadInput(
        "id",
        {
            "en": f"id: the graph has no node {shown(given)}" + (f"; closest: {near}" if near else ""),
            "ja": f"id: {shown(given)} というノードはグラフにありません" + (f"。近いもの: {near}" if near else ""),
        },
    )


def node_answer(snapshot: Snapshot, given: str, lang: str) -> Answer:
    if not given.strip():
        raise blank_text(
            "id",
            {
                "en": "an id (vhd), a prefixed name (kg:vhd) or an IRI",
                "ja": "ID(vhd)、接頭辞付きの名前(kg:vhd)、またはIRI",
            },
        )
    view = nodes.node(snapshot, expand(snapshot, given)) if len(given) <= 2 * MAX_NAME_LENGTH else None
    if view is None:
        raise _unknown(snapshot, given.strip())
    prefixes = Prefixes.of(snapshot)
    sources = Sources(prefixes)
    sources.ref(view.evidence)  # the thing's own passages first
    named = view.named
    title = f"{text(named.label, lang)}  ({type_label(snapshot, named.type, lang)})  {prefixes.name(named.iri)}"
    table = Table(
        tuple(word(k, lang) for k in ("property", "basis", "as_of", "sources", "value")),
        tuple(
            (
                _property(s, prefixes, lang),
                _basis(s, prefixes, lang),
                s.as_of or "—",
                sources.ref(s.evidence),
                _value(s, prefixes, lang),
            )
            for s in shown_statements(view.statements, lang)
        ),
        title,
        "statements",
    )
    data = {
        "node": {"id": local_id(named.iri), "iri": named.iri, "type": named.type, "label": labels(named.label)},
        "statements": [_statement_json(s) for s in view.statements],
        "evidence": evidence_json(view.evidence),
    }
    return Answer((table,), sources, data)


def cmd_search(args: argparse.Namespace) -> int:
    lang = lang_of(args)
    return emit(search_answer(snapshot_of(args), args.text, args.first, lang), args.json, lang)


def cmd_node(args: argparse.Namespace) -> int:
    lang = lang_of(args)
    return emit(node_answer(snapshot_of(args), args.id, lang), args.json, lang)
