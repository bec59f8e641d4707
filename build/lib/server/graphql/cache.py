"""Whole GraphQL answers, encoded, kept per snapshot: the portals repeat the same questions."""

from __future__ import annotations

from collections import OrderedDict


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
