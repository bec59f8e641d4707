"""`hvkg serve` as a user starts it: a real uvicorn on loopback, /healthz, and a clean SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest

from graph.layout import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process, f"http://127.0.0.1:{port}"
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_healthz_turns_200_with_the_snapshot_facts(server: tuple[subprocess.Popen[str], str]) -> None:
    _, base = server
    statuses = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, body = get(base + "/healthz")
        except OSError:
            time.sleep(0.05)
            continue
        statuses.append(status)
        if status == 200:
            break
        assert status == 503 and body["status"] == "loading"
        time.sleep(0.05)
    assert statuses[-1] == 200
    assert isinstance(body["triples"], int) and body["triples"] > 2000
    assert isinstance(body["contentHash"], str) and len(body["contentHash"]) == 64


def test_sigterm_stops_the_server_cleanly(server: tuple[subprocess.Popen[str], str]) -> None:
    process, _ = server
    process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal so a supervisor sees why it ended
    assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    output = process.stdout.read() if process.stdout else ""
    assert "Application shutdown complete" in output
    assert "Traceback" not in output


def test_sigterm_lets_an_in_flight_request_finish() -> None:
    """A slow SPARQL query is under way when SIGTERM arrives: its client still gets an HTTP answer."""
    import threading

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HVKG_SPARQL_TIME_LIMIT": "3"}
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        answers: list[int] = []

        def slow_query() -> None:
            query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . }"
            url = base + "/sparql?" + urllib.parse.urlencode({"query": query})
            request = urllib.request.Request(url, headers={"accept": "application/sparql-results+json"})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    answers.append(response.status)
            except urllib.error.HTTPError as error:
                answers.append(error.code)

        client = threading.Thread(target=slow_query)
        client.start()
        time.sleep(0.5)  # the query is running in its worker now
        process.send_signal(signal.SIGTERM)
        client.join(timeout=60)
        assert answers, "the in-flight request got no HTTP answer"
        assert answers[0] in (200, 504)  # finished, or stopped by the time limit: answered either way
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
