"""A large catalogue validated and served from scratch, then after one edit: `python bench/validation.py`.

    python bench/validation.py                        # 1M triples: build, restart, three edits, two serves
    python bench/validation.py --triples 100000 --engines   # also pyshacl and graph/shacl_core.py side by side

Each step runs in a fresh process, as a start of the service would:
- build   `build_snapshot` with an empty cache directory: seconds per phase (parse, validation, tables, names,
          writing the cache), CPU seconds, and the peak resident memory of the process (ru_maxrss);
- again   the same, the cache filled: the snapshot read back;
- edit    `bench/catalogue.py --edit value|system|invalid` on a copy, then `build_snapshot` with the cache of the
          first build: the validation after the edit (graph/validation_cache.py: "edit" when only what the edit
          can reach was checked again, with how many nodes) and the whole build;
- serve   `hvkg serve` with HVKG_DATA and an empty HVKG_CACHE_DIR, and again after the "value" edit: seconds to
          the first 200 from /healthz, and the server's peak resident memory (VmHWM).
With --engines, the core shapes alone on the catalogue: pyshacl (inference none, advanced, the graph copied out
of pyoxigraph as graph/validation.py did) against graph/shacl_core.py; pyshacl takes minutes from 100k triples
on, so this is for smaller catalogues. The machine's load average is printed before and after: it is shared.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable


def child_build(data: Path, cache: Path) -> dict[str, Any]:
    """One build_snapshot, timed per phase (run in its own process by `measure_build`)."""
    sys.path.insert(0, str(ROOT))
    from graph import build, validation_cache
    from graph.layout import DataLayout
    from graph.problems import InvalidGraph

    phases: dict[str, float] = {}
    outcome: dict[str, Any] = {}

    def timed(name: str, function: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                phases[name] = round(time.perf_counter() - started, 2)

        return run

    revalidate = validation_cache.revalidate

    def watched(*args: Any, **kwargs: Any) -> Any:
        found = revalidate(*args, **kwargs)
        outcome.update(mode=found.mode, checked=found.checked, violations=len(found.report.violations))
        return found

    validation_cache.revalidate = watched
    for name, attribute in (("parse", "load_files"), ("validation", "validate_cached"), ("tables", "build_tables"),
                            ("names", "build_name_index"), ("cache write", "write_cached")):  # fmt: skip
        setattr(build, attribute, timed(name, getattr(build, attribute)))
    started, cpu = time.perf_counter(), time.process_time()
    try:
        snapshot = build.build_snapshot(DataLayout(data), cache_dir=cache)
        result: dict[str, Any] = {"triples": snapshot.triple_count, "from_cache": snapshot.from_cache}
    except InvalidGraph as invalid:
        result = {"invalid": [str(p) for p in invalid.problems][:3]}
    result.update(
        seconds=round(time.perf_counter() - started, 2),
        cpu_seconds=round(time.process_time() - cpu, 2),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        phases=phases,
        **outcome,
    )
    return result


def child_engines(data: Path) -> dict[str, Any]:
    """The core shapes alone, pyshacl against graph/shacl_core.py, on one loaded catalogue."""
    sys.path.insert(0, str(ROOT))
    from graph.layout import DataLayout
    from graph.loading import load_files
    from graph.validation import check_shapes

    loaded, problems = load_files(DataLayout(data))
    assert loaded is not None, problems
    loaded.oxigraph()  # the copy made once, outside the engines' timings
    found: dict[str, Any] = {}
    engines: tuple[Literal["core"], Literal["pyshacl"]] = ("core", "pyshacl")
    for engine in engines:
        started = time.perf_counter()
        findings = check_shapes(loaded, engine=engine)
        found[engine] = {"seconds": round(time.perf_counter() - started, 2), "findings": len(findings)}
    return found


def in_child(*arguments: str) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, __file__, *arguments], capture_output=True, text=True, check=False, cwd=ROOT, timeout=3600
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def serve(data: Path, cache: Path) -> dict[str, Any]:
    """`hvkg serve` until its first 200 from /healthz: seconds, and the server's peak resident memory."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "HVKG_DATA": str(data), "HVKG_CACHE_DIR": str(cache)}
    started = time.perf_counter()
    server = subprocess.Popen(
        [str(Path(PYTHON).parent / "hvkg"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < 1800:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer,
            ):
                if answer.status == 200:
                    ready = time.perf_counter() - started
                    status = Path(f"/proc/{server.pid}/status").read_text()
                    peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
                    return {"ready_seconds": round(ready, 2), "peak_rss_mb": peak // 1024}
            if server.poll() is not None:
                return {"failed": server.returncode}
            time.sleep(0.05)
        return {"failed": "timeout"}
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=30)


def edits(catalogue: Any, work: Path, data: Path, cache: Path) -> dict[str, Any]:
    """Each kind of edit on a copy of the catalogue, built with a copy of the first build's cache. The copy takes
    the catalogue's place while it is built: the state of the last valid graph is kept per data directory."""
    results: dict[str, Any] = {}
    for kind in catalogue.EDITS:
        edited, edited_cache = work / f"edited-{kind}", work / f"cache-{kind}"
        for copy, source in ((edited, data), (edited_cache, cache)):
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(source, copy)
        what = catalogue.edit(edited, kind)
        with swapped(data, edited, work):
            results[f"edit {kind}"] = {"edit": what, **in_child("--child", str(data), str(edited_cache))}
        print(f"edit {kind}", results[f"edit {kind}"], flush=True)
    return results


@contextlib.contextmanager
def swapped(data: Path, other: Path, work: Path) -> Iterator[None]:
    """`other` in the place of `data` inside the block."""
    os.replace(data, work / "original")
    os.replace(other, data)
    try:
        yield
    finally:
        os.replace(data, other)
        os.replace(work / "original", data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "hvkg-bench-validation")
    parser.add_argument("--engines", action="store_true", help="also pyshacl against graph/shacl_core.py")
    parser.add_argument("--no-serve", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("DATA", "CACHE"), help=argparse.SUPPRESS)
    parser.add_argument("--child-engines", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_build(Path(args.child[0]), Path(args.child[1]))))
        return 0
    if args.child_engines:
        print(json.dumps(child_engines(args.child_engines)))
        return 0

    sys.path.insert(0, str(BENCH))
    import catalogue

    work = args.work
    data = work / f"catalogue-{args.triples}"
    marker = data / ".generated"
    if not (marker.exists() and marker.read_text() == str(args.triples)):
        catalogue.generate(data, args.triples)
        marker.write_text(str(args.triples))
    results: dict[str, Any] = {"load_average_before": os.getloadavg(), "triples_asked": args.triples}
    cache = work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    results["build"] = in_child("--child", str(data), str(cache))
    print("build", results["build"], flush=True)
    results["again"] = in_child("--child", str(data), str(cache))
    print("again", results["again"], flush=True)
    results.update(edits(catalogue, work, data, cache))
    if not args.no_serve:
        empty = work / "cache-serve"
        shutil.rmtree(empty, ignore_errors=True)
        results["serve from scratch"] = serve(data, empty)
        print("serve from scratch", results["serve from scratch"], flush=True)
        with swapped(data, work / "edited-value", work):
            results["serve after the value edit"] = serve(data, empty)
        print("serve after the value edit", results["serve after the value edit"], flush=True)
    if args.engines:
        results["engines"] = in_child("--child-engines", str(data))
        print("engines", results["engines"], flush=True)
    results["load_average_after"] = os.getloadavg()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
