"""SVG diagrams drawn from the graph: a product's layers, and an I/O path hop by hop.

Plain string building: every text is escaped, every number is an integer, nothing depends on time or on a
random id, so the same graph gives the same bytes. Boxes link to the component's page; every edge (an
arrow for a documented relation) is wrapped in a link to the quote it rests on.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from graph.model import ArchitecturePath, Citation, Component, Layer, Relation, Text, text
from graph.tables import Tables
from server.web.diagram_layout import Frame, OwnPath, Plan, _ordered, _route, own_path
from server.web.diagram_svg import (
    BAND,
    IO,
    MUTED,
    Box,
    QuoteLink,
    Rect,
    ResourceLink,
    Svg,
    _component_box,
    _edge,
    _io_edge,
    text_width,
    wrap,
)


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
