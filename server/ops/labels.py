"""The labels of a request in /metrics and the access log: its interface and its operation.

`interface` is graphql, sparql, page, download, health, metrics or other; `operation` the GraphQL operationName of a
portal's operation ("other"; "anonymous" when unnamed), the SPARQL query form (select, ask, construct, describe,
update, other; "description" for the service description and query page) or "page" (/, /id/, /docs). The adapter
names the operation of a request it reads; `operation_of` reads it for one it did not (server.ops.middleware).

These labels count, they never decide: the SPARQL gate parses the query (server.sparql.gate); a label read
wrong here is a count in the wrong row, not a query let through.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl

from starlette.types import Scope

OPERATIONS_DIR = Path(__file__).resolve().parents[1] / "static" / "graphiql" / "operations"
_OPERATION = re.compile(r"(?:^|[\s{}])(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")


def known_operations(directory: Path = OPERATIONS_DIR) -> frozenset[str]:
    """The portals' operation names (the GraphiQL tabs mirror shared/contract/operations), and introspection."""
    names = {"IntrospectionQuery"}
    files = sorted(directory.glob("*.graphql"))
    if not files:
        # Without them every portal's operation would be counted as "other", silently (a moved module once did it).
        raise FileNotFoundError(f"no portal operations in {directory}")
    for path in files:
        names.update(_OPERATION.findall(path.read_text(encoding="utf-8")))
    return frozenset(names)


KNOWN_OPERATIONS = known_operations()


# --- what a request is ----------------------------------------------------------------------------------------


def interface_of(path: str) -> str:
    if path == "/graphql" or path.startswith("/graphql/"):
        return "graphql"
    if path in ("/sparql", "/sparql/"):
        return "sparql"
    if path == "/" or path.startswith(("/id/", "/docs")):
        return "page"
    if path.startswith("/download/") or path == "/store":
        return "download"
    if path == "/healthz":
        return "health"
    if path == "/metrics":
        return "metrics"
    return "other"


def graphql_operation(operation_name: object, query: object) -> str:
    """The label for one GraphQL request: a known operation's name, "anonymous", or "other"."""
    if isinstance(operation_name, str) and operation_name:
        return operation_name if operation_name in KNOWN_OPERATIONS else "other"
    if not isinstance(query, str):
        return "other"
    names = _OPERATION.findall(query)
    if len(names) == 1:
        return names[0] if names[0] in KNOWN_OPERATIONS else "other"
    if not names and query.lstrip().startswith(("{", "query", "#")):
        return "anonymous"
    return "other"


_IRI = re.compile(r"<[^<>\s]*>")
_COMMENT = re.compile(r"#[^\n]*")
_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
_FORM = re.compile(r"(?<![\w:?$])(select|ask|construct|describe)(?![\w:])", re.IGNORECASE)
_UPDATE = re.compile(r"(?<![\w:?$])(insert|delete|load|clear|drop|create|add|move|copy)(?![\w:])", re.IGNORECASE)


def iris_and_strings_emptied(text: str) -> str:
    """SPARQL text with every IRI and quoted string emptied (`<>`, `""`): a `#` left in it starts a comment."""
    return _STRING.sub('""', _IRI.sub("<>", text))


def sparql_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE (lower-case), "update", or "other": the first keyword after the prologue."""
    bare = _COMMENT.sub(" ", iris_and_strings_emptied(text))
    found = _FORM.search(bare)
    update = _UPDATE.search(bare)
    if update is not None and (found is None or update.start() < found.start()):
        return "update"
    return found.group(1).lower() if found else "other"


def sparql_operation(query_string: bytes) -> str:
    """The label of a GET: the form of its `query`, "update", or "description" (no query)."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if any(key == "update" for key, _ in pairs):
        return "update"
    query = next((value for key, value in pairs if key == "query"), None)
    return "description" if query is None else sparql_form(query)


# --- a request its adapter did not name ---------------------------------------------------------------------------


def operation_of(scope: Scope, interface: str, path: str) -> str:
    """The operation label of a request its adapter did not name (see server.ops.middleware)."""
    query_string: bytes = scope.get("query_string", b"")
    posted = scope.get("method") == "POST"
    if interface == "graphql":
        if path != "/graphql":
            return "static"
        if posted:
            return "other"  # refused before its document was read (size, media type, JSON)
        params = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
        if "query" not in params:
            return "ide"
        return graphql_operation(params.get("operationName"), params.get("query"))
    if interface == "sparql":
        # The endpoint names every request it reads; one it refused before (media type, size) is "other".
        return "other" if posted else sparql_operation(query_string)
    if interface == "page":
        return "page"
    return {"download": "download", "health": "healthz", "metrics": "metrics"}.get(interface, "other")
