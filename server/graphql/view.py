"""GraphQL over HTTP at /graphql: JSON in and out, queries only, one operation per request.

The answer's media type follows the GraphQL-over-HTTP spec: `application/graphql-response+json` when the client
names it (at least as high as application/json), and then a request that runs nothing (parse, validation or
variable errors) is a 400; otherwise `application/json`, where such errors are 200 as legacy clients expect.
A request that is not well-formed (no query, not JSON, bad `variables` or `extensions`) is 400 either way, and a
GET naming a mutation is 405. Answers vary on Accept.

A request is read (GET query string or POST JSON, at most MAX_BODY_BYTES), answered from the AnswerCache
when the same bytes were answered on this snapshot, else prepared and executed (server.graphql.execution)
on the snapshot that `holder.current` held when the request arrived. Errors are server.graphql.errors';
anything unexpected is a masked INTERNAL_SERVER_ERROR, never a traceback. A browser asking for text/html
without a query gets GraphiQL (server.graphql.ide).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from server.graphql.cache import AnswerCache
from server.graphql.errors import RequestError, error, internal, reject
from server.graphql.execution import GraphQLRequest, execute, internal_error_in, prepare
from server.graphql.ide import STATIC, ide_page
from server.graphql.limits import MAX_BODY_BYTES
from server.graphql.types import Context
from server.ops.endpoint import Endpoint
from server.ops.logs import request_id_of
from server.ops.negotiation import parse_accept, quality
from server.ops.state import SnapshotHolder

log = logging.getLogger(__name__)


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
    extensions = params.get("extensions")
    if isinstance(extensions, str):  # GET sends them as a JSON string, like variables
        extensions = _json_value(extensions, "`extensions`", "`extensions` ") if extensions.strip() else None
    if extensions is not None and not isinstance(extensions, dict):
        raise _bad_request("`extensions` must be a JSON object.", "`extensions` は JSON オブジェクトにしてください。")
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


JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
ALLOW = "GET, POST"
# An answer in which nothing ran has no "data": execution writes "data" first whenever there is one, so such an
# answer, encoded, starts with its errors.
ERRORS_ONLY = b'{"errors"'


def response_type(accept: str | None) -> str:
    """application/graphql-response+json when the client names it at least as high as application/json; else
    application/json (no Accept, */*, or only application/json: what legacy clients and curl send)."""
    if not accept or "graphql-response" not in accept:
        return JSON
    ranges = parse_accept(accept)
    wanted, specificity = quality(GRAPHQL_RESPONSE, ranges)
    if specificity < 2 or wanted <= 0:
        return JSON
    return GRAPHQL_RESPONSE if wanted >= quality(JSON, ranges)[0] else JSON


def error_status(prepared_status: int, method: str, media_type: str) -> int:
    """The status of an answer that ran nothing (errors only), by the GraphQL-over-HTTP spec."""
    if prepared_status == 405:
        return 405 if method in ("GET", "HEAD") else (400 if media_type == GRAPHQL_RESPONSE else 200)
    if prepared_status != 200:
        return prepared_status
    return 400 if media_type == GRAPHQL_RESPONSE else 200


def _respond(body: Mapping[str, Any], status: int, request_id: str, media_type: str = JSON) -> Response:
    headers = {"X-Request-Id": request_id, "Vary": "Accept"}
    if status == 405:
        headers["Allow"] = ALLOW
    return JSONResponse(dict(body), status_code=status, headers=headers, media_type=media_type)


def _wants_ide(request: Request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and "query" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


class _Answer(Response):
    """A JSON answer, encoded already: its headers written directly (Response's init builds them afresh)."""

    def __init__(self, body: bytes, request_id: str, media_type: str = JSON, status: int = 200) -> None:
        self.body = body
        self.status_code = status
        self.background = None
        self.raw_headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", media_type.encode("latin-1")),
            (b"x-request-id", request_id.encode("latin-1")),
            (b"vary", b"Accept"),
        ]
        if status == 405:
            self.raw_headers.append((b"allow", ALLOW.encode("latin-1")))


def graphql_routes(holder: SnapshotHolder, answers: AnswerCache | None = None) -> list[BaseRoute]:
    """/graphql (GET, POST) and the IDE's files under /graphql/static/."""
    cache = answers if answers is not None else AnswerCache()

    async def endpoint(request: Request) -> Response:
        scope = request.scope
        request_id = request_id_of(scope)
        media_type = response_type(request.headers.get("accept"))
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
                if answer.startswith(ERRORS_ONLY):
                    # Variables that did not fit: nothing ran (the only errors-only answer that is kept, below)
                    return _Answer(answer, request_id, media_type, error_status(200, request.method, media_type))
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
                    return _respond({"errors": [unavailable]}, 503, request_id, media_type)
                context = Context(snapshot, request_id)
                if prepared.quick:
                    body = execute(graphql_request, context)
                else:
                    body = await run_in_threadpool(execute, graphql_request, context)
                answer = _encode(body)
                if not internal_error_in(body) and answers.snapshot is snapshot and prepared.document is not None:
                    # Kept: answers with data, and those whose variables did not fit (their status is read back
                    # from the body, above). Not kept: a document refused before it ran (prepare() caches it anyway),
                    # whose status may also depend on the method (405).
                    answers.put(key, answer, prepared.label)
                if "data" not in body:
                    status = error_status(prepared.status, request.method, media_type)
                    return _Answer(answer, request_id, media_type, status)
            return _Answer(answer, request_id, media_type)
        except RequestError as err:
            return _respond({"errors": err.errors}, err.status, request_id, media_type)
        except Exception:
            log.exception("request %s failed", request_id)
            return _respond({"errors": [internal(request_id)]}, 500, request_id, media_type)

    return [
        Route("/graphql", Endpoint(endpoint), methods=["GET", "POST"], name="graphql"),
        Mount("/graphql/static", app=StaticFiles(directory=STATIC), name="graphql-static"),
    ]
