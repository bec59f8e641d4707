"""Which snapshot the service answers from.

A snapshot never changes; a reload builds a new one and swaps this one reference. A request reads
`holder.current` once and keeps that object, so it finishes on the snapshot it started with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graph.snapshot import Snapshot


@dataclass
class SnapshotHolder:
    current: Snapshot | None = None
    # Why the last load failed, or None; /healthz reports it while the old snapshot keeps serving.
    last_error: str | None = None
    generation: int = field(default=0)

    def swap(self, snapshot: Snapshot) -> None:
        self.current = snapshot
        self.last_error = None
        self.generation += 1

    def require(self) -> Snapshot:
        if self.current is None:
            raise RuntimeError("no snapshot loaded yet")
        return self.current
