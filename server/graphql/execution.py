"""One GraphQL request executed: its text prepared once (parse, limits, validation), then run on a snapshot.

`prepare` does what depends on the query text alone and keeps it (LRU): the portals send a handful of
operation texts. `execute` runs a prepared document with the request's variables: by its plan
(server.graphql.plan) when it has one, else by graphql-core directly on the prepared document, which is
the call strawberry would make after parsing and validating again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, TypeGuard, cast

import strawberry
from graphql import DocumentNode, FieldNode, GraphQLError, OperationType, get_operation_ast, specified_rules, validate
from graphql import execute as graphql_execute
from graphql.execution.executor import Executor
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import DisableValidation
from strawberry.types import ExecutionContext

from server.graphql.errors import RequestError, classify, reject, validation_error, variable_error
from server.graphql.limits import check_limits, parse_within_limits
from server.graphql.plan import Plan, make_plan, run_plan
from server.graphql.query import SCHEMA_TYPES, Query
from server.graphql.types import Context
from server.ops.labels import graphql_operation


class _ExecutionSchema(strawberry.Schema):
    """The schema as executed here: validated beforehand by `_prepare`, errors classified and logged by `classify`."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Logged once, with the request id, by `classify`; strawberry's own logging would repeat it."""


SCHEMA = _ExecutionSchema(query=Query, types=SCHEMA_TYPES, extensions=[DisableValidation])


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


@dataclass(frozen=True)
class Prepared:
    """What a query text comes to before any variable is read: a checked document, or the errors to answer."""

    document: DocumentNode | None
    errors: list[dict[str, Any]] | None = None
    # Only checkGuest / checkHost at the root: small, bounded work that runs on the event loop (no thread hop).
    quick: bool = False
    # The operation's label in /metrics and the access line (server.ops.labels.graphql_operation).
    label: str = "other"
    # How to execute it without graphql-core's general executor (server.graphql.plan), when it can be.
    plan: Plan | None = None
    # With errors: the status they call for whatever the media type (405: a mutation, never run by GET), or 200.
    status: int = 200


# strawberry's check, typed as graphql-core declares it
_IS_AWAITABLE = cast("Callable[[Any], TypeGuard[Awaitable[Any]]]", optimized_is_awaitable)
QUICK_ROOTS = frozenset({"checkGuest", "checkHost", "__typename"})


@lru_cache(maxsize=256)
def prepare(query: str, operation_name: str | None) -> Prepared:
    """Lex, parse, pick the operation, check the limits and validate, once per (query text, operation name).

    The schema never changes while the process runs, so the outcome depends on these two strings alone; the
    portals send a handful of operation texts, so nearly every request is a hit.
    """
    label = graphql_operation(operation_name, query)
    try:
        return replace(_prepare(query, operation_name), label=label)
    except RequestError as err:
        return Prepared(None, err.errors, label=label, status=err.status)


def _prepare(query: str, operation_name: str | None) -> Prepared:
    document = parse_within_limits(query)
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        if operation_name:
            raise reject(
                "BAD_REQUEST",
                f"The document has no operation named {operation_name[:80]!r}.",
                f"{operation_name[:80]!r} という名前の操作はありません。",
            )
        raise reject(
            "BAD_REQUEST",
            "The document holds several operations (or none): say which one in operationName.",
            "文書に操作が複数(または0個)あります。operationName で指定してください。",
        )
    if operation.operation is not OperationType.QUERY:
        kind = operation.operation.value
        raise reject(
            "BAD_REQUEST",
            f"Only queries are served: this service has no {kind} operations (it is read-only).",
            f"クエリのみ受け付けます。このサービスは読み取り専用で、{kind} 操作はありません。",
            status=405,  # GraphQL over HTTP: a GET that names a mutation is 405; a POST keeps its media type's status
        )
    check_limits(document, operation)
    errors = validate(SCHEMA._schema, document, specified_rules)
    if errors:
        raise RequestError([validation_error(e) for e in errors])
    quick = all(
        isinstance(selection, FieldNode) and selection.name.value in QUICK_ROOTS
        for selection in operation.selection_set.selections
    )
    return Prepared(document, quick=quick, plan=make_plan(SCHEMA, document, operation))


def execute(request: GraphQLRequest, context: Context) -> dict[str, Any]:
    """The JSON response body for one GraphQL request."""
    prepared = prepare(request.query, request.operation_name)
    if prepared.document is None:
        return {"errors": prepared.errors}
    if prepared.plan is not None:
        executor = Executor.build(
            SCHEMA._schema,
            prepared.document,
            context_value=context,
            raw_variable_values=request.variables,
            operation_name=request.operation_name,
            is_awaitable=_IS_AWAITABLE,
        )
        if not isinstance(executor, list):  # else the variables do not fit: graphql-core says how, below
            try:
                return {"data": run_plan(prepared.plan, executor)}
            except Exception:  # noqa: S110 - graphql-core answers it, errors and all (server.graphql.plan)
                pass
    # graphql-core directly on the prepared document: strawberry's execute_sync would parse the text again.
    # The schema has no extension that hooks execution (DisableValidation acts before it), so this is the
    # call strawberry makes.
    result = graphql_execute(
        SCHEMA._schema,
        prepared.document,
        context_value=context,
        variable_values=request.variables,
        operation_name=request.operation_name,
        is_awaitable=_IS_AWAITABLE,
    )
    assert not isinstance(result, Awaitable)  # every resolver is synchronous
    errors = result.errors or []
    if result.data is None and errors and all(e.path is None for e in errors):
        # Nothing ran: the variables do not fit their definitions (graphql-core coerces them first).
        return {"errors": [variable_error(e) for e in errors]}
    body: dict[str, Any] = {}
    if result.data is not None or any(e.path is not None for e in errors):
        body["data"] = result.data
    if errors:
        body["errors"] = [classify(e, context.request_id) for e in errors]
    return body


def internal_error_in(body: Mapping[str, Any]) -> bool:
    return any(e.get("extensions", {}).get("code") == "INTERNAL_SERVER_ERROR" for e in body.get("errors", ()))
