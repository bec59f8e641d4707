"""Name resolution: ids, English and Japanese labels, short forms, in any letter case and spacing.

A name is folded (Unicode NFKC, lower case, no spaces or punctuation) before it is looked up, so
"windows xp", "Windows  XP" and "WINDOWS-XP" are one key. A name that matches nothing gets the closest
known names, ranked by similarity of the folded forms.
"""

from __future__ import annotations

import difflib
import heapq
import unicodedata
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from graph.model import Named, SearchHit
from graph.tables import Tables, local_id

# Longest name we try to resolve; anything longer is refused by the callers as bad input.
MAX_NAME_LENGTH = 200
# Up to this many names of a kind, `suggest` scores every one; above it (a large catalogue), only the names
# that share the most letter pairs with the asked name, so a misspelling costs the same on any graph size.
EXHAUSTIVE_NAMES = 2000
SHORTLIST = 200
MEMO_ENTRIES = 10_000


def fold(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in text if ch.isalnum())


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
class NameIndex:
    # folded name -> IRIs it names; and IRI -> type, every folded key, and labels for search
    # A tuple, not a frozenset: most keys name one IRI, and a catalogue of a million triples has some 370,000
    # keys (a frozenset of one is 216 bytes, a tuple of one 48).
    keys: dict[str, tuple[str, ...]]
    types: dict[str, str]
    names_of: dict[str, tuple[str, ...]]
    tables: Tables
    # Per-index memo of suggestions and of the per-kind candidate lists; the index is per snapshot, so
    # this is dropped with it.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def resolve(self, name: str, kind: str) -> Named | None:
        """The one resource of this kind that the name denotes, or None."""
        found = [iri for iri in self.keys.get(fold(name), ()) if self.types.get(iri) == kind]
        return self.tables.named(sorted(found)[0]) if len(found) >= 1 else None

    def resolve_edition(self, os_iri: str, name: str) -> Named | None:
        key = fold(name)
        for edition in self.tables.editions.get(os_iri, ()):
            if key in self.names_of.get(edition.iri, ()):
                return edition
        return None

    def suggest(self, name: str, kind: str, limit: int = 5) -> tuple[Named, ...]:
        """Known names of this kind closest to `name`, best first."""
        key = fold(name)
        memo_key = ("suggest", key, kind, limit)
        found: tuple[Named, ...] | None = self.memo.get(memo_key)
        if found is None:
            found = self._suggest(key, kind, limit)
            if len(self.memo) >= MEMO_ENTRIES:
                self.memo.clear()
            self.memo[memo_key] = found
        return found

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
        # The score: similarity, a tenth of the similarity of the sorted letters (ties go to the name made of
        # the same characters: a transposition, "2080" -> "2008"), and half a point when one contains the
        # other. Each matcher holds the asked name as its second sequence, which difflib analyses once.
        exact = difflib.SequenceMatcher(None, "", key, autojunk=False)
        letters = difflib.SequenceMatcher(None, "", sorted(key), autojunk=False)
        bounded = []
        for iri, candidate in pairs:
            exact.set_seq1(candidate)
            bonus = 0.5 if key and (key in candidate or candidate in key) else 0.0
            # quick_ratio() is an upper bound of ratio(), and the sorted letters' ratio is at most 1
            bounded.append((exact.quick_ratio() + 0.1 + bonus, bonus, iri, candidate))
        bounded.sort(key=lambda item: -item[0])
        best: dict[str, float] = {}
        for bound, bonus, iri, candidate in bounded:
            if len(best) >= limit and bound < sorted(best.values(), reverse=True)[limit - 1]:
                break  # no name left can reach the top `limit`, nor change a score in it
            exact.set_seq1(candidate)
            letters.set_seq1(sorted(candidate))
            score = exact.ratio() + 0.1 * letters.ratio() + bonus
            best[iri] = max(best.get(iri, 0.0), score)
        ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
        return tuple(self.tables.named(iri) for iri, score in ranked[:limit] if score > 0.3)

    def search(self, text: str, limit: int = 50) -> tuple[SearchHit, ...]:
        """Everything whose English or Japanese name contains the text; exact, then prefix, then others."""
        key = fold(text)
        if not key:
            return ()
        hits: list[SearchHit] = []
        for iri, folded_names in self.names_of.items():
            if iri not in self.tables.labels:
                continue
            if key in folded_names:
                score = 3.0
            elif any(n.startswith(key) for n in folded_names):
                score = 2.0
            elif any(key in n for n in folded_names):
                score = 1.0
            else:
                continue
            hits.append(SearchHit(local_id(iri), iri, self.types.get(iri, ""), self.tables.labels[iri], score))
        hits.sort(key=lambda h: (-h.score, h.type, h.id))
        return tuple(hits[:limit])


def _bigrams(text: str) -> list[str]:
    return [text[i : i + 2] for i in range(len(text) - 1)] or [text]


def build_name_index(tables: Tables) -> NameIndex:
    names: dict[str, set[str]] = defaultdict(set)
    for iri, label in tables.labels.items():
        names[iri].add(fold(local_id(iri)))
        names[iri].update(fold(value) for value in label.values())
    for iri, alts in tables.alt_labels.items():
        names[iri].update(fold(value) for value in alts)
    # "Windows XP Professional" names the OS too: an OS name followed by one of its editions.
    for os_iri, editions in tables.editions.items():
        for os_name in list(names.get(os_iri, ())):
            for edition in editions:
                for edition_name in list(names.get(edition.iri, ())):
                    names[os_iri].add(os_name + edition_name)
    keys: dict[str, set[str]] = defaultdict(set)
    for iri, folded_names in names.items():
        for key in folded_names:
            if key:
                keys[key].add(iri)
    return NameIndex(
        keys={k: tuple(sorted(v)) for k, v in keys.items()},
        types=dict(tables.types),
        names_of={k: tuple(sorted(v)) for k, v in names.items()},
        tables=tables,
    )
