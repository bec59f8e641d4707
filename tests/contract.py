"""The portals' contract as the tests read it: the repository's own copy in tests/shared.

tests/shared mirrors ../shared byte for byte (`make shared` refreshes it, tests/test_shared_copy.py fails when it
drifts), so that a clone with nothing beside it passes `make test`. contract/pending.json lists the parts of the
contract's latest revision that a server need not meet yet; the tests read it with contract_check.py's own
functions, so that a pending operation, example or schema coordinate is held exactly as that tool holds it: when it
fails it is expected to fail (xfail, not strict), never a hard failure, and everything else must pass.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parent / "shared"
CONTRACT = SHARED / "contract"
CONTRACT_CHECK = SHARED / "tools" / "contract_check.py"
W3C_TOOL = SHARED / "tools" / "w3c_protocol.py"
SCHEMA = (CONTRACT / "schema.graphql").read_text(encoding="utf-8")
OPERATIONS = {p.name: p.read_text(encoding="utf-8") for p in sorted((CONTRACT / "operations").glob("*.graphql"))}
EXAMPLES: list[dict[str, Any]] = json.loads((CONTRACT / "examples.json").read_text(encoding="utf-8"))


@cache
def contract_check() -> ModuleType:
    """contract_check.py loaded as a module: its matcher and its reading of pending.json are the contract's own."""
    spec = importlib.util.spec_from_file_location("contract_check", CONTRACT_CHECK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PENDING: dict[str, Any] = contract_check().load_pending()


def pending_operation(file: str) -> bool:
    """An operation file (e.g. "Node.graphql") that a server need not run yet."""
    return file in PENDING["operations"]


def pending_example(example: dict[str, Any]) -> bool:
    """contract_check.py's rule: the example is pending, or the operation it sends is."""
    return example["name"] in PENDING["examples"] or pending_operation(example.get("operation", ""))


def pending_coordinate(coordinate: str) -> bool:
    """A schema coordinate ("Node", "Hop.direction", "Query.path(directed:)") listed as pending."""
    return coordinate in PENDING["schema"]


def pending_change(description: str) -> bool:
    """A breaking or dangerous change that names a pending coordinate (contract_check.py's is_pending_change)."""
    return bool(contract_check().is_pending_change(description, PENDING["schema"]))


def matches(expected: object, actual: object, where: str, problems: list[str]) -> bool:
    """contract_check.py's matcher ($contains, $ordered, $text, ...)."""
    return bool(contract_check().matches(expected, actual, where, problems))


def xfail_if_pending(value: object, pending: bool, name: str) -> Any:
    """A pytest.param of `value`, expected to fail (not strictly) when it is pending in the contract's revision."""
    reason = f"pending in contract revision: {name}"
    marks = [pytest.mark.xfail(strict=False, reason=reason)] if pending else []
    return pytest.param(value, id=name, marks=marks)
