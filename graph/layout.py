"""Where the data files live, and under which base IRI the graph is served.

One `DataLayout` names the files, so tests can point at a copy. `BASE` (every IRI the graph mints) and `VOCAB`
(the vocabulary's namespace) are read once, at import, from HVKG_BASE_IRI: a deployment that publishes under a
persistent identifier (https://w3id.org/hyperv-kg/id/) sets it, and the data files, written with
`DEFAULT_BASE`, are moved to it when they are loaded (graph.loading.rebase).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

# The checkout's root: the package runs from the repository, where analysts edit the Turtle and queries.
ROOT = Path(__file__).resolve().parent.parent

# The base the Turtle files and named queries are written with; it stays the default of HVKG_BASE_IRI.
DEFAULT_BASE = "https://hyperv-kg.example.org/id/"
# The site the default base belongs to (the ontology's rdfs:seeAlso names its docs there).
DEFAULT_SITE = "https://hyperv-kg.example.org/"
BASE_VARIABLE = "HVKG_BASE_IRI"
# What an IRI may not contain (RFC 3987: no space, no control character, none of <>"{}|\^`).
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|\\^`\x7f]')


class BaseIRIError(ValueError):
    """HVKG_BASE_IRI holds something that cannot be a base; the message says why in English and Japanese."""


def base_iri(environ: Mapping[str, str] | None = None) -> str:
    """HVKG_BASE_IRI (an absolute http(s) IRI ending in "/"), else DEFAULT_BASE."""
    env = os.environ if environ is None else environ
    raw = env.get(BASE_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_BASE
    shown = raw[:80]
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or _NOT_IN_IRI.search(raw):
        raise BaseIRIError(
            f"{BASE_VARIABLE} must be an absolute http(s) IRI such as https://w3id.org/hyperv-kg/id/, "
            f"not {shown!r} / {BASE_VARIABLE} には https://w3id.org/hyperv-kg/id/ のような http(s) の絶対 IRI を"
            "指定してください"
        )
    if parts.query or parts.fragment or not raw.endswith("/"):
        raise BaseIRIError(
            f"{BASE_VARIABLE} must end with '/' and have no query or fragment (every IRI is the base and a name), "
            f"not {shown!r} / {BASE_VARIABLE} は '/' で終わり、? や # を含まない IRI にしてください"
        )
    return raw


def site_of(base: str) -> str:
    """The site a base belongs to: the base without its last "id/" segment (the docs live beside /id/)."""
    return base[: -len("id/")] if base.endswith("/id/") else base


def _configured_base() -> str:
    try:
        return base_iri()
    except BaseIRIError:
        # Never served like this: `hvkg` and server.ops.config.Config.from_env refuse the value with its message
        # before anything loads. Importing must not fail, or the refusal would be a traceback.
        return DEFAULT_BASE


def passage_prefixes(base: str) -> tuple[tuple[str, str], ...]:
    """The prefixes the Turtle declares for the documents whose passages are minted under them, most specific
    first: what graph/sources/selectors.py writes and what problems are named with (graph/validation.py)."""
    documents = (
        ("article:", "doc-article/"),
        ("notes:", "doc-external-facts/"),
        ("research:", "doc-release-research/"),
    )
    return tuple((prefix, base + local) for prefix, local in documents)


BASE = _configured_base()
VOCAB = BASE + "ontology/"
SITE = site_of(BASE)


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


@cache
def code_version() -> str:
    """The graph package's source and the versions of what reads, validates and builds the graph: a change is a new
    snapshot cache key (graph/build.py) and a new validation state (graph/validation_cache.py)."""
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for package in ("rdflib", "pyshacl", "networkx", "pyoxigraph", "oxrdflib"):
        try:
            digest.update(f"{package}={importlib.metadata.version(package)}\0".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{package}=none\0".encode())
    return digest.hexdigest()
