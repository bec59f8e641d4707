"""Name resolution: ids, English and Japanese labels, short forms, in any letter case and spacing.

A name is folded (Unicode NFKC, lower case, no spaces or punctuation) before it is looked up, so
"windows xp", "Windows  XP" and "WINDOWS-XP" are one key. A name that matches nothing gets the closest
known names, ranked by similarity of the folded forms.
"""

from __future__ import annotations

import heapq
import unicodedata
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from rapidfuzz import fuzz
from rdflib import Graph, URIRef

from graph.layout import VOCAB
from graph.model import Architecture, Named
from graph.tables import Tables, local_id

# Longest name we try to resolve; anything longer is refused by the callers as bad input.
MAX_NAME_LENGTH = 200
# Up to this many names of a kind, `suggest` scores every one; above it (a large catalogue), only the names
# that share the most letter pairs with the asked name, so a misspelling costs the same on any graph size.
EXHAUSTIVE_NAMES = 2000
SHORTLIST = 200
MEMO_ENTRIES = 10_000

T = TypeVar("T")


def fold(name: str) -> str:
    """The key a name is looked up by: NFKC, case folded, letters and digits only, and no katakana long-vowel
    mark after katakana (ハイパーバイザー and ハイパーバイザ, サーバー and サーバ are one spelling in Japanese)."""
    text = unicodedata.normalize("NFKC", name).casefold()
    kept: list[str] = []
    for ch in text:
        if ch == "ー" and kept and "\u30a0" <= kept[-1] <= "\u30ff":
            continue
        if ch.isalnum():
            kept.append(ch)
    return "".join(kept)


@dataclass
class _Candidates:
    """The names of one kind, side by side with the IRI each names, and for each pair of letters the numbers of
    the names holding it. Packed (two flat lists, arrays of 4-byte numbers): a catalogue of a million triples
    has some 370,000 names of operating systems, editions included, and 6.7 million letter pairs among them
    (87 MB as lists of tuples and of Python integers, 33 MB so)."""

    iris: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    postings: dict[str, array[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Reading:
    """What an operating-system name says, part by part: the OS, and the edition, service pack and architecture
    the name carries (None where it carries none)."""

    operating_system: Named
    edition: Named | None = None
    service_pack: int | None = None
    architecture: Architecture | None = None


@dataclass(frozen=True)
class _Vocabulary:
    """The words a name is read from, all folded, all from the data: operating systems, their editions, the
    architectures, the words that introduce a service pack number (hidden labels of hv:servicePack) and the
    words that add nothing ("Edition", "版": hidden labels of the classes hv:Edition and hv:CpuArchitecture)."""

    os: dict[str, tuple[str, ...]]
    editions: dict[str, tuple[str, ...]]
    edition_of: dict[str, str]
    # edition names that name their release too ("Windows Web Server 2008"): they may stand without an OS name
    release_names: frozenset[str]
    architectures: dict[str, Architecture]
    sp_words: frozenset[str]
    fillers: frozenset[str]
    longest: int


# What one piece of a name is: ("os", iri), ("edition", iri), ("arch", Architecture), ("sp", number), ("filler",)
_Piece = tuple[Any, ...]


@dataclass(frozen=True)
class NameIndex:
    # folded name -> IRIs it names; and IRI -> type, every folded key, and labels for search
    # A tuple, not a frozenset: most keys name one IRI, and a catalogue of a million triples has some 370,000
    # keys (a frozenset of one is 216 bytes, a tuple of one 48).
    keys: dict[str, tuple[str, ...]]
    types: dict[str, str]
    names_of: dict[str, tuple[str, ...]]
    tables: Tables
    # operating system -> its family (skos:broader), so that an unknown Linux name suggests Linux names
    families: dict[str, str] = field(default_factory=dict)
    # Per-index memo of suggestions and of the per-kind candidate lists; the index is per snapshot, so
    # this is dropped with it.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def resolve(self, name: str, kind: str) -> Named | None:
        """The one resource of this kind that the name denotes, or None. An operating system's name is read
        into its parts (`read`), and this is the OS it names."""
        if kind == "OperatingSystem":
            reading = self.read(name)
            return reading.operating_system if reading else None
        found = [iri for iri in self.keys.get(fold(name), ()) if self.types.get(iri) == kind]
        return self.tables.named(sorted(found)[0]) if len(found) >= 1 else None

    def read(self, name: str) -> Reading | None:
        """The name read into operating system, edition, service pack and architecture, or None when it cannot
        be read whole: every letter of it must belong to a known name or number, nothing is dropped.

        "Windows 2000 Datacenter Server" reads as Windows 2000 Server, edition Datacenter Server; "Windows XP
        SP3 x86" as Windows XP, SP3, x86. Of several readings the one of fewest pieces wins (the whole name
        "Windows 2000 Server" before "Windows 2000" + "Server"); readings that still differ are ambiguous: None.
        """
        key = fold(name)
        return self._remembered(("read", key), lambda: self._read(key))

    def read_edition(self, os_iri: str, name: str) -> Reading | None:
        """An edition argument read the same way, within one OS's editions ("Professional x64" carries x64)."""
        key = fold(name)

        def within() -> Reading | None:
            found = self._read(key, os_iri)
            # an edition argument names an edition of this OS, or nothing
            return found if found and found.operating_system.iri == os_iri and found.edition else None

        return self._remembered(("read-edition", os_iri, key), within)

    def resolve_edition(self, os_iri: str, name: str) -> Named | None:
        """The edition of this OS that the name denotes, or None."""
        reading = self.read_edition(os_iri, name)
        return reading.edition if reading else None

    def _vocabulary(self) -> _Vocabulary:
        cached: _Vocabulary | None = self.memo.get("vocabulary")
        if cached is not None:
            return cached
        os: dict[str, set[str]] = defaultdict(set)
        editions: dict[str, set[str]] = defaultdict(set)
        edition_of: dict[str, str] = {}
        release_names: set[str] = set()
        architectures: dict[str, Architecture] = {}
        for os_iri, listed in self.tables.editions.items():
            for edition in listed:
                edition_of[edition.iri] = os_iri
        for iri, folded_names in self.names_of.items():
            kind = self.types.get(iri)
            if kind == "OperatingSystem":
                for key in folded_names:
                    os[key].add(iri)
            elif kind == "Edition" and iri in edition_of:
                for key in folded_names:
                    editions[key].add(iri)
                    if any(ch.isdigit() for ch in key):
                        release_names.add(key)
            elif kind == "CpuArchitecture":
                for key in folded_names:
                    architectures[key] = Architecture(local_id(iri))
        sp_words = {fold(n) for n in self.tables.alt_labels.get(VOCAB + "servicePack", ())}
        fillers = {
            fold(n) for cls in ("Edition", "CpuArchitecture") for n in self.tables.alt_labels.get(VOCAB + cls, ())
        }
        words = [*os, *editions, *architectures, *sp_words, *fillers]
        built = _Vocabulary(
            os={k: tuple(sorted(v)) for k, v in os.items()},
            editions={k: tuple(sorted(v)) for k, v in editions.items()},
            edition_of=edition_of,
            release_names=frozenset(release_names),
            architectures=architectures,
            sp_words=frozenset(w for w in sp_words if w),
            fillers=frozenset(w for w in fillers if w),
            longest=max((len(w) for w in words), default=1),
        )
        self.memo["vocabulary"] = built
        return built

    def _pieces_at(self, vocab: _Vocabulary, key: str, start: int) -> list[tuple[int, _Piece]]:
        """Every known word that starts at `start`, with where it ends."""
        found: list[tuple[int, _Piece]] = []
        for end in range(start + 1, min(len(key), start + vocab.longest) + 1):
            word = key[start:end]
            found.extend((end, ("os", iri)) for iri in vocab.os.get(word, ()))
            found.extend((end, ("edition", iri, word in vocab.release_names)) for iri in vocab.editions.get(word, ()))
            if word in vocab.architectures:
                found.append((end, ("arch", vocab.architectures[word])))
            if word in vocab.fillers:
                found.append((end, ("filler",)))
            if word in vocab.sp_words:
                # a service pack number of one or two digits; both are tried ("sp264bit" is SP2 and 64bit)
                for digits in (end + 1, end + 2):
                    if digits <= len(key) and key[end:digits].isdigit():
                        found.append((digits, ("sp", int(key[end:digits]))))
        return found

    def _read(self, key: str, within: str | None = None) -> Reading | None:
        """All whole readings of the folded name (at most one OS, edition, service pack and architecture each;
        an edition belongs to its OS), the fewest pieces first; None when there is none or the best are several."""
        if not key:
            return None
        vocab = self._vocabulary()
        # A state is where the reading stands: (position, os, edition, sp, arch, whether the OS was named).
        # walk(state) maps each way to finish (os, edition, sp, arch, named) to the fewest pieces it takes.
        done: dict[tuple[Any, ...], dict[tuple[Any, ...], int]] = {}

        def walk(state: tuple[Any, ...]) -> dict[tuple[Any, ...], int]:
            if state in done:
                return done[state]
            pos, os, edition, sp, arch, named = state
            finishes: dict[tuple[Any, ...], int] = {}
            if pos == len(key):
                finishes[(os, edition, sp, arch, named)] = 0
            for end, piece in [] if pos == len(key) else self._pieces_at(vocab, key, pos):
                kind = piece[0]
                after: tuple[Any, ...] | None = None
                if kind == "os" and os in (None, piece[1]):
                    after = (end, piece[1], edition, sp, arch, True)
                elif kind == "edition" and edition is None and os in (None, vocab.edition_of[piece[1]]):
                    after = (end, vocab.edition_of[piece[1]], piece[1], sp, arch, named or piece[2])
                elif kind == "arch" and arch is None:
                    after = (end, os, edition, sp, piece[1], named)
                elif kind == "sp" and sp is None:
                    after = (end, os, edition, piece[1], arch, named)
                elif kind == "filler":
                    after = (end, os, edition, sp, arch, named)
                if after is not None:
                    for finish, count in walk(after).items():
                        if count + 1 < finishes.get(finish, len(key) + 1):
                            finishes[finish] = count + 1
            done[state] = finishes
            return finishes

        # A reading must name its OS (by the OS's own name or a release's name), unless the OS is given.
        readings = {
            finish[:4]: count
            for finish, count in walk((0, within, None, None, None, within is not None)).items()
            if finish[0] is not None and finish[4]
        }
        if not readings:
            return None
        fewest = min(readings.values())
        best = [reading for reading, count in readings.items() if count == fewest]
        if len(best) != 1:
            return None
        os_iri, edition_iri, sp, arch = best[0]
        return Reading(self.tables.named(os_iri), self.tables.named(edition_iri) if edition_iri else None, sp, arch)

    def suggest(self, name: str, kind: str, limit: int = 5) -> tuple[Named, ...]:
        """Known names of this kind closest to `name`, best first."""
        key = fold(name)
        return self._remembered(("suggest", key, kind, limit), lambda: self._suggest(key, kind, limit))

    def _remembered(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """The answer kept for `key` in this index's memo, computed on first use; the memo holds at most
        MEMO_ENTRIES answers (then starts again), so names an attacker varies cannot grow it without end."""
        if key in self.memo:
            cached: T = self.memo[key]
            return cached
        found = compute()
        if len(self.memo) >= MEMO_ENTRIES:
            self.memo.clear()
        self.memo[key] = found
        return found

    def _family_named_in(self, key: str) -> str | None:
        """The family whose name (its longest one) stands in the folded name: "redhatenterpriselinux5" -> Linux."""
        found = [
            (len(name), family)
            for family in set(self.families.values())
            for name in self.names_of.get(family, ())
            if len(name) >= 3 and name in key
        ]
        return max(found)[1] if found else None

    def _kind(self, kind: str) -> _Candidates:
        """Every name of this kind, and which of them hold each pair of letters (built on first use)."""
        cached: _Candidates | None = self.memo.get(("kind", kind))
        if cached is None:
            cached = _Candidates()
            for iri, names in self.names_of.items():
                if self.types.get(iri) == kind:
                    cached.iris.extend([iri] * len(names))
                    cached.names.extend(names)
            if len(cached.names) > EXHAUSTIVE_NAMES:
                postings = cached.postings
                for number, name in enumerate(cached.names):
                    for bigram in set(_bigrams(name)):
                        found = postings.get(bigram)
                        if found is None:
                            found = postings[bigram] = array("I")
                        found.append(number)
            self.memo[("kind", kind)] = cached
        return cached

    def _suggest(self, key: str, kind: str, limit: int) -> tuple[Named, ...]:
        candidates = self._kind(kind)
        iris, names = candidates.iris, candidates.names
        if len(names) > EXHAUSTIVE_NAMES:
            shared: Counter[int] = Counter()
            for bigram in set(_bigrams(key)):
                shared.update(candidates.postings.get(bigram, ()))
            pairs = [(iris[n], names[n]) for n in heapq.nlargest(SHORTLIST, shared, key=lambda n: (shared[n], -n))]
        else:
            pairs = list(zip(iris, names, strict=True))
        # A name of a known family ("CentOS 5") suggests that family's members, however unlike they are spelt.
        family = self._family_named_in(key)
        threshold = 0.3
        if family is not None and any(self.families.get(iri) == family for iri, _ in pairs):
            pairs = [(iri, name) for iri, name in pairs if self.families.get(iri) == family]
            threshold = 0.0
        # The score: similarity, a tenth of the similarity of the sorted letters (ties go to the name made of
        # the same characters: a transposition, "2080" -> "2008"), and half a point when one contains the
        # other. rapidfuzz's ratio is difflib's ratio (the Indel similarity) in C: an unknown name of 200
        # characters costs microseconds per candidate, so a request of many unknown names stays cheap.
        letters = "".join(sorted(key))
        best: dict[str, float] = {}
        for iri, candidate in pairs:
            bonus = 0.5 if key and (key in candidate or candidate in key) else 0.0
            score = fuzz.ratio(key, candidate) / 100 + 0.1 * fuzz.ratio(letters, _sorted(candidate)) / 100 + bonus
            if score > best.get(iri, -1.0):
                best[iri] = score
        ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
        return tuple(self.tables.named(iri) for iri, score in ranked[:limit] if score > threshold)


@lru_cache(maxsize=65536)
def _sorted(name: str) -> str:
    return "".join(sorted(name))


def _bigrams(text: str) -> list[str]:
    return [text[i : i + 2] for i in range(len(text) - 1)] or [text]


def build_name_index(tables: Tables, graph: Graph | None = None) -> NameIndex:
    # One IRI's names at a time, and lists where the index is filled: a set per IRI and per key held all at once
    # peaked at ~365 MB above the index itself on a million triples (bench/NOTES-validation.md).
    names_of: dict[str, tuple[str, ...]] = {}
    for iri in {**tables.labels, **tables.alt_labels}:
        label = tables.labels.get(iri)
        folded = {fold(value) for value in tables.alt_labels.get(iri, ())}
        if label is not None:
            folded.add(fold(local_id(iri)))
            folded.update(fold(value) for value in label.values())
        names_of[iri] = tuple(sorted(folded))
    # An OS name with its edition, service pack or architecture is read into parts by NameIndex.read.
    keys: dict[str, Any] = {}
    for iri, folded_names in names_of.items():
        for key in folded_names:
            if key:
                keys.setdefault(key, []).append(iri)
    for key, iris in keys.items():
        keys[key] = tuple(sorted(set(iris)))
    return NameIndex(
        keys=keys,
        types=dict(tables.types),
        names_of=names_of,
        tables=tables,
        families={} if graph is None else _families(graph, tables),
    )


def _families(graph: Graph, tables: Tables) -> dict[str, str]:
    broader = URIRef("http://www.w3.org/2004/02/skos/core#broader")
    return {
        iri: str(family)
        for iri, kind in tables.types.items()
        if kind == "OperatingSystem"
        for family in graph.objects(URIRef(iri), broader)
    }
