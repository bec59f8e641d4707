"""Name resolution: ids, English and Japanese labels, short forms, in any letter case and spacing.

A name is folded (Unicode NFKC, lower case, no spaces or punctuation) before it is looked up, so
"windows xp", "Windows  XP" and "WINDOWS-XP" are one key. A name that matches nothing gets the closest
known names, ranked by similarity of the folded forms.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from graph.model import Named, SearchHit
from graph.tables import Tables, local_id

# Longest name we try to resolve; anything longer is refused by the callers as bad input.
MAX_NAME_LENGTH = 200


def fold(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in text if ch.isalnum())


@dataclass(frozen=True)
class NameIndex:
    # folded name -> IRIs it names; and IRI -> type, every folded key, and labels for search
    keys: dict[str, frozenset[str]]
    types: dict[str, str]
    names_of: dict[str, tuple[str, ...]]
    tables: Tables

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
        best: dict[str, float] = {}
        for iri, folded_names in self.names_of.items():
            if self.types.get(iri) != kind:
                continue
            for candidate in folded_names:
                score = difflib.SequenceMatcher(None, key, candidate).ratio()
                # ties go to the name made of the same characters (a transposition: "2080" -> "2008")
                score += 0.1 * difflib.SequenceMatcher(None, sorted(key), sorted(candidate)).ratio()
                if key and (key in candidate or candidate in key):
                    score += 0.5
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
        keys={k: frozenset(v) for k, v in keys.items()},
        types=dict(tables.types),
        names_of={k: tuple(sorted(v)) for k, v in names.items()},
        tables=tables,
    )
