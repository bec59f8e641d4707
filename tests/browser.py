"""Debian's headless Chromium, started the one way every browser test starts it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# Headless as root, and none of Chromium's own traffic (updates, sync, background fetches) on a closed network.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
)


def run_chromium(profile: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """Run Chromium with a fresh profile folder and these extra arguments; the caller checks the outcome."""
    assert Path(CHROMIUM).exists(), "Chromium is needed: apt-get install -y chromium (make test installs it)"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class DevTools:
    """A headless Chromium driven over the DevTools protocol through a pipe (`--remote-debugging-pipe`: it reads
    commands on file descriptor 3 and writes replies on 4; no port, nothing beyond the standard library). Events
    are kept in `events` as they come, read by a thread of their own."""

    def __init__(self, profile: Path, window_size: str = "1300,1000") -> None:
        assert Path(CHROMIUM).exists(), "Chromium is needed: apt-get install -y chromium (make test installs it)"
        to_chromium, self._to_write = os.pipe()
        self._from_read, from_chromium = os.pipe()
        self._log = (profile.parent / "chromium.log").open("wb")
        # Chromium reads commands on fd 3 and writes replies on fd 4; bash puts the pipes there (dash cannot
        # redirect from a descriptor above 9).
        redirect = f'exec "$0" "$@" 3<&{to_chromium} 4>&{from_chromium}'
        self.process = subprocess.Popen(
            [
                *("bash", "-c", redirect, CHROMIUM, *FLAGS),
                *(f"--user-data-dir={profile}", "--remote-debugging-pipe", f"--window-size={window_size}"),
                *("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "about:blank"),
            ],
            pass_fds=(to_chromium, from_chromium),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
        )
        os.close(to_chromium)
        os.close(from_chromium)
        self._last_id = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        pending = b""
        while chunk := os.read(self._from_read, 1 << 16):
            pending += chunk
            *messages, pending = pending.split(b"\0")
            with self._changed:
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self._replies[message["id"]] = message
                    else:
                        self.events.append(message)
                self._changed.notify_all()

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        with self._changed:
            self._last_id += 1
            ident = self._last_id
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 60
        with self._changed:
            while ident not in self._replies:
                assert self._changed.wait(max(0.0, deadline - time.monotonic())), f"Chromium did not answer {method}"
            reply = self._replies.pop(ident)
        assert "error" not in reply, (method, reply["error"])
        result: dict[str, Any] = reply["result"]
        return result

    def close(self) -> None:
        try:
            self.send("Browser.close")
            self.process.wait(10)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            os.close(self._to_write)
            self._log.close()


class Tab:
    """One page in a browser context of its own (its own storage), over the browser's DevTools session.
    `wait_seconds`: how long `wait` waits by default."""

    wait_seconds: float = 30

    def __init__(self, browser: DevTools, domains: tuple[str, ...] = ("Page", "Runtime")) -> None:
        self.browser = browser
        self.context = browser.send("Target.createBrowserContext")["browserContextId"]
        target = browser.send("Target.createTarget", url="about:blank", browserContextId=self.context)["targetId"]
        self.session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in domains:
            self.send(f"{domain}.enable")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        return self.browser.send(method, self.session, **params)

    def js(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        reply = self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        assert "exceptionDetails" not in reply, reply["exceptionDetails"]
        return reply["result"].get("value")

    def wait(self, expression: str, timeout: float | None = None) -> Any:
        """The expression's value once it is truthy; fails after `timeout` (else `wait_seconds`) seconds."""
        limit = self.wait_seconds if timeout is None else timeout
        deadline = time.monotonic() + limit
        while not (value := self.js(expression)):
            assert time.monotonic() < deadline, f"waited {limit} s for {expression}"
            time.sleep(0.05)  # polling the page, not timing anything
        return value
