"""Shared fixtures: the shipped snapshot (built once per session) and a copy of the data to break."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from graph.build import build_snapshot
from graph.layout import ROOT, DataLayout
from graph.snapshot import Snapshot

ARTICLE = ROOT / "graph" / "sources" / "article-ja.txt"

# The suite's validated-snapshot cache lives in its own temporary folder, never in the user's ~/.cache;
# set before any test (or server subprocess, which inherits it) builds a snapshot.
os.environ.setdefault("HVKG_CACHE_DIR", tempfile.mkdtemp(prefix="hvkg-test-cache-"))


@pytest.fixture(scope="session")
def snapshot() -> Snapshot:
    return build_snapshot()


@pytest.fixture
def data_copy(tmp_path: Path) -> DataLayout:
    """A private copy of every data file, for tests that break one."""
    for part in ("ontology", "queries", "graph/facts", "graph/sources"):
        shutil.copytree(ROOT / part, tmp_path / part)
    shutil.copy(ROOT / "graph" / "sources.ttl", tmp_path / "graph" / "sources.ttl")
    return DataLayout(tmp_path)
