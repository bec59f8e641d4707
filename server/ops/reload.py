"""Reloading the graph while the service runs, and `hvkg reload`, which asks a running server to do it.

In a server process, `Reloader` owns every load: the first one and each one a SIGHUP asks for. A load builds a
new snapshot in a worker thread (the build is CPU-bound, ~1 s; the event loop keeps answering meanwhile) and
swaps it in whole only if it is valid; otherwise the old snapshot keeps serving and `holder.last_error` (in
/healthz and the log) says why. SIGHUPs that arrive during a load are folded into one more load afterwards.

Which process to signal. `hvkg serve` (one process) handles SIGHUP itself. `hvkg serve --workers N` runs
uvicorn's supervisor, whose own SIGHUP handler (uvicorn 0.54, supervisors/multiprocess.py `handle_hup`) replaces
the workers one by one: each new worker must finish its lifespan start-up before the old one is stopped. A
worker started by that supervisor therefore loads its snapshot *during* start-up (see server.app), so it only
counts as ready once it serves; but a new worker cannot inherit the old one's snapshot, so with a broken edit the
restart would bring up workers that serve nothing. `hvkg reload` avoids that path: it signals each worker
process directly, and each one reloads in place, keeping its old snapshot when the new data is bad.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import anyio
import anyio.to_thread

from graph.layout import DataLayout
from server.ops.config import default_pid_file
from server.ops.metrics import Metrics
from server.ops.state import SnapshotHolder

log = logging.getLogger("hvkg.reload")

# The command lines a server process of ours runs under: `hvkg serve` and `python -m server.cli serve` (with
# " serve"), an ASGI server importing server.main, a worker. A pid file naming any other process is stale: its
# pid was reused (by another program, or by another hvkg command such as `hvkg validate`, which a SIGHUP ends).
SERVE_COMMANDS = ("hvkg", "server.cli")
SERVER_COMMANDS = ("server.main", "uvicorn", "multiprocessing.spawn")
SPAWNED_WORKER = "multiprocessing.spawn"

Loader = Callable[[SnapshotHolder, DataLayout], bool]


class Reloader:
    """Serialises the loads of one process; `request()` is safe to call from a signal handler on the loop."""

    def __init__(self, holder: SnapshotHolder, layout: DataLayout, metrics: Metrics, loader: Loader) -> None:
        self.holder = holder
        self.layout = layout
        self.metrics = metrics
        self.loader = loader
        self._wanted = anyio.Event()
        self._pending = False

    def request(self) -> None:
        """Ask for a reload; several requests before it starts make one reload."""
        self._pending = True
        self._wanted.set()

    async def load(self, *, reload: bool = True) -> bool:
        """Load now, in a worker thread; True if a new snapshot is served. Only reloads are counted as such."""
        if reload:
            log.info("reloading the graph from %s", self.layout.root)
        ok = await anyio.to_thread.run_sync(self._collect_and_load if reload else self._load)
        if reload:
            self.metrics.reloaded(ok)
            if not ok:
                log.error("reload failed; the previous snapshot keeps serving")
        return ok

    def _load(self) -> bool:
        return self.loader(self.holder, self.layout)

    def _collect_and_load(self) -> bool:
        # The snapshot the previous reload replaced is garbage by now, but an rdflib graph is full of reference
        # cycles that only a full collection frees, and Python runs one rarely on a heap this size: collect it
        # before building the next one, so a process holds two snapshots at most, reload after reload.
        gc.collect()
        return self._load()

    async def run(self, *, first_load: bool = False) -> None:
        """Make the first load if asked, then each requested reload, one at a time, until cancelled."""
        if first_load:
            await self.load(reload=False)
        while True:
            await self._wanted.wait()
            self._wanted = anyio.Event()
            while self._pending:
                self._pending = False
                await self.load()


def install_sighup(request: Callable[[], None]) -> Callable[[], None]:
    """Call `request` on SIGHUP, on the running event loop; returns how to undo it.

    Only the main thread of a process can own signal handlers: an app run in a test's thread gets none, which
    is what such a test wants (its SIGHUPs go to pytest).
    """
    import asyncio
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGHUP"):
        return lambda: None
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGHUP, request)
    except (ValueError, RuntimeError, NotImplementedError):
        log.warning("cannot handle SIGHUP here; reload by restarting the process")
        return lambda: None

    def undo() -> None:
        with contextlib.suppress(ValueError, RuntimeError):
            loop.remove_signal_handler(signal.SIGHUP)
            # asyncio puts back the default action, which ends the process: a late `hvkg reload` during
            # shutdown must not cut the in-flight requests short.
            signal.signal(signal.SIGHUP, signal.SIG_IGN)

    return undo


# --- the pid file ---------------------------------------------------------------------------------------------


def is_spawned_worker() -> bool:
    """True in a worker process of `--workers N` (uvicorn starts them with multiprocessing's spawn)."""
    import multiprocessing

    return multiprocessing.parent_process() is not None


def main_pid() -> int:
    """The pid that stands for the whole server: uvicorn's supervisor with --workers N, else this process."""
    return os.getppid() if is_spawned_worker() else os.getpid()


def write_pid_file(path: Path, pid: int) -> None:
    """Write atomically (several workers may write the same pid at once): a reader sees a whole number or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(f"{pid}\n", encoding="ascii")
    temporary.replace(path)


def remove_pid_file(path: Path, pid: int) -> None:
    """Remove the file if it still names `pid` (a newer server may have taken it over)."""
    with contextlib.suppress(OSError, ValueError):
        if int(path.read_text(encoding="ascii").split()[0]) == pid:
            path.unlink()


def read_pid_file(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return None


# --- finding the processes to signal (Linux /proc; elsewhere the pid itself is signalled) -----------------------


def _cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return None


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
        return int(stat.rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and _parent_of(int(entry.name)) == pid:
                found.append(int(entry.name))
    return sorted(found)


def reload_targets(pid: int) -> list[int]:
    """The processes that reload when signalled: uvicorn's workers when `pid` is their supervisor, else `pid`.

    A worker is a child started by spawn (its command line runs multiprocessing.spawn) that differs from its
    parent's: the SPARQL workers a server forks share the server's command line, and are never signalled.
    """
    own = _cmdline(pid)
    if own is None:
        return [pid]
    workers = [
        child
        for child in _children(pid)
        if (line := _cmdline(child)) is not None and SPAWNED_WORKER in line and line != own
    ]
    return workers or [pid]


def is_server_command(line: str) -> bool:
    if any(name in line for name in SERVER_COMMANDS):
        return True
    return "serve" in line.split() and any(name in line for name in SERVE_COMMANDS)


def is_server_process(pid: int) -> bool:
    """True if `pid` runs and its command line is one of a server of ours."""
    line = _cmdline(pid)
    return line is not None and _alive(pid) and is_server_command(line)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def signal_reload(pid: int | None) -> int:
    """`hvkg reload [--pid N]`: SIGHUP the server (its workers, with --workers N). 0 sent, 2 no such server."""
    source = "--pid"
    if pid is None:
        path = default_pid_file()
        pid = read_pid_file(path)
        source = str(path)
        if pid is None:
            _no_server(
                f"no pid file at {path} (set HVKG_PID_FILE or pass --pid)", f"{path} に pid ファイルがありません"
            )
            return 2
        line = _cmdline(pid)
        if line is not None and not is_server_command(line):
            _no_server(
                f"pid {pid} in {path} is not an hvkg server (stale pid file)",
                f"{path} の pid {pid} は hvkg サーバーではありません",
            )
            return 2
    if pid <= 0 or not _alive(pid):
        _no_server(f"no process {pid} ({source})", f"プロセス {pid} がありません（{source}）")
        return 2
    targets = reload_targets(pid)
    sent: list[int] = []
    for target in targets:
        try:
            os.kill(target, signal.SIGHUP)
            sent.append(target)
        except ProcessLookupError:
            continue  # a worker that ended meanwhile: its replacement loads the data as it starts
        except PermissionError:
            print(
                f"error: not allowed to signal process {target} / プロセス {target} にシグナルを送れません",
                file=sys.stderr,
            )
            return 2
    if not sent:
        _no_server(f"process {pid} ended", f"プロセス {pid} は終了しました")
        return 2
    shown = ", ".join(str(t) for t in sent)
    print(f"reload requested: SIGHUP sent to process {shown}; /healthz tells the outcome")
    print(f"再読み込みを要求しました（プロセス {shown} に SIGHUP）。結果は /healthz で確認できます。")
    return 0


def _no_server(english: str, japanese: str) -> None:
    print(f"error: no server: {english} / サーバーが見つかりません：{japanese}", file=sys.stderr)
