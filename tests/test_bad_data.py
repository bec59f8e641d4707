"""Broken data is refused with a message naming the file, the resource and the rule; never served."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from graph.build import build_snapshot
from graph.layout import ROOT, DataLayout
from graph.problems import InvalidGraph
from graph.snapshot import Snapshot
from graph.validation import messages_in
from server.app import load_into
from server.ops.state import SnapshotHolder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems_of(layout: DataLayout) -> list[str]:
    with pytest.raises(InvalidGraph) as caught:
        build_snapshot(layout)
    return [str(p) for p in caught.value.problems]


def test_turtle_syntax_error_names_file_and_line(data_copy: DataLayout) -> None:
    edit(
        data_copy.root / "graph/facts/guests.ttl",
        "hv:maxVirtualProcessors 4 ;",
        "hv:maxVirtualProcessors 4 ;;; ]",
    )
    problems = problems_of(data_copy)
    assert len(problems) == 1
    assert problems[0].startswith("graph/facts/guests.ttl:")
    assert "[turtle-syntax]" in problems[0]
    assert re.search(r"line \d+", problems[0])


def test_fact_without_passage(data_copy: DataLayout) -> None:
    edit(
        data_copy.root / "graph/facts/guests.ttl",
        "    prov:wasDerivedFrom article:p-guest-row-05 , article:p-guest-01 , article:p-guest-header .",
        '    hv:asOf "2008-08"^^xsd:gYearMonth .',
    )
    edit(
        data_copy.root / "graph/facts/guests.ttl",
        'hv:rowNumber 5 ;\n    hv:asOf "2008-08"^^xsd:gYearMonth ;',
        "hv:rowNumber 5 ;",
    )
    problems = problems_of(data_copy)
    assert any(
        p.startswith("graph/facts/guests.ttl: kg:guest-row-05 [hv:CitedShape]") and "passage" in p for p in problems
    ), problems


def test_missing_japanese_label(data_copy: DataLayout) -> None:
    edit(
        data_copy.root / "graph/facts/products.ttl",
        'skos:prefLabel "Hyper-V"@en , "Hyper-V"@ja ;',
        'skos:prefLabel "Hyper-V"@en ;',
    )
    problems = problems_of(data_copy)
    assert any("graph/facts/products.ttl" in p and "kg:hyper-v " in p and "Japanese label" in p for p in problems), (
        problems
    )


def test_guest_row_with_maximum_zero(data_copy: DataLayout) -> None:
    edit(
        data_copy.root / "graph/facts/guests.ttl",
        "hv:maxVirtualProcessors 1 ;",
        "hv:maxVirtualProcessors 0 ;",
    )
    problems = problems_of(data_copy)
    assert any(
        p.startswith("graph/facts/guests.ttl: kg:guest-row-05") and ">= 1" in p and "maxVirtualProcessors" in p
        for p in problems
    ), problems


def test_quote_that_is_not_verbatim(data_copy: DataLayout) -> None:
    edit(
        data_copy.root / "graph/sources.ttl",
        "Windows XP SP3 Professional(x86) | 2 |",
        "Windows XP SP3 Professional(x86) | 4 |",
    )
    problems = problems_of(data_copy)
    assert problems == [
        "graph/sources.ttl: article:p-guest-row-08 [verbatim-quote] the quote is not a verbatim part of "
        "graph/sources/article-ja.txt"
    ]
    # the same problem in Japanese when asked for, one language per message, never both at once
    with messages_in("ja"):
        japanese = problems_of(data_copy)
    assert japanese == [
        "graph/sources.ttl: article:p-guest-row-08 [verbatim-quote] "
        "引用が原文 graph/sources/article-ja.txt と一字一句一致しません"
    ]


def test_relation_without_its_statement(data_copy: DataLayout) -> None:
    path = data_copy.root / "graph/facts/relations.ttl"
    path.write_text(path.read_text(encoding="utf-8") + "\nkg:vsc hv:runsIn kg:child-partition .\n", encoding="utf-8")
    problems = problems_of(data_copy)
    assert any("kg:vsc" in p and "hv:RelationStatementShape" in p for p in problems), problems


def test_validate_command_reports_and_fails(data_copy: DataLayout) -> None:
    edit(
        data_copy.root / "graph/facts/guests.ttl",
        "hv:maxVirtualProcessors 1 ;",
        "hv:maxVirtualProcessors 0 ;",
    )
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "--data", str(data_copy.root), "validate"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "INVALID" in result.stderr and "kg:guest-row-05" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_command_passes_on_the_shipped_graph() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "validate"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "guest rows 12" in result.stdout


def test_a_broken_graph_never_replaces_a_valid_one(snapshot: Snapshot, data_copy: DataLayout) -> None:
    holder = SnapshotHolder()
    holder.swap(snapshot)
    edit(
        data_copy.root / "graph/facts/guests.ttl",
        "hv:maxVirtualProcessors 1 ;",
        "hv:maxVirtualProcessors 0 ;",
    )
    assert load_into(holder, data_copy) is False
    assert holder.current is snapshot
    # what /healthz shows anyone: the file and line that failed, never the data itself (the logs have the rest)
    assert holder.last_error is not None and "graph/facts/guests.ttl line " in holder.last_error
    assert "guest-row-05" not in holder.last_error
