"""The graph the commands read: `--data` to a validated snapshot (graph.build, cached), and `hvkg validate`,
which always builds afresh and says what it found."""

from __future__ import annotations

import argparse

from graph.build import build_snapshot
from graph.layout import DataLayout
from graph.snapshot import Snapshot
from server.cli.errors import lang_of
from server.cli.tables import write


def layout_of(args: argparse.Namespace) -> DataLayout:
    return DataLayout(args.data) if args.data else DataLayout()


def snapshot_of(args: argparse.Namespace) -> Snapshot:
    """The validated snapshot of `--data` (or of this checkout), read from the cache when it is current."""
    return build_snapshot(layout_of(args))


def cmd_validate(args: argparse.Namespace) -> int:
    from graph.validation import messages_in

    lang = lang_of(args)
    # validate always means validating: never read a cached snapshot here; its messages in the asked language
    with messages_in(lang):
        snapshot = build_snapshot(layout_of(args), cache_dir=None)
    tables = snapshot.tables
    counts = (
        len(tables.guest_rows),
        len(tables.host_rows),
        len(tables.license_rows),
        len(tables.storage_formats),
        len(tables.components),
        len(tables.relations),
    )
    if lang == "ja":
        write(
            f"有効: {snapshot.triple_count} トリプル、内容ハッシュ {snapshot.content_hash[:16]}\n"
            "  ゲストOSの行 {}、ホストOSの行 {}、ライセンスの行 {}、記憶装置の形式 {}、構成要素 {}、関係 {}\n".format(
                *counts
            )
        )
        return 0
    write(
        f"valid: {snapshot.triple_count} triples, content hash {snapshot.content_hash[:16]}\n"
        "  guest rows {}, host rows {}, licence rows {}, storage formats {}, components {}, relations {}\n".format(
            *counts
        )
    )
    return 0
