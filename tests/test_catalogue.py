"""bench/catalogue.py writes data directories that the service accepts: valid against the shapes and the
violation queries, of about the size asked for, with the portals' usual names, and the same every time."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from graph.build import build_snapshot
from graph.layout import ROOT, DataLayout
from graph.model import Architecture
from graph.named_graphs import filed
from graph.problems import InvalidGraph
from graph.verdicts import check_guest

CATALOGUE = ROOT / "bench" / "catalogue.py"


def load_catalogue() -> ModuleType:
    spec = importlib.util.spec_from_file_location("catalogue", CATALOGUE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["catalogue"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("triples", [2_000, 6_000])
def test_a_catalogue_is_valid_and_about_the_size_asked_for(tmp_path: Path, triples: int) -> None:
    catalogue = load_catalogue()
    catalogue.generate(tmp_path / "data", triples)
    snapshot = build_snapshot(DataLayout(tmp_path / "data"), cache_dir=None)  # raises InvalidGraph if not valid
    assert 0.8 * triples <= snapshot.triple_count <= 1.2 * triples
    verdict = check_guest(snapshot, "hyper-v", "windows xp", None, 1, Architecture.X86, 1)
    assert verdict.operating_system is not None and verdict.operating_system.label["en"] == "Windows XP"
    assert verdict.supported
    misspelt = check_guest(snapshot, "hyper-v", "Windws XP", None, 1, Architecture.X86, 1)
    assert misspelt.reasons[0].code.name == "UNKNOWN_OPERATING_SYSTEM"
    assert "Windows XP" in misspelt.reasons[0].message["en"]


def test_the_catalogue_is_the_same_every_time(tmp_path: Path) -> None:
    catalogue = load_catalogue()
    catalogue.generate(tmp_path / "a", 3_000)
    catalogue.generate(tmp_path / "b", 3_000)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_hvkg_validate_accepts_a_catalogue(tmp_path: Path) -> None:
    load_catalogue().generate(tmp_path / "data", 1_000)
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "--data", str(tmp_path / "data"), "validate"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "HVKG_CACHE_DIR": "off", "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("valid: ")


# --- large inputs: pyoxigraph's store behind rdflib's API ---------------------------------------------------------


def test_a_large_input_gives_the_same_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above LARGE_INPUT_BYTES the graph is parsed by pyoxigraph and read through oxrdflib: same tables, answers."""
    small = build_snapshot(cache_dir=None)
    monkeypatch.setattr("graph.loading.LARGE_INPUT_BYTES", 0)
    large = build_snapshot(cache_dir=None)
    assert large.graph.store is not small.graph.store and type(large.graph.store).__name__ == "OxigraphStore"
    assert large.triple_count == small.triple_count == len(large.graph)
    # a large input keeps no named graphs by default (HVKG_NAMED_GRAPHS=auto): its store is the default graph
    assert large.store is not None and not filed(large) and len(large.store) == large.triple_count
    assert small.store is not None and filed(small) and len(small.store) > small.triple_count
    for name in small.tables.__dataclass_fields__:
        if name != "alt_labels":  # labels.rq has no ORDER BY: the short names come in another order
            assert getattr(large.tables, name) == getattr(small.tables, name), name
    assert {k: set(v) for k, v in large.tables.alt_labels.items()} == {
        k: set(v) for k, v in small.tables.alt_labels.items()
    }
    for name in ("Windows XP", "Windws XP", "SLES 10", "Windows NT"):
        for sp in (0, 2, 3):
            assert check_guest(large, "hyper-v", name, None, sp, Architecture.X86, 2) == check_guest(
                small, "hyper-v", name, None, sp, Architecture.X86, 2
            )
    vmbus = "https://hyperv-kg.example.org/id/vmbus"
    assert large.descriptions[vmbus].label == small.descriptions[vmbus].label
    assert len(large.descriptions[vmbus].incoming) == len(small.descriptions[vmbus].incoming)


def test_a_large_input_is_validated_as_strictly(data_copy: DataLayout, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("graph.loading.LARGE_INPUT_BYTES", 0)
    guests = data_copy.root / "graph/facts/guests.ttl"
    text = guests.read_text(encoding="utf-8")
    guests.write_text(text.replace("hv:maxVirtualProcessors 2 ;", "hv:maxVirtualProcessors 0 ;", 1), encoding="utf-8")
    with pytest.raises(InvalidGraph) as caught:
        build_snapshot(data_copy, cache_dir=None)
    assert [(p.file, p.rule) for p in caught.value.problems] == [("graph/facts/guests.ttl", "hv:GuestSupportShape")]
    guests.write_text(
        text.replace("hv:maxVirtualProcessors 2 ;", "hv:maxVirtualProcessors 2 ;;; ]", 1), encoding="utf-8"
    )
    with pytest.raises(InvalidGraph) as caught:
        build_snapshot(data_copy, cache_dir=None)
    assert [(p.file, p.rule) for p in caught.value.problems] == [("graph/facts/guests.ttl", "turtle-syntax")]
