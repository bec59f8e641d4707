"""The worker processes seen from both sides: forking one, talking to it over its pipe, and its life inside.

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
3. It loses the network (server/sparql/wall.py).
4. It caps its own memory (RLIMIT_AS) and drops the server's signal handling.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import resource
import signal
import struct
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Literal

import anyio

from server.sparql.wall import NO_WALL, _c, _check, _cut_network

logger = logging.getLogger(__name__)

# What a child answers: ("ok", result); ("last", result) when it exits right after to give its memory back;
# ("memory" | "error", None) right before it exits. Before its first answer it says which wall it is behind:
# ("wall", name).
ReplyKind = Literal["ok", "last", "memory", "error"]
Reply = tuple[ReplyKind, Any]

IMPORT_WAIT = 1.0  # seconds a fork waits at most for other threads' imports to finish


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


@dataclass
class _Settings:
    size: int
    time_limit: float
    memory_limit: int | None
    recycle_bytes: int | None
    network_wall: bool
    queue_length: int


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


PR_SET_PDEATHSIG = 1


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
