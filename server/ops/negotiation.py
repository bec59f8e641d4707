"""Content negotiation by the Accept header, with q-values and precedence (RFC 9110 sections 12.4.2, 12.5.1), and
the language of a page by `?lang=` and Accept-Language (the front door and GraphiQL's page ask it the same way).

Ours, not python-mimeparse's or accept-types': neither takes the most specific range when a range carries
parameters (`text/plain;format=flowed` before `text/plain;q=0.7` gives text/plain 1 instead of 0.7), mimeparse
fails the whole header on one malformed range and matches `TEXT/HTML` against nothing, accept-types ignores
q=0 and precedence and raises on `q=1.2.3` (docs/decisions.md, "Operations: libraries or measured reasons").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache

from starlette.responses import PlainTextResponse, Response

from graph.model import LANGS

# A media range: its type/subtype in lower case, its parameters other than the weight, its q-value.
Range = tuple[str, frozenset[tuple[str, str]], float]


def _media_type(text: str) -> tuple[str, list[str]] | None:
    """`type/subtype` in lower case (`*` read as `*/*`, as Java clients send it) and the text of each parameter;
    None for anything else."""
    media, *params = text.split(";")
    media = media.strip().lower()
    if media == "*":
        media = "*/*"
    kind, slash, sub = media.partition("/")
    if not slash or not kind or not sub or "/" in sub or (kind == "*" and sub != "*"):
        return None
    return media, params


def _parameter(text: str) -> tuple[str, str]:
    name, _, value = text.partition("=")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return name.strip().lower(), value


def _weight(value: str) -> float:
    """A q-value held to 0..1; one that is no number at all (`q=abc`, `q=nan`) refuses the range (0)."""
    try:
        weight = float(value)
    except ValueError:
        return 0.0
    return 0.0 if math.isnan(weight) else min(max(weight, 0.0), 1.0)


def parse_accept(header: str) -> list[Range]:
    """Media ranges with their parameters and q-values; a malformed range is skipped rather than failing the
    request. The weight ends a range: what follows it is not a parameter of the media type (RFC 9110)."""
    ranges: list[Range] = []
    for item in header.split(","):
        read = _media_type(item)
        if read is None:
            continue
        media, params = read
        quality = 1.0
        own: list[tuple[str, str]] = []
        for param in params:
            name, value = _parameter(param)
            if name == "q":
                quality = _weight(value)
                break
            if name:
                own.append((name, value))
        ranges.append((media, frozenset(own), quality))
    return ranges


def quality(media_type: str, ranges: Sequence[Range]) -> tuple[float, int]:
    """The q-value the most specific matching range gives `media_type` (which may carry parameters), and how
    specific it is (2 exact, 1 type/*, 0 */*); (0.0, -1) when no range matches.

    Precedence, as RFC 9110 section 12.5.1 orders it: an exact type precedes type/* precedes */*; a range whose
    parameters are all the media type's precedes one naming a parameter the media type leaves open (an offer of
    `text/turtle` is written with `charset=utf-8`: `text/turtle;charset=utf-8` still asks for it), and more
    such parameters precede fewer. A range giving a parameter another value than the media type's does not
    apply. Between ranges equal in all this (`text/html, text/html;q=0`), the highest q-value counts, so that
    the order of the ranges in the header never matters."""
    offered = _offered(media_type)
    if offered is None:
        return (0.0, -1)
    media, wildcard, own = offered
    best_q, best = 0.0, (-1, False, -1)
    for range_media, range_params, q in ranges:
        if range_media == media:
            specificity = 2
        elif range_media == wildcard:
            specificity = 1
        elif range_media == "*/*":
            specificity = 0
        else:
            continue
        if range_params:
            shared = [value == own[name] for name, value in range_params if name in own]
            if not all(shared):
                continue
            precedence = (specificity, len(shared) == len(range_params), len(shared))
        else:
            precedence = (specificity, True, 0)
        if precedence > best or (precedence == best and q > best_q):
            best_q, best = q, precedence
    return best_q, best[0]


@lru_cache(maxsize=256)
def _offered(media_type: str) -> tuple[str, str, Mapping[str, str]] | None:
    """An offered media type read once: type/subtype, type/*, its parameters (the adapters offer a few)."""
    read = _media_type(media_type)
    if read is None:
        return None
    media, params = read
    return media, media.split("/", maxsplit=1)[0] + "/*", dict(_parameter(param) for param in params)


@lru_cache(maxsize=512)
def negotiate(accept: str | None, offers: Sequence[tuple[str, str]]) -> str | None:
    """The offered format the client prefers, the first offer when it states nothing, None when none fits
    (q=0 is "not acceptable"). Between offers of equal quality the earlier offer wins.

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


# --- the language of a page: ?lang=, else Accept-Language (the front door, GraphiQL's page) ------------------


def choose_language(asked: str | None, accept_language: str | None) -> str | None:
    """`?lang=` when given (None when it names no language of ours), else the Accept-Language tag of ours with
    the highest quality (the first of equals), else English."""
    if asked is not None:
        return asked if asked in LANGS else None
    best, best_quality = "en", 0.0
    for item in (accept_language or "").split(","):
        tag, *params = item.split(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGS:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        if quality > best_quality:
            best, best_quality = primary, quality
    return best


def language_refused(asked: str, headers: Mapping[str, str]) -> Response:
    """The 400 of a `?lang=` that names no language of ours, in both languages."""
    shown, names = asked[:20], ", ".join(LANGS)
    return PlainTextResponse(
        f"lang: use one of {names} (got {shown!r}) / lang には {names} のいずれかを指定してください({shown!r})",
        status_code=400,
        headers=dict(headers),
    )
