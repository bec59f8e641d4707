"""Content negotiation by the Accept header, with q-values (RFC 9110 section 12.5.1)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache


def parse_accept(header: str) -> list[tuple[str, float]]:
    """Media ranges with their q-values; a malformed range is skipped rather than failing the request."""
    ranges: list[tuple[str, float]] = []
    for item in header.split(","):
        media, *params = item.split(";")
        media = media.strip().lower()
        if media == "*":
            media = "*/*"
        if media.count("/") != 1:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        ranges.append((media, quality))
    return ranges


def quality(media_type: str, ranges: Sequence[tuple[str, float]]) -> tuple[float, int]:
    """The q-value the most specific matching range gives `media_type`, and how specific it is (2 exact,
    1 type/*, 0 */*); (0.0, -1) when no range matches."""
    kind = media_type.split("/", maxsplit=1)[0]
    best = (0.0, -1)
    for media, q in ranges:
        if media == media_type:
            specificity = 2
        elif media == kind + "/*":
            specificity = 1
        elif media == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best[1]:
            best = (q, specificity)
    return best


@lru_cache(maxsize=512)
def negotiate(accept: str | None, offers: Sequence[tuple[str, str]]) -> str | None:
    """The offered format the client prefers, the first offer when it states nothing, None when none fits.

    Remembered per (Accept header, offers): a client sends the same header with every request. The offers must
    be hashable (the adapters' are tuples)."""
    if accept is None or not accept.strip():
        return offers[0][1]
    ranges = parse_accept(accept)
    chosen: str | None = None
    best = 0.0
    for media_type, key in offers:
        q, _ = quality(media_type, ranges)
        if q > best:
            chosen, best = key, q
    return chosen
