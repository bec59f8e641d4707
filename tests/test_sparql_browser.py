"""The SPARQL query page in a real headless Chromium (`--dump-dom`, the page as it stands once its scripts have
run): a link to a named example opens it in the editor (Yasgui) and runs it, and the page needs no other host.
The editor's interactions (typing, completion, the address, downloads) are tested in tests/test_query_editor.py."""

from __future__ import annotations

import re
from pathlib import Path

from graph.snapshot import Snapshot
from tests.browser import run_chromium


def chromium(tmp_path: Path, *args: str) -> str:
    result = run_chromium(
        tmp_path / "profile",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--virtual-time-budget=15000",
        "--window-size=1300,1100",
        *args,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_an_example_runs_and_shows_its_table(base: str, tmp_path: Path, snapshot: Snapshot) -> None:
    dom = chromium(tmp_path, "--dump-dom", f"{base}/sparql#example=guest-table")
    assert "<table" in dom
    # the guest table query returns one row per (row, edition, service pack); every row IRI is a link
    expected = len(list(snapshot.graph.query(snapshot.queries["guest-table"])))
    assert f"{expected} rows" in dom
    links = set(re.findall(r'href="(/id/guest-row-\d\d)"', dom))
    assert links == {f"/id/guest-row-{n:02d}" for n in range(1, 13)}
    # each example of queries/ is offered in the list
    for name in snapshot.queries:
        assert f'value="{name}"' in dom


def test_the_page_needs_no_other_host(base: str, tmp_path: Path) -> None:
    page = chromium(tmp_path, "--dump-dom", f"{base}/sparql")
    assert not re.search(r'(src|href)="(https?:)?//', page)
    shot = tmp_path / "sparql.png"
    chromium(tmp_path, f"--screenshot={shot}", f"{base}/sparql#example=products")
    assert shot.stat().st_size > 10_000
