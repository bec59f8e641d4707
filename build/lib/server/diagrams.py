"""SVG diagrams drawn from the graph: a product's layers, and an I/O path hop by hop.

Plain string building: every text is escaped, every number is an integer, nothing depends on time or on a
random id, so the same graph gives the same bytes. Boxes link to the component's page; every edge (an
arrow for a documented relation) is wrapped in a link to the quote it rests on.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

from graph.model import ArchitecturePath, Citation, Component, IoPathDef, Layer, Relation, Text, text
from graph.tables import Tables

FONTS = {
    "ja": '"Hiragino Sans", "Noto Sans CJK JP", sans-serif',
    "en": 'system-ui, "Segoe UI", "Helvetica Neue", Arial, "Hiragino Sans", "Noto Sans CJK JP", sans-serif',
}
INK = "#1d2433"
MUTED = "#5a6478"
BLUE = "#2b5d8f"
BAND = ("#eef3f9", "#f7f9fc")
EDGE = "#b5452f"
IO = "#17704a"  # the own I/O path's arrows, apart from the relations' red

ResourceLink = Callable[[str], str | None]
QuoteLink = Callable[[str], str]


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def text_width(value: str, size: int, bold: bool = False) -> int:
    """An estimate of the rendered width: full-width characters take 1 em, Latin ones about 0.6 em.

    No font metrics are at hand and the reader's font is not known; the estimate errs wide (it is about
    right for DejaVu Sans, wider than most), so a label never overflows its box.
    """
    em = 0.0
    for char in value:
        if _is_wide(char):
            em += 1.0
        elif char in " il.,:;|!'()[]/-":
            em += 0.36
        elif char.isupper() or char in "mw@%":
            em += 0.74
        else:
            em += 0.62
    return int(em * size * (1.07 if bold else 1.0) + 0.999)


OPENING = "([「『（【"
CLOSING = ")]」』）】、。,.:;"


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def _tokens(value: str) -> list[str]:
    """The pieces a line may break between: Latin words (with their trailing space), single full-width
    characters; an opening bracket never ends a line and closing punctuation never starts one."""
    tokens: list[str] = []
    for char in value:
        last = tokens[-1] if tokens else ""
        latin_word = last and not _is_wide(char) and not _is_wide(last[-1]) and not last.endswith(" ")
        if last and (last[-1] in OPENING or char in CLOSING or char == " " or latin_word):
            tokens[-1] += char
        else:
            tokens.append(char)
    return tokens


def wrap(value: str, width: int, size: int, bold: bool = False) -> list[str]:
    lines: list[str] = []
    current = ""
    for token in _tokens(value):
        if current and text_width((current + token).rstrip(), size, bold) > width:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current += token
    if current.strip():
        lines.append(current.rstrip())
    return lines or [""]


@dataclass(frozen=True)
class Box:
    component: Component
    x: int
    y: int
    width: int
    height: int

    @property
    def center(self) -> int:
        return self.x + self.width // 2

    @property
    def middle(self) -> int:
        return self.y + self.height // 2

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height


@dataclass(frozen=True)
class Rect:
    """Room taken on the drawing (a title, a chip, an arrow and its label) that a path's arrow goes round."""

    x1: int
    y1: int
    x2: int
    y2: int

    @classmethod
    def around(cls, box: Box, margin: int = 0) -> Rect:
        return cls(box.x - margin, box.y - margin, box.right + margin, box.bottom + margin)

    def meets(self, x1: int, y1: int, x2: int, y2: int, margin: int) -> bool:
        """Whether the segment (x1, y1)-(x2, y2), horizontal or vertical, comes within margin of this."""
        left, right, top, bottom = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
        return (
            left < self.x2 + margin
            and right > self.x1 - margin
            and top < self.y2 + margin
            and bottom > self.y1 - margin
        )


class Svg:
    """An SVG document being written; `render` gives the markup, standalone or for inlining in HTML."""

    def __init__(self, key: str, width: int, lang: str, title: str) -> None:
        self.key = key
        self.width = width
        self.lang = lang
        self.title = title
        self.parts: list[str] = []
        self._open = "</g>"

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def text(self, x: int, y: int, value: str, size: int, *, anchor: str = "middle", **extra: object) -> None:
        attrs = "".join(f' {k.replace("_", "-")}="{_attr(v)}"' for k, v in extra.items())
        self.add(f'<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}"{attrs}>{escape(value)}</text>')

    def link(self, href: str | None, title: str) -> None:
        """Open a link (or a plain group when there is nowhere to go); close it with `end`."""
        tip = f"<title>{escape(title)}</title>"
        self.add(f'<a href="{_attr(href)}">{tip}' if href else f"<g>{tip}")
        self._open = "</a>" if href else "</g>"

    def end(self) -> None:
        self.add(self._open)

    def render(self, height: int) -> str:
        marker = (
            "<defs>"
            + "".join(
                f'<marker id="{self.key}-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
                f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
                for name, colour in (("arrow", EDGE), ("io", IO))
            )
            + "</defs>"
        )
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" id="{self.key}" width="{self.width}" '
            f'height="{height}" viewBox="0 0 {self.width} {height}" role="group" aria-labelledby="{self.key}-title" '
            f'lang="{self.lang}" font-family="{_attr(FONTS.get(self.lang, FONTS["en"]))}" fill="{INK}">'
            f'<title id="{self.key}-title">{escape(self.title)}</title>{marker}'
            f'<rect width="{self.width}" height="{height}" fill="#ffffff"/>' + "".join(self.parts) + "</svg>\n"
        )


def _component_box(
    svg: Svg,
    box: Box,
    lang: str,
    resource: ResourceLink,
    lines: list[str],
    sub: str | None,
    *,
    connector: bool = False,
) -> None:
    """A component's box with its name (and what it sits in); a connector, such as a bus, drawn as a band."""
    svg.link(resource(box.component.iri), text(box.component.description or box.component.label, lang))
    fill, dash = ("#e9f4ee", ' stroke-dasharray="6 3"') if connector else ("#ffffff", "")
    svg.add(
        f'<rect x="{box.x}" y="{box.y}" width="{box.width}" height="{box.height}" rx="7" fill="{fill}" '
        f'stroke="{BLUE}" stroke-width="1.6"{dash}/>'
    )
    y = box.y + 12 + 15
    for line in lines:
        svg.text(box.center, y, line, 15, font_weight="600")
        y += 19
    if sub:
        svg.text(box.center, y - 1, sub, 12, fill=MUTED)
    svg.end()


def _edge(
    svg: Svg,
    points: tuple[int, int, int, int],
    label: str,
    evidence: Sequence[Citation],
    quote: QuoteLink,
    title: str,
    *,
    badge: str | None = None,
    note: str | None = None,
) -> None:
    """A documented relation as an arrow, linked to the first passage it rests on."""
    x1, y1, x2, y2 = points
    first = evidence[0].iri if evidence else None
    quotes = " / ".join(f"「{c.quote}」" for c in evidence)
    svg.link(quote(first) if first else None, f"{title}\n{quotes}".strip())
    # A wide invisible stroke makes the thin arrow easy to click.
    svg.add(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#ffffff" stroke-opacity="0" stroke-width="14"/>')
    svg.add(
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{EDGE}" stroke-width="2.2" '
        f'marker-end="url(#{svg.key}-arrow)"/>'
    )
    mid_x, mid_y = (x1 + x2) // 2, (y1 + y2) // 2
    if badge is not None:
        svg.add(f'<circle cx="{mid_x - 20}" cy="{mid_y}" r="11" fill="{EDGE}"/>')
        svg.text(mid_x - 20, mid_y + 4, badge, 12, fill="#ffffff", font_weight="700")
    if label:
        svg.text(
            mid_x + 9,
            mid_y + 4,
            label,
            13,
            anchor="start",
            fill=EDGE,
            font_weight="600",
            stroke="#ffffff",
            stroke_width="4",
            paint_order="stroke",
        )
    if note:
        svg.text(mid_x + 9, mid_y + 21, note, 11, anchor="start", fill=MUTED)
    svg.end()


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


def architecture_svg(
    key: str,
    title: str,
    layers: Sequence[Layer],
    tables: Tables,
    product: str,
    lang: str,
    resource: ResourceLink,
    quote: QuoteLink,
) -> str:
    """A product's layer stack from the top down: bands for layers, boxes for their components, small boxes
    inside for what runs in them, arrows for the documented relations between neighbouring layers, and the
    product's own I/O path (hv:nativePath) hop by hop as numbered arrows through every component it names."""
    frame = Frame()
    relations = sorted(
        (r for r in tables.relations if product in tables.components[r.subject].products),
        key=lambda r: r.iri,
    )
    own = own_path(tables, product)
    route = own.route if own else ()
    hops = {r.iri for r in own.hops} if own else set()
    layered = {c.id for layer in layers for c in layer.components}
    between = _connectors(relations, layers, layered)
    rows = _ordered(layers, relations, between, tables)
    placed = layered | set(between)
    inside = _inside(relations, route, placed, tables)

    plan = Plan(connectors=set(between))
    y = frame.margin
    for layer, members in zip(reversed(layers), rows, strict=True):
        height = _lay_band(plan, frame, layer, y, members, inside, route, lang)
        plan.bands.append((layer, y, height))
        y += height + frame.gap
    bottom = y - frame.gap

    svg = Svg(key, frame.width, lang, title)
    for depth, (layer, band_y, height) in enumerate(plan.bands):
        _draw_band(svg, frame, depth, layer, band_y, height, quote)
    for box_id, box in plan.boxes.items():
        _component_box(svg, box, lang, resource, plan.titles[box_id], None, connector=box_id in plan.connectors)
    for chip in plan.chips.values():
        _chip(svg, chip, resource)
    taken = _arrows(svg, [r for r in relations if r.iri not in hops], plan, tables, lang, quote)
    if own is not None and own.hops:
        _own_path_arrows(svg, frame, plan, own, taken, tables, lang, quote)
        bottom = _legend(svg, frame, own, bottom, tables, lang, resource)
    return svg.render(bottom + frame.margin)


def _connectors(
    relations: Sequence[Relation], layers: Sequence[Layer], layered: set[str]
) -> dict[str, tuple[str, ...]]:
    """Components in no layer that connect (hv:connects) two or more components of one layer: drawn in that
    layer, between them (the article: the VMBus runs between the partitions)."""
    connects: dict[str, set[str]] = {}
    for relation in relations:
        if relation.predicate.endswith("/connects") and relation.subject not in layered:
            connects.setdefault(relation.subject, set()).add(relation.object)
    between = {}
    for connector, ends in sorted(connects.items()):
        for layer in layers:
            members = {c.id for c in layer.components}
            if len(ends) >= 2 and ends <= members:
                between[connector] = tuple(sorted(ends))
    return between


def _inside(
    relations: Sequence[Relation], route: Sequence[str], placed: set[str], tables: Tables
) -> dict[str, list[Component]]:
    """What is drawn as a small box inside a box: what runs in it (hv:runsIn), and each component of the own
    path that the graph places nowhere, inside the box the path reaches it from (the VSC, where the virtual
    machine's requests start, in the virtual machine)."""
    inside: dict[str, list[Component]] = {}
    holder: dict[str, str] = {}
    for relation in relations:
        if relation.predicate.endswith("/runsIn") and relation.subject not in placed and relation.object in placed:
            inside.setdefault(relation.object, []).append(tables.components[relation.subject])
            holder[relation.subject] = relation.object
    last: str | None = None
    for component in route:
        if component in placed:
            last = component
        elif component in holder:
            last = holder[component]
        elif last is not None:
            inside.setdefault(last, []).append(tables.components[component])
            holder[component] = last
    return inside


def _lay_band(
    plan: Plan,
    frame: Frame,
    layer: Layer,
    y: int,
    members: Sequence[Component],
    inside: dict[str, list[Component]],
    route: Sequence[str],
    lang: str,
) -> int:
    """Place one layer's boxes, with their names and small boxes, in the plan; the band's height."""
    widths = _widths(members, plan.connectors, frame, lang)
    contents = []
    for component, box_w in zip(members, widths, strict=True):
        lines = wrap(text(component.label, lang), box_w - 20, 15, bold=True)
        rows, gaps = _chip_rows(component.id, inside.get(component.id, []), route, lang, box_w - 20, frame)
        height = 26 + 19 * len(lines) + sum(gaps) + 26 * len(rows) + (10 if rows else 0)
        contents.append((component, box_w, lines, rows, gaps, height))
    band_h = max(height for *_, height in contents) + 24
    x = frame.inner_x
    for component, box_w, lines, rows, gaps, _ in contents:
        box = Box(component, x, y + 12, box_w, band_h - 24)
        plan.boxes[component.id] = box
        plan.position[component.id] = layer.position
        plan.titles[component.id] = lines
        chip_y = box.y + 26 + 19 * len(lines)
        for row, gap in zip(rows, gaps, strict=True):
            chip_y += gap
            chip_x = box.center - (sum(w for _, w in row) + 8 * (len(row) - 1)) // 2
            for chip, chip_w in row:
                plan.chips[chip.id] = Box(chip, chip_x, chip_y, chip_w, 26)
                plan.holder[chip.id] = component.id
                chip_x += chip_w + 8
            chip_y += 26
        x += box_w + _spacing(component.id, plan.connectors, members)
    return band_h


def _spacing(component: str, connectors: set[str], members: Sequence[Component]) -> int:
    """Room after a box: wider beside a connector, so that arrows can pass between it and its neighbours."""
    ids = [c.id for c in members]
    index = ids.index(component)
    following = ids[index + 1] if index + 1 < len(ids) else None
    return 40 if component in connectors or following in connectors else 16


def _widths(members: Sequence[Component], connectors: set[str], frame: Frame, lang: str) -> list[int]:
    """A connector is as wide as its name needs; the other boxes of the layer share the rest equally."""
    narrow = {
        c.id: max(136, text_width(text(c.label, lang), 15, bold=True) + 40) for c in members if c.id in connectors
    }
    spacing = sum(_spacing(c.id, connectors, members) for c in members[:-1])
    others = len(members) - len(narrow)
    share = (frame.inner_w - spacing - sum(narrow.values())) // others if others else 0
    return [narrow.get(c.id, share) for c in members]


def _chip_rows(
    owner: str, chips: Sequence[Component], route: Sequence[str], lang: str, width: int, frame: Frame
) -> tuple[list[list[tuple[Component, int]]], list[int]]:
    """The small boxes of a box in rows, and the space above each row. The own path's come first, one a
    row in the path's order with room for the arrow between them; the others follow, as many a row as fit."""
    on_path = sorted((c for c in chips if c.id in route), key=lambda c: route.index(c.id))
    rest = sorted((c for c in chips if c.id not in route), key=lambda c: c.id)
    rows: list[list[tuple[Component, int]]] = []
    gaps: list[int] = []
    for chip in on_path:
        chip_w = min(width, text_width(text(chip.label, lang), 12) + 22)
        previous = rows[-1][0][0].id if rows else owner
        joined = route.index(chip.id) > 0 and route[route.index(chip.id) - 1] == previous
        gaps.append((frame.entry if not rows else frame.step) if joined else (0 if not rows else 10))
        rows.append([(chip, chip_w)])
    used = width + 1
    for chip in rest:
        chip_w = min(width, text_width(text(chip.label, lang), 12) + 22)
        if used + 8 + chip_w > width:
            gaps.append(10 if rows else 0)
            rows.append([])
            used = -8
        rows[-1].append((chip, chip_w))
        used += 8 + chip_w
    return rows, gaps


def _draw_band(svg: Svg, frame: Frame, depth: int, layer: Layer, y: int, band_h: int, quote: QuoteLink) -> None:
    """One layer's band (linked to the layer's quote) and its name."""
    lang = svg.lang
    first = layer.evidence[0].iri if layer.evidence else None
    svg.link(quote(first) if first else None, text(layer.label, lang))
    svg.add(
        f'<rect x="{frame.margin}" y="{y}" width="{frame.width - 2 * frame.margin}" height="{band_h}" rx="10" '
        f'fill="{BAND[depth % 2]}" stroke="#c9d6e6"/>'
    )
    names = wrap(text(layer.label, lang), frame.label_w - 24, 13, bold=True)
    name_y = y + band_h // 2 - (len(names) - 1) * 9 + 4
    for line in names:
        svg.text(frame.margin + 14, name_y, line, 13, anchor="start", fill=MUTED, font_weight="600")
        name_y += 18
    svg.end()


def _chip(svg: Svg, chip: Box, resource: ResourceLink) -> None:
    svg.link(resource(chip.component.iri), text(chip.component.description or chip.component.label, svg.lang))
    svg.add(
        f'<rect x="{chip.x}" y="{chip.y}" width="{chip.width}" height="26" rx="13" fill="#e6eef8" stroke="#8fb0d6"/>'
    )
    svg.text(chip.center, chip.y + 18, text(chip.component.label, svg.lang), 12)
    svg.end()


def _arrows(
    svg: Svg,
    relations: Sequence[Relation],
    plan: Plan,
    tables: Tables,
    lang: str,
    quote: QuoteLink,
) -> list[Rect]:
    """The relations between components of neighbouring layers, as vertical arrows (side by side when two
    relations join the same pair); relations within a layer or across several are listed, not drawn.
    Returns the room the arrows and their labels take."""
    taken: list[Rect] = []
    pairs: dict[tuple[str, str], list[Relation]] = {}
    for relation in relations:
        a, b = relation.subject, relation.object
        if a in plan.position and b in plan.position and abs(plan.position[a] - plan.position[b]) == 1:
            pairs.setdefault((a, b), []).append(relation)
    for (a, b), found in sorted(pairs.items()):
        upper, lower = sorted((plan.boxes[a], plan.boxes[b]), key=lambda box: -plan.position[box.component.id])
        left, right = max(upper.x, lower.x), min(upper.right, lower.right)
        center = (left + right) // 2 if left < right else upper.center
        for index, relation in enumerate(found):
            x = center + (index * 2 - (len(found) - 1)) * 90
            top, bottom = upper.bottom, lower.y
            label = text(tables.labels.get(relation.predicate, {"en": relation.predicate}), lang)
            sentence = f"{text(tables.components[a].label, lang)} {label} {text(tables.components[b].label, lang)}"
            down = relation.subject == upper.component.id
            points = (x, top + 2, x, bottom - 3) if down else (x, bottom - 2, x, top + 3)
            _edge(svg, points, label, relation.evidence, quote, sentence)
            middle = (top + bottom) // 2
            taken.append(Rect(x, top, x, bottom))
            taken.append(Rect(x + 9, middle - 10, x + 9 + text_width(label, 13, bold=True), middle + 8))
    # A connector's relations to its neighbours in its own layer: short arrows out of its sides, low down so
    # that a path's arrow can leave the connector level with its middle. Too short for a label: the tooltip
    # says it.
    for relation in relations:
        a, b = relation.subject, relation.object
        if a in plan.connectors and b in plan.boxes and plan.position.get(b) == plan.position[a]:
            bus, end = plan.boxes[a], plan.boxes[b]
            y = bus.bottom - 9
            points = (bus.x - 2, y, end.right + 3, y) if end.x < bus.x else (bus.right + 2, y, end.x - 3, y)
            label = text(tables.labels.get(relation.predicate, {"en": relation.predicate}), lang)
            sentence = f"{text(tables.components[a].label, lang)} {label} {text(tables.components[b].label, lang)}"
            _edge(svg, points, "", relation.evidence, quote, sentence)
            taken.append(Rect(min(points[0], points[2]), y, max(points[0], points[2]), y))
    return taken


Point = tuple[int, int]


def _own_path_arrows(
    svg: Svg,
    frame: Frame,
    plan: Plan,
    own: OwnPath,
    taken: list[Rect],
    tables: Tables,
    lang: str,
    quote: QuoteLink,
) -> None:
    """Each hop of the own path as a numbered arrow from component to component, routed round the names,
    the small boxes, the other arrows and the connectors it does not join."""
    fixed = [*plan.title_rects(), *taken]
    drawn: list[Rect] = []
    for number, hop in enumerate(own.hops, 1):
        source, target = plan.place(hop.subject), plan.place(hop.object)
        if source is None or target is None:
            continue
        ends = {hop.subject, hop.object}
        obstacles = [
            *fixed,
            *(Rect.around(c) for k, c in plan.chips.items() if k not in ends),
            *(Rect.around(plan.boxes[k]) for k in sorted(plan.connectors) if k not in ends),
        ]
        if plan.holder.get(hop.object) == hop.subject:
            # From a box to a small box inside it: down from the box's name.
            name_bottom = source.y + 12 + 19 * len(plan.titles[hop.subject])
            points = [(target.center, name_bottom + 3), (target.center, target.y - 3)]
        else:
            points = _route(source, target, obstacles, drawn, frame, list(plan.boxes.values()))
        label = text(tables.labels.get(hop.predicate, {"en": hop.predicate}), lang)
        names = (text(tables.components[k].label, lang) for k in (hop.subject, hop.object))
        sentence = f"{number}. {next(names)} {label} {next(names)}"
        _io_edge(svg, points, number, hop.evidence, quote, sentence)
        drawn.extend(
            Rect(min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]))
            for a, b in itertools.pairwise(points)
        )


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


def _io_edge(
    svg: Svg, points: Sequence[Point], number: int, evidence: Sequence[Citation], quote: QuoteLink, title: str
) -> None:
    """A hop of the own path: straight pieces ending in an arrowhead, numbered, linked to its first passage."""
    first = evidence[0].iri if evidence else None
    quotes = " / ".join(f"「{c.quote}」" for c in evidence)
    svg.link(quote(first) if first else None, f"{title}\n{quotes}".strip())
    pieces = list(itertools.pairwise(points))
    for (x1, y1), (x2, y2) in pieces:
        svg.add(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#ffffff" stroke-opacity="0" stroke-width="14"/>'
        )
    for index, ((x1, y1), (x2, y2)) in enumerate(pieces):
        end = f' marker-end="url(#{svg.key}-io)"' if index == len(pieces) - 1 else ""
        svg.add(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{IO}" stroke-width="2.6" '
            f'stroke-linecap="round"{end}/>'
        )
    (x1, y1), (x2, y2) = max(pieces, key=lambda p: abs(p[1][0] - p[0][0]) + abs(p[1][1] - p[0][1]))
    cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
    if abs(x2 - x1) + abs(y2 - y1) < 48:
        # On a short arrow the number would hide it: beside it instead.
        cx, cy = (cx - 17, cy) if x1 == x2 else (cx, cy - 15)
    svg.add(f'<circle cx="{cx}" cy="{cy}" r="10" fill="{IO}" stroke="#ffffff" stroke-width="2"/>')
    svg.text(cx, cy + 4, str(number), 12, fill="#ffffff", font_weight="700")
    svg.end()


def _legend(
    svg: Svg, frame: Frame, own: OwnPath, bottom: int, tables: Tables, lang: str, resource: ResourceLink
) -> int:
    """Under the bands: what the numbered arrows are, linked to the I/O path's page. The new bottom."""
    y = bottom + 22
    x = frame.inner_x
    svg.add(f'<path d="M{x},{y - 4} H{x + 34}" stroke="{IO}" stroke-width="2.6" marker-end="url(#{svg.key}-io)"/>')
    label = text(tables.labels.get(own.definition.iri, {"en": own.definition.iri}), lang)
    svg.link(resource(own.definition.iri), label)
    svg.text(x + 48, y, f"1–{len(own.hops)}: {label}", 13, anchor="start", fill=IO, font_weight="600")
    svg.end()
    return y + 8


def io_path_svg(
    key: str,
    title: str,
    found: ArchitecturePath,
    context: dict[str, Text],
    lang: str,
    resource: ResourceLink,
    quote: QuoteLink,
) -> str:
    """The hops of an I/O path top to bottom: each component a box (with where it sits, when the graph
    says), each hop a numbered arrow labelled with its relation and linked to its quote."""
    margin, box_w, gap = 16, 364, 64
    center = margin + 24 + box_w // 2
    # Wide enough for the boxes and for the longest label beside an arrow, and no wider.
    beside = [text_width(text(hop.relation, lang), 13, bold=True) for hop in found.hops]
    beside += [text_width(_passage_ids(hop.evidence), 11) for hop in found.hops if hop.evidence]
    width = max(margin * 2 + 48 + box_w, center + 9 + max(beside, default=0) + margin)
    svg = Svg(key, width, lang, title)
    boxes: list[Box] = []
    y = margin
    for component in found.components:
        lines = wrap(text(component.label, lang), box_w - 24, 15, bold=True)
        where = context.get(component.id)
        height = 24 + 19 * len(lines) + (18 if where else 0)
        box = Box(component, center - box_w // 2, y, box_w, height)
        _component_box(svg, box, lang, resource, lines, text(where, lang) if where else None)
        boxes.append(box)
        y += height + gap
    for number, (hop, (upper, lower)) in enumerate(zip(found.hops, itertools.pairwise(boxes), strict=True), 1):
        label = text(hop.relation, lang)
        sentence = f"{number}. {text(hop.source.label, lang)} {label} {text(hop.target.label, lang)}"
        points = (upper.center, upper.y + upper.height + 3, lower.center, lower.y - 4)
        note = _passage_ids(hop.evidence) if hop.evidence else None
        _edge(svg, points, label, hop.evidence, quote, sentence, badge=str(number), note=note)
    return svg.render(y - gap + margin)


def _passage_ids(evidence: Sequence[Citation]) -> str:
    return "¶ " + ", ".join(c.iri.rsplit("/", 1)[-1] for c in evidence)
