"""`hvkg serve` and `hvkg reload`: start the service (uvicorn over server.main), and ask a running one to load
the data again (SIGHUP, server.ops.reload)."""

from __future__ import annotations

import argparse
import os
import sys


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.ops.config import Config
    from server.ops.http_limits import BoundedHttpToolsProtocol, HTTPLimits
    from server.ops.logs import uvicorn_log_config
    from server.ops.supervisor import metrics_directory, pid_file

    if args.data:
        os.environ["HVKG_DATA"] = str(args.data.resolve())
    config = Config.from_env()  # a bad HVKG_* value stops here, with a message naming it (exit 2)
    HTTPLimits.from_env()  # and so does a bad HTTP limit, before any worker starts
    # the pid file is removed on a clean exit (a killed server's is replaced); with several workers, one
    # directory where each worker's metrics are written and every scrape sums them (prometheus_client)
    with pid_file(config.pid_file), metrics_directory(args.workers):
        uvicorn.run(
            "server.main:app",
            host=args.host,
            port=args.port,
            workers=args.workers,
            # request heads bounded in size and time, clients that do not read disconnected (server.ops.http_limits)
            http=BoundedHttpToolsProtocol,
            log_config=uvicorn_log_config(config),
            log_level=config.log_level,
            timeout_graceful_shutdown=30,
            # a new worker loads and validates the graph before it counts as started; give a busy machine time
            timeout_worker_healthcheck=60,
        )
    return 0


def cmd_reload(args: argparse.Namespace) -> int:
    from server.ops.reload import signal_reload

    return signal_reload(args.pid)


def cmd_publish(args: argparse.Namespace) -> int:
    """`hvkg publish URL`: the validated snapshot into a shared store (server/sparql/publish.py does it)."""
    from server.cli.data import snapshot_of
    from server.cli.errors import lang_of
    from server.sparql.publish import PublishError, publish

    lang = lang_of(args)
    snapshot = snapshot_of(args)  # an invalid graph stops here, exit 1, as every command that reads it
    try:
        result = publish(args.url, snapshot, keep=args.keep)
    except PublishError as err:
        print(err.japanese if lang == "ja" else err.english, file=sys.stderr)
        return 1
    print(result.message(lang))
    return 0
