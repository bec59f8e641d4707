"""The drawing of the diagrams (server.web.diagrams): fonts and colours, text widths and line wrapping,
boxes and rectangles, the Svg builder, and the shapes the figures share (a component's box, a relation's
arrow, a hop of an I/O path).

Plain string building: every text and attribute is escaped, every number is an integer, so the same
graph gives the same bytes.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from graph.model import Citation, Component, text

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


Point = tuple[int, int]


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
