"""`hvkg export`: the whole graph in an RDF format, the same bytes every run (graph/rdf_export.py writes it)."""

from __future__ import annotations

import argparse

from graph.rdf_export import FORMATS, export
from server.cli.data import snapshot_of
from server.cli.tables import write_bytes

__all__ = ["FORMATS", "cmd_export"]


def cmd_export(args: argparse.Namespace) -> int:
    data = export(snapshot_of(args), args.format)
    if args.output:
        args.output.write_bytes(data)
    else:
        write_bytes(data)
    return 0
