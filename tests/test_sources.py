"""Every quote is the article's own words, and nearly every sentence and table row is quoted."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from rdflib import Namespace

from graph.layout import ROOT
from graph.snapshot import Snapshot

HV = Namespace("https://hyperv-kg.example.org/id/ontology/")
DCTERMS = Namespace("http://purl.org/dc/terms/")
SOURCES = ROOT / "graph" / "sources"
ARTICLE = SOURCES / "article-ja.txt"
SHARED_SEED = ROOT.parent / "shared" / "seed" / "000_e61d6cf1fd6ea064.txt"


def article_units() -> tuple[list[str], list[str]]:
    """The article split into sentences and table rows; and the other lines (headings, table rules)."""
    units: list[str] = []
    others: list[str] = []
    for line in ARTICLE.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        if line.startswith("■") or set(line) <= set("-|"):
            others.append(line)
        elif "|" in line:
            units.append(line)
        else:
            text = line.removeprefix("* ")
            units.extend(s for s in re.findall(r"[^。]+。?", text) if s.strip())
    return units, others


def quotes_of(snapshot: Snapshot, document: str) -> dict[str, str]:
    graph = snapshot.graph
    return {
        str(p): str(graph.value(p, HV.quote))
        for p in graph.subjects(DCTERMS.isPartOf, None)
        if str(graph.value(p, DCTERMS.isPartOf)).endswith(document)
    }


def test_the_repo_copy_is_the_article() -> None:
    if SHARED_SEED.is_file():  # beside the checkout in development and CI
        assert ARTICLE.read_bytes() == SHARED_SEED.read_bytes()
    assert "ハイパーバイザ" in ARTICLE.read_text(encoding="utf-8")


def test_every_quote_is_verbatim(snapshot: Snapshot) -> None:
    article = ARTICLE.read_text(encoding="utf-8")
    external = (SOURCES / "external-facts.md").read_text(encoding="utf-8")
    article_quotes = quotes_of(snapshot, "doc-article")
    external_quotes = quotes_of(snapshot, "doc-external-facts")
    assert len(article_quotes) > 50
    assert len(external_quotes) >= 3
    for iri, quote in article_quotes.items():
        assert quote in article, iri
    for iri, quote in external_quotes.items():
        assert quote in external, iri
        assert quote not in article, iri  # an outside fact never passes for the article's


def test_at_least_95_percent_of_sentences_and_rows_are_cited(snapshot: Snapshot) -> None:
    units, others = article_units()
    cited = {c.quote for citations in snapshot.tables.citations.values() for c in citations}
    covered = [u for u in units if any(u in q or q in u for q in cited)]
    missing = [u for u in units if u not in covered]
    with (SOURCES / "no-fact.tsv").open(encoding="utf-8") as handle:
        explained = {row["line"]: row["reason"] for row in csv.DictReader(handle, delimiter="\t")}
    assert len(units) >= 50  # 37 sentences, 2 + 12 table rows and their 2 headers, the copyright line
    assert len(covered) / len(units) >= 0.95
    # whatever is not quoted is listed with the reason it holds no fact, and nothing else is listed
    assert set(missing) | set(others) == set(explained)
    assert all(reason.strip() for reason in explained.values())


def test_each_table_row_is_the_passage_of_its_row(snapshot: Snapshot) -> None:
    rows = [u for u in article_units()[0] if "|" in u and not u.startswith(("OS/", "ゲスト OS/"))]
    table_rows = [*snapshot.tables.guest_rows, *snapshot.tables.host_rows]
    assert len(rows) == len(table_rows) == 14
    for row in table_rows:
        own = [c.quote for c in row.evidence if "|" in c.quote and not c.quote.startswith(("OS/", "ゲスト OS/"))]
        assert len(own) == 1 and own[0] in rows, row.iri
    assert len({own for row in table_rows for own in [c.quote for c in row.evidence if c.quote in rows]}) == 14


def test_passages_name_their_section_and_document(snapshot: Snapshot) -> None:
    headings = {line[1:] for line in article_units()[1] if line.startswith("■")}
    for citations in snapshot.tables.citations.values():
        for citation in citations:
            assert citation.document
            if citation.document_iri.endswith("doc-article") and not citation.iri.endswith("p-copyright"):
                assert citation.section in headings, citation.iri


def test_no_fact_file_lists_only_lines_of_the_article() -> None:
    text = Path(ARTICLE).read_text(encoding="utf-8")
    with (SOURCES / "no-fact.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            assert row["line"] in text
