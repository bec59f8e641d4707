"""Run one job at a time in pre-forked worker processes, each under a hard time limit.

Why processes: rdflib evaluates SPARQL in pure Python, and a runaway regular expression holds the GIL inside
the `re` engine, so a thread running it can neither be interrupted nor stopped. A process can always be killed.

Why fork: a child inherits the snapshot (the rdflib graph, the imported parser) copy-on-write, so starting one
costs milliseconds and nothing crosses the pipe but the job and its already-serialised answer.

The event loop never waits on a worker: it watches the worker's pipe (anyio.wait_readable) and reads the answer
once it is there, and a worker that overruns its time limit is killed with SIGKILL and replaced by a fresh one.

This module knows nothing about SPARQL: `setup(key)` runs in the child once, right after the fork, and returns
the function that answers jobs there. The key is the snapshot; workers forked for an older snapshot are retired
as soon as they are idle.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import resource
import signal
import struct
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkProcess
from typing import Any, Generic, Literal, TypeVar

import anyio.to_thread

__all__ = [
    "PoolBusy",
    "PoolClosed",
    "WorkerFailed",
    "WorkerOutOfMemory",
    "WorkerPool",
    "WorkerTimeout",
]

logger = logging.getLogger(__name__)

KeyT = TypeVar("KeyT")
JobT = TypeVar("JobT")
ResultT = TypeVar("ResultT")

# What a child answers: ("ok", result), or ("memory" | "error", None) right before it exits.
ReplyKind = Literal["ok", "memory", "error"]
Reply = tuple[ReplyKind, Any]


class PoolBusy(Exception):
    """Every worker slot is taken; the caller should answer 503 and let the client retry."""


class PoolClosed(Exception):
    """The pool was closed (the app is shutting down)."""


class WorkerTimeout(Exception):
    """The job ran past the time limit; its worker was killed."""


class WorkerOutOfMemory(Exception):
    """The job needed more memory than a worker may use; its worker ended."""


class WorkerFailed(Exception):
    """The worker died or its handler raised: an internal failure, already logged."""


@dataclass(eq=False)
class _Worker:
    process: ForkProcess
    conn: Connection[Any, Any]
    key: Any  # the KeyT the worker was forked for


class WorkerPool(Generic[KeyT, JobT, ResultT]):
    """At most `size` jobs at once, each in its own worker process, each stopped after `time_limit` seconds.

    `is_current(key)` tells whether workers forked for `key` are still wanted once idle (the snapshot they hold
    is still the one being served). `memory_limit` is how many bytes a worker may allocate beyond what it
    inherited (None: unbounded).
    """

    def __init__(
        self,
        setup: Callable[[KeyT], Callable[[JobT], ResultT]],
        *,
        size: int,
        time_limit: float,
        is_current: Callable[[KeyT], bool],
        memory_limit: int | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self._setup = setup
        self._size = size
        self._time_limit = time_limit
        self._is_current = is_current
        self._memory_limit = memory_limit
        self._context = multiprocessing.get_context("fork")
        self._workers: list[_Worker] = []  # every live worker, idle or busy
        self._idle: list[_Worker] = []
        self._ended: list[ForkProcess] = []  # killed or told to exit, not yet reaped
        self._busy = 0
        self._closed = False

    @property
    def busy(self) -> int:
        """How many jobs are running now."""
        return self._busy

    @property
    def size(self) -> int:
        return self._size

    def pids(self) -> list[int]:
        """Process ids of the live workers (for diagnostics and tests)."""
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    async def run(self, key: KeyT, job: JobT) -> ResultT:
        """Answer `job` in a worker forked for `key`.

        Raises PoolBusy, PoolClosed, WorkerTimeout, WorkerOutOfMemory or WorkerFailed; never blocks the loop.
        """
        if self._closed:
            raise PoolClosed
        if self._busy >= self._size:
            raise PoolBusy
        self._busy += 1
        try:
            self._reap()
            self._retire_stale()
            worker = self._take_idle(key) or self._spawn(key)
            return await self._ask(worker, job)
        finally:
            self._busy -= 1

    async def close(self) -> None:
        """End every worker: idle ones exit on EOF, busy ones are killed. Safe to call more than once."""
        self._closed = True
        idle = set(self._idle)
        for worker in list(self._workers):
            if worker in idle:
                self._retire(worker)
            else:
                self._kill(worker)
        ended, self._ended = self._ended, []
        await anyio.to_thread.run_sync(_join_all, ended, 2.0)

    async def _ask(self, worker: _Worker, job: JobT) -> ResultT:
        try:
            reply = await _exchange(worker.conn, job, self._time_limit)
        except (EOFError, OSError):
            # pyoxigraph (Rust) aborts the process when an allocation fails under the memory limit, where
            # Python would raise MemoryError: an abort mid-job is that job's memory.
            aborted = await anyio.to_thread.run_sync(_aborted, worker.process)
            self._kill(worker)
            if aborted:
                raise WorkerOutOfMemory from None
            logger.error("SPARQL worker %s ended without answering", worker.process.pid)
            raise WorkerFailed from None
        except BaseException:
            # Cancelled (client gone, server stopping): the worker is mid-job, so it cannot be reused.
            self._kill(worker)
            raise
        if reply is None:
            self._kill(worker)
            self._replace(worker.key)
            await self._bury(worker.process)
            raise WorkerTimeout
        kind, result = reply
        if kind == "ok":
            self._release(worker)
            return result  # type: ignore[no-any-return]
        # The child exits after a failure (its state is unknown); reap it.
        self._retire(worker)
        if kind == "memory":
            raise WorkerOutOfMemory
        raise WorkerFailed

    def _spawn(self, key: KeyT) -> _Worker:
        parent_end, child_end = self._context.Pipe()
        # The child closes its copies of every other worker's pipe, so each worker sees EOF as soon as the
        # server drops (or loses) its end, and never keeps a sibling alive.
        inherited = [w.conn for w in self._workers]
        process = self._context.Process(
            target=_child_main,
            args=(child_end, parent_end, inherited, self._setup, key, self._memory_limit),
            name="sparql-worker",
            daemon=True,  # multiprocessing's atexit handler ends them if close() was never awaited
        )
        process.start()
        child_end.close()
        os.set_blocking(parent_end.fileno(), False)  # the loop watches it (_exchange)
        worker = _Worker(process=process, conn=parent_end, key=key)
        self._workers.append(worker)
        return worker

    def _take_idle(self, key: KeyT) -> _Worker | None:
        for worker in list(self._idle):
            if worker.key is not key:
                continue
            self._idle.remove(worker)
            if worker.process.is_alive():
                return worker
            self._kill(worker)
        return None

    def _release(self, worker: _Worker) -> None:
        if self._closed or not self._is_current(worker.key):
            self._retire(worker)
        else:
            self._idle.append(worker)

    def _replace(self, key: KeyT) -> None:
        # Keep the pool warm after a kill, but only for the snapshot being served.
        if not self._closed and self._is_current(key) and len(self._workers) < self._size:
            self._idle.append(self._spawn(key))

    def _retire_stale(self) -> None:
        for worker in list(self._idle):
            if not self._is_current(worker.key):
                self._retire(worker)

    def _retire(self, worker: _Worker) -> None:
        """Let an idle worker exit on its own: closing our end gives it EOF."""
        if self._forget(worker):
            worker.conn.close()
            self._ended.append(worker.process)

    def _kill(self, worker: _Worker) -> None:
        if self._forget(worker):
            with contextlib.suppress(OSError, ValueError):
                worker.process.kill()
            worker.conn.close()
            self._ended.append(worker.process)

    def _forget(self, worker: _Worker) -> bool:
        """Drop a worker from the pool; False if it was already gone (close() ended it meanwhile)."""
        if worker in self._idle:
            self._idle.remove(worker)
        if worker not in self._workers:
            return False
        self._workers.remove(worker)
        return True

    async def _bury(self, process: ForkProcess) -> None:
        """Wait for a killed worker now (SIGKILL ends it within milliseconds): no zombie until the next query."""
        if process in self._ended:
            self._ended.remove(process)  # ours alone now: _reap() must not close it while we wait
        await anyio.to_thread.run_sync(_join_all, [process], 1.0)

    def _reap(self) -> None:
        """Collect ended children without waiting (waitpid WNOHANG), so none lingers as a zombie."""
        still: list[ForkProcess] = []
        for process in self._ended:
            if process.exitcode is None:
                still.append(process)
            else:
                process.close()
        self._ended = still


async def _exchange(conn: Connection[Any, Any], job: object, timeout: float) -> Reply | None:
    """Send a job and wait for its answer on the event loop; None when the time limit passed first.

    The server's end of the pipe is non-blocking (from _spawn on) and the loop watches it (anyio.wait_readable /
    writable): no thread, and a large answer is read as it arrives without ever stopping the loop. The framing
    is multiprocessing's own (Connection.send/recv in the child): a 4-byte big-endian length, then the pickle.
    """
    fd = conn.fileno()  # non-blocking since the worker was spawned
    payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
    await _write_all(fd, _frame(len(payload)) + payload)
    with anyio.move_on_after(timeout):
        reply: Reply = pickle.loads(await _read_message(fd))  # noqa: S301 - our own child's answer
        return reply
    return None


async def _read_message(fd: int) -> bytes:
    """One framed message. It waits before it reads (the answer is not there yet when the job has just been
    sent) and reads in large chunks, so a small answer costs one read, not one for its length and one more."""
    buffer = bytearray()

    async def fill(size: int) -> None:
        while len(buffer) < size:
            await anyio.wait_readable(fd)
            while len(buffer) < size:
                try:
                    chunk = os.read(fd, max(size - len(buffer), 1 << 16))
                except BlockingIOError:
                    break
                if not chunk:
                    raise EOFError
                buffer.extend(chunk)

    await fill(4)
    (size,) = struct.unpack_from("!i", buffer)
    header = 4
    if size == -1:
        await fill(12)
        (size,) = struct.unpack_from("!Q", buffer, 4)
        header = 12
    await fill(header + size)
    return bytes(buffer[header : header + size])


def _frame(size: int) -> bytes:
    return struct.pack("!i", size) if size <= 0x7FFFFFFF else struct.pack("!i", -1) + struct.pack("!Q", size)


async def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            await anyio.wait_writable(fd)


def _aborted(process: ForkProcess) -> bool:
    process.join(1.0)
    return process.exitcode == -signal.SIGABRT


def _join_all(processes: list[ForkProcess], timeout: float) -> None:
    for process in processes:
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join(timeout)
        with contextlib.suppress(ValueError):
            process.close()


# --- in the child ---------------------------------------------------------------------------------------------


def _child_main(
    conn: Connection[Any, Any],
    parent_end: Connection[Any, Any],
    inherited: list[Connection[Any, Any]],
    setup: Callable[[Any], Callable[[Any], Any]],
    key: object,
    memory_limit: int | None,
) -> None:
    parent_end.close()
    for other in inherited:
        other.close()
    _forget_server_signals()
    _limit_memory(memory_limit)
    try:
        handler = setup(key)
    except Exception:
        logger.exception("SPARQL worker setup failed")
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # the server closed our pipe: retired, or the server is gone
        reply = _answer(handler, job)
        try:
            conn.send(reply)
        except Exception:
            logger.exception("SPARQL worker could not send its answer")
            with contextlib.suppress(Exception):
                conn.send(("error", None))
            return
        if reply[0] != "ok":
            return


def _answer(handler: Callable[[Any], Any], job: object) -> Reply:
    try:
        return ("ok", handler(job))
    except MemoryError:
        return ("memory", None)
    except Exception:
        logger.exception("SPARQL worker handler failed")
        return ("error", None)


def _forget_server_signals() -> None:
    """Drop the server's signal handling inherited through fork.

    uvicorn's handlers would make SIGTERM a no-op here, and asyncio's wakeup fd would forward our signals to
    the server's event loop. Ctrl-C reaches the whole process group: the server ends us, so ignore SIGINT.
    """
    with contextlib.suppress(ValueError, OSError):
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _limit_memory(extra: int | None) -> None:
    """Cap the address space at what the child inherited plus `extra` bytes: a huge join ends in MemoryError."""
    if extra is None:
        return
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            inherited = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = inherited + extra
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    except (OSError, ValueError):
        logger.warning("SPARQL worker runs without a memory limit")
