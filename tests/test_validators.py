"""What the service writes checks clean with the validators people run on it:

- the Nu HTML checker (vnu): 0 errors over pages fetched from a real server (the front door, /id/ pages, the
  404 of /id/, the SPARQL and GraphiQL pages) and every page of the docs site in both languages, in one run;
- axe: 0 violations on one page of each kind of both languages, in one headless Chromium;
- hadolint: 0 findings on the Dockerfile.
(`promtool check metrics` on /metrics: tests/test_metrics_workers.py.)

A passage quoted twice on one page once gave two elements one id: the docs quote a table's shared passage
and a fact's own, and a document with a second title (which the shapes allow) makes every citation of its
passages come twice on the /id/ pages. A second server serves such data, and its pages are checked too.

The tools are pinned and installed by `make validators` (tests/tools.py); a missing one fails, never skips.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.build import build_snapshot
from graph.describe import ontology_iri
from graph.layout import BASE, ROOT, DataLayout
from graph.nodes import ARTICLE
from graph.snapshot import Snapshot
from graph.tables import local_id
from server.app import create_app
from server.ops.state import SnapshotHolder
from server.web.docs import write_site
from server.web.render import render_resource
from tests import tools
from tests.browser import FLAGS
from tests.live import serve

# Every page at 0, the query editor (Yasgui, server/static/pages) and GraphiQL's (server/graphql/ide.py, page.css,
# init.js; tests/test_graphql_browser.py checks its fixes survive GraphiQL's re-renders) included.
VNU_TIMEOUT = 240
AXE_TIMEOUT = 300


# ---- the pages ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(snapshot: Snapshot, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs-site")
    write_site(snapshot, out, "both")
    return out


@pytest.fixture(scope="module")
def twice(tmp_path_factory: pytest.TempPathFactory) -> tuple[DataLayout, Snapshot, str]:
    """The data with a second Japanese title for the article (the shapes ask for one title at least): every
    citation of the article's passages then comes twice. Returns the layout, its snapshot and the resource
    that quotes the most passages twice."""
    root = tmp_path_factory.mktemp("twice")
    for part in ("ontology", "queries", "graph/facts", "graph/sources"):
        shutil.copytree(ROOT / part, root / part)
    sources = (ROOT / "graph" / "sources.ttl").read_text("utf-8")
    second = f'\n<{ARTICLE}> <http://purl.org/dc/terms/title> "Hyper-Vのアーキテクチャ(解説)"@ja .\n'
    (root / "graph" / "sources.ttl").write_text(sources + second, "utf-8")
    layout = DataLayout(root)
    built = build_snapshot(layout, cache_dir=None)

    def repeats(iri: str) -> int:
        counts = Counter(c.iri for c in built.tables.citations[iri])
        return sum(n - 1 for n in counts.values())

    most = max(sorted(built.tables.citations), key=repeats)
    assert repeats(most) > 0, "the second title no longer makes a passage quoted twice: the check lost its point"
    return layout, built, most


@pytest.fixture(scope="module")
def servers(snapshot: Snapshot, twice: tuple[DataLayout, Snapshot, str]) -> Iterator[tuple[str, str]]:
    """The service on the shipped data, and on the data that quotes passages twice."""
    layout, built, _ = twice
    with (
        serve(create_app(holder=SnapshotHolder(current=snapshot))) as shipped,
        serve(create_app(layout, holder=SnapshotHolder(current=built))) as doubled,
    ):
        yield shipped, doubled


def id_paths(snapshot: Snapshot) -> list[str]:
    """/id/ pages of several kinds, picked from the data: the vocabulary, the article, the resource citing the
    most passages and its first passage, the one with the most statements, a relation."""
    tables = snapshot.tables
    most_cited = max(sorted(tables.citations), key=lambda iri: len(tables.citations[iri]))
    richest = max(sorted(snapshot.descriptions), key=lambda iri: len(snapshot.descriptions[iri].outgoing))
    vocabulary = ontology_iri(snapshot.graph)
    assert vocabulary is not None
    chosen = [vocabulary, ARTICLE, most_cited, tables.citations[most_cited][0].iri, richest, tables.relations[0].iri]
    return ["/id/" + local_id(iri) for iri in dict.fromkeys(chosen)]


@pytest.fixture(scope="module")
def live_pages(
    snapshot: Snapshot,
    twice: tuple[DataLayout, Snapshot, str],
    servers: tuple[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Path]:
    """{label: saved HTML} of pages fetched from the two servers, as a browser asks for them."""
    shipped, doubled = servers
    out = tmp_path_factory.mktemp("live-pages")
    wanted = [(shipped, p) for p in ["/", "/?lang=ja", "/id/", *id_paths(snapshot), "/sparql", "/graphql"]]
    wanted.append((doubled, "/id/" + local_id(twice[2])))
    saved: dict[str, Path] = {}
    with httpx.Client(headers={"Accept": "text/html"}, follow_redirects=True, timeout=60) as client:
        for base, path in wanted:
            response = client.get(base + path)
            # /id/ alone names no resource: its 404 page is checked like any other
            assert response.status_code < 500, (path, response.status_code, response.text[:500])
            assert response.headers["content-type"].startswith("text/html"), (path, response.headers)
            label = ("twice:" if base == doubled else "") + path
            file = out / (re.sub(r"[^A-Za-z0-9.-]+", "_", label).strip("_") + ".html")
            file.write_bytes(response.content)
            saved[label] = file
    return saved


# ---- the Nu HTML checker -----------------------------------------------------------------------------------


def run_vnu(files: list[Path]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [*tools.vnu(), "--format", "json", "--stdout", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=VNU_TIMEOUT,
        check=False,
    )
    try:
        messages: list[dict[str, Any]] = json.loads(done.stdout)["messages"]
    except (ValueError, KeyError):
        pytest.fail(f"vnu gave no JSON report (exit {done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")
    # vnu exits 1 when it found an error, 0 when not; anything else is the checker failing
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return messages


def test_nu_html_checker_finds_no_error(site: Path, live_pages: dict[str, Path]) -> None:
    docs = sorted(site.rglob("*.html"))
    # every page of both languages: the resource pages of each, and the site's home
    assert {p.relative_to(site).parts[0] for p in docs} == {"en", "ja", "index.html"}
    assert sum(1 for p in docs if "id" in p.relative_to(site).parts) > 100
    names = {p.as_uri(): p.relative_to(site).as_posix() for p in docs}
    names |= {p.as_uri(): label for label, p in live_pages.items()}
    messages = run_vnu([*docs, *live_pages.values()])

    def name(message: dict[str, Any]) -> str:
        url = str(message.get("url", "?"))
        return names.get(url, names.get(url.replace("file:/", "file:///", 1), url))

    errors = [m for m in messages if m["type"] in ("error", "non-document-error")]
    shown = [
        f"{name(m)}:{m.get('lastLine', '?')}: {m['message']}  [{m.get('extract', '').strip()[:120]}]" for m in errors
    ]
    assert shown == [], f"{len(shown)} errors from the Nu HTML checker:\n" + "\n".join(shown[:200])


# ---- axe ---------------------------------------------------------------------------------------------------


def axe_sample(site: Path, snapshot: Snapshot, shipped: str) -> list[str]:
    """One page of each kind: the home, a support table and a resource page in both languages, the others in
    one language each (axe takes about a second a page). Not the pyLODE reference: axe takes 10 to 25 s on its
    9,000 lines (0 violations when run by hand); the Nu checker checks its markup."""
    resource = id_paths(snapshot)[2].removeprefix("/id/")

    def first(lang: str, folder: str) -> str:
        return sorted((site / lang / folder).glob("*.html"))[0].relative_to(site).as_posix()

    both = ["index.html", "guests.html", f"id/{resource}.html"]
    pages = ["index.html", *(f"{lang}/{page}" for lang in ("en", "ja") for page in both)]
    pages += ["en/comparison.html", "en/licensing.html", "en/glossary.html", "en/sources.html", first("en", "io")]
    pages += ["ja/storage.html", "ja/architecture.html", "ja/ontology.html", "ja/resources.html"]
    pages.append(first("ja", "architecture"))
    urls = [(site / page).as_uri() for page in pages]
    for page in pages:
        assert (site / page).is_file(), page
    live = ["/", "/?lang=ja", "/id/", "/id/" + resource, "/sparql", "/graphql"]
    return urls + [shipped + path for path in live]


def test_axe_finds_no_violation(site: Path, snapshot: Snapshot, servers: tuple[str, str], tmp_path: Path) -> None:
    urls = axe_sample(site, snapshot, servers[0])
    options = ",".join(flag.removeprefix("--") for flag in FLAGS if flag != "--headless")  # axe adds headless
    done = subprocess.run(
        [*tools.axe(), *urls, "--chrome-options", options, "--stdout"],
        capture_output=True,
        text=True,
        timeout=AXE_TIMEOUT,
        check=False,
        cwd=tmp_path,  # axe's CLI reads a .env of its working directory: none here
    )
    try:
        results: list[dict[str, Any]] = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"axe gave no JSON report (exit {done.returncode}): {done.stdout[-2000:]} {done.stderr[-3000:]}")
    assert len(results) == len(urls), (len(results), len(urls), done.stderr[-2000:])

    def found(result: dict[str, Any]) -> list[str]:
        return [
            f"{result['url']}: {v['id']} ({v['impact']}) on {len(v['nodes'])} elements, e.g. "
            f"{v['nodes'][0]['target']}: {' '.join(v['nodes'][0]['failureSummary'].split())[:300]}"
            for v in result["violations"]
        ]

    violations = [line for r in results for line in found(r)]
    assert violations == [], f"{len(violations)} axe violations:\n" + "\n".join(violations)


# ---- hadolint ----------------------------------------------------------------------------------------------


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    done = subprocess.run(
        [tools.hadolint(), "--format", "json", "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert json.loads(done.stdout or "null") == [], done.stdout + done.stderr
    assert done.returncode == 0, done.stderr


# ---- ids, whatever is quoted twice -------------------------------------------------------------------------


class Ids(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids += [value or "" for key, value in attrs if key == "id"]


@settings(max_examples=25, deadline=None, derandomize=True, database=None)
@given(data=st.data())
def test_a_page_gives_each_id_once_however_its_passages_repeat(snapshot: Snapshot, data: st.DataObject) -> None:
    """Any resource, its citations repeated in any order and number: every id once, and each passage's
    anchor on the page once."""
    cited = sorted(snapshot.tables.citations)
    iri = data.draw(st.sampled_from(cited))
    own = snapshot.tables.citations[iri]
    evidence = tuple(data.draw(st.lists(st.sampled_from(own), min_size=1, max_size=3 * len(own))))
    descriptions = dict(snapshot.descriptions)
    descriptions[iri] = replace(descriptions[iri], evidence=evidence)
    html = render_resource(replace(snapshot, descriptions=descriptions), iri.removeprefix(BASE))
    assert html is not None
    ids = Ids(html).ids
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert {c.iri.rsplit("/", 1)[-1] for c in evidence} <= set(ids)
