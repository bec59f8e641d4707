"""Debian's headless Chromium, started the one way every browser test starts it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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
