"""GraphQL over HTTP at /graphql: JSON in and out, queries only, with limits and typed errors.

A request is read (GET query string or POST JSON, one operation, at most MAX_BODY_BYTES), lexed
(at most MAX_TOKENS), parsed, checked (a query, not a mutation or subscription; at most MAX_DEPTH
nested fields and MAX_ALIASES aliases), validated and executed on the snapshot that `holder.current`
held when the request arrived. Every error carries `extensions.code` and, for a person to read,
`extensions.messageJa`:

    BAD_REQUEST                  the HTTP request is unusable (400) or asks for something not served
    PAYLOAD_TOO_LARGE            the body is over MAX_BODY_BYTES (413)
    GRAPHQL_PARSE_FAILED         the query is not GraphQL
    QUERY_TOO_COMPLEX            over MAX_TOKENS, MAX_DEPTH or MAX_ALIASES
    GRAPHQL_VALIDATION_FAILED    the query does not fit the schema
    BAD_USER_INPUT               an argument or variable is wrong (graph.model.BadInput, variable coercion)
    INTERNAL_SERVER_ERROR        anything else: masked, the detail is logged with the request id
    SERVICE_UNAVAILABLE          no snapshot is loaded yet (503)

GraphQL-level errors come with HTTP 200 (the `application/json` convention that the portals' clients
expect). A browser asking for text/html without a query gets GraphiQL, served from server/static.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, TypeGuard, cast

import orjson
import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Source,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql import execute as graphql_execute
from graphql.execution.executor import Executor
from graphql.language import Lexer, TokenKind
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import DisableValidation
from strawberry.types import ExecutionContext

from graph.model import BadInput
from server.endpoint import Endpoint
from server.graphql_plan import Plan, make_plan, run_plan
from server.graphql_schema import SCHEMA_TYPES, Context, Query
from server.logs import request_id_of
from server.metrics import graphql_operation
from server.state import SnapshotHolder

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 100 * 1024
MAX_TOKENS = 2000
MAX_DEPTH = 12
# Introspection nests `ofType` to read wrapped types (the standard query needs 15 levels); the schema
# itself has no cycles, so data fields stay far below MAX_DEPTH.
MAX_INTROSPECTION_DEPTH = 20
MAX_ALIASES = 30

STATIC = Path(__file__).resolve().parent / "static" / "graphiql"
OPERATIONS = STATIC / "operations"

# Content-Security-Policy of the GraphiQL page: nothing leaves for another origin.
IDE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class _ExecutionSchema(strawberry.Schema):
    """The schema as executed here: validated beforehand by `_prepare`, errors classified and logged by `_classify`."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Logged once, with the request id, by `_classify`; strawberry's own logging would repeat it."""


SCHEMA = _ExecutionSchema(query=Query, types=SCHEMA_TYPES, extensions=[DisableValidation])


# --- errors ---------------------------------------------------------------------------------------


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


def _internal(request_id: str) -> dict[str, Any]:
    return error(
        "INTERNAL_SERVER_ERROR",
        f"Internal error (request id {request_id})",
        f"内部エラー(リクエストID {request_id})",
        requestId=request_id,
    )


def _classify(err: GraphQLError, request_id: str) -> dict[str, Any]:
    """An execution error as the client sees it: bad input says what is wrong, the rest is masked."""
    original = err.original_error
    if isinstance(original, BadInput):
        en, ja = (_naming(original.argument, original.message[lang]) for lang in ("en", "ja"))
        body = error("BAD_USER_INPUT", en, ja, argument=original.argument)
    else:
        log.error("request %s: unexpected error at %s: %s", request_id, err.path, err, exc_info=original or err)
        body = _internal(request_id)
    if err.path is not None:
        body["path"] = err.path
    return _located(body, err)


def _naming(argument: str, message: str) -> str:
    """The message, starting with the argument it is about ("virtualProcessors: must be 1 or more")."""
    return message if message.startswith(f"{argument}:") else f"{argument}: {message}"


def _validation_error(err: GraphQLError) -> dict[str, Any]:
    body = error("GRAPHQL_VALIDATION_FAILED", err.message, f"クエリがスキーマに合いません: {err.message}")
    return _located(body, err)


def _variable_error(err: GraphQLError) -> dict[str, Any]:
    return _located(error("BAD_USER_INPUT", err.message, f"変数の値が不正です: {err.message}"), err)


def _located(body: dict[str, Any], err: GraphQLError) -> dict[str, Any]:
    if err.locations:
        body["locations"] = [{"line": loc.line, "column": loc.column} for loc in err.locations]
    return body


# --- limits ---------------------------------------------------------------------------------------


def count_tokens(query: str, limit: int) -> int:
    """Tokens of the query (comments not counted), stopping once over `limit`."""
    lexer = Lexer(Source(query))
    count = 0
    while lexer.advance().kind is not TokenKind.EOF and count <= limit:
        count += 1
    return count


@dataclass(frozen=True)
class Measure:
    """How deep an operation nests fields, and how many aliases it uses, with fragments expanded."""

    depth: int = 0
    aliases: int = 0
    introspection_depth: int = 0

    def add(self, other: Measure, depth: int) -> Measure:
        return Measure(
            max(self.depth, depth),
            self.aliases + other.aliases,
            max(self.introspection_depth, other.introspection_depth),
        )


INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


class _Measurer:
    """Each spread of a fragment counts again (aliases add up); a fragment is measured once (memo)."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.memo: dict[tuple[str, bool], Measure] = {}

    def measure(self, selections: SelectionSetNode | None, root: bool, visiting: frozenset[str]) -> Measure:
        total = Measure()
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                inner = self.measure(selection.selection_set, False, visiting)
                inner = Measure(inner.depth, inner.aliases + (selection.alias is not None), 0)
                if root and selection.name.value in INTROSPECTION_ROOTS:
                    # Introspection nests `ofType` deeply; it has its own, larger bound.
                    total = total.add(Measure(0, inner.aliases, 1 + inner.depth), total.depth)
                else:
                    total = total.add(inner, 1 + inner.depth)
            elif isinstance(selection, InlineFragmentNode):
                inner = self.measure(selection.selection_set, root, visiting)
                total = total.add(inner, inner.depth)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visiting:  # unknown fragments and cycles: left to validation
                    continue
                key = (name, root)
                if key not in self.memo:
                    self.memo[key] = self.measure(fragment.selection_set, root, visiting | {name})
                inner = self.memo[key]
                total = total.add(inner, inner.depth)
        return total


def check_limits(document: DocumentNode, operation: OperationDefinitionNode) -> None:
    measured = _Measurer(document).measure(operation.selection_set, True, frozenset())
    depth = measured.depth
    if measured.aliases > MAX_ALIASES:
        raise reject(
            "QUERY_TOO_COMPLEX",
            f"The query uses more than {MAX_ALIASES} aliases (fragments counted each time they are spread).",
            f"クエリのエイリアスが{MAX_ALIASES}個を超えています(フラグメントは展開ごとに数えます)。",
        )
    if depth > MAX_DEPTH:
        raise reject(
            "QUERY_TOO_COMPLEX",
            f"The query nests fields {depth} deep; at most {MAX_DEPTH} levels are allowed.",
            f"クエリのフィールドの入れ子が{depth}段あります。上限は{MAX_DEPTH}段です。",
        )
    if measured.introspection_depth > MAX_INTROSPECTION_DEPTH:
        raise reject(
            "QUERY_TOO_COMPLEX",
            f"The introspection query nests fields {measured.introspection_depth} deep; "
            f"at most {MAX_INTROSPECTION_DEPTH} levels are allowed.",
            f"イントロスペクションの入れ子が{measured.introspection_depth}段あります。"
            f"上限は{MAX_INTROSPECTION_DEPTH}段です。",
        )


# --- one request ---------------------------------------------------------------------------------


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
    # The operation's label in /metrics and the access line (server.metrics.graphql_operation).
    label: str = "other"
    # How to execute it without graphql-core's general executor (server.graphql_plan), when it can be.
    plan: Plan | None = None


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
        return Prepared(None, err.errors, label=label)


def _prepare(query: str, operation_name: str | None) -> Prepared:
    try:
        tokens = count_tokens(query, MAX_TOKENS)
    except GraphQLError as err:  # the lexer refuses a character, a number or an unterminated string
        raise reject("GRAPHQL_PARSE_FAILED", err.message, f"クエリを構文解析できません: {err.message}") from err
    if tokens > MAX_TOKENS:
        raise reject(
            "QUERY_TOO_COMPLEX",
            f"The query has more than {MAX_TOKENS} tokens.",
            f"クエリのトークン数が{MAX_TOKENS}を超えています。",
        )
    try:
        document = parse(query)
    except GraphQLError as err:
        raise reject("GRAPHQL_PARSE_FAILED", err.message, f"クエリを構文解析できません: {err.message}") from err
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
        )
    check_limits(document, operation)
    errors = validate(SCHEMA._schema, document, specified_rules)
    if errors:
        raise RequestError([_validation_error(e) for e in errors])
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
            except Exception:  # noqa: S110 - graphql-core answers it, errors and all (server.graphql_plan)
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
        return {"errors": [_variable_error(e) for e in errors]}
    body: dict[str, Any] = {}
    if result.data is not None or any(e.path is not None for e in errors):
        body["data"] = result.data
    if errors:
        body["errors"] = [_classify(e, context.request_id) for e in errors]
    return body


def _internal_error_in(body: Mapping[str, Any]) -> bool:
    return any(e.get("extensions", {}).get("code") == "INTERNAL_SERVER_ERROR" for e in body.get("errors", ()))


# --- whole answers, per snapshot --------------------------------------------------------------------------


class AnswerCache:
    """Encoded response bodies by request bytes, for one snapshot: the portals repeat the same questions.

    An answer is a function of the request and the snapshot alone (a request reads `holder.current` once), so
    it is kept with the snapshot it was computed on and dropped with it: `for_snapshot` starts afresh as soon
    as the holder serves another snapshot. Answers that carry an internal error (with its request id) are not
    kept. Bounded by entries and bytes, least recently used out first. Used from the event loop only.
    """

    def __init__(self, max_entries: int = 4096, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.snapshot: object = None
        self._answers: OrderedDict[bytes, tuple[bytes, str]] = OrderedDict()
        self._bytes = 0

    def for_snapshot(self, snapshot: object) -> AnswerCache:
        if snapshot is not self.snapshot:
            self.snapshot = snapshot
            self._answers.clear()
            self._bytes = 0
        return self

    def get(self, key: bytes) -> tuple[bytes, str] | None:
        """The encoded answer and the operation's label."""
        entry = self._answers.get(key)
        if entry is not None:
            self._answers.move_to_end(key)
        return entry

    def put(self, key: bytes, answer: bytes, label: str) -> None:
        size = len(key) + len(answer)
        if size > self.max_bytes // 16 or key in self._answers:
            return
        self._answers[key] = (answer, label)
        self._bytes += size
        while len(self._answers) > self.max_entries or self._bytes > self.max_bytes:
            old_key, (old, _) = self._answers.popitem(last=False)
            self._bytes -= len(old_key) + len(old)

    def __len__(self) -> int:
        return len(self._answers)


# --- HTTP -----------------------------------------------------------------------------------------


def _too_large() -> RequestError:
    return reject(
        "PAYLOAD_TOO_LARGE",
        f"The request body is larger than {MAX_BODY_BYTES} bytes.",
        f"リクエスト本文が{MAX_BODY_BYTES}バイトを超えています。",
        status=413,
    )


async def _read_body(request: Request) -> bytes:
    """The body, read from the ASGI messages directly (Request.stream's generator costs more than the read
    itself for a cached answer), refused as soon as it passes MAX_BODY_BYTES."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _bad_request(en: str, ja: str) -> RequestError:
    return reject("BAD_REQUEST", en, ja, status=400)


def _json_value(text: str, what: str, what_ja: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as err:
        raise _bad_request(f"{what} is not valid JSON.", f"{what_ja}が正しいJSONではありません。") from err


def _graphql_request(params: Mapping[str, object]) -> GraphQLRequest:
    query = params.get("query")
    if not isinstance(query, str) or not query.strip():
        raise _bad_request(
            "Missing query: send a GraphQL document in `query` (POST JSON or GET ?query=).",
            "query がありません。GraphQL 文書を `query` に指定してください(POST の JSON または GET ?query=)。",
        )
    variables = params.get("variables")
    if isinstance(variables, str):  # GET sends them as a JSON string
        variables = _json_value(variables, "`variables`", "`variables` ") if variables.strip() else None
    if variables is not None and not isinstance(variables, dict):
        raise _bad_request("`variables` must be a JSON object.", "`variables` は JSON オブジェクトにしてください。")
    operation_name = params.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise _bad_request("`operationName` must be a string.", "`operationName` は文字列にしてください。")
    return GraphQLRequest(query, variables, operation_name or None)


async def _read_raw(request: Request) -> bytes:
    """The bytes that determine the request (the query string of a GET, the body of a POST): the key of its
    answer in the AnswerCache. Refuses what is too large or not JSON; parses nothing."""
    if request.method in ("GET", "HEAD"):
        raw: bytes = request.scope.get("query_string", b"")
        if len(raw) > 3 * MAX_BODY_BYTES:  # percent-encoded: decoded below and measured again
            raise _query_string_too_long()
        return b"?" + raw
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise reject(
            "BAD_REQUEST",
            "POST a JSON body with Content-Type: application/json.",
            "Content-Type: application/json の JSON 本文を POST してください。",
            status=415,
        )
    return await _read_body(request)


def _query_string_too_long() -> RequestError:
    return reject(
        "PAYLOAD_TOO_LARGE",
        f"The query string is longer than {MAX_BODY_BYTES} characters.",
        f"クエリ文字列が{MAX_BODY_BYTES}文字を超えています。",
        status=413,
    )


def _parse_request(request: Request, raw: bytes) -> GraphQLRequest:
    if request.method in ("GET", "HEAD"):
        query_params = dict(request.query_params)
        if sum(len(v) for v in query_params.values()) > MAX_BODY_BYTES:
            raise _query_string_too_long()
        return _graphql_request(query_params)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _bad_request("The body is not UTF-8.", "本文が UTF-8 ではありません。") from err
    params = _json_value(text, "The body", "本文")
    if isinstance(params, list):
        raise _bad_request(
            "Batching is not supported: send one operation per request (a JSON object, not an array).",
            "バッチ処理には対応していません。1回のリクエストで1つの操作を送ってください(配列ではなくオブジェクト)。",
        )
    if not isinstance(params, dict):
        raise _bad_request("The body must be a JSON object.", "本文は JSON オブジェクトにしてください。")
    return _graphql_request(params)


def _encode(body: Mapping[str, Any]) -> bytes:
    """As JSONResponse encodes (UTF-8, no ASCII escapes, compact), by orjson, which writes the same bytes for what
    an answer holds (strings, integers, booleans, null: the schema has no Float). A string that is not valid
    Unicode (a lone surrogate from a JSON escape) is written as an escape instead of failing the request."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        return json.dumps(body, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


def _respond(body: Mapping[str, Any], status: int, request_id: str) -> Response:
    return JSONResponse(dict(body), status_code=status, headers={"X-Request-Id": request_id})


def _wants_ide(request: Request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


class _Answer(Response):
    """A 200 JSON answer, encoded already: its headers written directly (Response's init builds them afresh)."""

    def __init__(self, body: bytes, request_id: str) -> None:
        self.body = body
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
            (b"x-request-id", request_id.encode("latin-1")),
        ]


def graphql_routes(holder: SnapshotHolder, answers: AnswerCache | None = None) -> list[BaseRoute]:
    """/graphql (GET, POST) and the IDE's files under /graphql/static/."""
    cache = answers if answers is not None else AnswerCache()

    async def endpoint(request: Request) -> Response:
        scope = request.scope
        request_id = request_id_of(scope)
        try:
            if _wants_ide(request):
                return ide_page(request)
            key = await _read_raw(request)
            snapshot = holder.current  # read once: the request finishes on this snapshot
            answers = cache.for_snapshot(snapshot) if snapshot is not None else None
            # A hit needs no parsing at all: only well-formed requests' answers are kept.
            entry = answers.get(key) if answers is not None else None
            if entry is not None:
                answer, scope["hvkg.operation"] = entry
            else:
                graphql_request = _parse_request(request, key)
                prepared = prepare(graphql_request.query, graphql_request.operation_name)
                scope["hvkg.operation"] = prepared.label
                if snapshot is None or answers is None:
                    unavailable = error(
                        "SERVICE_UNAVAILABLE",
                        "The knowledge graph is not loaded yet; try again shortly.",
                        "ナレッジグラフをまだ読み込んでいます。しばらくしてから再度お試しください。",
                    )
                    return _respond({"errors": [unavailable]}, 503, request_id)
                context = Context(snapshot, request_id)
                if prepared.quick:
                    body = execute(graphql_request, context)
                else:
                    body = await run_in_threadpool(execute, graphql_request, context)
                answer = _encode(body)
                if not _internal_error_in(body) and answers.snapshot is snapshot:
                    answers.put(key, answer, prepared.label)
            return _Answer(answer, request_id)
        except RequestError as err:
            return _respond({"errors": err.errors}, err.status, request_id)
        except Exception:
            log.exception("request %s failed", request_id)
            return _respond({"errors": [_internal(request_id)]}, 500, request_id)

    return [
        Route("/graphql", Endpoint(endpoint), methods=["GET", "POST"], name="graphql"),
        Mount("/graphql/static", app=StaticFiles(directory=STATIC), name="graphql-static"),
    ]


# --- the IDE --------------------------------------------------------------------------------------


@cache
def ide_tabs() -> str:
    """The portals' operations as GraphiQL tabs, with example variables (static/.../operations/index.json)."""
    index = json.loads((OPERATIONS / "index.json").read_text(encoding="utf-8"))
    tabs = [
        {
            "query": (OPERATIONS / item["file"]).read_text(encoding="utf-8"),
            "variables": json.dumps(item.get("variables", {}), ensure_ascii=False, indent=2),
        }
        for item in index["operations"]
    ]
    data = {"tabs": tabs, "defaultQuery": index["defaultQuery"]}
    # Safe inside <script type="application/json">: no "<" can close the element.
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


IDE_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hyperv-kg GraphQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{static}/graphiql.min.css">
<link rel="stylesheet" href="{static}/page.css">
</head>
<body>
<div id="graphiql" data-endpoint="{endpoint}">
<p class="loading">Loading GraphiQL… / GraphiQL を読み込んでいます…</p>
<noscript><p>GraphiQL needs JavaScript. Without it, POST JSON to {endpoint}.
GraphiQL には JavaScript が必要です。JavaScript なしでは {endpoint} に JSON を POST してください。</p></noscript>
</div>
<script type="application/json" id="graphiql-tabs">{tabs}</script>
<script src="{static}/react.production.min.js"></script>
<script src="{static}/react-dom.production.min.js"></script>
<script src="{static}/graphiql.min.js"></script>
<script src="{static}/init.js"></script>
</body>
</html>
"""


def ide_page(request: Request) -> Response:
    endpoint = request.url_for("graphql").path
    static = request.url_for("graphql-static", path="/").path.rstrip("/")
    page = IDE_PAGE.format(static=static, endpoint=endpoint, tabs=ide_tabs())
    return HTMLResponse(page, headers={"Content-Security-Policy": IDE_CSP})
