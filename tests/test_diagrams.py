"""The layer diagrams (server.web.diagrams.architecture_svg): every component of a product's own I/O path is drawn
where the article puts it, and every hop of that path is a numbered arrow from its component to the next,
linked to its quote.

What to expect is read from the graph (the product's own path, the components' types and labels, what runs in
what), never from the drawing's own code; the drawing is parsed as XML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest

from graph.build import build_snapshot
from graph.layout import VOCAB
from graph.model import ArchitecturePath, text
from graph.paths import io_path, layers
from graph.snapshot import Snapshot
from graph.tables import local_id
from server.web.diagrams import architecture_svg

SVG = "{http://www.w3.org/2000/svg}"
LANGS = ("en", "ja")
PRODUCTS = ("hyper-v", "virtual-server-2005-r2")


@dataclass(frozen=True)
class Shape:
    """A box or small box of the drawing: what it links to, where it is, and the words written in it."""

    id: str
    x: int
    y: int
    width: int
    height: int
    words: str

    def holds(self, other: Shape) -> bool:
        return (
            self.x <= other.x
            and other.x + other.width <= self.x + self.width
            and self.y <= other.y
            and other.y + other.height <= self.y + self.height
        )

    def near(self, x: int, y: int, slack: int = 5) -> bool:
        """Whether a point lies on this shape's outline or just outside it."""
        inside = (
            self.x - slack <= x <= self.x + self.width + slack and self.y - slack <= y <= self.y + self.height + slack
        )
        deep = self.x + slack < x < self.x + self.width - slack and self.y + slack < y < self.y + self.height - slack
        return inside and not deep


@dataclass(frozen=True)
class Arrow:
    href: str
    title: str
    points: tuple[tuple[int, int], ...]
    number: str
    own_path: bool


@dataclass(frozen=True)
class Drawing:
    shapes: dict[str, Shape]
    arrows: list[Arrow]
    svg: str


def draw(snapshot: Snapshot, product: str, lang: str) -> Drawing:
    svg = architecture_svg(
        "t",
        "title",
        layers(snapshot, product),
        snapshot.tables,
        product,
        lang,
        lambda iri: "res:" + local_id(iri) if iri else None,
        lambda iri: "quote:" + local_id(iri),
    )
    root = ET.fromstring(svg)  # noqa: S314 -- our own output
    shapes: dict[str, Shape] = {}
    arrows: list[Arrow] = []
    for link in root.iter(f"{SVG}a"):
        href = link.get("href", "")
        title = link.find(f"{SVG}title")
        rect = link.find(f"{SVG}rect")
        lines = link.findall(f"{SVG}line")
        if href.startswith("res:") and rect is not None:
            words = "".join(t.text or "" for t in link.iter(f"{SVG}text"))
            x, y, w, h = (int(rect.get(k, "0")) for k in ("x", "y", "width", "height"))
            shapes[href[4:]] = Shape(href[4:], x, y, w, h, words)
        elif lines:
            visible = [line for line in lines if line.get("stroke-opacity") != "0"]
            points = [(int(visible[0].get("x1", "0")), int(visible[0].get("y1", "0")))]
            points += [(int(line.get("x2", "0")), int(line.get("y2", "0"))) for line in visible]
            number = "".join(t.text or "" for t in link.iter(f"{SVG}text") if (t.text or "").isdigit())
            own = any("-io)" in line.get("marker-end", "") for line in visible)
            arrows.append(Arrow(href, title.text or "" if title is not None else "", tuple(points), number, own))
    return Drawing(shapes, arrows, svg)


def squeeze(value: str) -> str:
    return "".join(value.split())


def own_path(snapshot: Snapshot, product: str) -> ArchitecturePath:
    found = io_path(snapshot, product)
    assert found is not None
    return found


def of_type(snapshot: Snapshot, kind: str) -> list[str]:
    return sorted(local_id(iri) for iri, found in snapshot.tables.types.items() if found == kind)


@pytest.mark.parametrize("lang", LANGS)
def test_the_hyper_v_diagram_draws_the_vmbus_the_vsc_and_the_vsp(snapshot: Snapshot, lang: str) -> None:
    """The defect: the diagram drew neither the VMBus nor the VSC, the article's central point."""
    drawing = draw(snapshot, "hyper-v", lang)
    central = [*of_type(snapshot, "VirtualBus"), *of_type(snapshot, "VirtualizationServiceClient")]
    central += of_type(snapshot, "VirtualizationServiceProvider")
    assert len(central) == 3
    for component in central:
        label = text(snapshot.tables.components[component].label, lang)
        assert component in drawing.shapes, component
        assert squeeze(drawing.shapes[component].words) == squeeze(label)


@pytest.mark.parametrize("product", PRODUCTS)
@pytest.mark.parametrize("lang", LANGS)
def test_every_component_of_the_own_path_is_drawn_with_its_label(snapshot: Snapshot, product: str, lang: str) -> None:
    drawing = draw(snapshot, product, lang)
    for component in own_path(snapshot, product).components:
        assert component.id in drawing.shapes, (product, component.id)
        assert squeeze(drawing.shapes[component.id].words) == squeeze(text(component.label, lang))


@pytest.mark.parametrize("product", PRODUCTS)
@pytest.mark.parametrize("lang", LANGS)
def test_every_hop_is_a_numbered_arrow_from_its_component_to_the_next(
    snapshot: Snapshot, product: str, lang: str
) -> None:
    drawing = draw(snapshot, product, lang)
    found = own_path(snapshot, product)
    arrows = [a for a in drawing.arrows if a.own_path]
    assert len(arrows) == len(found.hops)
    for number, (hop, arrow) in enumerate(zip(found.hops, arrows, strict=True), 1):
        assert arrow.number == str(number)
        assert arrow.href == "quote:" + local_id(hop.evidence[0].iri)
        assert all(c.quote in arrow.title for c in hop.evidence)
        assert text(hop.source.label, lang) in arrow.title
        assert text(hop.target.label, lang) in arrow.title
        source, target = drawing.shapes[hop.source.id], drawing.shapes[hop.target.id]
        start, end = arrow.points[0], arrow.points[-1]
        if source.holds(target):
            # from a box to a small box inside it: from within the box to the small box's outline
            assert source.x < start[0] < source.x + source.width and source.y < start[1] < target.y
        else:
            assert source.near(*start), (hop.source.id, start, source)
        assert target.near(*end), (hop.target.id, end, target)
        # each piece is straight across or straight down
        for (x1, y1), (x2, y2) in zip(arrow.points, arrow.points[1:], strict=False):
            assert x1 == x2 or y1 == y2


def test_where_the_components_of_hyper_vs_path_sit(snapshot: Snapshot) -> None:
    """VSC on the virtual machine's side (the child partition), VSP and the device driver in the host OS (the
    parent partition), the VMBus between the two partitions: each placement checked against the graph's own
    relations (what runs in what, what the VMBus connects)."""
    tables = snapshot.tables
    runs_in = {r.subject: r.object for r in tables.relations if r.predicate == VOCAB + "runsIn"}
    drawing = draw(snapshot, "hyper-v", "en")
    shapes = drawing.shapes
    found = own_path(snapshot, "hyper-v")
    route = [c.id for c in found.components]
    (vsc,) = of_type(snapshot, "VirtualizationServiceClient")
    (vsp,) = of_type(snapshot, "VirtualizationServiceProvider")
    (bus,) = of_type(snapshot, "VirtualBus")
    # The VSC is where the virtual machine's requests start: inside the virtual machine's box, whose column is
    # that of the partition the virtual machine runs in.
    machine = route[route.index(vsc) - 1]
    assert shapes[machine].holds(shapes[vsc])
    child = runs_in[machine]
    assert overlap(shapes[vsc], shapes[child]) > 0
    # The VSP and the driver run in the host OS, drawn inside it, in the column of its partition.
    for component in (vsp, route[route.index(vsp) + 1]):
        host = runs_in[component]
        assert shapes[host].holds(shapes[component])
        assert overlap(shapes[component], shapes[runs_in[host]]) > 0
        assert overlap(shapes[component], shapes[child]) == 0
    # The VMBus lies between the partitions it connects, level with them.
    ends = sorted(
        (shapes[r.object] for r in tables.relations if r.subject == bus and r.predicate == VOCAB + "connects"),
        key=lambda s: s.x,
    )
    assert len(ends) == 2
    assert {e.id for e in ends} == {child, runs_in[runs_in[vsp]]}
    left, right = ends
    assert left.x + left.width < shapes[bus].x < shapes[bus].x + shapes[bus].width < right.x
    assert shapes[bus].y == left.y == right.y
    # The other relations are still drawn, the VMBus's included.
    assert any(not a.own_path and a.title.startswith(shapes[bus].words) for a in drawing.arrows)


def overlap(a: Shape, b: Shape) -> int:
    return max(0, min(a.x + a.width, b.x + b.width) - max(a.x, b.x))


@pytest.mark.parametrize("product", PRODUCTS)
def test_arrows_do_not_run_through_small_boxes(snapshot: Snapshot, product: str) -> None:
    """A path's arrow never crosses a small box other than the two it joins (it would read as a hop)."""
    drawing = draw(snapshot, product, "ja")
    found = own_path(snapshot, product)
    chips = [s for s in drawing.shapes.values() if any(o.holds(s) and o is not s for o in drawing.shapes.values())]
    assert chips
    for hop, arrow in zip(found.hops, [a for a in drawing.arrows if a.own_path], strict=True):
        for chip in chips:
            if chip.id in (hop.source.id, hop.target.id):
                continue
            for (x1, y1), (x2, y2) in zip(arrow.points, arrow.points[1:], strict=False):
                crosses = (
                    min(x1, x2) < chip.x + chip.width
                    and max(x1, x2) > chip.x
                    and min(y1, y2) < chip.y + chip.height
                    and max(y1, y2) > chip.y
                )
                assert not crosses, (hop.source.id, hop.target.id, chip.id)


def test_a_product_without_an_own_path_draws_no_path(snapshot: Snapshot) -> None:
    assert io_path(snapshot, "vmware-esx") is None
    # ESX has no layers either: draw Hyper-V's layers under ESX's name, which has no own path.
    svg = architecture_svg(
        "t", "t", layers(snapshot, "hyper-v"), snapshot.tables, "vmware-esx", "en", lambda i: None, lambda i: ""
    )
    assert "-io)" not in svg


@pytest.mark.parametrize("lang", LANGS)
def test_the_same_graph_gives_the_same_bytes(snapshot: Snapshot, lang: str) -> None:
    fresh = build_snapshot(cache_dir=None)
    for product in PRODUCTS:
        first = draw(snapshot, product, lang).svg
        assert draw(snapshot, product, lang).svg == first
        assert draw(fresh, product, lang).svg == first
