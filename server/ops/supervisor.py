"""`hvkg serve --workers N`: uvicorn's supervisor and its workers, tied together, and the pid file.

uvicorn's supervisor (supervisors/multiprocess.py) starts N workers with multiprocessing's spawn and replaces
those that die, but a worker never notices the supervisor's own death: killed (SIGKILL, the OOM killer), the
supervisor left its workers serving on, holding the port, under a pid file naming a dead process, so a restart
failed with "address in use" or ran beside them.

- `die_with_parent()`, which each worker calls as it starts (server.app's lifespan): the kernel sends the worker
  SIGTERM when its parent dies (Linux's PR_SET_PDEATHSIG; elsewhere a thread watches the parent's pid). uvicorn
  takes SIGTERM as a graceful shutdown: in-flight requests finish, the SPARQL worker processes end with the app,
  and an idle worker is gone within a second.
- `pid_file()`, around uvicorn in `hvkg serve`: the supervisor (or the one process) writes its pid as it starts,
  replacing whatever an earlier server left, and removes it when it exits cleanly. A file left by a killed server
  names a process that is gone, or a pid since reused by another program: `hvkg reload` says so and signals
  nothing (server.ops.reload).
- `metrics_directory(workers)`, around uvicorn in `hvkg serve --workers N` (N > 1): the directory where each
  worker keeps its counts for /metrics (prometheus_client's multiprocess mode, server.ops.metrics), named to the
  workers in $PROMETHEUS_MULTIPROC_DIR, which they inherit when spawned. A new one per run (or the one the
  variable names, emptied of an earlier run's files), removed when the supervisor exits: counts begin at 0
  with each run, as they do in one process. A worker that ends is `mark_process_dead` (by itself when it ends
  cleanly, else at the next scrape: server.ops.metrics.forget_ended_workers).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, MutableMapping
from pathlib import Path

from server.ops.metrics import MULTIPROC_DIR, process_running
from server.ops.reload import is_server_process, read_pid_file, remove_pid_file, write_pid_file

log = logging.getLogger("hvkg.supervisor")

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_INTERVAL = 0.5  # seconds, where the parent is watched by polling


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> None:
    """Have this process receive `sig` when the process that started it ends (also by SIGKILL)."""
    parent_process = multiprocessing.parent_process()
    parent = parent_process.pid if parent_process is not None and parent_process.pid else os.getppid()
    if not _parent_death_signal(sig):
        threading.Thread(target=_watch, args=(parent, sig), name="hvkg-parent-watch", daemon=True).start()
    if os.getppid() != parent:
        # The parent ended before the kernel was told to signal us: nothing would ever come.
        os.kill(os.getpid(), sig)


def _parent_death_signal(sig: signal.Signals) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int, sig: signal.Signals) -> None:
    while os.getppid() == parent:
        threading.Event().wait(WATCH_INTERVAL)
    os.kill(os.getpid(), sig)


@contextlib.contextmanager
def pid_file(path: Path | None) -> Iterator[None]:
    """Name this process in `path` while the block runs; remove the file after, if it still names us."""
    pid = os.getpid()
    if path is not None:
        earlier = read_pid_file(path)
        if earlier is not None and earlier != pid and is_server_process(earlier):
            log.warning("the pid file %s names a running server (pid %d); it now names this one", path, earlier)
        try:
            write_pid_file(path, pid)
        except OSError as error:
            log.warning("cannot write the pid file %s (hvkg reload needs --pid): %s", path, error)
    try:
        yield
    finally:
        if path is not None:
            remove_pid_file(path, pid)


@contextlib.contextmanager
def metrics_directory(workers: int, environ: MutableMapping[str, str] | None = None) -> Iterator[Path | None]:
    """With several workers, a directory for their counts, named in $PROMETHEUS_MULTIPROC_DIR while the block
    runs (the workers are spawned in it); removed after. A directory the variable already names is used
    instead, emptied of an earlier run's files before and after (also by one process, which prometheus_client
    then puts in its multiprocess mode too). One process without the variable gets none and counts in memory."""
    env = os.environ if environ is None else environ
    given = env.get(MULTIPROC_DIR, "").strip()
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        _empty(path)  # an earlier run's counts (a killed one's too) would be added to this run's
        try:
            yield path
        finally:
            _empty(path)
        return
    if workers <= 1:
        yield None
        return
    _remove_abandoned(Path(tempfile.gettempdir()))
    path = Path(tempfile.mkdtemp(prefix=f"{ABANDONED_PREFIX}{os.getpid()}-"))  # new, empty, private (0700)
    env[MULTIPROC_DIR] = str(path)
    try:
        yield path
    finally:
        env.pop(MULTIPROC_DIR, None)
        shutil.rmtree(path, ignore_errors=True)


ABANDONED_PREFIX = "hvkg-metrics-"


def _empty(path: Path) -> None:
    for counts in path.glob("*.db"):
        with contextlib.suppress(FileNotFoundError):
            counts.unlink()


def _remove_abandoned(temporary: Path) -> None:
    """The directories that killed supervisors (SIGKILL runs no `finally`) left: their pid is gone."""
    uid = os.getuid()
    for path in temporary.glob(ABANDONED_PREFIX + "*-*"):
        pid = path.name[len(ABANDONED_PREFIX) :].split("-", 1)[0]
        with contextlib.suppress(OSError):
            if pid.isdigit() and path.stat().st_uid == uid and not process_running(int(pid)):
                shutil.rmtree(path, ignore_errors=True)
