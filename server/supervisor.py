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
  nothing (server.reload).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from server.reload import is_server_process, read_pid_file, remove_pid_file, write_pid_file

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
