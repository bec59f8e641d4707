"""The command line (`python -m server.cli`), run as a user runs it: a subprocess per command.

Every command starts in one module-scoped fixture, all at once, so the run costs about as long as the
slowest few rather than the sum of them all.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdflib import Graph

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (ROOT / "graph" / "sources" / "article-ja.txt").read_text(encoding="utf-8")
XP_ROW = "Windows XP SP2 Professional(x86) | 1 |"
VSC_SENTENCE = re.findall(r"仮想マシンからの命令やI/O要求は、「VSC[^。]*。", ARTICLE)[0]
GUEST_XP = ["check", "guest", "--os", "Windows XP", "--sp", "2", "--arch", "x86", "--vcpus", "2"]
HOST_CORE = ["check", "host", "--os", "Windows Server 2008", "--edition", "Standard", "--arch", "x64"]
EXPORT_FORMATS = {"turtle": "turtle", "nt": "nt", "json-ld": "json-ld", "xml": "xml"}

COMMANDS: dict[str, list[str]] = {
    "guest-too-many": GUEST_XP,
    "guest-too-many-ja": [*GUEST_XP, "--lang", "ja"],
    "guest-supported": [
        "check",
        "guest",
        "--os",
        "windows xp",
        "--edition",
        "Professional",
        "--sp",
        "3",
        "--arch",
        "X86",
        "--vcpus",
        "2",
    ],
    "host-server-core": [*HOST_CORE, "--installation", "server-core"],
    "host-x86": ["check", "host", "--os", "Windows Server 2008", "--edition", "Standard", "--arch", "x86"],
    "bad-empty-os": ["check", "guest", "--os", "", "--sp", "3", "--arch", "x86"],
    "bad-zero-vcpus": ["check", "guest", "--os", "Windows XP", "--sp", "3", "--arch", "x86", "--vcpus", "0"],
    "bad-negative-sp": ["check", "guest", "--os", "Windows XP", "--sp", "-1", "--arch", "x86"],
    "bad-product": ["check", "guest", "--product", "nope", "--os", "Windows XP", "--sp", "3", "--arch", "x86"],
    "path-between": ["path", "vsc", "physical-hardware"],
    "path-synthetic": ["path", "--product", "hyper-v", "--mode", "synthetic"],
    "path-unknown": ["path", "nope", "vsc"],
    "validate": ["validate"],
    **{f"export-{name}": ["export", "--format", name] for name in EXPORT_FORMATS},
}


@dataclass(frozen=True)
class Run:
    argv: list[str]
    code: int
    out: str
    err: str


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    started = {
        name: subprocess.Popen(
            [sys.executable, "-m", "server.cli", *argv],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            encoding="utf-8",
        )
        for name, argv in COMMANDS.items()
    }
    results = {}
    for name, process in started.items():
        out, err = process.communicate(timeout=120)
        results[name] = Run(COMMANDS[name], process.returncode, out, err)
    return results


def no_traceback(run: Run) -> None:
    assert "Traceback" not in run.err, run.err
    assert "Traceback" not in run.out


# ---- check ----------------------------------------------------------------------------------------------


def test_check_guest_with_too_many_processors(runs: dict[str, Run]) -> None:
    run = runs["guest-too-many"]
    no_traceback(run)
    assert run.code == 1, run.err
    assert "not supported" in run.out
    assert "TOO_MANY_VIRTUAL_PROCESSORS" in run.out
    assert XP_ROW in run.out
    assert "max virtual processors: 1" in run.out
    assert "emulated" in run.out


def test_check_guest_in_japanese(runs: dict[str, Run]) -> None:
    run = runs["guest-too-many-ja"]
    no_traceback(run)
    assert run.code == 1, run.err
    assert "サポート対象外" in run.out
    assert "TOO_MANY_VIRTUAL_PROCESSORS" in run.out
    assert "最大1" in run.out
    assert XP_ROW in run.out
    assert "may have at most" not in run.out  # the English message is not shown


def test_check_guest_supported(runs: dict[str, Run]) -> None:
    run = runs["guest-supported"]
    no_traceback(run)
    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == "supported"
    assert "SUPPORTED" in run.out
    assert "Windows XP SP3 Professional(x86) | 2 |" in run.out
    assert "VMBus" in run.out
    assert VSC_SENTENCE in run.out


def test_check_host_server_core(runs: dict[str, Run]) -> None:
    run = runs["host-server-core"]
    no_traceback(run)
    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == "supported"
    assert "Windows Server 2008(x64) Standard/Enterprise/Datacenter | Server Core |" in run.out


def test_check_host_x86(runs: dict[str, Run]) -> None:
    run = runs["host-x86"]
    no_traceback(run)
    assert run.code == 1
    assert "ARCHITECTURE_NOT_SUPPORTED" in run.out
    assert "64bit版(x64版)のWindows Server 2008が必要" in run.out


@pytest.mark.parametrize(
    ("name", "names"),
    [
        ("bad-empty-os", ("--os", "operatingSystem")),
        ("bad-zero-vcpus", ("--vcpus", "virtualProcessors")),
        ("bad-negative-sp", ("--sp", "servicePack")),
        ("bad-product", ("--product", "product")),
    ],
)
def test_bad_input_exits_2_and_names_the_argument(runs: dict[str, Run], name: str, names: tuple[str, ...]) -> None:
    run = runs[name]
    no_traceback(run)
    assert run.code == 2, (run.out, run.err)
    assert run.err.strip()
    assert any(n in run.err for n in names), run.err
    assert run.out == ""


def test_bad_values_are_echoed(runs: dict[str, Run]) -> None:
    assert "-1" in runs["bad-negative-sp"].err
    assert "0" in runs["bad-zero-vcpus"].err
    assert "nope" in runs["bad-product"].err
    assert "empty" in runs["bad-empty-os"].err


# ---- path -----------------------------------------------------------------------------------------------


def test_path_between_components(runs: dict[str, Run]) -> None:
    run = runs["path-between"]
    no_traceback(run)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith("VSC")
    assert lines[0].endswith("physical hardware")
    assert any("—[" in line and "]→" in line for line in lines)
    quoted = re.findall(r"「(.+)」", run.out)
    assert quoted
    assert all(q in ARTICLE for q in quoted)


def test_path_of_the_synthetic_io(runs: dict[str, Run]) -> None:
    run = runs["path-synthetic"]
    no_traceback(run)
    assert run.code == 0, run.err
    first = run.out.splitlines()[0]
    parts = first.split(" → ")
    assert len(parts) == 6
    assert [p.split(" ")[0] for p in parts[1:4]] == ["VSC", "VMBus", "VSP"]
    assert run.out.count("—[sends I/O to]→") == 5
    assert run.out.count(f"「{VSC_SENTENCE}」") >= 5


def test_path_with_an_unknown_component(runs: dict[str, Run]) -> None:
    run = runs["path-unknown"]
    no_traceback(run)
    assert run.code == 2
    assert "nope" in run.err
    assert "unknown component" in run.err


# ---- validate and export --------------------------------------------------------------------------------


def test_validate(runs: dict[str, Run]) -> None:
    run = runs["validate"]
    no_traceback(run)
    assert run.code == 0, run.err
    assert run.out.startswith("valid: ")
    assert "guest rows 12" in run.out


@pytest.fixture(scope="module")
def exported(runs: dict[str, Run]) -> dict[str, Graph]:
    graphs = {}
    for name, rdflib_format in EXPORT_FORMATS.items():
        run = runs[f"export-{name}"]
        assert run.code == 0, run.err
        graphs[name] = Graph().parse(data=run.out, format=rdflib_format)
    return graphs


@pytest.mark.parametrize("name", sorted(EXPORT_FORMATS))
def test_export_parses_back_to_the_same_triples(runs: dict[str, Run], exported: dict[str, Graph], name: str) -> None:
    count = int(re.match(r"valid: (\d+) triples", runs["validate"].out)[1])  # type: ignore[index]
    assert count > 1000
    assert len(exported[name]) == len(exported["turtle"]) == count
    assert exported[name].isomorphic(exported["turtle"])
