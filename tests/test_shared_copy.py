"""tests/shared is the part of ../shared that the tests read, byte for byte and in the same layout.

A clone with nothing beside it must pass `make test`, so the contract and the shared tools live in the repository
too. Beside ../shared (development, CI) the copy must equal it, no file missing or extra: `make shared` refreshes
it. Without ../shared the copy must still hold together: every part there, the pending list naming only what the
contract has, every operation valid against the contract's schema, every example's operation present, and the
tools finding their files through their own relative paths.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import graphql

from tests import contract

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT.parent / "shared"
COPY = contract.SHARED
REFRESH = "run make shared / make shared を実行してください"
# What is mirrored, as the Makefile's SHARED_PARTS says (checked below): folders whole, and single files.
PARTS = ("contract", "tools/contract_check.py", "tools/w3c_protocol.py", "w3c")
# schema coordinates as pending.json writes them: Type, Type.field, Type.field(argument:)
COORDINATE = re.compile(r"(?P<type>\w+)(?:\.(?P<field>\w+)(?:\((?P<arg>\w+):\))?)?")


def files(root: Path, parts: tuple[str, ...] = PARTS) -> dict[str, bytes]:
    """Each file of the parts under root, by its path relative to root (Python's bytecode caches left out)."""
    found: dict[str, bytes] = {}
    for part in parts:
        path = root / part
        inside = sorted(path.rglob("*")) if path.is_dir() else [path] if path.is_file() else []
        for file in inside:
            if file.is_file() and "__pycache__" not in file.parts:
                found[file.relative_to(root).as_posix()] = file.read_bytes()
    return found


def pending() -> dict[str, Any]:
    found: dict[str, Any] = json.loads((COPY / "contract" / "pending.json").read_text(encoding="utf-8"))
    return found


def test_the_mirrored_parts_are_the_makefiles() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^SHARED_PARTS\s*:?=(.*)$", makefile, re.MULTILINE)
    assert found, "Makefile: SHARED_PARTS is missing"
    assert tuple(found.group(1).split()) == PARTS


def test_the_copy_equals_shared_beside_the_checkout() -> None:
    copy = files(COPY)
    if UPSTREAM.is_dir():
        upstream = files(UPSTREAM)
        missing = sorted(upstream.keys() - copy.keys())
        extra = sorted(copy.keys() - upstream.keys())
        differ = sorted(name for name in upstream.keys() & copy.keys() if upstream[name] != copy[name])
        assert (missing, extra, differ) == ([], [], []), (
            f"tests/shared differs from {UPSTREAM}: missing {missing}, extra {extra}, different {differ}: {REFRESH}"
        )
    else:
        # no ../shared (a fresh clone): the copy is whole, every part there and no file empty
        for part in PARTS:
            assert (COPY / part).exists(), f"tests/shared/{part} is missing: {REFRESH} beside ../shared"
        assert copy
        assert all(copy.values()), [name for name, data in copy.items() if not data]


def test_the_copy_holds_only_the_mirrored_parts() -> None:
    everything = {
        file.relative_to(COPY).as_posix()
        for file in COPY.rglob("*")
        if file.is_file() and "__pycache__" not in file.parts
    }
    assert everything == set(files(COPY)), f"files in tests/shared that ../shared does not give: {REFRESH}"


def test_every_example_sends_an_operation_of_the_contract() -> None:
    names = [example["name"] for example in contract.EXAMPLES]
    assert len(names) == len(set(names)), "example names repeat"
    for example in contract.EXAMPLES:
        assert "query" in example or example["operation"] in contract.OPERATIONS, example["name"]


def test_pending_names_only_what_the_contract_has() -> None:
    listed = pending()
    assert set(listed) >= {"schema", "operations", "examples"}
    assert set(listed["operations"]) <= set(contract.OPERATIONS), "pending operations that do not exist"
    assert set(listed["examples"]) <= {e["name"] for e in contract.EXAMPLES}, "pending examples that do not exist"
    schema = graphql.build_schema(contract.SCHEMA)
    for coordinate in listed["schema"]:
        found = COORDINATE.fullmatch(coordinate)
        assert found, f"not a schema coordinate: {coordinate}"
        named = schema.get_type(found["type"])
        assert named is not None, coordinate
        if found["field"]:
            if isinstance(named, graphql.GraphQLEnumType):
                assert found["field"] in named.values, coordinate
            else:
                assert isinstance(named, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType), coordinate
                assert found["field"] in named.fields, coordinate
                assert not found["arg"] or found["arg"] in named.fields[found["field"]].args, coordinate


def test_every_operation_is_valid_against_the_contracts_schema() -> None:
    schema = graphql.build_schema(contract.SCHEMA)
    assert contract.OPERATIONS
    for name, text in contract.OPERATIONS.items():
        document = graphql.parse(text)
        assert [e.message for e in graphql.validate(schema, document)] == [], name
        # a portal sends one named operation per file, named as its file
        (operation,) = document.definitions
        assert isinstance(operation, graphql.OperationDefinitionNode), name
        assert operation.name is not None and f"{operation.name.value}.graphql" == name


def test_the_tools_find_their_files_in_the_copy() -> None:
    # contract_check.py and w3c_protocol.py find the contract and the W3C manifest by paths relative to themselves
    assert Path(contract.contract_check().CONTRACT) == COPY / "contract"
    manifest = COPY / "w3c" / "sparql11-protocol" / "manifest.ttl"
    tool = (COPY / "tools" / "w3c_protocol.py").read_text(encoding="utf-8")
    assert '"w3c" / "sparql11-protocol" / "manifest.ttl"' in tool
    data = set(re.findall(r"<([\w.-]+\.nt)>", manifest.read_text(encoding="utf-8")))
    assert data, "the manifest names no data files"
    assert all((manifest.parent / name).is_file() for name in data), data
