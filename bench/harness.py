"""Processes and measurements that every bench script shares: start a server, wait for it, load it with wrk.

Every server here runs under one uvicorn command line (UVICORN_ARGS: one worker, the same event loop and
HTTP parser, no access log), so the figures differ only by the application.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
UVICORN_ARGS = (
    *("--workers", "1", "--loop", "uvloop", "--http", "httptools"),
    *("--no-access-log", "--log-level", "warning"),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(BENCH)])
    env.update(extra or {})
    return env


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    started: float  # time.perf_counter() right before the process was started

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_bytes(self) -> int:
        """Resident memory of the server process itself (its SPARQL workers are counted apart)."""
        return _rss(self.process.pid)

    def children_rss_bytes(self) -> int:
        return sum(_rss(pid) for pid in _children(self.process.pid))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _rss(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) * 1024 if found else 0


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def start_uvicorn(
    name: str, app: str, env: Mapping[str, str] | None = None, log: Path | None = None, port: int | None = None
) -> Server:
    port = port or free_port()
    argv = [PYTHON, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port), *UVICORN_ARGS]
    return _start(name, argv, port, env, log)


def start_hvkg(env: Mapping[str, str] | None = None, log: Path | None = None) -> Server:
    """`hvkg serve` itself, as a user starts it (the console script when installed, else the module)."""
    port = free_port()
    script = Path(PYTHON).parent / "hvkg"
    command = [str(script)] if script.exists() else [PYTHON, "-m", "server.cli"]
    return _start("hvkg serve", [*command, "serve", "--host", "127.0.0.1", "--port", str(port)], port, env, log)


def _start(name: str, argv: Sequence[str], port: int, env: Mapping[str, str] | None, log: Path | None) -> Server:
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child keeps the file
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, env=environment(env), stdout=out, stderr=subprocess.STDOUT)
    return Server(name, process, port, started)


def wait_ready(
    server: Server, path: str = "/healthz", timeout: float = 600.0, interval: float = 0.005, any_answer: bool = False
) -> float:
    """Seconds from the start of the process to its first 200 on `path` (or any HTTP answer)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status == 200 or any_answer:
                return time.perf_counter() - server.started
        time.sleep(interval)
    raise TimeoutError(f"{server.name} was not ready after {timeout} s")


@contextlib.contextmanager
def running(server: Server, path: str = "/healthz", timeout: float = 600.0) -> Iterator[Server]:
    try:
        wait_ready(server, path, timeout)
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    latency_ms: dict[str, float]  # percentile ("50", "90", "99") -> milliseconds
    requests: int
    errors: int  # socket errors and non-2xx answers


def wrk(
    url: str, script: Path, env: Mapping[str, str], duration: float, connections: int, threads: int = 1
) -> WrkResult:
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--latency", "-s", str(script), url]
    out = subprocess.run(argv, env=environment(env), capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    latency = {
        p: _ms(v, unit) for p, v, unit in re.findall(r"^\s+(50|90|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)", out, re.M)
    }
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        errors += int(non_2xx.group(1))
    return WrkResult(rps, latency, total, errors)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _cpu_busy(interval: float) -> float:
    """Cores busy on the whole machine over `interval` seconds (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields), idle

    total_0, idle_0 = sample()
    time.sleep(interval)
    total_1, idle_1 = sample()
    total = max(1, total_1 - total_0)
    return (1 - (idle_1 - idle_0) / total) * (os.cpu_count() or 1)


def wait_quiet(threshold: float = 0.5, patience: float = 20.0) -> float:
    """Wait (at most `patience` s) until other processes use under `threshold` cores: other people's test
    runs share this machine. Returns the load seen last, to print beside the figure."""
    deadline = time.monotonic() + patience
    busy = _cpu_busy(0.5)
    while busy > threshold and time.monotonic() < deadline:
        busy = _cpu_busy(1.0)
    return busy


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def post_json(port: int, path: str, body: object, connection: http.client.HTTPConnection | None = None) -> object:
    own = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    own.request("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    response = own.getresponse()
    data = response.read()
    if connection is None:
        own.close()
    if response.status != 200:
        raise RuntimeError(f"{path}: HTTP {response.status}: {data[:300]!r}")
    return json.loads(data)


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError):
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    versions = {}
    for package in ("uvicorn", "starlette", "strawberry-graphql", "graphql-core", "rdflib", "pyoxigraph", "uvloop"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[package] = version(package)
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout.split("\n")[0]
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "wrk": wrk_version.strip(),
        "packages": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }
