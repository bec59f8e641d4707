"""The docs in a real headless Chromium, opened from file:// with every host name unresolvable: the home page
and an I/O path diagram page render to PNG, styled and drawn. The pictures are copied to docs/screenshots/
(the README shows them) by `make screenshots`, and left in the temporary directory to look at."""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from collections import Counter
from pathlib import Path

import pytest

from graph.layout import ROOT
from graph.snapshot import Snapshot
from server.web.docs import write_site
from tests.browser import run_chromium

SCREENSHOTS = ROOT / "docs" / "screenshots"
WIDTH, HEIGHT = 1200, 1600
HEADER = (0x17, 0x32, 0x4F)  # the site header's background (docs.css)
EDGE = (0xB5, 0x45, 0x2F)  # an arrow of a diagram (server/web/diagrams.py)
BOX = (0x2B, 0x5D, 0x8F)  # a component box's outline


@pytest.fixture(scope="module")
def site(snapshot: Snapshot, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs-site")
    write_site(snapshot, out, "both")
    return out


def screenshot(page: Path, png: Path, profile: Path) -> None:
    done = run_chromium(
        profile,
        "--hide-scrollbars",
        # Nothing may come from the network: no host name resolves, so a remote font or style would fail.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}",
        page.as_uri(),
    )
    assert png.is_file(), done.stderr[-2000:]


def pixels(png: Path) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Decode an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes) with zlib alone."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks, header = 8, [], b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, interlace) == (8, 0)
    channels = {2: 3, 6: 4}[color]
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous = bytearray(stride)
    result: list[tuple[int, int, int]] = []
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride if kind else 0):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        result.extend((line[x * channels], line[x * channels + 1], line[x * channels + 2]) for x in range(width))
        previous = line
    return width, height, result


def near(color: tuple[int, int, int], target: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(color, target, strict=True))


def check(png: Path) -> Counter[tuple[int, int, int]]:
    width, height, found = pixels(png)
    assert (width, height) == (WIDTH, HEIGHT)
    counts = Counter(found)
    assert len(counts) > 200, "a blank or nearly blank picture"
    white = counts[(255, 255, 255)]
    assert white < 0.97 * width * height, "almost nothing drawn"
    # The stylesheet was found from file://: the header band is the site's dark blue.
    assert near(found[10 * width + 10], HEADER)
    return counts


def test_home_and_io_path_pages_render(site: Path, tmp_path: Path) -> None:
    home = tmp_path / "home.png"
    screenshot(site / "en" / "index.html", home, tmp_path / "profile")
    counts = check(home)
    # The Hyper-V layer diagram is drawn inline: arrows and box outlines in the diagram's colours.
    assert sum(n for color, n in counts.items() if near(color, EDGE)) > 300
    assert sum(n for color, n in counts.items() if near(color, BOX)) > 1000

    path = tmp_path / "io-path.png"
    screenshot(site / "en" / "io" / "io-path-hyper-v-synthetic.html", path, tmp_path / "profile")
    counts = check(path)
    assert sum(n for color, n in counts.items() if near(color, EDGE)) > 1000  # five numbered arrows

    japanese = tmp_path / "io-path-ja.png"
    screenshot(site / "ja" / "io" / "io-path-hyper-v-synthetic.html", japanese, tmp_path / "profile")
    check(japanese)

    # A test run leaves the checkout as it found it: `make screenshots` copies the pictures for the README.
    if os.environ.get("HVKG_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for png in (home, path, japanese):
            shutil.copyfile(png, SCREENSHOTS / png.name)
