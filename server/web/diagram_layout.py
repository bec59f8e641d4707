"""Where the parts of a layer diagram go (server.web.diagrams), worked out before anything is drawn: the
order of the layers' components, the frame's geometry, a product's own I/O path, the plan of boxes, and the
route of an arrow round what it must not cross.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from graph.model import Component, IoPathDef, Layer, Relation
from graph.tables import Tables
from server.web.diagram_svg import Box, Point, Rect, text_width


def _ordered(
    layers: Sequence[Layer], relations: Sequence[Relation], between: dict[str, tuple[str, ...]], tables: Tables
) -> list[list[Component]]:
    """The layers from the top down, each one's components ordered under their neighbours above, with what
    connects two of them (the VMBus) drawn between them.

    The graph gives a layer's members in no meaningful order; placing each under the mean position of
    what it relates to in the layer above keeps arrows from crossing (the parent partition under the host
    OS, the child partition under the virtual machine).
    """
    linked: dict[str, set[str]] = {}
    for relation in relations:
        linked.setdefault(relation.subject, set()).add(relation.object)
        linked.setdefault(relation.object, set()).add(relation.subject)
    rows: list[list[Component]] = []
    for layer in reversed(layers):
        members = list(layer.components)
        if rows:
            above = {c.id: i for i, c in enumerate(rows[-1])}

            def weight(item: tuple[int, Component], above: dict[str, int] = above) -> tuple[float, int]:
                index, component = item
                near = [above[n] for n in sorted(linked.get(component.id, ())) if n in above]
                return (sum(near) / len(near) if near else float(index), index)

            members = [c for _, c in sorted(enumerate(members), key=weight)]
        for connector, ends in sorted(between.items()):
            places = [i for i, c in enumerate(members) if c.id in ends]
            if len(places) == len(ends):
                members.insert(min(places) + 1, tables.components[connector])
        rows.append(members)
    return rows


@dataclass(frozen=True)
class Frame:
    """The fixed geometry of a layer diagram."""

    width: int = 900
    margin: int = 12
    label_w: int = 176  # the column of layer names
    gap: int = 46  # between bands: room for an arrow and its label
    entry: int = 26  # above a box's first small box when a path's arrow enters it from the box's name
    step: int = 30  # between two small boxes that a path's arrow joins

    @property
    def inner_x(self) -> int:
        return self.margin + self.label_w

    @property
    def inner_w(self) -> int:
        return self.width - self.margin - self.inner_x - 12


@dataclass(frozen=True)
class OwnPath:
    """A product's own I/O path as the layer diagram draws it: its definition and its hops in order."""

    definition: IoPathDef
    hops: tuple[Relation, ...]

    @property
    def route(self) -> tuple[str, ...]:
        return (self.hops[0].subject, *(r.object for r in self.hops)) if self.hops else ()


def own_path(tables: Tables, product: str) -> OwnPath | None:
    """The product's own I/O path (hv:nativePath) with its hops in hop order; None if it names none."""
    iri = tables.native_paths.get(product)
    definition = next((p for p in tables.io_paths if p.iri == iri), None)
    if definition is None:
        return None
    hops = sorted((r for r in tables.relations if r.path == iri), key=lambda r: (r.order or 0, r.iri))
    return OwnPath(definition, tuple(hops))


@dataclass
class Plan:
    """Where everything of a layer diagram goes, worked out before anything is drawn."""

    bands: list[tuple[Layer, int, int]] = field(default_factory=list)  # layer, y, height
    boxes: dict[str, Box] = field(default_factory=dict)  # the layers' components and the connectors
    position: dict[str, int] = field(default_factory=dict)  # box id -> its layer's position
    titles: dict[str, list[str]] = field(default_factory=dict)  # box id -> the lines of its name
    chips: dict[str, Box] = field(default_factory=dict)  # what is drawn inside a box
    holder: dict[str, str] = field(default_factory=dict)  # chip id -> the box it is drawn in
    connectors: set[str] = field(default_factory=set)

    def place(self, component: str) -> Box | None:
        return self.boxes.get(component) or self.chips.get(component)

    def title_rects(self) -> list[Rect]:
        rects = []
        for key, lines in self.titles.items():
            box = self.boxes[key]
            for number, line in enumerate(lines):
                half = text_width(line, 15, bold=True) // 2
                baseline = box.y + 27 + 19 * number
                rects.append(Rect(box.center - half, baseline - 14, box.center + half, baseline + 5))
        return rects


def _route(
    source: Box, target: Box, obstacles: list[Rect], drawn: list[Rect], frame: Frame, boxes: Sequence[Box]
) -> list[Point]:
    """An arrow of one, two or three straight pieces from source to target: down (or up) a column x that
    is clear of every obstacle, leaving and entering a box through its bottom or top edge where x lies
    within it, else through its side. The cheapest column wins: near both boxes, few turns, room to spare."""
    if target.y >= source.bottom or target.bottom <= source.y:
        down = target.y >= source.bottom
        best: tuple[float, int, list[Point]] | None = None
        for x in range(frame.inner_x + 8, frame.inner_x + frame.inner_w - 7, 2):
            points = _column(source, target, x, down)
            if points is None:
                continue
            pieces = list(itertools.pairwise(points))
            everything = [*obstacles, *drawn]
            if any(r.meets(a[0], a[1], b[0], b[1], 6) for a, b in pieces for r in obstacles):
                continue
            if any(r.meets(a[0], a[1], b[0], b[1], 18) for a, b in pieces for r in drawn):
                continue
            if any(_along_edge(a, b, box) for a, b in pieces for box in boxes):
                continue
            room = min((_distance(x, pieces[len(pieces) // 2], r) for r in everything), default=24)
            # Not down the very column of an earlier arrow, as if one arrow ran straight through a box.
            reused = any(r.x1 - 18 < x < r.x2 + 18 and r.x1 == r.x2 for r in drawn)
            cost = abs(x - source.center) + abs(x - target.center) + 60 * (len(points) - 2) + 40 * reused
            cost -= min(room, 24)
            if best is None or (cost, x) < best[:2]:
                best = (cost, x, points)
        if best is not None:
            return best[2]
        return [
            (source.center, source.bottom + 2 if down else source.y - 2),
            (target.center, target.y - 3 if down else target.bottom + 3),
        ]
    # Side by side: straight across, level with the middle of what they share.
    y = (max(source.y, target.y) + min(source.bottom, target.bottom)) // 2
    if target.x >= source.right:
        return [(source.right + 2, y), (target.x - 3, y)]
    return [(source.x - 2, y), (target.right + 3, y)]


def _column(source: Box, target: Box, x: int, down: bool) -> list[Point] | None:
    """The points of an arrow down (or up) column x, or None when x cannot join the two boxes."""
    points: list[Point] = []
    if source.x + 10 <= x <= source.right - 10:
        points.append((x, source.bottom + 2 if down else source.y - 2))
    else:
        side = source.right if x > source.right else source.x
        if abs(x - side) < 24 or source.x <= x <= source.right:
            return None
        points += [(side + (2 if x > side else -2), source.middle), (x, source.middle)]
    if target.x + 10 <= x <= target.right - 10:
        points.append((x, target.y - 3 if down else target.bottom + 3))
    else:
        side = target.right if x > target.right else target.x
        if abs(x - side) < 24 or target.x <= x <= target.right:
            return None
        points += [(x, target.middle), (side + (3 if x > side else -3), target.middle)]
    return points


def _along_edge(a: Point, b: Point, box: Box) -> bool:
    """Whether a piece runs beside one of the box's edges, so close that it would read as the edge."""
    if a[0] == b[0]:
        beside = min(a[1], b[1]) < box.bottom and max(a[1], b[1]) > box.y
        return beside and min(abs(a[0] - box.x), abs(a[0] - box.right)) < 10
    beside = min(a[0], b[0]) < box.right and max(a[0], b[0]) > box.x
    return beside and min(abs(a[1] - box.y), abs(a[1] - box.bottom)) < 8


def _distance(x: int, piece: tuple[Point, Point], rect: Rect) -> int:
    """How far column x passes from a rectangle beside the piece (far when it is above or below it)."""
    (_, y1), (_, y2) = piece
    if rect.y2 < min(y1, y2) or rect.y1 > max(y1, y2):
        return 24
    return max(rect.x1 - x, x - rect.x2, 0)
