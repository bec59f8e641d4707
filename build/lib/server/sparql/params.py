"""Reading a request: the protocol's parameters (query string, form body), Content-Type, the body under a cap."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.requests import Request

from server.sparql.config import SPARQLConfig
from server.sparql.errors import _refuse


def _parse_params(raw: bytes) -> list[tuple[str, str]]:
    """Decode a query string or form body; percent-escapes must decode to UTF-8 (400 otherwise)."""
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=1000)
    except UnicodeDecodeError:
        _refuse(400, "Parameters must be UTF-8.", "パラメーターは UTF-8 でなければなりません。")
    except ValueError:
        _refuse(400, "Too many parameters.", "パラメーターが多すぎます。")


def _content_type(header: str | None) -> tuple[str | None, str | None]:
    """(media type, charset) of a Content-Type header, both lower-case."""
    if header is None or not header.strip():
        return None, None
    media, *params = header.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media.strip().lower(), charset


async def _read_body(request: Request, config: SPARQLConfig) -> bytes:
    """The body, or 413 as soon as it passes the cap: never more than one chunk past the cap is held."""
    limit = config.max_body_bytes
    too_big_message = (
        f"The request body is larger than {limit} bytes.",
        f"リクエスト本文が {limit} バイトを超えています。",
    )
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            _refuse(400, "Content-Length is not a number.", "Content-Length が数値ではありません。")
        if length > config.drain_limit_bytes:
            _refuse(413, *too_big_message, headers={"Connection": "close"})
    body = bytearray()
    received = 0
    too_big = False
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            too_big = True
            body.clear()
        if too_big:
            if received > config.drain_limit_bytes:
                break  # stop reading; the connection closes after the 413
            continue
        body += chunk
    if too_big:
        _refuse(413, *too_big_message, headers={"Connection": "close"})
    return bytes(body)


@dataclass
class _Params:
    pairs: list[tuple[str, str]] = field(default_factory=list)

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def has(self, name: str) -> bool:
        return any(key == name for key, _ in self.pairs)
