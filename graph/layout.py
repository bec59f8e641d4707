"""Where the data files live. One `DataLayout` names them all, so tests can point at a copy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The checkout's root: the package runs from the repository, where analysts edit the Turtle and queries.
ROOT = Path(__file__).resolve().parent.parent

BASE = "https://hyperv-kg.example.org/id/"
VOCAB = BASE + "ontology/"


@dataclass(frozen=True)
class DataLayout:
    root: Path = ROOT

    @property
    def ontology(self) -> Path:
        return self.root / "ontology" / "hvkg.ttl"

    @property
    def shapes(self) -> Path:
        return self.root / "ontology" / "shapes.ttl"

    @property
    def sources(self) -> Path:
        return self.root / "graph" / "sources.ttl"

    @property
    def facts(self) -> list[Path]:
        return sorted((self.root / "graph" / "facts").glob("*.ttl"))

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    def data_files(self) -> list[Path]:
        """Every Turtle file that becomes part of the served graph, in a fixed order."""
        return [self.ontology, self.sources, *self.facts]

    def relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)
