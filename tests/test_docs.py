"""The docs site: its tables are the question functions' answers, every value and every diagram edge links
to its quote, every link resolves inside the tree, nothing comes from the internet, the bytes never vary,
and /docs serves the very same files."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from starlette.testclient import TestClient

from graph.build import build_snapshot
from graph.catalog import guest_support, host_support, licensing, products, storage_formats
from graph.layout import ROOT, DataLayout
from graph.model import Citation, IoMode, text
from graph.paths import io_path
from graph.snapshot import Snapshot
from graph.tables import local_id
from server.app import create_app
from server.ops.state import SnapshotHolder
from server.web.docs import build_site, write_site
from server.web.docs_links import anchor

LANGS = ("en", "ja")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SVG = "{http://www.w3.org/2000/svg}"


class Page(HTMLParser):
    """What the tests read from a page: element ids (with their text), links, and the facts tables."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: dict[str, str] = {}
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.tables: dict[str, list[dict[str, object]]] = {}
        self.lang = ""
        self._stack: list[tuple[str, str | None, int]] = []
        self._text: list[str] = []
        self._table: str | None = None
        self._row: dict[str, object] | None = None
        self._cell: dict[str, object] | None = None
        self._in_rule = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = found.get("lang", "")
        for attribute in ("href", "src"):
            if attribute in found:
                self.links.append((tag, attribute, found[attribute]))
        if tag == "table" and "facts" in found.get("class", "").split():
            self._table = found["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None and "id" in found:
            self._row = {"id": found["id"], "iri": found.get("data-iri", ""), "cells": {}}
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"kind": tag, "class": found.get("class", ""), "start": len(self._text), "hrefs": []}
            self._cell_key = found.get("data-key", "")
        elif tag == "a" and self._cell is not None:
            hrefs = self._cell["hrefs"]
            assert isinstance(hrefs, list)
            hrefs.append(found.get("href", ""))
            # the link to the rule an inferred value is read by: kept apart from the value's own text
            self._in_rule = "rule" in found.get("class", "").split()
        if tag not in VOID:
            self._stack.append((tag, found.get("id"), len(self._text)))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if tag == "a":
            self._in_rule = False
        while self._stack:
            open_tag, element_id, start = self._stack.pop()
            if element_id is not None:
                self.ids[element_id] = "".join(self._text[start:])
            if open_tag == tag:
                break
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            start = self._cell.pop("start")
            assert isinstance(start, int)
            self._cell["text"] = " ".join("".join(self._text[start:]).split())
            cells = self._row["cells"]
            assert isinstance(cells, dict)
            cells[self._cell_key] = self._cell
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._in_rule and self._cell is not None:
            self._cell["rule"] = str(self._cell.get("rule", "")) + data
            return
        self._text.append(data)


@pytest.fixture(scope="module")
def site(snapshot: Snapshot, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs")
    written = write_site(snapshot, out, "both")
    assert written == sorted(written, key=lambda p: p.relative_to(out).as_posix())
    return out


@pytest.fixture(scope="module")
def parsed(site: Path) -> dict[str, Page]:
    return {p.relative_to(site).as_posix(): Page(p.read_text("utf-8")) for p in sorted(site.rglob("*.html"))}


def svg_root(path: Path) -> ET.Element:
    """A standalone SVG file of the tree, parsed as XML (it must be well-formed to be used elsewhere)."""
    return ET.parse(path).getroot()  # noqa: S314 -- our own output, written by the test itself


def rows(page: Page, table: str) -> list[dict[str, object]]:
    assert table in page.tables, f"no table {table}; tables: {sorted(page.tables)}"
    return page.tables[table]


def cell(row: dict[str, object], key: str) -> str:
    cells = row["cells"]
    assert isinstance(cells, dict)
    value = cells[key]["text"]
    assert isinstance(value, str)
    return value


def hrefs(row: dict[str, object], key: str) -> list[str]:
    cells = row["cells"]
    assert isinstance(cells, dict)
    found = cells[key]["hrefs"]
    assert isinstance(found, list)
    return found


def anchors(evidence: tuple[Citation, ...]) -> set[str]:
    return {"sources.html#" + anchor(c.iri) for c in evidence}


def sps(numbers: tuple[int, ...], lang: str) -> str:
    named = [f"SP{n}" for n in numbers if n > 0]
    return " / ".join(named) if named else {"en": "none named", "ja": "指定なし"}[lang]


# ---- the tables are the answers ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_guest_and_host_tables_are_the_answers(parsed: dict[str, Page], snapshot: Snapshot, lang: str) -> None:
    for product in products(snapshot):
        answer = guest_support(snapshot, product.id)
        if not answer:
            assert f"guest-{product.id}" not in parsed[f"{lang}/guests.html"].tables
            continue
        shown = rows(parsed[f"{lang}/guests.html"], f"guest-{product.id}")
        assert [r["id"] for r in shown] == [local_id(a.iri) for a in answer]
        for row, expected in zip(shown, answer, strict=True):
            assert cell(row, "os") == text(expected.operating_system.label, lang)
            assert cell(row, "editions") == (", ".join(text(e.label, lang) for e in expected.editions) or "—")
            assert cell(row, "service_pack") == sps(expected.service_packs, lang)
            assert cell(row, "architecture") == expected.architecture.value
            assert cell(row, "max_vp") == str(expected.max_virtual_processors)
            assert cell(row, "as_of") == expected.as_of
            for key in ("os", "editions", "service_pack", "architecture", "max_vp", "as_of"):
                assert set(hrefs(row, key)) <= anchors(expected.evidence), (row["id"], key)
    hosts = host_support(snapshot, "hyper-v")
    shown = rows(parsed[f"{lang}/hosts.html"], "host-hyper-v")
    assert [r["id"] for r in shown] == [local_id(a.iri) for a in hosts]
    for row, host in zip(shown, hosts, strict=True):
        assert cell(row, "os") == text(host.operating_system.label, lang)
        assert cell(row, "editions") == ", ".join(text(e.label, lang) for e in host.editions)
        assert cell(row, "architecture") == host.architecture.value
        modes = [text(snapshot.tables.labels[f"{local_base(host.iri)}{m.value}"], lang) for m in host.installations]
        assert cell(row, "installation") == ", ".join(modes)
        assert cell(row, "as_of") == host.as_of


def local_base(iri: str) -> str:
    return iri[: iri.rindex("/") + 1]


@pytest.mark.parametrize("lang", LANGS)
def test_licensing_and_storage_tables_are_the_answers(parsed: dict[str, Page], snapshot: Snapshot, lang: str) -> None:
    answer = licensing(snapshot)
    shown = rows(parsed[f"{lang}/licensing.html"], "licensing")
    assert [r["id"] for r in shown] == [local_id(a.iri) for a in answer]
    unlimited = {"en": "unlimited", "ja": "無制限"}[lang]
    for row, expected in zip(shown, answer, strict=True):
        assert cell(row, "os") == text(expected.operating_system.label, lang)
        assert cell(row, "edition") == text(expected.edition.label, lang)
        assert cell(row, "virtual_instances") == (unlimited if expected.unlimited else str(expected.virtual_instances))
        assert cell(row, "as_of") == expected.as_of
        assert set(hrefs(row, "virtual_instances")) <= anchors(expected.evidence)
    # The instance counts are stated by one sentence: that is the quote the numbers link to.
    assert {h for row in shown for h in hrefs(row, "virtual_instances")} == {"sources.html#doc-article-p-lic-03"}

    formats = storage_formats(snapshot, "hyper-v")
    shown = rows(parsed[f"{lang}/storage.html"], "storage-hyper-v")
    assert [r["id"] for r in shown] == [f.id for f in formats]
    for row, fmt in zip(shown, formats, strict=True):
        assert cell(row, "format") == text(fmt.label, lang)
        if fmt.max_size_gb is not None:
            assert cell(row, "max_size") == f"{fmt.max_size_gb:,} GB"
            assert hrefs(row, "max_size") == ["sources.html#doc-article-p-arch-19"]  # 最大2040Gbytes
        assert (
            cell(row, "snapshots")
            == {True: {"en": "yes", "ja": "可"}, False: {"en": "no", "ja": "不可"}}[fmt.supports_snapshots][lang]
        )
        assert cell(row, "file_extension") == (fmt.file_extension or "—")
        assert cell(row, "allocation_unit") == (fmt.allocation_unit or "—")
        assert cell(row, "prerequisites") == ("; ".join(text(n.label, lang) for n in fmt.prerequisites) or "—")


@pytest.mark.parametrize("lang", LANGS)
def test_comparison_is_the_products_answer(parsed: dict[str, Page], snapshot: Snapshot, lang: str) -> None:
    shown = {r["id"]: r for r in rows(parsed[f"{lang}/comparison.html"], "comparison")}
    answer = products(snapshot)
    assert [p.id for p in answer] == ["hyper-v", "virtual-server-2005-r2", "vmware-esx"]
    for product in answer:
        style = snapshot.tables.labels[local_base(product.iri) + product.style.value]
        assert cell(shown["architecture-style"], product.id) == text(style, lang)
        feature_of = {}
        for support in product.features:
            feature = snapshot.graph.value(
                subject=uri(support.iri), predicate=uri("https://hyperv-kg.example.org/id/ontology/feature")
            )
            feature_of.setdefault(local_id(str(feature)), []).append(support)
        for row_id, row in shown.items():
            if row_id == "architecture-style":
                continue
            supports = feature_of.get(str(row_id), [])
            cells = row["cells"]
            assert isinstance(cells, dict)
            if not supports:
                assert "unstated" in cells[product.id]["class"], (row_id, product.id)
                assert hrefs(row, product.id) == []
                continue
            for support in supports:
                assert support.as_of is not None
                assert support.as_of in cell(row, product.id)
                assert set(hrefs(row, product.id)) & anchors(support.evidence), (row_id, product.id)
    live = shown["live-migration"]
    # ESX's live migration is read from the comparison by a named rule (INFERRED, graph/facts/features.ttl)
    assert (
        "2008-08" in cell(live, "vmware-esx")
        and cell(live, "vmware-esx") != {"en": "not stated", "ja": "記載なし"}[lang]
    )
    assert "2009-01" in cell(live, "hyper-v")  # the newer source stands beside the article's statement
    # an inferred value is marked as such and links to the rule it is read by; a stated one names no rule
    assert [h for h in hrefs(live, "vmware-esx") if "/rule-" in h], hrefs(live, "vmware-esx")
    assert not [h for h in hrefs(live, "hyper-v") if "/rule-" in h]


def uri(value: str) -> object:
    from rdflib import URIRef

    return URIRef(value)


# ---- every value and every edge links to its quote ----------------------------------------------------------


def test_every_table_cell_links_to_its_quote(parsed: dict[str, Page], snapshot: Snapshot) -> None:
    quotes = {anchor(c.iri): c.quote for cites in snapshot.tables.citations.values() for c in cites}
    checked = 0
    for path, page in parsed.items():
        lang, _, rest = path.partition("/")
        if lang not in LANGS or rest.startswith("id/"):
            continue
        sources = parsed[f"{lang}/sources.html"]
        assert page.tables or rest not in {"guests.html", "hosts.html", "licensing.html", "storage.html"}
        for table, table_rows in page.tables.items():
            for row in table_rows:
                evidence = snapshot.tables.citations.get(str(row["iri"]), ())
                cells = row["cells"]
                assert isinstance(cells, dict)
                for key, found in cells.items():
                    if found["kind"] == "th" or key == "evidence" or "unstated" in found["class"]:
                        continue
                    links = [h for h in found["hrefs"] if "#" in h]
                    assert links, (path, table, row["id"], key)
                    for href in links:
                        target, _, fragment = href.partition("#")
                        assert target.endswith("sources.html"), href
                        assert fragment in sources.ids, href
                        assert quotes[fragment] in sources.ids[fragment], href
                        if evidence and "comparison" not in table:
                            assert fragment in {anchor(c.iri) for c in evidence}, (path, row["id"], key)
                    checked += 1
    assert checked > 400


def test_every_diagram_edge_links_to_its_quote(site: Path, parsed: dict[str, Page], snapshot: Snapshot) -> None:
    quotes = {anchor(c.iri): c.quote for cites in snapshot.tables.citations.values() for c in cites}
    synthetic = io_path(snapshot, "hyper-v", IoMode.SYNTHETIC)
    assert synthetic is not None
    for lang in LANGS:
        sources = parsed[f"{lang}/sources.html"]
        for svg_file in sorted((site / lang / "diagrams").glob("*.svg")):
            root = svg_root(svg_file)
            edges = [a for a in root.iter(f"{SVG}a") if a.find(f"{SVG}line") is not None]
            assert edges, svg_file
            for edge in edges:
                href = edge.get("href", "")
                assert href.startswith("../sources.html#"), href
                fragment = href.partition("#")[2]
                assert quotes[fragment] in sources.ids[fragment]
                title = edge.find(f"{SVG}title")
                assert title is not None
                assert title.text is not None
                assert quotes[fragment] in title.text
        # The synthetic path is drawn hop by hop, each hop an edge with the hop's first passage.
        root = svg_root(site / lang / "diagrams" / "io-path-hyper-v-synthetic.svg")
        edges = [a for a in root.iter(f"{SVG}a") if a.find(f"{SVG}line") is not None]
        assert [e.get("href") for e in edges] == [
            "../sources.html#" + anchor(hop.evidence[0].iri) for hop in synthetic.hops
        ]
        labels = [text(c.label, lang) for c in synthetic.components]
        drawn = "".join(root.itertext())
        assert all(label in drawn for label in labels)
        # The page shows the same diagram inline, its links relative to the page.
        page = (site / lang / "io" / "io-path-hyper-v-synthetic.html").read_text("utf-8")
        assert page.count('<a href="../sources.html#doc-article-p-arch-11">') >= len(synthetic.hops) - 1


# ---- the tree stands alone --------------------------------------------------------------------------------


def test_every_link_resolves_inside_the_tree(site: Path, parsed: dict[str, Page]) -> None:
    svg_ids = {}
    svg_links = {}
    for svg_file in sorted(site.rglob("*.svg")):
        root = svg_root(svg_file)
        relative = svg_file.relative_to(site).as_posix()
        svg_ids[relative] = {e.get("id") for e in root.iter() if e.get("id")}
        svg_links[relative] = [("a", "href", a.get("href", "")) for a in root.iter(f"{SVG}a")]
    everything = {**{k: p.links for k, p in parsed.items()}, **svg_links}
    count = 0
    for path, links in everything.items():
        for tag, attribute, href in links:
            parts = urlsplit(href)
            assert not parts.scheme and not parts.netloc, (path, href)  # nothing from or to the internet
            assert not href.startswith("/"), (path, href)  # an absolute path breaks file://
            target = (Path(path).parent / unquote(parts.path)).as_posix() if parts.path else path
            target = os.path.normpath(target)
            assert (site / target).is_file(), (path, tag, attribute, href)
            if parts.fragment:
                ids = parsed[target].ids if target in parsed else svg_ids[target]
                assert parts.fragment in ids, (path, href)
            count += 1
    assert count > 10_000


def test_nothing_is_fetched_from_elsewhere(site: Path) -> None:
    for path in sorted(site.rglob("*")):
        if path.is_file():
            content = path.read_text("utf-8")
            assert "<script" not in content, path
            assert "@import" not in content, path
            assert "url(http" not in content.replace(" ", ""), path
            assert "@font-face" not in content, path
    # A page's only stylesheet is the tree's own.
    home = Page((site / "en" / "index.html").read_text("utf-8"))
    assert [h for tag, _, h in home.links if tag == "link"] == ["../assets/docs.css"]


def test_both_languages_with_a_switch(site: Path, parsed: dict[str, Page], snapshot: Snapshot) -> None:
    assert parsed["en/index.html"].lang == "en"
    assert parsed["ja/index.html"].lang == "ja"
    for lang, other in (("en", "ja"), ("ja", "en")):
        for path in ("index.html", "guests.html", "io/io-path-hyper-v-synthetic.html", "id/vsc.html"):
            page = parsed[f"{lang}/{path}"]
            depth = path.count("/")
            assert ("a", "href", "../" * (depth + 1) + f"{other}/{path}") in page.links, (lang, path)
    assert "ナレッジグラフが知っているHyper-V" in (site / "ja" / "index.html").read_text("utf-8")
    assert "ゲストOS" in (site / "ja" / "guests.html").read_text("utf-8")
    # The site's own index.html is the English home (not a chooser), with the same switch to the Japanese one.
    root = parsed["index.html"]
    assert root.lang == "en"
    assert root.ids["main"] == parsed["en/index.html"].ids["main"]
    assert ("a", "href", "ja/index.html") in root.links
    assert ("link", "href", "assets/docs.css") in root.links
    assert ("a", "href", "en/guests.html") in root.links
    # Every described resource has its page in both languages, from the same template as the live page.
    for lang in LANGS:
        assert len(list((site / lang / "id").rglob("*.html"))) == len(snapshot.descriptions)
    vsc = (site / "ja" / "id" / "vsc.html").read_text("utf-8")
    assert "VSC(Virtualization Service Client)" in vsc
    assert 'href="../id/vmbus.html"' in vsc


def test_glossary_ontology_and_sources_pages(parsed: dict[str, Page], snapshot: Snapshot) -> None:
    for lang in LANGS:
        glossary = parsed[f"{lang}/glossary.html"]
        for abbreviation in ("VSC", "VSP", "VMM", "VHD", "W2K8"):
            assert abbreviation in glossary.ids["abbreviation-list"]
        assert "vsc" in glossary.ids
        assert "vmbus" in glossary.ids
        ontology = parsed[f"{lang}/ontology.html"]
        terms = [iri for iri in snapshot.descriptions if iri.startswith("https://hyperv-kg.example.org/id/ontology/")]
        for iri in terms:
            section = ontology.ids[local_id(iri).replace("/", "-")]
            definition = snapshot.tables.definitions[iri]
            assert text(definition, lang) in section, iri
        sources = parsed[f"{lang}/sources.html"]
        passages = [iri for iri, kind in snapshot.tables.types.items() if kind == "Passage"]
        # every passage the source file declares, whatever their number
        declared = (Path(__file__).resolve().parents[1] / "graph" / "sources.ttl").read_text().count(" a hv:Passage ;")
        assert len(passages) == declared > 60
        for iri in passages:
            assert anchor(iri) in sources.ids
    # The sources page names the facts that cite a passage.
    row_passage = parsed["en/sources.html"].ids["doc-article-p-guest-row-09"]
    assert "Windows XP SP2 Professional(x86) | 1 |" in row_passage
    assert "Windows XP SP2 (x86): up to 1 virtual processor" in row_passage


# ---- determinism, the CLI, and the live /docs --------------------------------------------------------------


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_byte_identical_in_process_and_by_the_cli(site: Path, snapshot: Snapshot, tmp_path: Path) -> None:
    again = tmp_path / "again"
    write_site(snapshot, again, "both")
    first = tree(site)
    assert tree(again) == first
    # Another process with another hash seed builds its own snapshot: still the same bytes, file for file.
    by_cli = tmp_path / "cli"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "docs", str(by_cli)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"wrote {len(first)} files" in done.stdout
    second = tree(by_cli)
    assert sorted(second) == sorted(first)
    assert [p for p in first if first[p] != second[p]] == []


def test_cli_one_language_and_bad_output(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "ja-only"
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "docs", str(out), "--lang", "ja"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "ja" / "guests.html").is_file()
    assert not (out / "en").exists()
    home = (out / "ja" / "index.html").read_text("utf-8")
    assert 'hreflang="en"' not in home  # no switch to a language that was not written
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "docs", str(blocker)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error:")


def test_live_docs_are_the_written_files(site: Path, snapshot: Snapshot) -> None:
    holder = SnapshotHolder()
    client = TestClient(create_app(holder=holder))
    assert client.get("/docs/").status_code == 503  # no snapshot yet
    holder.swap(snapshot)
    written = tree(site)
    for path, content in written.items():
        response = client.get("/docs/" + path)
        assert response.status_code == 200, path
        assert response.content == content, path
    assert client.get("/docs/").content == written["index.html"]
    assert client.get("/docs/en/").content == written["en/index.html"]
    assert client.get("/docs/en/guests.html").headers["content-type"] == "text/html; charset=utf-8"
    assert client.get("/docs/assets/docs.css").headers["content-type"].startswith("text/css")
    assert client.get("/docs/en/diagrams/io-path-hyper-v-synthetic.svg").headers["content-type"] == "image/svg+xml"
    for short, full in (("/docs", "/docs/"), ("/docs/ja", "/docs/ja/")):
        redirect = client.get(short, follow_redirects=False)
        assert redirect.status_code == 308
        assert redirect.headers["location"] == full
    for bad in ("/docs/nope.html", "/docs/../pyproject.toml", "/docs/en/id/" + "x" * 5000, "/docs/%00"):
        response = client.get(bad)
        assert response.status_code == 404, bad
        assert "Traceback" not in response.text
    # The live /id/ page and the static one are one template: same headings, the links differ.
    live = client.get("/id/vsc", headers={"accept": "text/html"}).text
    static = written["en/id/vsc.html"].decode()
    assert 'href="/id/vmbus"' in live
    assert 'href="../id/vmbus.html"' in static
    assert 'href="/docs/assets/docs.css"' in live
    heading = "<h1>VSC (Virtualization Service Client)</h1>"
    assert heading in live
    assert heading in static


def test_everything_is_escaped(data_copy: DataLayout) -> None:
    """A label with markup in it is text on every page and in every diagram, never markup."""
    path = data_copy.root / "graph/facts/components.ttl"
    source = path.read_text(encoding="utf-8")
    hostile = 'VMBus <script>alert(1)</script> & "quoted"'
    path.write_text(source.replace('"VMBus"@en', f'"{hostile.replace(chr(34), chr(92) + chr(34))}"@en', 1), "utf-8")
    files = build_site(build_snapshot(data_copy), "en")
    everything = b"".join(files.values()).decode("utf-8")
    assert "<script>alert(1)</script>" not in everything
    assert "VMBus &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quoted&#34;" in files["en/glossary.html"].decode()
    svg = files["en/diagrams/io-path-hyper-v-synthetic.svg"].decode()
    assert "VMBus &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot;" in svg
    ET.fromstring(svg.split("\n", 1)[1])  # noqa: S314 -- still well-formed XML, our own output


def test_bad_language_is_bad_input(snapshot: Snapshot) -> None:
    from graph.model import BadInput

    with pytest.raises(BadInput) as caught:
        build_site(snapshot, "fr")
    assert caught.value.argument == "lang"
