"""SVG diagrams drawn from the graph: a product's layers, and an I/O path hop by hop.

Plain string building: every text is escaped, every number is an integer, nothing depends on time or on a
random id, so the same graph gives the same bytes. Boxes link to the component's page; every edge (an
arrow for a documented relation) is wrapped in a link to the quote it rests on.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from graph.model import ArchitecturePath, Citation, Component, Layer, Relation, Text, text
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
            f'<defs><marker id="{self.key}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{EDGE}"/></marker></defs>'
        )
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" id="{self.key}" width="{self.width}" '
            f'height="{height}" viewBox="0 0 {self.width} {height}" role="group" aria-labelledby="{self.key}-title" '
            f'lang="{self.lang}" font-family="{_attr(FONTS.get(self.lang, FONTS["en"]))}" fill="{INK}">'
            f'<title id="{self.key}-title">{escape(self.title)}</title>{marker}'
            f'<rect width="{self.width}" height="{height}" fill="#ffffff"/>' + "".join(self.parts) + "</svg>\n"
        )


def _component_box(svg: Svg, box: Box, lang: str, resource: ResourceLink, lines: list[str], sub: str | None) -> None:
    svg.link(resource(box.component.iri), text(box.component.description or box.component.label, lang))
    svg.add(
        f'<rect x="{box.x}" y="{box.y}" width="{box.width}" height="{box.height}" rx="7" fill="#ffffff" '
        f'stroke="{BLUE}" stroke-width="1.6"/>'
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


def _ordered(layers: Sequence[Layer], relations: Sequence[Relation]) -> list[list[Component]]:
    """The layers from the top down, each one's components ordered under their neighbours above.

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
        rows.append(members)
    return rows


@dataclass(frozen=True)
class Frame:
    """The fixed geometry of a layer diagram."""

    width: int = 900
    margin: int = 12
    label_w: int = 176  # the column of layer names
    gap: int = 46  # between bands: room for an arrow and its label

    @property
    def inner_x(self) -> int:
        return self.margin + self.label_w

    @property
    def inner_w(self) -> int:
        return self.width - self.margin - self.inner_x - 12


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
    inside for what runs in them, and arrows for the documented relations between neighbouring layers."""
    frame = Frame()
    relations = sorted(
        (r for r in tables.relations if product in tables.components[r.subject].products),
        key=lambda r: r.iri,
    )
    rows = _ordered(layers, relations)
    layered = {c.id for row in rows for c in row}
    # Components that run in a layered one (and are not in a layer themselves) are drawn inside it.
    inside: dict[str, list[Component]] = {}
    for relation in relations:
        if relation.predicate.endswith("/runsIn") and relation.subject not in layered and relation.object in layered:
            inside.setdefault(relation.object, []).append(tables.components[relation.subject])

    svg = Svg(key, frame.width, lang, title)
    boxes: dict[str, tuple[Box, int]] = {}
    y = frame.margin
    for depth, (layer, members) in enumerate(zip(reversed(layers), rows, strict=True)):
        drawn = _band(svg, frame, depth, y, layer, members, inside, resource, quote)
        boxes.update((box.component.id, (box, layer.position)) for box in drawn)
        y = drawn[0].y + drawn[0].height + 12 + frame.gap
    _arrows(svg, relations, boxes, tables, lang, quote)
    return svg.render(y - frame.gap + frame.margin)


def _band(
    svg: Svg,
    frame: Frame,
    depth: int,
    y: int,
    layer: Layer,
    members: Sequence[Component],
    inside: dict[str, list[Component]],
    resource: ResourceLink,
    quote: QuoteLink,
) -> list[Box]:
    """One layer: its band (linked to the layer's quote), its name, and a box per component."""
    lang = svg.lang
    box_w = (frame.inner_w - (len(members) - 1) * 16) // len(members)
    contents = []
    for component in members:
        lines = wrap(text(component.label, lang), box_w - 20, 15, bold=True)
        chips = _chip_rows(inside.get(component.id, []), lang, box_w - 20)
        contents.append((component, lines, chips, 26 + 19 * len(lines) + 36 * len(chips)))
    band_h = max(height for *_, height in contents) + 24
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
    boxes = []
    x = frame.inner_x
    for component, lines, chips, _ in contents:
        box = Box(component, x, y + 12, box_w, band_h - 24)
        _component_box(svg, box, lang, resource, lines, None)
        _chips(svg, box, box.y + 26 + 19 * len(lines), chips, resource)
        boxes.append(box)
        x += box_w + 16
    return boxes


def _chips(svg: Svg, box: Box, y: int, rows: list[list[tuple[Component, int]]], resource: ResourceLink) -> None:
    """Small boxes inside a component's box for what runs in it, centred in rows."""
    for row in rows:
        x = box.center - (sum(w for _, w in row) + 8 * (len(row) - 1)) // 2
        for chip, chip_w in row:
            svg.link(resource(chip.iri), text(chip.description or chip.label, svg.lang))
            svg.add(f'<rect x="{x}" y="{y}" width="{chip_w}" height="26" rx="13" fill="#e6eef8" stroke="#8fb0d6"/>')
            svg.text(x + chip_w // 2, y + 18, text(chip.label, svg.lang), 12)
            svg.end()
            x += chip_w + 8
        y += 36


def _arrows(
    svg: Svg,
    relations: Sequence[Relation],
    boxes: dict[str, tuple[Box, int]],
    tables: Tables,
    lang: str,
    quote: QuoteLink,
) -> None:
    """The relations between components of neighbouring layers, as vertical arrows (side by side when two
    relations join the same pair); relations within a layer or across several are listed, not drawn."""
    pairs: dict[tuple[str, str], list[Relation]] = {}
    for relation in relations:
        a, b = relation.subject, relation.object
        if a in boxes and b in boxes and abs(boxes[a][1] - boxes[b][1]) == 1:
            pairs.setdefault((a, b), []).append(relation)
    for (a, b), found in sorted(pairs.items()):
        (upper, _), (lower, _) = sorted((boxes[a], boxes[b]), key=lambda item: -item[1])
        left, right = max(upper.x, lower.x), min(upper.x + upper.width, lower.x + lower.width)
        center = (left + right) // 2 if left < right else upper.center
        for index, relation in enumerate(found):
            x = center + (index * 2 - (len(found) - 1)) * 90
            top, bottom = upper.y + upper.height, lower.y
            label = text(tables.labels.get(relation.predicate, {"en": relation.predicate}), lang)
            sentence = f"{text(tables.components[a].label, lang)} {label} {text(tables.components[b].label, lang)}"
            down = relation.subject == upper.component.id
            points = (x, top + 2, x, bottom - 3) if down else (x, bottom - 2, x, top + 3)
            _edge(svg, points, label, relation.evidence, quote, sentence)


def _chip_rows(chips: Sequence[Component], lang: str, width: int) -> list[list[tuple[Component, int]]]:
    rows: list[list[tuple[Component, int]]] = []
    used = width + 1
    for chip in sorted(chips, key=lambda c: c.id):
        chip_w = min(width, text_width(text(chip.label, lang), 12) + 22)
        if used + 8 + chip_w > width:
            rows.append([])
            used = -8
        rows[-1].append((chip, chip_w))
        used += 8 + chip_w
    return rows


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
