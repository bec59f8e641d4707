"""SPARQL worker pools, ours against pebble's ProcessPool: `python bench/worker_pools.py [--rounds 3]`.

Both pools answer the same QueryJobs on the real snapshot (graph.build.build_snapshot) with the service's own
worker code (server.sparql.engine._prepare_worker), forked with the snapshot, `--workers` workers each (4, the
service's default), in one asyncio event loop:

    ours     server.sparql.workers.WorkerPool, as SPARQLEndpoint builds it (SPARQLConfig's defaults: memory
             limit, queue, recycling), awaited on the loop
    pebble   pebble.ProcessPool(context=fork) with an initializer that does what ours does after its fork:
             PR_SET_PDEATHSIG, the server's signals dropped (SIGTERM back to its default), the network wall, the
             memory limit, then the same setup; a job is `schedule(..., timeout=limit)`, awaited through
             asyncio.wrap_future
    pebble as shipped   the same but pebble's own SIGTERM handler kept (it exits from Python, and pebble sends
             SIGKILL only `CONSTS.term_timeout` = 3 s later); only for (b)

What is measured, in the same run; the best of `--rounds` rounds counts. (a) and (c) keep both pools up and
alternate between them in short turns, so that what the shared cores run beside falls on both alike:

(a) queries per second of a small SELECT (50 English labels, ordered; its text new on every call) with 8 callers
    at once, `--seconds` per round and pool, in `--slices` turns each.
(b) one worker and a 1 s limit: a runaway query (one that pyoxigraph evaluates, in Rust; one that rdflib
    evaluates, in Python), then an ASK: from the runaway's limit (sent + 1 s) to its caller's answer, and to
    the ASK's answer, which only a replacement worker can give.
    (b') the same runaway with all workers and 3 callers sending small SELECTs meanwhile: how late its answer
    comes under load, and how many of the others' queries were answered or failed.
(c) a 10,000-row SELECT (1.7 MB of JSON), one caller, `--large` times a round: the median round trip, and what
    is left of it once the worker's own time (measured in the worker) is taken off: the pipe, pickling, the pool.

Then what each pool does: do its workers hold a listening socket the server opened before, what happens when an
idle worker is killed from outside (the OOM killer), and when its first user was a short-lived thread
(PR_SET_PDEATHSIG fires when the thread that forked ends). pebble is not a dependency of the service: install it
beside for this script (`.venv/bin/pip install pebble==5.2.3`). The figures and the decision they support:
docs/decisions.md ("SPARQL worker pool").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import multiprocessing
import os
import signal
import socket
import statistics
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import anyio  # noqa: E402
import anyio.to_thread  # noqa: E402
from pebble import ProcessPool  # noqa: E402

from graph.build import build_snapshot  # noqa: E402
from graph.snapshot import Snapshot  # noqa: E402
from server.sparql import processes  # noqa: E402
from server.sparql.config import SPARQLConfig  # noqa: E402
from server.sparql.engine import _import_rdflib_sparql, _prepare_worker  # noqa: E402
from server.sparql.jobs import QueryJob, QueryOutcome  # noqa: E402
from server.sparql.wall import _cut_network  # noqa: E402
from server.sparql.workers import WorkerPool, WorkerTimeout  # noqa: E402

CONFIG = SPARQLConfig()
SMALL = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?thing ?label WHERE {
  ?thing skos:prefLabel ?label .
  FILTER(LANG(?label) = "en" && !CONTAINS(LCASE(?label), "zz%d"))
} ORDER BY ?label ?thing LIMIT 50"""
LARGE = "SELECT ?a ?b WHERE { ?a ?p ?x . ?b ?q ?y } LIMIT 10000"
PROBE = "ASK { ?s ?p ?o }"
# Neither ends within seconds on the real graph. A \u escape sends a query to rdflib (server/sparql/gate.py).
RUNAWAYS = {
    "pyoxigraph": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "rdflib": 'SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f FILTER(?c != "\\u0041") }',
}
TIMEOUTS = (WorkerTimeout, TimeoutError)  # ours, pebble's (concurrent.futures.TimeoutError is TimeoutError)


class Timed(NamedTuple):
    """What a worker of either pool answers: its pid, its wall (pebble's; ours reports it to the pool), the
    seconds the job took inside it, and the outcome."""

    pid: int
    wall: str | None
    seconds: float
    outcome: QueryOutcome


Handler = Callable[[QueryJob], Timed]
Call = Callable[[QueryJob], Awaitable[Timed]]


def job(text: str) -> QueryJob:
    return QueryJob(
        text=text,
        base="http://127.0.0.1/sparql",
        result_format="json",
        graph_format=None,
        default_graphs=None,
        named_graphs=None,
        row_limit=CONFIG.row_limit,
        strict_dataset=CONFIG.strict_dataset,
        request_id="bench",
        max_nesting=CONFIG.max_nesting,
    )


def _timed(handler: Callable[[QueryJob], QueryOutcome]) -> Handler:
    def answer(query: QueryJob) -> Timed:
        started = time.perf_counter()
        outcome = handler(query)
        return Timed(os.getpid(), _wall, time.perf_counter() - started, outcome)

    return answer


# --- the pools ------------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def ours(snapshot: Snapshot, size: int, limit: float) -> AsyncIterator[Call]:
    pool: WorkerPool[Snapshot, QueryJob, Timed] = WorkerPool(
        lambda key: _timed(_prepare_worker(key)),
        size=size,
        time_limit=limit,
        is_current=lambda key: key is snapshot,
        memory_limit=CONFIG.memory_limit_bytes,
        queue=CONFIG.queue,
        recycle_bytes=CONFIG.recycle_bytes,
    )

    async def call(query: QueryJob) -> Timed:
        answer = await pool.run(snapshot, query)
        return answer._replace(wall=pool.wall)

    try:
        yield call
    finally:
        await pool.close()


# In a pebble worker: set by the initializer, read by the job function (pebble pickles the function by name).
_handler: Handler | None = None
_wall: str | None = None


def _pebble_initializer(snapshot: Snapshot, parent: int, as_shipped: bool) -> None:
    """What our pool's child does before its first job (server/sparql/processes.py), as far as an
    initializer can: it cannot release the inherited descriptors, as it is not told which are pebble's."""
    global _handler, _wall  # noqa: PLW0603 - one worker per process
    processes._die_with(parent)
    if not as_shipped:
        processes._forget_server_signals()
    _wall = _cut_network()
    processes._limit_memory(CONFIG.memory_limit_bytes)
    _handler = _timed(_prepare_worker(snapshot))


def _pebble_job(query: QueryJob) -> Timed:
    assert _handler is not None, "the initializer ran"
    return _handler(query)


@contextlib.asynccontextmanager
async def pebble(snapshot: Snapshot, size: int, limit: float, *, as_shipped: bool = False) -> AsyncIterator[Call]:
    pool = ProcessPool(
        max_workers=size,
        initializer=_pebble_initializer,
        initargs=(snapshot, os.getpid(), as_shipped),
        context=multiprocessing.get_context("fork"),  # the snapshot is inherited, never pickled
    )

    async def call(query: QueryJob) -> Timed:
        return await asyncio.wrap_future(pool.schedule(_pebble_job, args=(query,), timeout=limit))

    try:
        yield call
    finally:
        pool.stop()  # type: ignore[no-untyped-call]
        await anyio.to_thread.run_sync(pool.join)


Pool = Callable[[Snapshot, int, float], contextlib.AbstractAsyncContextManager[Call]]


def pebble_as_shipped(snapshot: Snapshot, size: int, limit: float) -> contextlib.AbstractAsyncContextManager[Call]:
    return pebble(snapshot, size, limit, as_shipped=True)


POOLS: dict[str, Pool] = {"ours": ours, "pebble": pebble}


async def warm(call: Call, size: int) -> list[Timed]:
    """`size` probes at once, so that every worker is forked and has answered."""
    answers: list[Timed] = []

    async def probe() -> None:
        answers.append(await call(job(PROBE)))

    async with anyio.create_task_group() as group:
        for _ in range(size):
            group.start_soon(probe)
    return answers


# --- (a), (b), (c) --------------------------------------------------------------------------------------------

_texts = itertools.count()  # every small SELECT of the run has a text of its own


async def throughput(call: Call, seconds: float, callers: int) -> tuple[int, float]:
    """Queries answered by `callers` callers in about `seconds`, and the seconds it took."""
    done = 0
    deadline = time.monotonic() + seconds

    async def caller() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            answer = await call(job(SMALL % next(_texts)))
            assert answer.outcome.status == 200, answer.outcome
            assert answer.outcome.rows == 50, answer.outcome
            done += 1

    started = time.monotonic()
    async with anyio.create_task_group() as group:
        for _ in range(callers):
            group.start_soon(caller)
    return done, time.monotonic() - started


async def runaway(call: Call, text: str, limit: float) -> tuple[float, float]:
    """Seconds from the runaway's limit to its caller's answer, and to the next query's answer."""
    await call(job(PROBE))
    started = time.monotonic()
    with contextlib.suppress(*TIMEOUTS):
        answer = await call(job(text))
        raise AssertionError(f"the runaway query was answered: {answer.outcome}")
    answered = time.monotonic() - started - limit
    assert (await call(job(PROBE))).outcome.status == 200
    return answered, time.monotonic() - started - limit


async def runaway_among_others(call: Call, text: str, limit: float, size: int) -> tuple[float, int, int]:
    """The runaway beside size-1 callers of small SELECTs: how late its answer is, how many of theirs were
    answered and how many failed."""
    await warm(call, size)
    answered = failed = 0
    stop = anyio.Event()

    async def other() -> None:
        nonlocal answered, failed
        while not stop.is_set():
            try:
                ok = (await call(job(SMALL % next(_texts)))).outcome.status == 200
            except Exception:  # counted: losing the others is what is measured
                ok = False
            answered += ok
            failed += not ok

    late = 0.0
    async with anyio.create_task_group() as group:
        for _ in range(size - 1):
            group.start_soon(other)
        started = time.monotonic()
        with contextlib.suppress(*TIMEOUTS):
            await call(job(text))
        late = time.monotonic() - started - limit
        await anyio.sleep(0.2)
        stop.set()
    return late, answered, failed


async def large(call: Call) -> tuple[float, float, bytes]:
    """The 10,000-row SELECT: its round trip, the round trip less the time in the worker, and the body."""
    started = time.perf_counter()
    answer = await call(job(LARGE))
    trip = time.perf_counter() - started
    assert answer.outcome.rows == 10_000, answer.outcome.rows
    return trip, trip - answer.seconds, answer.outcome.body


# --- behaviour ------------------------------------------------------------------------------------------------


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


async def idle_worker_killed(call: Call, size: int) -> str:
    """kill -9 of one idle worker, as the OOM killer would; then `size` queries."""
    victim = (await warm(call, size))[0].pid
    os.kill(victim, signal.SIGKILL)
    await anyio.sleep(0.5)
    try:
        answers = await warm(call, size)
    except Exception as error:  # what the pool says is the finding
        return f"the next queries fail: {_named(error)}"
    pids = {answer.pid for answer in answers}
    return f"the next {len(answers)} queries are answered, by {len(pids)} workers, the killed one {victim in pids}"


async def listening_socket_held(call: Call, size: int) -> str:
    """Whether the workers hold a listening socket the server opened before they were forked."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen(1)
        target = f"socket:[{os.fstat(listening.fileno()).st_ino}]"
        pids = {answer.pid for answer in await warm(call, size)}
        holders = [pid for pid in pids if target in _descriptors(pid)]
    return f"{len(holders)} of the {len(pids)} workers that answered hold it"


def _descriptors(pid: int) -> set[str]:
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(FileNotFoundError):
            found.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return found


def _named(error: BaseException) -> str:
    while isinstance(error, BaseExceptionGroup):  # a task group's: the first caller's error says it
        error = error.exceptions[0]
    return f"{type(error).__name__}: {error}"


async def first_used_from_a_thread(call: Call) -> str:
    """The pool's first query comes from a thread that then ends (a test client's portal thread)."""
    first: list[int] = []
    thread = threading.Thread(target=lambda: first.append(anyio.run(call, job(PROBE)).pid))
    thread.start()
    await anyio.to_thread.run_sync(thread.join)
    await anyio.sleep(0.3)  # a SIGKILL on the thread's end has landed by now
    state = "is dead" if gone(first[0]) else "lives"
    try:
        await call(job(PROBE))
    except Exception as error:  # what the pool says is the finding
        return f"the worker {state}; the next query fails: {_named(error)}"
    return f"the worker {state}; the next query is answered"


# --- the run ------------------------------------------------------------------------------------------------


class Figures:
    """Every round's figures, by pool (and engine, for the runaways)."""

    def __init__(self) -> None:
        self.qps: dict[str, list[float]] = {name: [] for name in POOLS}
        self.large: dict[str, list[tuple[float, float]]] = {name: [] for name in POOLS}
        self.bodies: dict[str, bytes] = {}
        self.walls: dict[str, str | None] = {}
        self.late: dict[tuple[str, str], list[tuple[float, float]]] = {}
        self.crowded: dict[str, list[tuple[float, int, int]]] = {name: [] for name in POOLS}


async def steady(args: argparse.Namespace, snapshot: Snapshot, figures: Figures) -> None:
    """(a) and (c). Both pools stay up through the rounds, which alternate between them in short turns:
    whatever else the shared cores run falls on both alike."""
    order = list(POOLS)
    async with contextlib.AsyncExitStack() as stack:
        calls = {
            name: await stack.enter_async_context(pool(snapshot, args.workers, CONFIG.time_limit))
            for name, pool in POOLS.items()
        }
        for name, call in calls.items():
            figures.walls[name] = (await warm(call, args.workers))[0].wall
        for round_ in range(args.rounds):
            done = dict.fromkeys(POOLS, 0)
            spent = dict.fromkeys(POOLS, 0.0)
            for _ in range(args.slices):
                for name in order:
                    count, seconds = await throughput(calls[name], args.seconds / args.slices, args.callers)
                    done[name] += count
                    spent[name] += seconds
                order.reverse()
            found: dict[str, list[tuple[float, float]]] = {name: [] for name in POOLS}
            for _ in range(args.large):
                for name in order:
                    trip, overhead, figures.bodies[name] = await large(calls[name])
                    found[name].append((trip, overhead))
                order.reverse()
            for name in POOLS:
                figures.qps[name].append(done[name] / spent[name])
                trips, overheads = zip(*found[name], strict=True)
                figures.large[name].append((statistics.median(trips), statistics.median(overheads)))
            print(f"round {round_ + 1}: " + ", ".join(f"{n} {figures.qps[n][-1]:.0f} q/s" for n in POOLS), flush=True)


async def kills(args: argparse.Namespace, snapshot: Snapshot, figures: Figures) -> None:
    """(b) and (b'), a fresh pool for each runaway."""
    order = list(POOLS)
    variants = {**POOLS, "pebble as shipped": pebble_as_shipped}
    for _ in range(args.rounds):
        for name in order:
            async with POOLS[name](snapshot, args.workers, args.limit) as call:
                crowded = await runaway_among_others(call, RUNAWAYS["pyoxigraph"], args.limit, args.workers)
                figures.crowded[name].append(crowded)
        for name, pool in variants.items():
            for engine, text in RUNAWAYS.items():
                async with pool(snapshot, 1, args.limit) as call:
                    figures.late.setdefault((name, engine), []).append(await runaway(call, text, args.limit))
        order.reverse()


def report(args: argparse.Namespace, figures: Figures) -> None:
    print(f"\n{args.workers} workers, best of {args.rounds} rounds; walls: {figures.walls}")
    print(f"(a) small SELECT, {args.callers} callers, {args.seconds:g} s a round in turns: queries per second")
    for name, values in figures.qps.items():
        print(f"    {name:18}{max(values):8.0f}   rounds: {', '.join(f'{v:.0f}' for v in values)}")
    print(f"(b) runaway, 1 worker, limit {args.limit:g} s: ms from the limit to its answer / to the next answer")
    for (name, engine), pairs in figures.late.items():
        every = ", ".join(f"{a * 1000:.0f}/{r * 1000:.0f}" for a, r in pairs)
        best = f"{min(a for a, _ in pairs) * 1000:7.0f} /{min(r for _, r in pairs) * 1000:6.0f}"
        print(f"    {name:18}{engine:11}{best}   rounds: {every}")
    print(f"(b') the pyoxigraph runaway beside {args.workers - 1} callers: ms late; their queries answered, failed")
    for name, triples in figures.crowded.items():
        every = ", ".join(f"{late * 1000:.0f} ms {ok} ok {failed} failed" for late, ok, failed in triples)
        print(f"    {name:18}{min(late for late, _, _ in triples) * 1000:7.0f}   rounds: {every}")
    size = len(figures.bodies["ours"])
    print(
        f"(c) 10,000-row SELECT ({size:,} bytes), {args.large} a round: ms median round trip / of it outside the worker"
    )
    for name, pairs in figures.large.items():
        every = ", ".join(f"{t * 1000:.1f}/{o * 1000:.1f}" for t, o in pairs)
        best = f"{min(t for t, _ in pairs) * 1000:7.1f} /{min(o for _, o in pairs) * 1000:6.1f}"
        print(f"    {name:18}{best}   rounds: {every}")


async def behaviour(args: argparse.Namespace, snapshot: Snapshot) -> None:
    print("behaviour")
    checks = {
        "a listening socket of the server": lambda call: listening_socket_held(call, args.workers),
        "an idle worker killed with SIGKILL": lambda call: idle_worker_killed(call, args.workers),
        "first used from a thread that ends": first_used_from_a_thread,
    }
    for name, pool in POOLS.items():
        for what, check in checks.items():
            async with pool(snapshot, args.workers, CONFIG.time_limit) as call:
                print(f"    {name}: {what}: {await check(call)}", flush=True)


async def measure(args: argparse.Namespace, snapshot: Snapshot) -> None:
    figures = Figures()
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    await steady(args, snapshot, figures)
    await kills(args, snapshot, figures)
    assert len(set(figures.bodies.values())) == 1, "both pools give the same 10,000-row answer"
    report(args, figures)
    await behaviour(args, snapshot)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=CONFIG.max_concurrent)
    parser.add_argument("--callers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds of (a) per round and pool")
    parser.add_argument("--slices", type=int, default=4, help="turns each pool takes in a round of (a)")
    parser.add_argument("--limit", type=float, default=1.0, help="time limit of the runaway queries")
    parser.add_argument("--large", type=int, default=15, help="10,000-row queries per round and pool")
    args = parser.parse_args()
    snapshot = build_snapshot()
    _import_rdflib_sparql()  # as SPARQLEndpoint does before its first query: every worker inherits it
    anyio.run(measure, args, snapshot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
