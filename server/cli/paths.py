"""`hvkg path`: the hops between two components, or a product's I/O path, each hop with its quotes.

The route comes first on one line, then each hop with its relation and the passages that state it. A hop
walked against its relation (only with --undirected) is drawn as the relation runs: `A ←[sends I/O to]— B`
says that B sends I/O to A. `print_path` also draws the I/O path of a guest verdict (server/cli/check.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from graph.model import ArchitecturePath, BadInput, Citation, IoMode, Text, text
from server.cli.data import snapshot_of
from server.cli.errors import lang_of
from server.cli.text import word


def print_citations(evidence: Sequence[Citation], indent: str = "    ") -> None:
    for citation in evidence:
        where = f" ({citation.section})" if citation.section else ""
        print(f"{indent}「{citation.quote}」{where}")
        print(f"{indent}  — {citation.document} <{citation.iri}>")


def print_path(found: ArchitecturePath, lang: str, relation_labels: Mapping[str, Text]) -> None:
    """The route on one line, then each hop with its quotes."""
    if found.components:
        route = text(found.components[0].label, lang)
        for hop in found.hops:
            route += (" → " if hop.forward else " ← ") + text(hop.target.label, lang)
        print(route)
    for hop in found.hops:
        source, target = text(hop.source.label, lang), text(hop.target.label, lang)
        if hop.forward:
            print(f"  {source} —[{text(hop.relation, lang)}]→ {target}")
        else:
            documented = relation_labels.get(hop.relation_iri, hop.relation)
            print(f"  {source} ←[{text(documented, lang)}]— {target}")
        print_citations(hop.evidence, "      ")


def cmd_path(args: argparse.Namespace) -> int:
    from graph.catalog import require_product
    from graph.paths import io_path, path

    lang = lang_of(args)
    if args.source and args.target and not args.product and args.mode is None:
        snapshot = snapshot_of(args)
        found = path(snapshot, args.source, args.target, directed=not args.undirected)
    elif args.product and not args.source and not args.undirected:
        snapshot = snapshot_of(args)
        product = require_product(snapshot, args.product)
        # no --mode: the product's own path (Virtual Server 2005 R2 has only the emulated one)
        found = io_path(snapshot, product.id, IoMode[args.mode.upper()] if args.mode else None)
    else:
        raise BadInput(
            "path",
            {
                "en": "give FROM and TO (and --undirected), or --product (and --mode), not both",
                "ja": "FROMとTO(と--undirected)か、--product(と--mode)のどちらかを指定してください",
            },
        )
    if found is None:
        print(word("no_path", lang))
        return 1
    print_path(found, lang, snapshot.tables.labels)
    return 0
