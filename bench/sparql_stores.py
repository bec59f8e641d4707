"""SPARQL answered per second with 16 clients: the embedded engine, Oxigraph's server, Virtuoso.

Each run is `hvkg serve` itself (bench/harness.py), with HVKG_SPARQL_ENDPOINT unset (embedded) or set to a store
this script starts and loads with server/sparql/publish.py: Oxigraph's server (`oxigraph serve`, PyPI oxigraph)
and Virtuoso (Debian virtuoso-opensource, its bulk loader). 16 clients (asyncio, httpx, one connection each)
send the same queries for SECONDS each: a named query (guest-table, a join with GROUP_CONCAT), a plain lookup,
and a COUNT over the whole graph. Every answer must be a 200; the script writes a Markdown table.

    .venv/bin/python bench/sparql_stores.py [--seconds 10] [--out /work/notes/bench-stores.md]

The figures are for the machine it runs on (printed with them): the service, the store and the clients share
its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from harness import ROOT, free_port, machine, running, start_hvkg

sys.path.insert(0, str(ROOT))

from graph.build import build_snapshot
from server.sparql.publish import publish

CLIENTS = 16
QUERIES = {
    "guest-table": None,  # the named query's text, read from the snapshot
    "lookup": "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
    "SELECT ?l WHERE { <https://hyperv-kg.example.org/id/vmbus> skos:prefLabel ?l }",
    "count": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
}
VIRTUOSO_INI = """[Database]
DatabaseFile = {tmp}/virtuoso.db
ErrorLogFile = {tmp}/virtuoso.log
LockFile = {tmp}/virtuoso.lck
TransactionFile = {tmp}/virtuoso.trx
xa_persistent_file = {tmp}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {tmp}/virtuoso-temp.db
TransactionFile = {tmp}/virtuoso-temp.trx
[Parameters]
ServerPort = {sql_port}
DisableUnixSocket = 1
CheckpointInterval = 0
DirsAllowed = ., {tmp}/load
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = {http_port}
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
ServerThreads = 20
MaxClientConnections = 40
[SPARQL]
ResultSetMaxRows = 10001
MaxQueryExecutionTime = 5
MaxQueryCostEstimationTime = 0
"""


def wait_http(url: str, process: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the store exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, params={"query": "ASK { ?s ?p ?o }"}, timeout=2).status_code < 500:
                return
        time.sleep(0.2)
    raise TimeoutError(f"no answer at {url}")


@contextlib.contextmanager
def store_process(argv: list[str], url: str, cwd: Path) -> Iterator[None]:
    with (cwd / "store.log").open("wb") as log:
        process = subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_http(url, process)
        yield
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextlib.contextmanager
def oxigraph(tmp: Path) -> Iterator[tuple[str, str]]:
    program = Path(sys.executable).parent / "oxigraph"
    port = free_port()
    argv = [str(program), "serve", "--location", str(tmp / "data"), "--bind", f"127.0.0.1:{port}", "--timeout-s", "5"]
    with store_process(argv, f"http://127.0.0.1:{port}/query", tmp):
        yield f"http://127.0.0.1:{port}/query", f"http://127.0.0.1:{port}/store"


@contextlib.contextmanager
def virtuoso(tmp: Path) -> Iterator[tuple[str, str]]:
    sql_port, http_port = free_port(), free_port()
    (tmp / "load").mkdir()
    ini = tmp / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(tmp=tmp, sql_port=sql_port, http_port=http_port))
    with store_process(["virtuoso-t", "-f", "-c", str(ini)], f"http://127.0.0.1:{http_port}/sparql", tmp):
        yield f"http://127.0.0.1:{http_port}/sparql", f"isql://dba:dba@127.0.0.1:{sql_port}?dir={tmp / 'load'}"


async def load(url: str, queries: dict[str, str], seconds: float) -> dict[str, tuple[float, int]]:
    """Answers per second for each query, and the answers that were not 200."""
    results = {}
    for name, text in queries.items():
        counts = [0] * CLIENTS
        errors = [0] * CLIENTS
        deadline = time.monotonic() + seconds

        async def client(
            index: int,
            text: str = text,
            deadline: float = deadline,
            counts: list[int] = counts,
            errors: list[int] = errors,
        ) -> None:
            async with httpx.AsyncClient(timeout=30) as http:
                while time.monotonic() < deadline:
                    answer = await http.post(
                        url, data={"query": text}, headers={"Accept": "application/sparql-results+json"}
                    )
                    counts[index] += 1
                    errors[index] += answer.status_code != 200

        started = time.monotonic()
        await asyncio.gather(*(client(i) for i in range(CLIENTS)))
        results[name] = (sum(counts) / (time.monotonic() - started), sum(errors))
    return results


def measure(env: dict[str, str], queries: dict[str, str], seconds: float, tmp: Path) -> dict[str, tuple[float, int]]:
    env = {"HVKG_SPARQL_MAX_CONCURRENT": "4", "HVKG_SPARQL_TIME_LIMIT": "5", **env}
    with running(start_hvkg(env, log=tmp / "hvkg.log"), timeout=120) as server:
        url = server.base + "/sparql"
        asyncio.run(load(url, {"warm-up": queries["lookup"]}, 2))
        return asyncio.run(load(url, queries, seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("/work/notes/bench-stores.md"))
    arguments = parser.parse_args()
    snapshot = build_snapshot()
    queries = {name: text or snapshot.queries[name] for name, text in QUERIES.items()}
    figures: dict[str, dict[str, tuple[float, int]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        figures["embedded engine"] = measure({}, queries, arguments.seconds, tmp)
        arguments.out.write_text(table(figures, queries, arguments.seconds))  # each engine's figures as they come
        for name, start in (("Oxigraph server 0.5.13", oxigraph), ("Virtuoso 7.2 (Debian)", virtuoso)):
            if name.startswith("Virtuoso") and not shutil.which("virtuoso-t"):
                print(f"{name}: virtuoso-t is not installed (apt-get install virtuoso-opensource)")
                continue
            home = tmp / name.split()[0].lower()
            home.mkdir()
            with start(home) as (query_url, publish_url):
                publish(publish_url, snapshot)
                figures[name] = measure({"HVKG_SPARQL_ENDPOINT": query_url}, queries, arguments.seconds, tmp)
            arguments.out.write_text(table(figures, queries, arguments.seconds))
    print(table(figures, queries, arguments.seconds))


def table(figures: dict[str, dict[str, tuple[float, int]]], queries: dict[str, str], seconds: float) -> str:
    lines = [
        f"SPARQL answered per second, {CLIENTS} clients, {seconds:g} s per query, `hvkg serve` with "
        "HVKG_SPARQL_MAX_CONCURRENT=4 (bench/sparql_stores.py)",
        "",
        "| engine | " + " | ".join(queries) + " |",
        "|---|" + "---:|" * len(queries),
    ]
    for engine, results in figures.items():
        cells = [f"{rate:.0f}" + (f" ({errors} not 200)" if errors else "") for rate, errors in results.values()]
        lines.append(f"| {engine} | " + " | ".join(cells) + " |")
    lines += ["", "machine: " + ", ".join(f"{k} {v}" for k, v in machine().items())]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
