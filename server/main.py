"""The ASGI application that `hvkg serve` runs: `server.main:app` (importable by any ASGI server).

Importing it configures the process from the environment (server.ops.config): the data, the log format, the pid
file that `hvkg reload` reads. It is the service's app: SIGHUP reloads the graph.
"""

from __future__ import annotations

import contextlib
import signal

from server.app import create_app
from server.ops.config import Config
from server.ops.logs import configure

# Until the app's lifespan takes SIGHUP over (a reload), a SIGHUP must not end the process, which is what it
# does by default: `hvkg reload` may come while a worker is still starting.
if hasattr(signal, "SIGHUP"):
    with contextlib.suppress(ValueError):  # only the main thread may set it; an importing thread need not
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

config = Config.from_env()
configure(config)
app = create_app(config.layout(), service=True, pid_file=config.pid_file)
