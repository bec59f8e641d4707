"""The rooms of the code (README "Where things are"): the import contracts of pyproject.toml hold, and the rooms
already moved into packages keep every module under 400 lines (issue 15)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["server/graphql", "server/sparql", "server/web"]


def test_the_import_contracts_hold() -> None:
    """graph/ in layers with no circle, graph never importing server, no adapter importing another."""
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout and "3 kept" in result.stdout


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_of_a_moved_room_is_over_400_lines(package: str) -> None:
    modules = sorted((ROOT / package).glob("*.py"))
    assert len(modules) > 5
    long = {m.name: n for m in modules if (n := len(m.read_text(encoding="utf-8").splitlines())) > 400}
    assert long == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_each_room_says_what_it_owns_and_may_import(package: str) -> None:
    init = (ROOT / package / "__init__.py").read_text(encoding="utf-8")
    assert init.startswith('"""') and "import" in init.split('"""')[1]
