"""The command line, run as a user runs it: the `hvkg` console script, a subprocess per command.

Every command starts in one module-scoped fixture, all at once, so the run costs about as long as the
slowest few rather than the sum of them all. Only the hypothesis test over `--sp` spellings runs its
commands one after another.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rdflib import Graph

from graph.model import BadInput
from graph.snapshot import Snapshot
from server.cli import NO_SERVICE_PACK, parse_service_pack
from server.cli.text import WORDS

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (ROOT / "graph" / "sources" / "article-ja.txt").read_text(encoding="utf-8")
XP_ROW = "Windows XP SP2 Professional(x86) | 1 |"
VSC_SENTENCE = re.findall(r"仮想マシンからの命令やI/O要求は、「VSC[^。]*。", ARTICLE)[0]
GUEST_XP = ["check", "guest", "--os", "Windows XP", "--sp", "2", "--arch", "x86", "--vcpus", "2"]
HOST_CORE = ["check", "host", "--os", "Windows Server 2008", "--edition", "Standard", "--arch", "x64"]
EXPORT_FORMATS = {"turtle": "turtle", "nt": "nt", "json-ld": "json-ld", "xml": "xml"}
BAD_SPARQL = (
    "PREFIX hv: <https://hyperv-kg.example.org/id/ontology/>\nSELECT ?x WHERE {\n  ?x hv:label ?y .\n  FILTER(?y > )\n}"
)
MISSING_FILE = ROOT / "queries" / "no-such-query.rq"
# Windows XP x86: no service pack (not supported), SP2 (one processor), SP3 (two); asked with one processor
SP_CASES = (0, 2, 3)


def _hvkg() -> str:
    """The console script of the environment running the tests, as `pip install` made it."""
    beside = Path(sys.executable).with_name("hvkg")
    found = str(beside) if beside.exists() else shutil.which("hvkg")
    assert found, "the hvkg console script is not installed (pip install -e .)"
    return found


HVKG = _hvkg()
SHELL_HVKG = shlex.quote(HVKG)


def guest_xp(service_pack: str, lang: str) -> list[str]:
    return ["check", "guest", "--os", "Windows XP", "--sp", service_pack, "--arch", "x86", "--lang", lang]


def both(name: str, argv: list[str]) -> dict[str, list[str]]:
    """The command in English and in Japanese."""
    return {name: [*argv, "--lang", "en"], f"{name}-ja": [*argv, "--lang", "ja"]}


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
    "guest-supported-ja": ["check", "guest", "--os", "windows xp", "--sp", "3", "--arch", "x86", "--lang", "ja"],
    "guest-i386": ["check", "guest", "--os", "windows xp", "--sp", "3", "--arch", "i386", "--lang", "ja"],
    "guest-32-bit": ["check", "guest", "--os", "windows xp", "--sp", "3", "--arch", "32-bit", "--lang", "ja"],
    **both("read-as", ["check", "guest", "--os", "Windows Vista Ultimate SP1", "--arch", "x64"]),
    **both("unknown-os", ["check", "guest", "--os", "Windows Vistaa", "--arch", "x86"]),
    **both(
        "unknown-host-os", ["check", "host", "--os", "Windows Servre 2008", "--edition", "Standard", "--arch", "x64"]
    ),
    **both("bad-sp-word", ["check", "guest", "--os", "Windows XP", "--sp", "latest", "--arch", "x86"]),
    **both("bad-arch", ["check", "guest", "--os", "Windows XP", "--arch", "x65"]),
    "host-server-core": [*HOST_CORE, "--installation", "server-core"],
    "host-server-core-ja": [*HOST_CORE, "--installation", "server core", "--lang", "ja"],
    "host-x86": ["check", "host", "--os", "Windows Server 2008", "--edition", "Standard", "--arch", "x86"],
    "bad-empty-os": ["check", "guest", "--os", "", "--sp", "3", "--arch", "x86"],
    "bad-zero-vcpus": ["check", "guest", "--os", "Windows XP", "--sp", "3", "--arch", "x86", "--vcpus", "0"],
    "bad-negative-sp": ["check", "guest", "--os", "Windows XP", "--sp", "-1", "--arch", "x86"],
    "bad-negative-sp-ja": ["check", "guest", "--os", "Windows XP", "--sp", "-1", "--arch", "x86", "--lang", "ja"],
    "bad-product": ["check", "guest", "--product", "nope", "--os", "Windows XP", "--sp", "3", "--arch", "x86"],
    **{f"sp-{n}-{lang}": guest_xp(str(n), lang) for n in SP_CASES for lang in ("en", "ja")},
    "path-between": ["path", "vsc", "physical-hardware"],
    "path-between-ja": ["path", "vsc", "physical-hardware", "--lang", "ja"],
    "path-synthetic": ["path", "--product", "hyper-v", "--mode", "synthetic"],
    "path-hyper-v-own": ["path", "--product", "hyper-v"],
    **both("path-vs-own", ["path", "--product", "virtual-server-2005-r2"]),
    "path-vs-emulated": ["path", "--product", "virtual-server-2005-r2", "--mode", "emulated"],
    **both("path-against", ["path", "physical-hardware", "vsc"]),
    **both("path-undirected", ["path", "physical-hardware", "vsc", "--undirected"]),
    "path-undirected-product": ["path", "--product", "hyper-v", "--undirected"],
    "path-unknown": ["path", "nope", "vsc"],
    **both("query-typo", ["query", "guest-tabel"]),
    "query-spelled": ["query", "Guest Table"],
    "query-named": ["query", "guest-table"],
    **both("query-syntax", ["query", BAD_SPARQL]),
    **both("query-missing-file", ["query", f"@{MISSING_FILE}"]),
    "validate": ["validate"],
    **{f"export-{name}": ["export", "--format", name] for name in EXPORT_FORMATS},
}

# Pipelines whose reader stops early. `head -n 0` exits before hvkg has loaded the graph, so its first write
# always meets a closed pipe; `head -1` is what people type (it may or may not close before the last write).
# Each prints hvkg's own exit status last, on a line of its own.
PIPELINES: dict[str, str] = {
    "pipe-query-head": f"{SHELL_HVKG} query guest-table | head -1",
    "pipe-export-head": f"{SHELL_HVKG} export --format nt | head -1",
    "pipe-export-closed": f"{SHELL_HVKG} export --format nt | head -n 0",
    "pipe-query-closed": f"{SHELL_HVKG} query guest-table | head -n 0",
    "pipe-check-closed": f"{SHELL_HVKG} check guest --os 'Windows XP' --sp 3 --arch x86 --lang ja | head -n 0",
}


@dataclass(frozen=True)
class Run:
    argv: list[str]
    code: int
    out: str
    err: str


ENV = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}


def run_hvkg(argv: list[str]) -> Run:
    done = subprocess.run(
        [HVKG, *argv], check=False, cwd=ROOT, env=ENV, capture_output=True, encoding="utf-8", timeout=120
    )
    return Run(argv, done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def runs(snapshot: Snapshot) -> dict[str, Run]:
    # `snapshot` has validated the graph and cached it (HVKG_CACHE_DIR, tests/conftest.py): every command below
    # reads the cache instead of validating the same graph again, all at once on a shared machine.
    assert snapshot.triple_count

    def start(argv: list[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            argv, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8"
        )

    started = {name: (argv, start([HVKG, *argv])) for name, argv in COMMANDS.items()}
    for name, line in PIPELINES.items():
        started[name] = ([line], start(["bash", "-c", f'{line}; echo "hvkg-status=${{PIPESTATUS[0]}}"']))
    results = {}
    for name, (argv, process) in started.items():
        out, err = process.communicate(timeout=180)
        results[name] = Run(argv, process.returncode, out, err)
    return results


def no_traceback(run: Run) -> None:
    assert "Traceback" not in run.err, run.err
    assert "Traceback" not in run.out


def bad_input(run: Run) -> None:
    """Exit 2, nothing on stdout, a message on stderr, no traceback."""
    no_traceback(run)
    assert run.code == 2, (run.out, run.err)
    assert run.out == ""
    assert run.err.strip()


# The words of server/cli/text.py that the commands run here (check, path, query, validate) print; the
# question commands' tables are checked cell by cell in tests/test_cli_questions.py.
PRINTED_HERE = (
    "supported",
    "not_supported",
    "read_as",
    "no_service_pack",
    "max_virtual_processors",
    "integration_services",
    "available",
    "unavailable",
    "io_path",
    "no_path",
    "error",
    "invalid_graph",
    "interrupted",
    "internal_error",
)


def english_ui_words() -> set[str]:
    """The ASCII words of the CLI's English UI table that its Japanese forms do not also use (I/O, SP)."""
    printed = [WORDS[key] for key in PRINTED_HERE]
    english = {w for t in printed for w in re.findall(r"[A-Za-z]+", t["en"])}
    japanese = {w for t in printed for w in re.findall(r"[A-Za-z]+", t["ja"])}
    return english - japanese


def own_words(output: str) -> list[str]:
    """The ASCII words hvkg itself wrote: without quotes of the source (「...」), IRIs, reason codes and ids
    (not-supported names a query)."""
    output = re.sub(r"「.*」", " ", output)
    output = re.sub(r"\b[a-z0-9]+(?:-[a-z0-9]+)+\b", " ", output)
    output = re.sub(r"<[a-z]+://[^>]*>", " ", output)
    output = re.sub(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", " ", output)
    return re.findall(r"[A-Za-z]+", output)


# ---- check ----------------------------------------------------------------------------------------------


def test_check_guest_with_too_many_processors(runs: dict[str, Run]) -> None:
    run = runs["guest-too-many"]
    no_traceback(run)
    assert run.code == 1, run.err
    assert "not supported" in run.out
    assert "TOO_MANY_VIRTUAL_PROCESSORS" in run.out
    assert XP_ROW in run.out
    assert "max virtual processors: 1" in run.out
    # too many processors makes the configuration unsupported, nothing more: SP2 has integration services
    # and the synthetic path (issue 12; this said "emulated" before)
    assert "integration services: yes" in run.out
    assert "VMBus" in run.out


def test_check_guest_in_japanese(runs: dict[str, Run]) -> None:
    run = runs["guest-too-many-ja"]
    no_traceback(run)
    assert run.code == 1, run.err
    assert run.out.splitlines()[0] == WORDS["not_supported"]["ja"]
    assert "TOO_MANY_VIRTUAL_PROCESSORS" in run.out
    assert "最大1" in run.out
    assert XP_ROW in run.out
    assert "may have at most" not in run.out  # the English message is not shown
    assert f"{WORDS['integration_services']['ja']}: {WORDS['available']['ja']}" in run.out


def test_check_guest_supported(runs: dict[str, Run]) -> None:
    run = runs["guest-supported"]
    no_traceback(run)
    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == "supported"
    assert "SUPPORTED" in run.out
    assert "Windows XP SP3 Professional(x86) | 2 |" in run.out
    assert "VMBus" in run.out
    assert VSC_SENTENCE in run.out
    assert "integration services: yes" in run.out


def test_the_architecture_by_any_name_of_the_graph(runs: dict[str, Run], snapshot: Snapshot) -> None:
    x86 = snapshot.names.resolve("x86", "CpuArchitecture")
    assert x86 is not None
    assert "i386" in snapshot.tables.alt_labels[x86.iri]  # the names below are the data's, not the CLI's
    assert "32-bit" in snapshot.tables.alt_labels[x86.iri]
    same = runs["guest-supported-ja"]
    assert same.code == 0, same.err
    for name in ("guest-i386", "guest-32-bit"):
        assert (runs[name].code, runs[name].out, runs[name].err) == (same.code, same.out, same.err)


def test_an_unknown_architecture_is_bad_input_with_the_known_ones(runs: dict[str, Run]) -> None:
    for name in ("bad-arch", "bad-arch-ja"):
        run = runs[name]
        bad_input(run)
        assert "--arch" in run.err
        assert "'x65'" in run.err
        assert "x86" in run.err
        assert "x64" in run.err
    assert runs["bad-arch-ja"].err.startswith(WORDS["error"]["ja"])


def test_the_question_as_read(runs: dict[str, Run]) -> None:
    """The name carries edition and service pack: the line says what was taken from it."""
    expected = "Windows Vista Ultimate SP1 x64"
    for name, label in (("read-as", "read as"), ("read-as-ja", WORDS["read_as"]["ja"])):
        run = runs[name]
        no_traceback(run)
        assert run.code == 0, run.err
        assert run.out.splitlines()[1] == f"  {label}: {expected}"


def test_no_service_pack_is_said_in_the_question(runs: dict[str, Run]) -> None:
    for lang in ("en", "ja"):
        run = runs[f"sp-0-{lang}"]
        no_traceback(run)
        assert run.code == 1, run.err
        read_as = next(line for line in run.out.splitlines() if WORDS["read_as"][lang] in line)
        assert WORDS["no_service_pack"][lang] in read_as
        assert "SP0" not in read_as


def test_check_host_server_core(runs: dict[str, Run]) -> None:
    run = runs["host-server-core"]
    no_traceback(run)
    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == "supported"
    assert "Windows Server 2008(x64) Standard/Enterprise/Datacenter | Server Core |" in run.out
    japanese = runs["host-server-core-ja"]  # "server core": the installation by another of its names
    assert japanese.code == 0, japanese.err
    assert japanese.out.splitlines()[0] == WORDS["supported"]["ja"]


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
        ("bad-negative-sp-ja", ("--sp", "servicePack")),
        ("bad-sp-word", ("--sp", "servicePack")),
        ("bad-sp-word-ja", ("--sp", "servicePack")),
        ("bad-product", ("--product", "product")),
    ],
)
def test_bad_input_exits_2_and_names_the_argument(runs: dict[str, Run], name: str, names: tuple[str, ...]) -> None:
    run = runs[name]
    bad_input(run)
    assert any(n in run.err for n in names), run.err


def test_bad_values_are_echoed(runs: dict[str, Run]) -> None:
    assert "-1" in runs["bad-negative-sp"].err
    assert "-1" in runs["bad-negative-sp-ja"].err
    assert "'latest'" in runs["bad-sp-word"].err
    assert "'latest'" in runs["bad-sp-word-ja"].err
    assert "0" in runs["bad-zero-vcpus"].err
    assert "nope" in runs["bad-product"].err
    assert "empty" in runs["bad-empty-os"].err


def test_bad_input_in_japanese_is_japanese(runs: dict[str, Run]) -> None:
    for name in ("bad-negative-sp-ja", "bad-sp-word-ja"):
        err = runs[name].err
        assert err.startswith(f"{WORDS['error']['ja']}: --sp: "), err
        assert re.search(r"[ぁ-んァ-ン]", err), err
        assert "must be" not in err
        assert "is not a service pack" not in err


@pytest.mark.parametrize(
    ("name", "known"), [("unknown-os", "Windows Vista"), ("unknown-host-os", "Windows Server 2008")]
)
def test_a_name_that_matches_nothing_is_bad_input_with_suggestions(
    runs: dict[str, Run], snapshot: Snapshot, name: str, known: str
) -> None:
    """No verdict for a name that means nothing: the closest names on stderr, exit 2, in both languages."""
    named = snapshot.names.resolve(known, "OperatingSystem")
    assert named is not None
    for lang in ("en", "ja"):
        run = runs[name if lang == "en" else f"{name}-ja"]
        bad_input(run)
        assert run.err.startswith(f"{WORDS['error'][lang]}: --os: "), run.err
        assert named.label[lang] in run.err  # the misspelt name's own, among the suggestions
        assert WORDS["not_supported"][lang] not in run.err
    assert "Closest known names" in runs[name].err
    assert "近い名前" in runs[f"{name}-ja"].err


# ---- --sp as people write it ----------------------------------------------------------------------------

FULL_WIDTH = str.maketrans("0123456789SPsp", "０１２３４５６７８９ＳＰｓｐ")


def _spellings(number: int) -> st.SearchStrategy[str]:
    forms = [
        f"{number}",
        f"SP{number}",
        f"sp{number}",
        f"Sp{number}",
        f"SP {number}",
        f"Service Pack {number}",
        f"service pack {number}",
        f"SERVICEPACK{number}",
        f"サービスパック{number}",
        f"SP{number}".translate(FULL_WIDTH),
        f"{number}".translate(FULL_WIDTH),
    ]
    spelled = st.sampled_from(forms)
    if number == 0:
        spelled = spelled | st.sampled_from(sorted(NO_SERVICE_PACK)) | st.sampled_from(["None", "RTM", "SPなし"])
    padded = st.tuples(st.sampled_from(["", " ", "  "]), spelled, st.sampled_from(["", " "]))
    return padded.map("".join)


@st.composite
def spelled_service_pack(draw: st.DrawFn) -> tuple[int, str]:
    number = draw(st.integers(min_value=0, max_value=999_999))
    return number, draw(_spellings(number))


@given(spelled_service_pack())
@example((2, "SP2"))
@example((2, "sp2"))
@example((2, "2"))
@example((2, "SP 2"))
@example((2, "Service Pack 2"))
@example((0, "none"))
@example((0, "RTM"))
def test_every_spelling_of_a_service_pack_reads_as_its_number(case: tuple[int, str]) -> None:
    number, spelled = case
    assert parse_service_pack(spelled) == number


@given(st.text(max_size=40))
@example("SP")
@example("Service Pack")
@example("latest")
@example("2.5")
@example("SP2a")
@example("1" * 5000)
def test_anything_else_is_bad_input_in_both_languages(value: str) -> None:
    """Any text either reads as a number or is BadInput naming servicePack, with an English and Japanese message."""
    read = read_service_pack(value)
    if isinstance(read, BadInput):
        assert read.argument == "servicePack"
        assert read.message["en"].startswith("servicePack: ")
        assert read.message["ja"].startswith("servicePack: ")
        assert re.search(r"[ぁ-んァ-ン]", read.message["ja"])
    else:
        # only a text holding a number, or a word for "none", reads as one
        folded = "".join(unicodedata.normalize("NFKC", value).casefold().split())
        assert re.search(r"\d", folded) or folded in NO_SERVICE_PACK, (value, read)


def read_service_pack(value: str) -> int | BadInput:
    try:
        return parse_service_pack(value)
    except BadInput as error:
        return error


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    number=st.sampled_from(SP_CASES),
    lang=st.sampled_from(["en", "ja"]),
    data=st.data(),
)
def test_the_console_script_answers_the_same_for_every_spelling(
    runs: dict[str, Run], number: int, lang: str, data: st.DataObject
) -> None:
    """`hvkg check guest --sp X`, X any spelling of n: the same status, output and errors as `--sp n`."""
    spelled = data.draw(_spellings(number).filter(lambda s: s.strip() != str(number)), label="spelled")
    canonical = runs[f"sp-{number}-{lang}"]
    run = run_hvkg(guest_xp(spelled, lang))
    no_traceback(run)
    assert (run.code, run.out, run.err) == (canonical.code, canonical.out, canonical.err)


def test_the_service_packs_asked_give_distinct_answers(runs: dict[str, Run]) -> None:
    """The spelling test above compares with three different answers, not three copies of one."""
    for lang in ("en", "ja"):
        answers = {(runs[f"sp-{n}-{lang}"].code, runs[f"sp-{n}-{lang}"].out) for n in SP_CASES}
        assert len(answers) == len(SP_CASES)


# ---- Japanese throughout --------------------------------------------------------------------------------

JAPANESE_RUNS = [name for name, argv in COMMANDS.items() if argv[-2:] == ["--lang", "ja"] or name.endswith("-ja")]


def test_japanese_output_has_no_english_word_of_the_cli(runs: dict[str, Run]) -> None:
    english = english_ui_words()
    assert {"supported", "yes", "no", "path", "processors"} <= english  # the check below has teeth
    assert len(JAPANESE_RUNS) >= 15
    for name in JAPANESE_RUNS:
        run = runs[name]
        no_traceback(run)
        leaked = sorted(set(own_words(run.out + run.err)) & english)
        assert not leaked, (name, leaked, run.out[:500], run.err)


def test_the_english_output_uses_the_english_words(runs: dict[str, Run]) -> None:
    """The same detector finds the English words in the English output, so its silence above means something."""
    english = english_ui_words()
    for name in ("guest-too-many", "guest-supported", "path-against"):
        assert set(own_words(runs[name].out)) & english, name


def test_every_ui_word_has_both_languages() -> None:
    for key, value in WORDS.items():
        assert set(value) == {"en", "ja"}, key
        assert value["en"].strip()
        assert value["ja"].strip()
        assert value["en"] != value["ja"], key
        assert re.search(r"[ぁ-んァ-ン一-龯]", value["ja"]), key


# ---- path -----------------------------------------------------------------------------------------------


def quotes_are_the_articles(run: Run) -> None:
    quoted = re.findall(r"「(.+)」", run.out)
    assert quoted
    assert all(q in ARTICLE for q in quoted)


def test_path_between_components(runs: dict[str, Run]) -> None:
    run = runs["path-between"]
    no_traceback(run)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith("VSC")
    assert lines[0].endswith("physical hardware")
    assert [p.split(" ")[0] for p in lines[0].split(" → ")[:3]] == ["VSC", "VMBus", "VSP"]  # the article's route
    assert "←" not in run.out
    assert any("—[" in line and "]→" in line for line in lines)
    quotes_are_the_articles(run)


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


def test_a_product_without_mode_gets_its_own_path(runs: dict[str, Run]) -> None:
    """Virtual Server 2005 R2 has no synthetic path: no --mode must not mean "synthetic" (it printed "no path")."""
    for name in ("path-vs-own", "path-vs-own-ja"):
        run = runs[name]
        no_traceback(run)
        assert run.code == 0, (run.out, run.err)
        assert "→" in run.out.splitlines()[0]
        quotes_are_the_articles(run)
    assert runs["path-vs-own"].out == runs["path-vs-emulated"].out
    assert runs["path-hyper-v-own"].code == 0
    assert runs["path-hyper-v-own"].out == runs["path-synthetic"].out


def test_paths_follow_relations_in_their_direction(runs: dict[str, Run]) -> None:
    """From the hardware to the VSC runs against every relation: no path, unless --undirected is asked."""
    for lang in ("en", "ja"):
        against = runs["path-against" if lang == "en" else "path-against-ja"]
        no_traceback(against)
        assert against.code == 1, against.err
        assert against.out.strip() == WORDS["no_path"][lang]
        walked = runs["path-undirected" if lang == "en" else "path-undirected-ja"]
        no_traceback(walked)
        assert walked.code == 0, walked.err
        hops = [line for line in walked.out.splitlines() if "—[" in line or "←[" in line]
        assert hops
        assert any("←[" in line for line in hops)
        # the route line marks the same hops backwards as the hop lines do
        route = walked.out.splitlines()[0]
        assert route.count(" ← ") == sum("←[" in line for line in hops)
        assert route.count(" → ") == sum("]→" in line for line in hops)
        quotes_are_the_articles(walked)


def test_undirected_is_for_two_components(runs: dict[str, Run]) -> None:
    run = runs["path-undirected-product"]
    bad_input(run)
    assert "--undirected" in run.err


def test_path_with_an_unknown_component(runs: dict[str, Run]) -> None:
    run = runs["path-unknown"]
    bad_input(run)
    assert "nope" in run.err
    assert "unknown component" in run.err


# ---- query ----------------------------------------------------------------------------------------------


def test_a_misspelt_query_name_suggests_the_closest(runs: dict[str, Run]) -> None:
    for name, said in (("query-typo", "did you mean guest-table"), ("query-typo-ja", "もしかして: guest-table")):
        run = runs[name]
        bad_input(run)
        assert "'guest-tabel'" in run.err
        assert said in run.err, run.err


def test_a_query_name_as_people_write_it(runs: dict[str, Run]) -> None:
    spelled, named = runs["query-spelled"], runs["query-named"]
    assert named.code == 0, named.err
    assert (spelled.code, spelled.out) == (named.code, named.out)


def test_a_sparql_syntax_error_says_where(runs: dict[str, Run]) -> None:
    """One or two lines naming a line and column of the query, and quoting the query's own text there."""
    query_lines = BAD_SPARQL.splitlines()
    places = {
        "query-syntax": r"SPARQL syntax error at line (\d+), column (\d+), near '([^']*)'",
        "query-syntax-ja": r"SPARQLの構文エラー\((\d+)行(\d+)桁目、'([^']*)' の付近\)",
    }
    for name, pattern in places.items():
        run = runs[name]
        bad_input(run)
        assert len(run.err.strip().splitlines()) <= 2, run.err
        found = re.search(pattern, run.err)
        assert found, run.err
        line, column, near = int(found[1]), int(found[2]), found[3]
        assert 1 < line <= len(query_lines)  # not the start of the text: where the parser stopped
        assert near
        assert query_lines[line - 1][column - 1 :].startswith(near)


def test_a_missing_query_file(runs: dict[str, Run]) -> None:
    assert not MISSING_FILE.exists()
    for name in ("query-missing-file", "query-missing-file-ja"):
        run = runs[name]
        bad_input(run)
        assert str(MISSING_FILE) in run.err
        assert len(run.err.strip().splitlines()) == 1
    assert "no such file" in runs["query-missing-file"].err
    assert "ありません" in runs["query-missing-file-ja"].err


# ---- a closed pipe --------------------------------------------------------------------------------------


def pipeline_status(run: Run) -> tuple[int, list[str]]:
    *lines, status = run.out.splitlines()
    found = re.fullmatch(r"hvkg-status=(\d+)", status)
    assert found, run.out[-300:]
    return int(found[1]), lines


@pytest.mark.parametrize("name", ["pipe-export-closed", "pipe-query-closed", "pipe-check-closed"])
def test_a_pipe_closed_before_the_output_ends_quietly(runs: dict[str, Run], name: str) -> None:
    run = runs[name]
    status, lines = pipeline_status(run)
    assert run.err == ""
    assert lines == []
    assert status == 141  # what a shell shows for a writer that SIGPIPE stopped (server/cli/errors.py)


@pytest.mark.parametrize("name", ["pipe-export-head", "pipe-query-head"])
def test_head_dash_1_ends_quietly(runs: dict[str, Run], name: str) -> None:
    run = runs[name]
    status, lines = pipeline_status(run)
    assert run.err == ""
    assert status in (0, 141)
    assert len(lines) == 1
    if name == "pipe-export-head":
        assert len(Graph().parse(data=lines[0], format="nt")) == 1


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
