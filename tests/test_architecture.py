"""The rooms of the code (README "Where things are"): the import contracts of pyproject.toml hold, and the rooms
already moved into packages keep every module under 400 lines (issue 15)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["server/cli", "server/graphql", "server/ops", "server/sparql", "server/web"]


def test_the_import_contracts_hold() -> None:
    """graph/ in layers with no circle, graph never importing server, server in layers (top, adapters, ops), no
    adapter importing another."""
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout and "4 kept" in result.stdout


@pytest.mark.parametrize("package", PACKAGES)
def test_each_room_has_its_modules(package: str) -> None:
    assert len(sorted((ROOT / package).glob("*.py"))) > 5


def test_no_module_of_the_code_is_over_400_lines() -> None:
    """Every module of graph/ and server/, rooms and top alike (issue 15): small enough to read at once."""
    modules = sorted([*(ROOT / "graph").rglob("*.py"), *(ROOT / "server").rglob("*.py")])
    assert len(modules) > 80
    long = {
        str(m.relative_to(ROOT)): n for m in modules if (n := len(m.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_each_room_says_what_it_owns_and_may_import(package: str) -> None:
    init = (ROOT / package / "__init__.py").read_text(encoding="utf-8")
    assert init.startswith('"""') and "import" in init.split('"""')[1]


def test_the_architecture_page_names_every_module_of_graph_and_every_room() -> None:
    """docs/architecture.md is drawn from the code: a module or room it does not name is a page out of date."""
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    graph_modules = sorted(p.name for p in (ROOT / "graph").glob("*.py") if p.name != "__init__.py")
    rooms = sorted(p.name for p in (ROOT / "server").iterdir() if (p / "__init__.py").is_file())
    shared = sorted(p.name for p in (ROOT / "server").glob("*.py") if p.name != "__init__.py")
    assert len(graph_modules) > 15 and rooms == ["cli", "graphql", "ops", "sparql", "web"]
    assert [m for m in graph_modules if f"graph/{m}" not in page] == []
    assert [r for r in rooms if f"server/{r}/" not in page] == []
    assert [m for m in shared if f"server/{m}" not in page] == []
