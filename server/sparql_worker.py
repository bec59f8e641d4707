"""Run one job at a time in pre-forked worker processes, each under a hard time limit, without network access.

Why processes: rdflib evaluates SPARQL in pure Python, and a runaway regular expression holds the GIL inside
the `re` engine, so a thread running it can neither be interrupted nor stopped. A process can always be killed.

Why fork: a child inherits the snapshot (the rdflib graph, the imported parser) copy-on-write, so starting one
costs milliseconds and nothing crosses the pipe but the job and its already-serialised answer.

The event loop never waits on a worker: it watches the worker's pipe (anyio.wait_readable) and reads the answer
once it is there, and a worker that overruns its time limit is killed with SIGKILL and replaced by a fresh one.
A job that finds every worker busy waits its turn in a short FIFO queue; only a full queue, or a wait longer
than the time limit, gives PoolBusy.

Forking a process that has threads has one trap that bites here: a thread importing a module when the fork
happens leaves the child a module lock held by a thread the child does not have, and the child hangs for ever
on its first import of that module (seen: 2 of 128 cheap queries timed out when 16 clients started at once,
while the server's threads imported rdflib's SPARQL modules). So the pool forks only once no thread is
importing (`_imports_settled`, waited for on the event loop, at most IMPORT_WAIT seconds), and the child
forgets the module locks it inherited (`_forget_inherited_import_locks`): should a thread still have begun
an import in between, the child at worst sees that one module half-initialised, an error, never a hang.

What a worker does right after the fork, before it reads any job (`_child_main`):

1. It dies with the server: PR_SET_PDEATHSIG(SIGKILL), then a check that the server did not die before that
   was set (the classic race: the signal is never sent for a parent that is already gone). The signal comes
   when the *thread* that forked ends, not the process, so every fork is done by one thread that lives as long
   as the process (`_Forker`); a fork from the event loop's thread would die with, say, a test client's
   short-lived portal thread.
2. It lets go of every file descriptor it inherited except its own pipe and stdin/stdout/stderr: each is
   replaced by /dev/null (dup2), so the listening socket, the other workers' pipes and the event loop's
   descriptors are released at once, and a Python object that still owns one of those numbers can only ever
   close /dev/null, never a file the worker opened since. A server killed with `kill -9` thus leaves no
   process holding its port, and a restart binds at once.
3. It loses the network (`_cut_network`): the second wall behind the SPARQL checks, for the day those have a
   gap and the engine tries to fetch something (SERVICE in pyoxigraph, a graph IRI in rdflib). In this order:

   - `unshare(CLONE_NEWNET)`: a network namespace of its own, with only a loopback interface that is down.
     Every address family that could leave the process (TCP, UDP, raw, netlink to the host, abstract Unix
     sockets) is cut by the kernel, without having to name the calls. Needs CAP_SYS_ADMIN: root, as in CI and
     the container. Costs under a millisecond per worker (measured 0.8 ms).
   - `unshare(CLONE_NEWUSER | CLONE_NEWNET)`: the same for an unprivileged server, where the kernel allows
     user namespaces. The uid inside reads as `nobody`, but file access still uses the server's own uid.
   - seccomp: a filter that makes socket() fail (EPERM) for every family but AF_UNIX, and refuses
     io_uring_setup (io_uring can open sockets without the socket() call). Chosen over Landlock as the
     fallback because Landlock's network rules (ABI 4+, Linux 6.7) cover TCP bind/connect only, not UDP or
     raw sockets, while this filter works on any Linux since 3.5 with nothing to install (x86-64 and arm64).
   - none of them: the worker goes on with the network, and the server logs a warning once.

   A worker keeps only what it already holds: its pipe to the server (a socketpair made before the wall) and
   pipes; filesystem Unix sockets stay reachable, which the query engines never use. The wall each worker got
   is reported to the server over its pipe before the first answer; `network_wall()` says which one the
   workers of this process have, and the server logs it when it first learns it or when it changes.
4. It caps its own memory (RLIMIT_AS) and drops the server's signal handling.

After a job that grew a worker by more than `recycle_bytes` (anonymous resident memory, from /proc), the
worker answers and exits instead of keeping its peak heap while idle; the next job forks a fresh one.

This module knows nothing about SPARQL: `setup(key)` runs in the child once, right after the fork, and returns
the function that answers jobs there. The key is the snapshot; workers forked for an older snapshot are retired
as soon as they are idle.

Forks are done only from `_Forker`'s thread, and the pool must be used from one event loop at a time.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import errno
import logging
import multiprocessing
import os
import pickle
import platform
import queue
import resource
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Generic, Literal, TypeVar

import anyio
import anyio.to_thread

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

# What a child answers: ("ok", result); ("last", result) when it exits right after to give its memory back;
# ("memory" | "error", None) right before it exits. Before its first answer it says which wall it is behind:
# ("wall", name).
ReplyKind = Literal["ok", "last", "memory", "error"]
Reply = tuple[ReplyKind, Any]

# The walls, strongest first (see the module docstring); NO_WALL: the worker can reach the network.
NETNS = "netns"
USERNS_NETNS = "userns+netns"
SECCOMP = "seccomp"
NO_WALL = "none"

DEFAULT_QUEUE_PER_WORKER = 4  # queue length when none is given: this many waiting jobs per worker
IMPORT_WAIT = 1.0  # seconds a fork waits at most for other threads' imports to finish


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


_last_wall: str | None = None


def network_wall() -> str | None:
    """The wall the SPARQL workers of this process last reported ("netns", "userns+netns", "seccomp" or "none");
    None before any worker has started."""
    return _last_wall


# --- processes ------------------------------------------------------------------------------------------------


class _Child:
    """A forked worker process, seen from the server: kill it, ask whether it is alive, reap it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.exitcode: int | None = None  # negative: the signal that ended it, as multiprocessing says
        self._lock = threading.Lock()  # join() runs in a thread while the loop may poll()

    def poll(self) -> int | None:
        with self._lock:
            if self.exitcode is None:
                try:
                    pid, status = os.waitpid(self.pid, os.WNOHANG)
                except ChildProcessError:
                    self.exitcode = -signal.SIGKILL  # reaped by someone else: gone all the same
                else:
                    if pid:
                        self.exitcode = os.waitstatus_to_exitcode(status)
            return self.exitcode

    def is_alive(self) -> bool:
        return self.poll() is None

    def kill(self) -> None:
        # Never signal a reaped pid: the number may already belong to another process.
        with self._lock:
            if self.exitcode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)


class _Forker:
    """One long-lived thread that does every fork of the process.

    PR_SET_PDEATHSIG fires when the forking *thread* ends. The event loop's thread can be short-lived (a test
    client runs the app in a portal thread per request), so the workers are forked from this daemon thread,
    which ends only with the process. The loop blocks for the fork itself, as it did when it forked directly.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: queue.SimpleQueue[tuple[Callable[[], int], Future[int]]] = queue.SimpleQueue()
        self._owner = 0  # the pid whose thread this is: a process forked from this one has no such thread

    def fork(self, child: Callable[[], int]) -> int:
        """Fork; the child runs `child()` and exits with what it returns. Returns the child's pid."""
        self._ensure_thread()
        done: Future[int] = Future()
        self._requests.put((child, done))
        return done.result()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._owner != os.getpid():
                self._requests = queue.SimpleQueue()
                threading.Thread(target=self._serve, args=(self._requests,), name="sparql-forker", daemon=True).start()
                self._owner = os.getpid()

    @staticmethod
    def _serve(requests: queue.SimpleQueue[tuple[Callable[[], int], Future[int]]]) -> None:
        while True:
            child, done = requests.get()
            parent = os.getpid()
            try:
                pid = os.fork()
            except OSError as error:
                done.set_exception(error)
                continue
            if pid == 0:
                _run_child(child, parent)  # never returns
            done.set_result(pid)


_forker = _Forker()


# --- the pool -------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Worker:
    process: _Child
    conn: Connection[Any, Any]
    key: Any  # the KeyT the worker was forked for
    greeted: bool = False  # its ("wall", name) message has been read
    # What was read from the pipe past the last message: the wall message and the first answer can arrive in
    # one read.
    inbox: bytearray = field(default_factory=bytearray)


@dataclass(eq=False)
class _Waiter:
    event: anyio.Event
    granted: bool = False  # a finishing job handed its slot over


@dataclass
class _Settings:
    size: int
    time_limit: float
    memory_limit: int | None
    recycle_bytes: int | None
    network_wall: bool
    queue_length: int


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
        global _last_wall  # noqa: PLW0603 - one answer per process, for /healthz and /metrics
        if wall == self.wall:
            return
        self.wall = _last_wall = wall
        if wall == NO_WALL:
            logger.warning(
                "SPARQL workers can reach the network: no network namespace, user namespace or seccomp is "
                "available here; only the query checks stop SERVICE / "
                "SPARQL ワーカーがネットワークに接続できます（ネットワーク名前空間・ユーザー名前空間・seccomp の"
                "いずれも使えません）。SERVICE を止めるのはクエリの検査だけです"
            )
        else:
            logger.info(
                "SPARQL workers run without network access (%s) / SPARQL ワーカーはネットワークに接続できません（%s）",
                wall,
                wall,
            )

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


async def _imports_settled() -> None:
    """Wait, on the event loop, until no thread is importing a module (at most IMPORT_WAIT seconds)."""
    with anyio.move_on_after(IMPORT_WAIT):
        while _imports_in_progress():
            await anyio.sleep(0.002)


def _imports_in_progress() -> bool:
    """Whether another thread holds a module's import lock or a module is half-initialised (CPython's
    importlib internals, read defensively: when they cannot be read, nothing is assumed to be in progress)."""
    me = threading.get_ident()
    bootstrap = sys.modules.get("importlib._bootstrap")
    try:
        for ref in list(getattr(bootstrap, "_module_locks", {}).values()):
            owner = getattr(ref(), "owner", None)
            if owner is not None and owner != me:
                return True
        modules = list(sys.modules.values())
    except (RuntimeError, TypeError):  # a table changed under us: look again
        return True
    return any(getattr(getattr(module, "__spec__", None), "_initializing", False) for module in modules)


async def _read_message(fd: int, buffer: bytearray) -> bytes:
    """One framed message, taken from the front of `buffer` (the worker's inbox), which is filled from the pipe
    as needed and keeps whatever follows the message. It waits before it reads (the answer is not there yet
    when the job has just been sent) and reads in large chunks, so a small answer costs one read, not one for
    its length and one more."""

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
    message = bytes(buffer[header : header + size])
    del buffer[: header + size]
    return message


def _frame(size: int) -> bytes:
    return struct.pack("!i", size) if size <= 0x7FFFFFFF else struct.pack("!i", -1) + struct.pack("!Q", size)


async def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            await anyio.wait_writable(fd)


def _aborted(process: _Child) -> bool:
    process.join(1.0)
    return process.exitcode == -signal.SIGABRT


def _join_all(processes: list[_Child], timeout: float) -> None:
    for process in processes:
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join(timeout)


# --- in the child ---------------------------------------------------------------------------------------------

_libc: ctypes.CDLL | None = None

PR_SET_PDEATHSIG = 1
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000


def _c() -> ctypes.CDLL:
    global _libc  # noqa: PLW0603 - loaded once per process
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result: int) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number))


def _run_child(child: Callable[[], int], parent: int) -> None:
    """The forked child's whole life: it never returns into the code that forked it."""
    code = 1
    try:
        _die_with(parent)
        _forget_inherited_import_locks()
        code = child()
    except BaseException:
        with contextlib.suppress(BaseException):
            logger.exception("SPARQL worker failed")
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        os._exit(code)


def _forget_inherited_import_locks() -> None:
    """Drop the module import locks copied from the server: any of them held by another thread there would be
    held for ever here. A lock asked for again is made afresh."""
    table = getattr(sys.modules.get("importlib._bootstrap"), "_module_locks", None)
    if isinstance(table, dict):
        table.clear()


def _die_with(parent: int) -> None:
    """SIGKILL when the server dies; and end now if it died before we asked (we would never get the signal)."""
    try:
        _check(_c().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0))
    except (OSError, AttributeError):
        logger.warning("SPARQL worker cannot ask to die with the server (prctl)")
    if os.getppid() != parent:
        os._exit(0)


def _child_main(
    conn: Connection[Any, Any],
    setup: Callable[[Any], Callable[[Any], Any]],
    key: object,
    settings: _Settings,
) -> int:
    _release_inherited_fds(keep={0, 1, 2, conn.fileno()})
    _forget_server_signals()
    wall = _cut_network() if settings.network_wall else NO_WALL
    _limit_memory(settings.memory_limit)
    conn.send(("wall", wall))
    try:
        handler = setup(key)
    except Exception:
        logger.exception("SPARQL worker setup failed")
        return 1
    baseline = _anonymous_bytes()
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return 0  # the server closed our pipe: retired, or the server is gone
        reply = _answer(handler, job)
        if reply[0] == "ok" and _grew_past(baseline, settings.recycle_bytes):
            reply = ("last", reply[1])
        try:
            conn.send(reply)
        except Exception:
            logger.exception("SPARQL worker could not send its answer")
            with contextlib.suppress(Exception):
                conn.send(("error", None))
            return 1
        if reply[0] != "ok":
            return 0


def _answer(handler: Callable[[Any], Any], job: object) -> Reply:
    try:
        return ("ok", handler(job))
    except MemoryError:
        return ("memory", None)
    except Exception:
        logger.exception("SPARQL worker handler failed")
        return ("error", None)


def _release_inherited_fds(keep: set[int]) -> None:
    """Point every inherited descriptor but `keep` at /dev/null: the socket, pipe or file behind it is released
    (the listening socket above all), and its number stays taken, so nothing the server's objects still think
    they own can ever be a file this worker opens later."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 65536)))
    null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    for fd in fds:
        if fd in keep or fd == null:
            continue
        with contextlib.suppress(OSError):  # not open (the listing's own descriptor, or a gap)
            os.fstat(fd)
            os.dup2(null, fd, inheritable=False)


def _forget_server_signals() -> None:
    """Drop the server's signal handling inherited through fork.

    uvicorn's handlers would make SIGTERM a no-op here, and asyncio's wakeup fd would forward our signals to
    the server's event loop. Ctrl-C reaches the whole process group: the server ends us, so ignore SIGINT.
    """
    with contextlib.suppress(ValueError, OSError):
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _cut_network() -> str:
    """Put this process behind the strongest wall available (see the module docstring); name it."""
    for name, wall in ((NETNS, _own_netns), (USERNS_NETNS, _user_and_netns), (SECCOMP, _seccomp_unix_only)):
        try:
            wall()
        except (OSError, AttributeError, NotImplementedError) as error:
            logger.debug("SPARQL worker: no %s wall: %s", name, error)
            continue
        return name
    return NO_WALL


def _own_netns() -> None:
    _unshare(CLONE_NEWNET)


def _user_and_netns() -> None:
    _unshare(CLONE_NEWUSER | CLONE_NEWNET)


def _unshare(flags: int) -> None:
    before = _netns_id()
    _check(_c().unshare(flags))
    if before is not None and _netns_id() == before:
        raise OSError(errno.EPERM, "unshare succeeded but the network namespace is the same")


def _netns_id() -> str | None:
    try:
        return os.readlink("/proc/self/ns/net")
    except OSError:
        return None


# Classic BPF, as seccomp reads it: struct seccomp_data is {int nr; u32 arch; u64 ip; u64 args[6]}.
_BPF_LD_W_ABS = 0x20
_BPF_JEQ_K = 0x15
_BPF_JGE_K = 0x35
_BPF_RET_K = 0x06
_SECCOMP_MODE_FILTER = 2
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000
_X32_SYSCALL_BIT = 0x40000000
# machine -> (AUDIT_ARCH_*, __NR_socket, __NR_io_uring_setup)
_SYSCALLS = {
    "x86_64": (0xC000003E, 41, 425),
    "aarch64": (0xC00000B7, 198, 425),
}


class _SockFilter(ctypes.Structure):
    _fields_ = (("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32))


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter)))


def _seccomp_program(machine: str) -> list[tuple[int, int, int, int]]:
    """socket() only for AF_UNIX, no io_uring, and no syscall of a foreign ABI (x32, i386) at all."""
    arch, nr_socket, nr_io_uring = _SYSCALLS[machine]
    # Instructions are (code, jump if true, jump if false, k), the jumps by label; a string is a label.
    program: list[str | tuple[int, str | int, str | int, int]] = [
        (_BPF_LD_W_ABS, 0, 0, 4),  # arch
        (_BPF_JEQ_K, 0, "deny", arch),
        (_BPF_LD_W_ABS, 0, 0, 0),  # syscall number
    ]
    if machine == "x86_64":
        program.append((_BPF_JGE_K, "deny", 0, _X32_SYSCALL_BIT))
    program += [
        (_BPF_JEQ_K, 0, "not-socket", nr_socket),
        (_BPF_LD_W_ABS, 0, 0, 16),  # args[0], low 32 bits (little-endian): the address family
        (_BPF_JEQ_K, "allow", "deny", socket.AF_UNIX),
        "not-socket",
        (_BPF_JEQ_K, "deny", "allow", nr_io_uring),
        "allow",
        (_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW),
        "deny",
        (_BPF_RET_K, 0, 0, _SECCOMP_RET_ERRNO | errno.EPERM),
    ]
    labels: dict[str, int] = {}
    code: list[tuple[int, str | int, str | int, int]] = []
    for item in program:
        if isinstance(item, str):
            labels[item] = len(code)
        else:
            code.append(item)

    def offset(target: str | int, at: int) -> int:
        return target if isinstance(target, int) else labels[target] - at - 1

    return [(op, offset(jt, at), offset(jf, at), k) for at, (op, jt, jf, k) in enumerate(code)]


def _seccomp_unix_only() -> None:
    machine = platform.machine()
    if machine not in _SYSCALLS:
        raise NotImplementedError(f"no seccomp filter for {machine}")
    program = _seccomp_program(machine)
    filters = (_SockFilter * len(program))(*(_SockFilter(*instruction) for instruction in program))
    fprog = _SockFprog(len(program), ctypes.cast(filters, ctypes.POINTER(_SockFilter)))
    libc = _c()
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))  # required to install a filter without CAP_SYS_ADMIN
    _check(libc.prctl(PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0))
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()
    except PermissionError:
        return
    raise OSError(errno.EPERM, "the seccomp filter is installed but an AF_INET socket still opens")


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


def _anonymous_bytes() -> int:
    """Anonymous resident memory (statm: resident minus file-backed and shared): what a job's heap adds. The
    pages a fork inherited count from the start, so the difference from a baseline is what the worker grew."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            fields = statm.read().split()
        return (int(fields[1]) - int(fields[2])) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _grew_past(baseline: int, limit: int | None) -> bool:
    return limit is not None and _anonymous_bytes() - baseline > limit
