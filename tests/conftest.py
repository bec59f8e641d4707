"""Shared fixtures: the shipped snapshot (built once per session), the service over it on a real uvicorn, and a
copy of the data to break."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.build import build_snapshot
from graph.layout import ROOT, DataLayout
from graph.snapshot import Snapshot
from server.app import create_app
from server.ops.state import SnapshotHolder
from tests.live import serve

ARTICLE = ROOT / "graph" / "sources" / "article-ja.txt"

# The suite's validated-snapshot cache lives in its own temporary folder, never in the user's ~/.cache;
# set before any test (or server subprocess, which inherits it) builds a snapshot.
os.environ.setdefault("HVKG_CACHE_DIR", tempfile.mkdtemp(prefix="hvkg-test-cache-"))


@pytest.fixture(scope="session")
def snapshot() -> Snapshot:
    return build_snapshot()


@pytest.fixture(scope="module")
def base(snapshot: Snapshot) -> Iterator[str]:
    """The URL of the service's own app (its middleware: the headers the pages must work under) on a real uvicorn
    on loopback, over the shipped snapshot; one server per test module that asks for it."""
    holder = SnapshotHolder()
    holder.swap(snapshot)
    with serve(create_app(holder=holder)) as url:
        yield url


@pytest.fixture
def data_copy(tmp_path: Path) -> DataLayout:
    """A private copy of every data file, for tests that break one."""
    for part in ("ontology", "queries", "graph/facts", "graph/sources"):
        shutil.copytree(ROOT / part, tmp_path / part)
    shutil.copy(ROOT / "graph" / "sources.ttl", tmp_path / "graph" / "sources.ttl")
    return DataLayout(tmp_path)
