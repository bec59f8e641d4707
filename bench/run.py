"""The benchmark, run by hand (never in CI): `python bench/run.py [throughput] [coldstart] [scale]`.

throughput  the real server, the bare Starlette endpoint (the limit), the pyoxigraph endpoint (the fastest
            peer) and a plain Strawberry app, all up at once, loaded in turn with wrk: A, B, A, B, ...;
            the medians of the rounds give the ratios of bench/README.md.
coldstart   from `hvkg serve` to the first 200 from /healthz, without and with the validated-snapshot cache.
scale       load time, resident memory, check_guest and SPARQL latency over the synthetic catalogues
            (bench/catalogue.py) of 1k, 100k and 1M triples.

Results go to bench/results.json and into the results section of bench/README.md. The bench-only packages
of bench/requirements.txt are installed into the running interpreter's environment first.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import (
    BENCH,
    PYTHON,
    ROOT,
    Server,
    WrkResult,
    machine,
    median,
    running,
    start_hvkg,
    start_uvicorn,
    wait_quiet,
    wait_ready,
    wrk,
)

CONTRACT = ROOT / "tests" / "shared" / "contract" / "operations" / "CheckGuest.graphql"
FALLBACK_OPERATION = ROOT / "server" / "static" / "graphiql" / "operations" / "CheckGuest.graphql"
RESULTS = BENCH / "results.json"
README = BENCH / "README.md"
WORK = Path(tempfile.gettempdir()) / "hvkg-bench"

SPARQL_SAMPLE = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?thing ?label WHERE {
  ?thing skos:prefLabel ?label .
  FILTER(LANG(?label) = "en" && !CONTAINS(LCASE(?label), "zz%d"))
} ORDER BY ?label ?thing LIMIT 50"""


def install_requirements() -> None:
    subprocess.run([PYTHON, "-m", "pip", "install", "-q", "-r", str(BENCH / "requirements.txt")], check=True)


def check_guest_query() -> str:
    path = CONTRACT if CONTRACT.exists() else FALLBACK_OPERATION
    return path.read_text(encoding="utf-8")


def variable_sets(count: int) -> list[dict[str, Any]]:
    """`count` distinct CheckGuest variable sets: real names, misspellings, other cases, every verdict kind."""
    systems = [
        "Windows XP",
        "windows server 2008",
        "Windws XP",
        "SUSE Linux Enterprise Server 10",
        "windows-vista",
        "Windows 2000 Server",
        "Windows Server 2003",
        "Red Hat Linux 9",
        "WINDOWS VISTA",
        "Windows Server 2080",
    ]
    editions = [None, "Professional", "Enterprise", "Standard", "Ultimate"]
    sets: list[dict[str, Any]] = []
    seen: set[str] = set()
    n = 0
    while len(sets) < count:
        candidate = {
            "os": systems[n % len(systems)],
            "edition": editions[n // len(systems) % len(editions)],
            "sp": n % 4,
            "arch": ("X86", "X64")[n // 7 % 2],
            "vcpus": 1 + n // 3 % 4,
            "lang": ("EN", "JA")[n // 11 % 2],
        }
        key = json.dumps(candidate, sort_keys=True)
        if key not in seen:
            seen.add(key)
            sets.append(candidate)
        n += 1
    return sets


def write_inputs(work: Path) -> dict[str, Path]:
    work.mkdir(parents=True, exist_ok=True)
    query = check_guest_query()
    bodies = work / "checkguest-200.txt"
    bodies.write_text(
        "\n".join(
            json.dumps({"query": query, "operationName": "CheckGuest", "variables": v}, ensure_ascii=False)
            for v in variable_sets(200)
        )
        + "\n",
        encoding="utf-8",
    )
    query_json = work / "checkguest-query.json"
    query_json.write_text(json.dumps(query), encoding="utf-8")
    trivial = work / "trivial.txt"
    trivial.write_text(json.dumps({"query": "{ hello }"}) + "\n", encoding="utf-8")
    return {"bodies": bodies, "query": query_json, "trivial": trivial}


# --- throughput ------------------------------------------------------------------------------------------


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    inputs = write_inputs(WORK)
    cache = Path(tempfile.mkdtemp(prefix="hvkg-cache-"))
    env = {"HVKG_CACHE_DIR": str(cache)}
    env_real = dict(item.split("=", 1) for item in args.real_env)
    servers = {
        "real": start_uvicorn("real", args.real_app, {**env, **env_real}, WORK / "real.log"),
        "bare": start_uvicorn("bare", "bare_app:app", env, WORK / "bare.log"),
        "oxigraph": start_uvicorn("oxigraph", "oxigraph_app:app", env, WORK / "oxigraph.log"),
        "strawberry": start_uvicorn("strawberry", "strawberry_app:app", env, WORK / "strawberry.log"),
    }
    rotate = BENCH / "wrk" / "rotate.lua"
    fresh = BENCH / "wrk" / "checkguest_fresh.lua"
    sparql = BENCH / "wrk" / "sparql_fresh.lua"
    rotate_env = {"WRK_BODIES": str(inputs["bodies"]), "WRK_PATH": "/graphql"}
    trivial_env = {"WRK_BODIES": str(inputs["trivial"]), "WRK_PATH": "/graphql"}
    fresh_env = {"WRK_QUERY": str(inputs["query"])}
    # (goal, A: server + script + env, B: the same for the server it is measured against)
    # Each pair runs with the same connections on both sides. SPARQL gets as many as the real server runs
    # queries at once (HVKG_SPARQL_MAX_CONCURRENT, 4): beyond that it answers 503 by design.
    connections = {"sparql-fresh": args.sparql_connections}
    pairs = [
        ("checkguest-200", ("real", rotate, rotate_env), ("bare", rotate, rotate_env)),
        ("checkguest-fresh", ("real", fresh, fresh_env), ("bare", fresh, fresh_env)),
        ("sparql-fresh", ("real", sparql, {}), ("oxigraph", sparql, {})),
        ("strawberry-trivial", ("strawberry", rotate, trivial_env), ("bare", rotate, trivial_env)),
    ]
    pairs = [pair for pair in pairs if not args.goals or pair[0] in args.goals]
    try:
        wait_ready(servers["real"])
        for name in ("bare", "oxigraph", "strawberry"):
            wait_ready(servers[name], "/", any_answer=True)
        for goal, a, b in pairs:  # warm-up: caches, worker processes, JIT-free but page cache and pools
            for server_name, script, script_env in (a, b):
                wrk(servers[server_name].base, script, script_env, 2, connections.get(goal, args.connections))
        runs: dict[str, dict[str, list[WrkResult]]] = {goal: {"a": [], "b": []} for goal, _, _ in pairs}
        loads: dict[str, list[float]] = {goal: [] for goal, _, _ in pairs}
        for round_number in range(args.rounds):
            for goal, a, b in pairs:
                for side, (server_name, script, script_env) in (("a", a), ("b", b)):
                    busy = wait_quiet(patience=args.patience)
                    load = connections.get(goal, args.connections)
                    result = wrk(servers[server_name].base, script, script_env, args.duration, load)
                    runs[goal][side].append(result)
                    loads[goal].append(busy)
                    print(
                        f"round {round_number + 1} {goal:20} {server_name:10} {result.requests_per_second:9.0f} req/s"
                        f"  p50 {result.latency_ms.get('50', 0):.2f} ms  errors {result.errors}"
                        f"  (other load before: {busy:.2f} cores)",
                        flush=True,
                    )
        rss = servers["real"].rss_bytes()
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(cache, ignore_errors=True)
    out: dict[str, Any] = {
        "rounds": args.rounds,
        "duration_s": args.duration,
        "connections": args.connections,
        "sparql_connections": args.sparql_connections,
        "real_env": env_real,
        "real_app": args.real_app,
    }
    for goal, a, b in pairs:
        if not runs[goal]["a"]:
            continue
        a_rps = [r.requests_per_second for r in runs[goal]["a"]]
        b_rps = [r.requests_per_second for r in runs[goal]["b"]]
        out[goal] = {
            "a": a[0],
            "b": b[0],
            "a_rps": a_rps,
            "b_rps": b_rps,
            "a_median": median(a_rps),
            "b_median": median(b_rps),
            "ratio": median(a_rps) / median(b_rps),
            "a_p50_ms": median([r.latency_ms.get("50", 0.0) for r in runs[goal]["a"]]),
            "a_p99_ms": median([r.latency_ms.get("99", 0.0) for r in runs[goal]["a"]]),
            "errors": sum(r.errors for r in runs[goal]["a"] + runs[goal]["b"]),
            "other_load_max_cores": max(loads[goal]),
        }
    out["real_rss_mb"] = rss / 1e6
    return out


# --- cold start --------------------------------------------------------------------------------------------


def coldstart(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, list[float]] = {"no_cache": [], "cache": []}
    imports = []
    for _ in range(args.starts):
        cache = Path(tempfile.mkdtemp(prefix="hvkg-cache-"))
        try:
            for kind in ("no_cache", "cache"):  # the first start fills the cache, the second reads it
                server = start_hvkg({"HVKG_CACHE_DIR": str(cache)}, WORK / "coldstart.log")
                try:
                    results[kind].append(wait_ready(server, timeout=120))
                finally:
                    server.stop()
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        imports.append(_import_seconds())
    return {
        "no_cache_s": median(results["no_cache"]),
        "cache_s": median(results["cache"]),
        "no_cache_runs": results["no_cache"],
        "cache_runs": results["cache"],
        "import_rdflib_strawberry_starlette_networkx_s": median(imports),
    }


def _import_seconds() -> float:
    code = (
        "import time; t = time.perf_counter(); import rdflib, strawberry, starlette, networkx; "
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out.strip())


# --- scale ----------------------------------------------------------------------------------------------------

SIZES = {"1k": 1_000, "100k": 100_000, "1M": 1_000_000}


def scale(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    targets: list[tuple[str, Path | None]] = [("article", None)]
    for label in args.sizes:
        directory = WORK / f"catalogue-{label}"
        _generate(directory, SIZES[label])
        targets.append((label, directory))
    for label, directory in targets:
        cache = Path(tempfile.mkdtemp(prefix="hvkg-cache-"))
        env = {"HVKG_CACHE_DIR": str(cache)}
        if directory is not None:
            env["HVKG_DATA"] = str(directory)
        entry: dict[str, Any] = {}
        try:
            for kind in ("no_cache", "cache"):
                server = start_hvkg(env, WORK / f"scale-{label}.log")
                with running(server, timeout=1800):
                    entry[f"ready_{kind}_s"] = time.perf_counter() - server.started
                    health = _get_json(server.port, "/healthz")
                    entry["triples"] = health.get("triples")
                    if kind == "cache":
                        entry.update(_latencies(server, args.samples))
                    entry[f"rss_{kind}_mb"] = server.rss_bytes() / 1e6
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        print(f"scale {label}: {entry}", flush=True)
        out[label] = entry
    return out


def _generate(directory: Path, triples: int) -> None:
    marker = directory / ".generated"
    if marker.exists() and marker.read_text() == str(triples):
        return
    argv = [PYTHON, str(BENCH / "catalogue.py"), str(directory), "--triples", str(triples)]
    subprocess.run(argv, check=True)
    marker.write_text(str(triples))


def _get_json(port: int, path: str) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    data: dict[str, Any] = json.loads(connection.getresponse().read())
    connection.close()
    return data


def _latencies(server: Server, samples: int) -> dict[str, float]:
    """Median and 90th percentile of one request at a time, with variables and query texts never seen before."""
    query = check_guest_query()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    systems = ["Windows XP", "Windows Server 2008", "Windws XP", "windows vista", "Red Hat Linux 9"]

    def check_guest(n: int) -> None:
        variables = {"os": systems[n % len(systems)], "sp": n % 3, "arch": ("X86", "X64")[n % 2], "vcpus": 100 + n}
        body = json.dumps({"query": query, "operationName": "CheckGuest", "variables": variables})
        connection.request("POST", "/graphql", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        if response.status != 200 or b'"errors"' in data:
            raise RuntimeError(f"checkGuest failed: {data[:300]!r}")

    def sparql(n: int) -> None:
        body = urllib.parse.urlencode({"query": SPARQL_SAMPLE % n})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json"}
        connection.request("POST", "/sparql", body, headers)
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"SPARQL failed: {response.status} {data[:300]!r}")

    out: dict[str, float] = {}
    for name, call in (("check_guest", check_guest), ("sparql", sparql)):
        for n in range(20):  # warm-up
            call(10_000_000 + n)
        times = _timed(call, samples)
        out[f"{name}_p50_ms"] = median(times)
        out[f"{name}_p90_ms"] = sorted(times)[int(len(times) * 0.9)]
    connection.close()
    return out


def _timed(call: Callable[[int], None], samples: int) -> list[float]:
    times = []
    for n in range(samples):
        started = time.perf_counter()
        call(n)
        times.append((time.perf_counter() - started) * 1000)
    return times


# --- report ---------------------------------------------------------------------------------------------------


def report(results: dict[str, Any]) -> str:
    lines = ["<!-- results:start (written by bench/run.py; edit the text around it, not this) -->", ""]
    m = results.get("machine", {})
    lines += [
        f"Run of {m.get('date', '?')} on {m.get('cpu', '?')}, {m.get('memory', '?')}, {m.get('os', '?')}, "
        f"Python {m.get('python', '?')}, {m.get('wrk', 'wrk')}; {m.get('packages', '')}.",
        "",
    ]
    t = results.get("throughput")
    if t:
        lines += [
            f"Throughput: wrk, 1 thread, {t['connections']} connections, {t['duration_s']:g} s per run, "
            f"{t['rounds']} rounds of A then B; medians.",
            "",
            "| goal | A | A req/s | B | B req/s | A/B | target | A p50 / p99 ms | other load, cores |",
            "|---|---|---:|---|---:|---:|---:|---:|---:|",
        ]
        targets = {"checkguest-200": 0.5, "checkguest-fresh": 0.15, "sparql-fresh": 1.0, "strawberry-trivial": None}
        for goal, target in targets.items():
            if goal not in t:
                continue
            g = t[goal]
            mark = "" if target is None else (" met" if g["ratio"] >= target else " **not met**")
            lines.append(
                f"| {goal} | {g['a']} | {g['a_median']:.0f} | {g['b']} | {g['b_median']:.0f} | "
                f"{g['ratio']:.2f} | {'-' if target is None else f'>= {target}'}{mark} | "
                f"{g['a_p50_ms']:.2f} / {g['a_p99_ms']:.2f} | {g.get('other_load_max_cores', 0):.1f} |"
            )
        lines += ["", f"Resident memory of the real server after the runs: {t['real_rss_mb']:.0f} MB.", ""]
    c = results.get("coldstart")
    if c:
        met = "met" if c["cache_s"] <= 1.0 else "**not met**"
        lines += [
            "Cold start, `hvkg serve` to the first 200 from /healthz (medians of "
            f"{len(c['cache_runs'])} starts): {c['no_cache_s']:.2f} s with an empty cache, "
            f"{c['cache_s']:.2f} s with the validated snapshot cached (target <= 1.0 s: {met}). "
            f"Importing rdflib, strawberry, starlette and networkx alone: "
            f"{c['import_rdflib_strawberry_starlette_networkx_s']:.2f} s.",
            "",
        ]
    s = results.get("scale")
    if s:
        lines += [
            "| graph | triples | ready, empty cache s | ready, cached s | RSS MB (cached start) "
            "| check_guest p50 / p90 ms | SPARQL p50 / p90 ms |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for label, e in s.items():
            lines.append(
                f"| {label} | {e.get('triples', '?')} | {e.get('ready_no_cache_s', 0):.2f} | "
                f"{e.get('ready_cache_s', 0):.2f} | {e.get('rss_cache_mb', 0):.0f} | "
                f"{e.get('check_guest_p50_ms', 0):.2f} / {e.get('check_guest_p90_ms', 0):.2f} | "
                f"{e.get('sparql_p50_ms', 0):.2f} / {e.get('sparql_p90_ms', 0):.2f} |"
            )
        lines.append("")
    lines.append("<!-- results:end -->")
    return "\n".join(lines)


def write_report(results: dict[str, Any]) -> None:
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    empty = "# Benchmarks\n\n<!-- results:start -->\n<!-- results:end -->\n"
    text = README.read_text(encoding="utf-8") if README.exists() else empty
    block = re.compile(r"<!-- results:start.*?<!-- results:end -->", re.S)
    text = block.sub(lambda _: report(results), text) if block.search(text) else text + "\n" + report(results) + "\n"
    README.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", help="throughput, coldstart, scale (default: all three)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--sparql-connections", type=int, default=4)
    parser.add_argument("--real-env", nargs="*", default=[], help="KEY=VALUE for the real server only")
    parser.add_argument("--real-app", default="server.main:app", help="e.g. variants:without_middleware")
    parser.add_argument("--goals", nargs="*", default=[], help="only these throughput goals")
    parser.add_argument("--output", type=Path, default=None, help="write results here, not bench/results.json")
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--sizes", nargs="*", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--patience", type=float, default=20.0, help="seconds to wait for a quiet machine per run")
    parser.add_argument("--no-install", action="store_true")
    parser.add_argument("--keep", action="store_true", help="merge into bench/results.json instead of replacing it")
    args = parser.parse_args()
    # SIGTERM ends the run through the `finally` blocks that stop the servers it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parts = args.parts or ["throughput", "coldstart", "scale"]
    unknown = set(parts) - {"throughput", "coldstart", "scale"}
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    if not args.no_install:
        install_requirements()
    results: dict[str, Any] = {}
    if args.keep and RESULTS.exists():
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
    results["machine"] = machine()
    runners = {"throughput": throughput, "coldstart": coldstart, "scale": scale}
    for part in parts:
        results[part] = runners[part](args)
        if args.output is not None:
            args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            continue
        with contextlib.suppress(OSError):
            write_report(results)
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
