"""Run one job at a time in pre-forked worker processes, each under a hard time limit, without network access.

Why processes: rdflib evaluates SPARQL in pure Python, and a runaway regular expression holds the GIL inside
the `re` engine, so a thread running it can neither be interrupted nor stopped. A process can always be killed.

Why fork: a child inherits the snapshot (the rdflib graph, the imported parser) copy-on-write, so starting one
costs milliseconds and nothing crosses the pipe but the job and its already-serialised answer.

The event loop never waits on a worker: it watches the worker's pipe (anyio.wait_readable) and reads the answer
once it is there, and a worker that overruns its time limit is killed with SIGKILL and replaced by a fresh one.
A job that finds every worker busy waits its turn in a short FIFO queue; only a full queue, or a wait longer
than the time limit, gives PoolBusy.

How a worker is forked and what it does before its first job: server/sparql/processes.py; the wall that keeps
it off the network: server/sparql/wall.py. After a job that grew a worker by more than `recycle_bytes`
(anonymous resident memory, from /proc), the worker answers and exits instead of keeping its peak heap while
idle; the next job forks a fresh one.

This module knows nothing about SPARQL: `setup(key)` runs in the child once, right after the fork, and returns
the function that answers jobs there. The key is the snapshot; workers forked for an older snapshot are retired
as soon as they are idle.

Forks are done only from `_Forker`'s thread, and the pool must be used from one event loop at a time.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import multiprocessing
import os
import pickle
from collections.abc import Callable
from typing import Generic, TypeVar

import anyio
import anyio.to_thread

from server.sparql.processes import (
    Reply,
    _aborted,
    _Child,
    _child_main,
    _forker,
    _frame,
    _imports_settled,
    _join_all,
    _read_message,
    _Settings,
    _Waiter,
    _Worker,
    _write_all,
)
from server.sparql.wall import _report_wall, network_wall

__all__ = [
    "PoolBusy",
    "PoolClosed",
    "WorkerFailed",
    "WorkerOutOfMemory",
    "WorkerPool",
    "WorkerTimeout",
    "network_wall",
]

logger = logging.getLogger(__name__)


KeyT = TypeVar("KeyT")
JobT = TypeVar("JobT")
ResultT = TypeVar("ResultT")


DEFAULT_QUEUE_PER_WORKER = 4  # queue length when none is given: this many waiting jobs per worker


class PoolBusy(Exception):
    """Every worker is busy and the queue is full, or the wait passed the time limit: answer 503, retry later."""


class PoolClosed(Exception):
    """The pool was closed (the app is shutting down)."""


class WorkerTimeout(Exception):
    """The job ran past the time limit; its worker was killed."""


class WorkerOutOfMemory(Exception):
    """The job needed more memory than a worker may use; its worker ended."""


class WorkerFailed(Exception):
    """The worker died or its handler raised: an internal failure, already logged."""


class WorkerPool(Generic[KeyT, JobT, ResultT]):
    """At most `size` jobs at once, each in its own worker process, each stopped after `time_limit` seconds.

    `is_current(key)` tells whether workers forked for `key` are still wanted once idle (the snapshot they hold
    is still the one being served). `memory_limit` is how many bytes a worker may allocate beyond what it
    inherited (None: unbounded). `queue` is how many jobs may wait for a worker (None: 4 per worker; 0: none
    wait); a job waits at most `time_limit` seconds. A worker that grew by more than `recycle_bytes` in a job
    exits after answering it (None: never). `network_wall=False` leaves the workers their network: for tests
    that show what the wall stops, never for serving.
    """

    def __init__(
        self,
        setup: Callable[[KeyT], Callable[[JobT], ResultT]],
        *,
        size: int,
        time_limit: float,
        is_current: Callable[[KeyT], bool],
        memory_limit: int | None = None,
        queue: int | None = None,
        recycle_bytes: int | None = None,
        network_wall: bool = True,
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        if queue is not None and queue < 0:
            raise ValueError("a worker pool's queue cannot be shorter than 0")
        self._setup = setup
        self._is_current = is_current
        self._settings = _Settings(
            size=size,
            time_limit=time_limit,
            memory_limit=memory_limit,
            recycle_bytes=recycle_bytes,
            network_wall=network_wall,
            queue_length=DEFAULT_QUEUE_PER_WORKER * size if queue is None else queue,
        )
        self._context = multiprocessing.get_context("fork")  # for its Pipe(): a socketpair with framing
        self._workers: list[_Worker] = []  # every live worker, idle or busy
        self._idle: list[_Worker] = []
        self._ended: list[_Child] = []  # killed or told to exit, not yet reaped
        self._waiting: collections.deque[_Waiter] = collections.deque()
        self._busy = 0
        self._closed = False
        self.wall: str | None = None  # what the last worker reported
        self.recycled = 0  # workers that exited after a job to give their memory back

    @property
    def busy(self) -> int:
        """How many jobs are running now."""
        return self._busy

    @property
    def waiting(self) -> int:
        """How many jobs are waiting for a worker."""
        return len(self._waiting)

    @property
    def size(self) -> int:
        return self._settings.size

    @property
    def queue_length(self) -> int:
        return self._settings.queue_length

    def pids(self) -> list[int]:
        """Process ids of the live workers (for diagnostics and tests)."""
        return [w.process.pid for w in self._workers]

    async def run(self, key: KeyT, job: JobT) -> ResultT:
        """Answer `job` in a worker forked for `key`, after waiting for one if all are busy.

        Raises PoolBusy, PoolClosed, WorkerTimeout, WorkerOutOfMemory or WorkerFailed; never blocks the loop.
        """
        if self._closed:
            raise PoolClosed
        await self._acquire()
        try:
            if self._closed:
                raise PoolClosed
            self._reap()
            self._retire_stale()
            worker = self._take_idle(key)
            if worker is None:
                await _imports_settled()
                worker = self._spawn(key)
            return await self._ask(worker, job)
        finally:
            self._release_slot()

    async def close(self) -> None:
        """End every worker: idle ones exit on EOF, busy ones are killed; waiting jobs get PoolClosed.
        Safe to call more than once."""
        self._closed = True
        while self._waiting:
            self._waiting.popleft().event.set()  # not granted: the waiter raises PoolClosed
        idle = set(self._idle)
        for worker in list(self._workers):
            if worker in idle:
                self._retire(worker)
            else:
                self._kill(worker)
        ended, self._ended = self._ended, []
        await anyio.to_thread.run_sync(_join_all, ended, 2.0)

    # -- the queue

    async def _acquire(self) -> None:
        """Take a slot, or wait for one in FIFO order for at most the time limit."""
        if self._busy < self._settings.size and not self._waiting:
            self._busy += 1
            return
        if len(self._waiting) >= self._settings.queue_length:
            raise PoolBusy
        waiter = _Waiter(anyio.Event())
        self._waiting.append(waiter)
        try:
            with anyio.move_on_after(self._settings.time_limit):
                await waiter.event.wait()
        except BaseException:
            self._abandon(waiter)  # cancelled (client gone): pass a slot handed to us on
            raise
        if waiter.granted:
            return  # the slot is ours, even if the wait timed out at the same moment
        self._abandon(waiter)
        if self._closed:
            raise PoolClosed
        raise PoolBusy

    def _abandon(self, waiter: _Waiter) -> None:
        if waiter.granted:
            self._release_slot()
        else:
            with contextlib.suppress(ValueError):
                self._waiting.remove(waiter)

    def _release_slot(self) -> None:
        """A job ended: hand its slot to the first waiting job, or free it."""
        if self._waiting:
            waiter = self._waiting.popleft()
            waiter.granted = True
            waiter.event.set()
        else:
            self._busy -= 1

    # -- one job

    async def _ask(self, worker: _Worker, job: JobT) -> ResultT:
        try:
            reply = await self._exchange(worker, job)
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
            await _imports_settled()
            self._replace(worker.key)
            await self._bury(worker.process)
            raise WorkerTimeout
        kind, result = reply
        if kind == "ok":
            self._release(worker)
            return result  # type: ignore[no-any-return]
        if kind == "last":
            # The job grew the worker past recycle_bytes: it exits now and gives its memory back.
            self.recycled += 1
            self._retire(worker)
            return result  # type: ignore[no-any-return]
        # The child exits after a failure (its state is unknown); reap it.
        self._retire(worker)
        if kind == "memory":
            raise WorkerOutOfMemory
        raise WorkerFailed

    async def _exchange(self, worker: _Worker, job: JobT) -> Reply | None:
        """Send a job and wait for its answer on the event loop; None when the time limit passed first.

        The server's end of the pipe is non-blocking (from _spawn on) and the loop watches it (anyio.wait_readable
        / writable): no thread, and a large answer is read as it arrives without ever stopping the loop. The
        framing is multiprocessing's own (Connection.send/recv in the child): a 4-byte big-endian length, then
        the pickle. A fresh worker's first message is the wall it got.
        """
        fd = worker.conn.fileno()
        payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        await _write_all(fd, _frame(len(payload)) + payload)
        with anyio.move_on_after(self._settings.time_limit):
            if not worker.greeted:
                _, wall = pickle.loads(await _read_message(fd, worker.inbox))  # noqa: S301 - our own child's
                worker.greeted = True
                self._note_wall(str(wall))
            reply: Reply = pickle.loads(await _read_message(fd, worker.inbox))  # noqa: S301 - our own child's
            return reply
        return None

    def _note_wall(self, wall: str) -> None:
        if wall != self.wall:
            self.wall = wall
            _report_wall(wall)

    # -- workers

    def _spawn(self, key: KeyT) -> _Worker:
        parent_end, child_end = self._context.Pipe()
        settings = self._settings
        setup = self._setup

        def child() -> int:
            return _child_main(child_end, setup, key, settings)

        try:
            pid = _forker.fork(child)
        finally:
            child_end.close()
        os.set_blocking(parent_end.fileno(), False)  # the loop watches it (_exchange)
        worker = _Worker(process=_Child(pid), conn=parent_end, key=key)
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
        if not self._closed and self._is_current(key) and len(self._workers) < self._settings.size:
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

    async def _bury(self, process: _Child) -> None:
        """Wait for a killed worker now (SIGKILL ends it within milliseconds): no zombie until the next query."""
        if process in self._ended:
            self._ended.remove(process)  # ours alone now: _reap() must not touch it while we wait
        await anyio.to_thread.run_sync(_join_all, [process], 1.0)

    def _reap(self) -> None:
        """Collect ended children without waiting (waitpid WNOHANG), so none lingers as a zombie."""
        self._ended = [process for process in self._ended if process.poll() is None]
