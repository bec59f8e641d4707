"""A violation found while loading: which file, which resource, which rule, and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str | None
    resource: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = self.file or "(graph)"
        what = f" {self.resource}" if self.resource else ""
        return f"{where}:{what} [{self.rule}] {self.message}"


class InvalidGraph(Exception):
    """The data failed to load or validate; nothing may be served from it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s):\n" + "\n".join(str(p) for p in problems))
