"""Refusals as the client reads them: a status and one message in English and Japanese, never a traceback."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NoReturn

from starlette.responses import Response

PLAIN = "text/plain; charset=utf-8"


def _say(english: str, japanese: str) -> str:
    return f"{english} / {japanese}"


class ProtocolError(Exception):
    """A refusal with its status; the message is what the client reads."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def _refuse(status: int, english: str, japanese: str, headers: Mapping[str, str] | None = None) -> NoReturn:
    raise ProtocolError(status, _say(english, japanese), headers)


def _text(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return Response(message + "\n", status_code=status, media_type=PLAIN, headers=dict(headers or {}))


def _internal(request_id: str) -> str:
    return _say(
        f"Internal error (request id {request_id}); it has been logged.",
        f"内部エラーが発生しました（リクエスト ID {request_id}）。記録済みです。",
    )
