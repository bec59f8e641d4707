"""What crosses the pipe between the server and a worker (pickled both ways): the job and its outcome."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from server.sparql.errors import PLAIN, _say
from server.sparql.lexer import DEFAULT_MAX_NESTING


@dataclass(frozen=True)
class QueryJob:
    text: str
    base: str  # the endpoint's URL: relative IRIs in the query resolve against it
    result_format: str | None  # for SELECT and ASK; None: the client accepts none
    graph_format: str | None  # for CONSTRUCT and DESCRIBE
    default_graphs: tuple[str, ...] | None  # from the protocol; None when not given
    named_graphs: tuple[str, ...] | None
    row_limit: int
    strict_dataset: bool
    request_id: str
    max_nesting: int = DEFAULT_MAX_NESTING


@dataclass(frozen=True)
class QueryOutcome:
    status: int
    media_type: str
    body: bytes
    rows: int = 0
    truncated: bool = False


class _Answer(Exception):
    """Not an error: the worker's early return with a finished outcome."""

    def __init__(self, outcome: QueryOutcome) -> None:
        super().__init__(outcome.status)
        self.outcome = outcome


def _answer(status: int, english: str, japanese: str) -> NoReturn:
    raise _Answer(QueryOutcome(status, PLAIN, (_say(english, japanese) + "\n").encode()))
