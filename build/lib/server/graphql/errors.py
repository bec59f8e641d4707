"""The errors a GraphQL client sees: each with `extensions.code` and, for a person, `extensions.messageJa`.

    BAD_REQUEST                  the HTTP request is unusable (400) or asks for something not served
    PAYLOAD_TOO_LARGE            the body is over MAX_BODY_BYTES (413)
    GRAPHQL_PARSE_FAILED         the query is not GraphQL
    QUERY_TOO_COMPLEX            over MAX_TOKENS, MAX_DEPTH or MAX_ALIASES (server.graphql.limits)
    GRAPHQL_VALIDATION_FAILED    the query does not fit the schema
    BAD_USER_INPUT               an argument or variable is wrong (graph.model.BadInput, variable coercion)
    INTERNAL_SERVER_ERROR        anything else: masked, the detail is logged with the request id
    SERVICE_UNAVAILABLE          no snapshot is loaded yet (503)

GraphQL-level errors come with HTTP 200 (the `application/json` convention that the portals' clients
expect). Masking is ours, not strawberry's MaskErrors: that extension hooks strawberry's execution, which
this adapter does not run (see /work/notes/i15d-decisions.md, docs/decisions.md), and it has no codes,
request ids or Japanese.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from graph.model import BadInput

log = logging.getLogger(__name__)


class RequestError(Exception):
    """A request that is answered with these errors, and this HTTP status, before anything is executed."""

    def __init__(self, errors: list[dict[str, Any]], status: int = 200) -> None:
        super().__init__(errors[0]["message"])
        self.errors = errors
        self.status = status


def reject(code: str, en: str, ja: str, status: int = 200) -> RequestError:
    return RequestError([error(code, en, ja)], status)


def error(code: str, en: str, ja: str, **extensions: object) -> dict[str, Any]:
    return {"message": en, "extensions": {"code": code, "messageJa": ja, **extensions}}


def internal(request_id: str) -> dict[str, Any]:
    return error(
        "INTERNAL_SERVER_ERROR",
        f"Internal error (request id {request_id})",
        f"内部エラー(リクエストID {request_id})",
        requestId=request_id,
    )


def classify(err: GraphQLError, request_id: str) -> dict[str, Any]:
    """An execution error as the client sees it: bad input says what is wrong, the rest is masked."""
    original = err.original_error
    if isinstance(original, BadInput):
        en, ja = (_naming(original.argument, original.message[lang]) for lang in ("en", "ja"))
        body = error("BAD_USER_INPUT", en, ja, argument=original.argument)
    else:
        log.error("request %s: unexpected error at %s: %s", request_id, err.path, err, exc_info=original or err)
        body = internal(request_id)
    if err.path is not None:
        body["path"] = err.path
    return _located(body, err)


def _naming(argument: str, message: str) -> str:
    """The message, starting with the argument it is about ("virtualProcessors: must be 1 or more")."""
    return message if message.startswith(f"{argument}:") else f"{argument}: {message}"


def validation_error(err: GraphQLError) -> dict[str, Any]:
    body = error("GRAPHQL_VALIDATION_FAILED", err.message, f"クエリがスキーマに合いません: {err.message}")
    return _located(body, err)


def variable_error(err: GraphQLError) -> dict[str, Any]:
    return _located(error("BAD_USER_INPUT", err.message, f"変数の値が不正です: {err.message}"), err)


def _located(body: dict[str, Any], err: GraphQLError) -> dict[str, Any]:
    if err.locations:
        body["locations"] = [{"line": loc.line, "column": loc.column} for loc in err.locations]
    return body
