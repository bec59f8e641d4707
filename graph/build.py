"""Building a snapshot (graph/snapshot.py): Turtle to one validated, indexed, immutable snapshot, cached.

Turtle -> parse and merge -> validate -> tables, name index, networkx projection, and the same triples in a
pyoxigraph store for the SPARQL endpoint: its default graph is the whole graph, and its named graphs file each
triple under the source that says it (graph/named_graphs.py). A snapshot never changes after `build_snapshot`
returns; a reload builds a new one and the holder swaps the reference.

Validation is most of the cost of a build (pyshacl, the violation queries, the named queries), and it gives
the same answer for the same files and the same code. So a valid snapshot is kept in a cache directory
(HVKG_CACHE_DIR, else $XDG_CACHE_HOME/hyperv-kg, else ~/.cache/hyperv-kg; never inside the data
directories), under a key made of the content hash of every input file and of the code version. A restart,
a reload with unchanged files, or a CLI command reads it back instead of validating again. Only a graph that
passed every check is ever written there; an entry that is missing, unreadable or whose checksum fails is
ignored and the graph validated in full. Beside the entries, `validation/` keeps the state of the last valid
graph of each data directory (graph/validation_cache.py): after an edit, only what the edit can reach is
validated again.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import logging
import os
import pickle
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from rdflib import Graph

from graph.describe import Descriptions
from graph.layout import BASE, DataLayout, code_version
from graph.loading import load_files, namespaces, oxigraph_graph
from graph.named_graphs import fill_store, named_graphs_setting, wanted
from graph.names import build_name_index
from graph.paths import build_network
from graph.problems import InvalidGraph
from graph.snapshot import Snapshot
from graph.tables import Tables, build_tables
from graph.validation_cache import validate_cached

if TYPE_CHECKING:
    import pyoxigraph as ox

log = logging.getLogger(__name__)

CACHE_FORMAT = b"hvkg-snapshot-2\n"  # 2: the store file holds the named graphs too (N-Quads)
CACHE_KEEP = 8  # newest entries kept per cache directory


def build_snapshot(layout: DataLayout | None = None, *, cache_dir: Path | bool | None = True) -> Snapshot:
    """Load, validate and index the data; raise InvalidGraph listing every problem found.

    cache_dir: True for the default cache directory, a path for that one, None or False for none.
    """
    layout = layout or DataLayout()
    started = time.perf_counter()
    directory = cache_directory(layout) if cache_dir is True else (cache_dir or None)
    key = cache_key(layout) if directory is not None else None
    snapshot = read_cached(directory, key, layout, started) if directory is not None and key is not None else None
    if snapshot is None:
        snapshot, sources = _build(layout, started, directory)
        if directory is not None and key is not None:
            write_cached(directory, key, snapshot, sources)
    _exempt_from_collection()
    return snapshot


def _exempt_from_collection() -> None:
    """Move what exists now, the new snapshot included, out of the cyclic garbage collector's way.

    A snapshot is millions of objects on a large graph, none of which ever changes: a full collection would
    walk all of them every so often, a pause of a tenth of a second in the middle of some request. Frozen
    objects are skipped. What the previous build froze is unfrozen and collected first, so a reload does not
    keep the snapshots it replaced.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    _return_freed_memory()


def _between_phases() -> None:
    """What a phase of a build left behind, collected and given back before the next one allocates: at a million
    triples the validation leaves ~95 MB and the tables ~75 MB, which otherwise sit under the start's peak (a
    fifth of a second of collection; bench/NOTES-validation.md)."""
    gc.collect()
    _return_freed_memory()


def _return_freed_memory() -> None:
    """Give the C heap's free pages back to the system (glibc keeps them): reading a large cached snapshot
    passes a few hundred megabytes through buffers that are free again once it is built."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _build(layout: DataLayout, started: float, directory: Path | None = None) -> tuple[Snapshot, dict[str, str]]:
    loaded, problems = load_files(layout)
    if loaded is None:
        raise InvalidGraph(problems)
    # With a cache directory, an edit since the last valid graph is validated where it can matter
    # (graph/validation_cache.py); without one, the whole graph.
    problems, sources = validate_cached(loaded, layout, directory)
    if problems:
        raise InvalidGraph(problems)
    _between_phases()
    # blank nodes keep their ids: the named graphs added next share them with the default graph
    store = loaded.oxigraph()  # the copy the validation made, for a small graph
    tables = build_tables(store, loaded.queries)
    _between_phases()
    snapshot = Snapshot(
        graph=loaded.graph,
        content_hash=loaded.content_hash,
        # the store holds the default graph only until fill_store: counting the view instead made an rdflib term of
        # every triple (+500 MB for a moment at a million triples)
        triple_count=len(store),
        queries=loaded.queries,
        tables=tables,
        names=build_name_index(tables, loaded.graph),
        network=build_network(tables),
        descriptions=Descriptions(loaded.graph, tables),
        built_at=time.time(),
        build_seconds=time.perf_counter() - started,
        store=store,
    )
    if wanted(large_input=loaded.store is not None):
        fill_store(snapshot)
        snapshot.memo.clear()  # what filing the triples read (every node's view) is rebuilt only when asked for
    return snapshot, sources


def oxigraph_store(quads: bytes | Path) -> ox.Store | None:
    """The quads (N-Quads, or a file of them) in an in-memory pyoxigraph store; None without pyoxigraph.

    Blank nodes keep their ids (Store.load would rename them): the snapshot's rdflib graph, kept beside the
    store, names them the same way."""
    try:
        import pyoxigraph as ox
    except ImportError:
        return None
    store = ox.Store()
    if isinstance(quads, Path):
        store.bulk_extend(ox.parse(path=str(quads), format=ox.RdfFormat.N_QUADS, rename_blank_nodes=False))
    else:
        store.bulk_extend(ox.parse(quads, format=ox.RdfFormat.N_QUADS, rename_blank_nodes=False))
    return store


# --- the validated-snapshot cache -------------------------------------------------------------------------------


def cache_directory(layout: DataLayout, environ: Mapping[str, str] | None = None) -> Path | None:
    """Where valid snapshots are kept; None (no cache) for HVKG_CACHE_DIR=off or a path inside the data."""
    env = os.environ if environ is None else environ
    configured = env.get("HVKG_CACHE_DIR", "").strip()
    if configured.lower() in ("off", "none", "0", "false"):
        return None
    if configured:
        directory = Path(configured).expanduser()
    else:
        base = env.get("XDG_CACHE_HOME", "").strip()
        directory = (Path(base) if base else Path.home() / ".cache") / "hyperv-kg"
    directory = directory.resolve()
    root = layout.root.resolve()
    data = [root / "ontology", root / "graph", root / "queries"]
    if directory == root or any(directory == d or directory.is_relative_to(d) for d in data):
        log.warning("HVKG_CACHE_DIR %s is inside the data directories: no snapshot cache", directory)
        return None
    return directory


def cache_key(layout: DataLayout) -> str | None:
    """The code version and every input file's name and bytes; None when a file cannot be read."""
    digest = hashlib.sha256(CACHE_FORMAT + code_version().encode())
    # the base IRI is applied when the files are read (graph/loading.py): another base, another snapshot
    digest.update(b"base\0" + BASE.encode() + b"\0")
    # whether the named graphs are filed into the store changes what the cached store holds
    digest.update(b"named graphs\0" + named_graphs_setting().encode() + b"\0")
    paths = [*layout.data_files(), layout.shapes, *sorted(layout.queries_dir.glob("*.rq"))]
    try:
        for path in paths:
            digest.update(layout.relative(path).encode() + b"\0" + path.read_bytes() + b"\0")
    except OSError:
        return None  # a missing file: the full build names it
    return digest.hexdigest()


def _source_digests(layout: DataLayout, names: dict[str, str]) -> bool:
    """Whether the source files the quotes were checked against still hold the bytes they held then."""
    for name, expected in names.items():
        try:
            actual = hashlib.sha256((layout.root / name).read_bytes()).hexdigest()
        except OSError:
            actual = ""
        if actual != expected:
            return False
    return True


def read_cached(directory: Path, key: str, layout: DataLayout, started: float) -> Snapshot | None:
    path = directory / f"{key}.snapshot"
    try:
        entry = _decode(path.read_bytes())  # the bytes are let go here, before the triples are read
    except OSError:
        return None
    except Exception as error:  # a torn, tampered or outdated entry: validate in full instead
        _drop_cached(path, key, error)
        return None
    try:
        if entry["key"] != key or not _source_digests(layout, entry["sources"]):
            return None
        # The quads are a file of their own, read by pyoxigraph straight into its store: on a large graph
        # they would otherwise be a few hundred megabytes of Python bytes on the way. (N-Quads: the name ".nt"
        # is format 1's; an N-Triples file is N-Quads of the default graph.)
        triples = directory / f"{key}.nt"
        with triples.open("rb") as file:
            if hashlib.file_digest(file, "sha256").hexdigest() != entry["ntriples_sha256"]:
                raise ValueError("the triples file does not match its checksum")
        store = oxigraph_store(triples)
        graph: Graph | None = entry["graph"]
        if graph is None:  # a large graph: the view on the store, as load_files made it
            assert store is not None
            graph = oxigraph_graph(store)
        graph.namespace_manager = namespaces(graph)
        tables: Tables = entry["tables"]
        return Snapshot(
            graph=graph,
            content_hash=entry["content_hash"],
            triple_count=entry["triple_count"],
            queries=entry["queries"],
            tables=tables,
            names=entry["names"],
            network=entry["network"],
            descriptions=Descriptions(graph, tables),
            built_at=time.time(),
            build_seconds=time.perf_counter() - started,
            store=store,
            from_cache=True,
        )
    except Exception as error:  # a torn, tampered or outdated entry: validate in full instead
        _drop_cached(path, key, error)
        return None


def _drop_cached(path: Path, key: str, error: Exception) -> None:
    log.warning("ignoring the cached snapshot %s: %s", path, " ".join(str(error).split())[:200])
    with contextlib.suppress(OSError):
        path.unlink()
    with contextlib.suppress(OSError):
        (path.parent / f"{key}.nt").unlink()


def _decode(data: bytes) -> dict[str, Any]:
    head = len(CACHE_FORMAT)
    if data[:head] != CACHE_FORMAT:
        raise ValueError("not a snapshot cache entry")
    # a view, not a slice: a slice would copy the payload (tens of MB per 100k triples) at the start's peak
    checksum, payload = data[head : head + 32], memoryview(data)[head + 32 :]
    if hashlib.sha256(payload).digest() != checksum:
        raise ValueError("checksum mismatch")
    entry: dict[str, Any] = pickle.loads(payload)  # noqa: S301 - our own file, checksummed, in a private directory
    return entry


def write_cached(directory: Path, key: str, snapshot: Snapshot, sources: dict[str, str]) -> None:
    """Keep a valid snapshot; any failure only costs the next start a full validation."""
    large = snapshot.store is not None and _is_view(snapshot.graph)
    entry = {
        "key": key,
        "sources": sources,
        "graph": None if large else snapshot.graph,
        "content_hash": snapshot.content_hash,
        "triple_count": snapshot.triple_count,
        "queries": snapshot.queries,
        "tables": snapshot.tables,
        "names": snapshot.names,
        "network": snapshot.network,
    }
    partial = directory / f".{key}.{os.getpid()}.{threading.get_ident()}.partial"
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # the triples first: an entry never names a triples file that is not all there
        _write_ntriples(snapshot, partial)
        with partial.open("rb") as file:
            entry["ntriples_sha256"] = hashlib.file_digest(file, "sha256").hexdigest()
        os.chmod(partial, 0o600)
        partial.replace(directory / f"{key}.nt")
        _write_entry(partial, entry)
        os.chmod(partial, 0o600)
        partial.replace(directory / f"{key}.snapshot")  # atomic: a reader sees the whole entry or none
        _evict(directory)
    except (OSError, pickle.PicklingError, RecursionError, TypeError) as error:
        log.warning("could not cache the snapshot in %s: %s", directory, error)
        with contextlib.suppress(OSError):
            partial.unlink()


class _Hashing:
    """A file that hashes what is written to it."""

    def __init__(self, file: BinaryIO) -> None:
        self.file, self.sha256 = file, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        return self.file.write(data)


def _write_entry(path: Path, entry: dict[str, Any]) -> None:
    """CACHE_FORMAT, the payload's sha256, the pickled entry: pickled straight into the file, hashed on the way
    and the checksum written last. Pickling into bytes first held the payload twice (tens of MB per 100k
    triples) at the peak of a first start."""
    with path.open("wb") as file:
        file.write(CACHE_FORMAT + bytes(32))
        hashing = _Hashing(file)
        pickle.dump(entry, hashing, protocol=pickle.HIGHEST_PROTOCOL)
        file.seek(len(CACHE_FORMAT))
        file.write(hashing.sha256.digest())


def _is_view(graph: Graph) -> bool:
    return type(graph.store).__name__ == "OxigraphStore"


def _write_ntriples(snapshot: Snapshot, path: Path) -> None:
    if snapshot.store is not None:
        import pyoxigraph as ox

        snapshot.store.dump(str(path), format=ox.RdfFormat.N_QUADS)  # the default graph and the named graphs
    else:
        path.write_bytes(snapshot.graph.serialize(format="nt", encoding="utf-8"))


def _evict(directory: Path) -> None:
    entries = sorted(directory.glob("*.snapshot"), key=lambda p: p.stat().st_mtime, reverse=True)
    kept = {p.stem for p in entries[:CACHE_KEEP]}
    for old in [*entries[CACHE_KEEP:], *directory.glob("*.nt")]:
        if old.suffix == ".snapshot" or old.stem not in kept:
            with contextlib.suppress(OSError):
                old.unlink()
