"""Every quote is the article's own words, and nearly every sentence and table row is quoted; every document
and passage says who holds its rights and under which terms; every passage is placed in its source file by
W3C Web Annotation selectors; and no literal's language tag contradicts the script it is written in."""

from __future__ import annotations

import csv
import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import FOAF, SKOS
from rdflib.term import Node

from graph.layout import ROOT
from graph.model import GuestRow, HostRow
from graph.snapshot import Snapshot
from graph.sources import selectors

HV = Namespace("https://hyperv-kg.example.org/id/ontology/")
DCTERMS = Namespace("http://purl.org/dc/terms/")
PROV = Namespace("http://www.w3.org/ns/prov#")
OA = Namespace("http://www.w3.org/ns/oa#")
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")
XSD_G_YEAR_MONTH = URIRef("http://www.w3.org/2001/XMLSchema#gYearMonth")
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
XSD_NON_NEGATIVE = URIRef("http://www.w3.org/2001/XMLSchema#nonNegativeInteger")
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
    table_rows: list[GuestRow | HostRow] = [*snapshot.tables.guest_rows, *snapshot.tables.host_rows]
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


# --- Rights -----------------------------------------------------------------------------------------------


def _one(graph: Graph, subject: Node, predicate: URIRef) -> Node:
    values = list(graph.objects(subject, predicate))
    assert len(values) == 1, (subject, predicate, values)
    return values[0]


def _named_both_ways(graph: Graph, iri: Node) -> bool:
    return {v.language for v in graph.objects(iri, SKOS.prefLabel) if isinstance(v, Literal)} >= {"en", "ja"}


def test_every_document_and_passage_states_licence_rights_and_holder(snapshot: Snapshot) -> None:
    graph = snapshot.graph
    documents = set(graph.subjects(RDF.type, HV.Document))
    passages = set(graph.subjects(RDF.type, HV.Passage))
    assert len(documents) >= 2 and len(passages) > 80
    for item in documents | passages:
        licence = _one(graph, item, DCTERMS.license)
        holder = _one(graph, item, DCTERMS.rightsHolder)
        rights = list(graph.objects(item, DCTERMS.rights))
        assert isinstance(licence, URIRef) and _named_both_ways(graph, licence), item
        assert (holder, RDF.type, FOAF.Organization) in graph and _named_both_ways(graph, holder), item
        assert rights and all((r, RDF.type, DCTERMS.RightsStatement) in graph for r in rights), item
        assert all(_named_both_ways(graph, r) for r in rights), item
    # a passage is published under exactly the terms of its document
    for passage in passages:
        document = _one(graph, passage, DCTERMS.isPartOf)
        for predicate in (DCTERMS.license, DCTERMS.rights, DCTERMS.rightsHolder):
            assert set(graph.objects(passage, predicate)) == set(graph.objects(document, predicate)), passage


def test_the_article_is_quoted_under_its_publishers_copyright(snapshot: Snapshot) -> None:
    graph = snapshot.graph
    article = URIRef("https://hyperv-kg.example.org/id/doc-article")
    holder = _one(graph, article, DCTERMS.rightsHolder)
    assert holder == _one(graph, article, DCTERMS.publisher)
    assert _one(graph, article, DCTERMS.license) != CC_BY  # never the project's licence
    # its rights statement rests on the article's own copyright notice, which names the holder
    for statement in graph.objects(article, DCTERMS.rights):
        evidence = list(graph.objects(statement, PROV.wasDerivedFrom))
        assert evidence and all((e, DCTERMS.isPartOf, article) in graph for e in evidence)
        notice = " ".join(str(graph.value(e, HV.quote)) for e in evidence)
        assert "All Rights Reserved" in notice and str(graph.value(holder, FOAF.name)) in notice
        texts = {v.language: str(v) for v in graph.objects(statement, RDFS.comment) if isinstance(v, Literal)}
        assert "reference" in texts["en"] and "参考" in texts["ja"] and "著作権" in texts["ja"]


def test_the_projects_notes_carry_its_licence_and_name_their_sources(snapshot: Snapshot) -> None:
    graph = snapshot.graph
    own = [d for d in graph.subjects(RDF.type, HV.Document) if _one(graph, d, DCTERMS.license) == CC_BY]
    assert own
    for document in own:
        assert _one(graph, document, DCTERMS.rightsHolder) == _one(graph, document, DCTERMS.publisher)
        for passage in graph.subjects(DCTERMS.isPartOf, document):
            sources = list(graph.objects(passage, DCTERMS.source))
            assert sources and all(str(s).startswith(("http://", "https://")) for s in sources), passage


def test_the_licence_file_and_readme_say_the_same() -> None:
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for text in (licence, readme):
        assert "MIT" in text and "CC BY 4.0" in text and str(CC_BY) in text
        assert "Digital Advantage Corp." in text and "graph/sources/article-ja.txt" in text
    assert "Permission is hereby granted, free of charge" in licence  # the MIT terms themselves


# --- Documents --------------------------------------------------------------------------------------------


def test_documents_name_publisher_language_and_date_as_resources(snapshot: Snapshot) -> None:
    graph = snapshot.graph
    for document in graph.subjects(RDF.type, HV.Document):
        publisher = _one(graph, document, DCTERMS.publisher)
        assert (publisher, RDF.type, FOAF.Organization) in graph and graph.value(publisher, FOAF.name), document
        languages = {str(x) for x in graph.objects(document, DCTERMS.language)}
        assert languages and all(x.startswith("http://id.loc.gov/vocabulary/iso639-1/") for x in languages), document
        # the language the document's quotes are mostly tagged with is one of the document's languages, and
        # each language it names tags some of its quotes (the release research notes are in both)
        tags = Counter(
            q.language
            for p in graph.subjects(DCTERMS.isPartOf, document)
            for q in graph.objects(p, HV.quote)
            if isinstance(q, Literal)
        )
        codes = {x.rsplit("/", 1)[-1] for x in languages}
        assert tags.most_common(1)[0][0] in codes and codes <= set(tags), document
        issued = _one(graph, document, DCTERMS.issued)
        assert isinstance(issued, Literal) and issued.datatype in (XSD_G_YEAR_MONTH, XSD_DATE), document
        assert str(issued).startswith(str(graph.value(document, HV.asOf))), document


def test_no_document_is_derived_from_its_own_passages(snapshot: Snapshot) -> None:
    graph = snapshot.graph
    for document in graph.subjects(RDF.type, HV.Document):
        for source in graph.objects(document, PROV.wasDerivedFrom):
            assert (source, DCTERMS.isPartOf, document) not in graph, document


# --- Web Annotation selectors -----------------------------------------------------------------------------


def _selectors(graph: Graph, passage: Node) -> tuple[Node, Node]:
    found = {graph.value(s, RDF.type): s for s in graph.objects(passage, OA.hasSelector)}
    assert len(found) == 2 == len(list(graph.objects(passage, OA.hasSelector))), passage
    return found[OA.TextQuoteSelector], found[OA.TextPositionSelector]


def test_selectors_point_at_exactly_the_quote(snapshot: Snapshot) -> None:
    graph = snapshot.graph
    texts: dict[Node, str] = {}
    checked = 0
    for passage in graph.subjects(RDF.type, HV.Passage):
        document = _one(graph, passage, DCTERMS.isPartOf)
        assert _one(graph, passage, OA.hasSource) == document
        if document not in texts:
            texts[document] = (ROOT / str(graph.value(document, HV.sourceFile))).read_text(encoding="utf-8")
        text = texts[document]
        quote, position = _selectors(graph, passage)
        start, end = (_one(graph, position, OA.start), _one(graph, position, OA.end))
        assert isinstance(start, Literal) and start.datatype == XSD_NON_NEGATIVE
        begin, stop = int(start), int(str(end))
        exact = str(_one(graph, quote, OA.exact))
        assert text[begin:stop] == exact == str(graph.value(passage, HV.quote)), passage
        prefix = [str(v) for v in graph.objects(quote, OA.prefix)]
        suffix = [str(v) for v in graph.objects(quote, OA.suffix)]
        assert prefix == ([text[max(0, begin - 32) : begin]] if begin else []), passage
        assert suffix == ([text[stop : stop + 32]] if stop < len(text) else []), passage
        checked += 1
    assert checked == len(set(graph.subjects(RDF.type, HV.Passage))) > 80


def test_each_selector_lies_in_its_own_section_or_record(snapshot: Snapshot) -> None:
    graph = snapshot.graph
    starts = []
    for passage in graph.subjects(RDF.type, HV.Passage):
        document = graph.value(passage, DCTERMS.isPartOf)
        text = (ROOT / str(graph.value(document, HV.sourceFile))).read_text(encoding="utf-8")
        begin = int(str(_one(graph, _selectors(graph, passage)[1], OA.start)))
        line_start = text.rfind("\n", 0, begin) + 1
        section = graph.value(passage, HV.section)
        if f"\n## {section}\n" in text:  # notes in sections: the nearest "## " heading above is its section's
            heading = text.rfind("\n## ", 0, begin)
            assert heading >= 0 and text[heading + 4 :].startswith(str(section) + "\n"), passage
            continue
        if not str(document).endswith("/doc-article"):
            record = str(section).split(" - ", 1)[0]
            assert text[line_start:].startswith(f"**{record}**"), passage  # the statement of its own record
            continue
        starts.append((int(str(graph.value(passage, HV.position))), begin))
        if section is not None:  # the nearest heading above it is its section's
            heading = text.rfind("\n■", 0, begin)
            assert text[heading + 2 :].startswith(str(section) + "\n"), passage
    assert [b for _, b in sorted(starts)] == sorted(b for _, b in starts)  # in the article's order


def test_the_generated_selectors_are_those_of_the_source_files() -> None:
    """Recomputed from sources.ttl's own passages and the source files, the block is what the file holds."""
    current = (ROOT / "graph" / "sources.ttl").read_text(encoding="utf-8")
    assert selectors.BEGIN in current and current.endswith(selectors.END + "\n")
    assert selectors.rewritten(current) == current
    assert selectors.rewritten(selectors.rewritten(current)) == current  # deterministic, idempotent


SENTENCES = st.lists(
    st.text(alphabet="あいうエオ漢字ab |", min_size=1, max_size=6).map(lambda s: s + "。"), min_size=1, max_size=8
)


@settings(max_examples=60, deadline=None)
@given(SENTENCES, st.data())
def test_selectors_of_any_passages_in_file_order(sentences: list[str], data: st.DataObject) -> None:
    """Passages quoting sentences of a file in order (repeats included) get the spans of those sentences."""
    text = "■見出し\n" + "".join(sentences)
    offsets = [len("■見出し\n") + sum(len(s) for s in sentences[:i]) for i in range(len(sentences))]
    chosen = sorted(data.draw(st.sets(st.integers(0, len(sentences) - 1), min_size=1)))
    # A passage's quote is found at its first occurrence after the previous passage: when the same words come
    # earlier too, the expected span is that first occurrence, so compute it the slow way.
    expected, after = [], 0
    for i in chosen:
        at = min(j for j in range(after, len(text)) if text.startswith(sentences[i], j))
        expected.append((at, at + len(sentences[i])))
        after = at + len(sentences[i])
    assert all(offsets[i] >= 0 for i in chosen)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "doc.txt").write_text(text, encoding="utf-8")
        graph = Graph()
        doc = URIRef("https://hyperv-kg.example.org/id/doc-x")
        graph.add((doc, HV.sourceFile, Literal("doc.txt")))
        for n, i in enumerate(chosen):
            p = URIRef(f"https://hyperv-kg.example.org/id/p-{n:03d}")
            graph.add((p, DCTERMS.isPartOf, doc))
            graph.add((p, HV.quote, Literal(sentences[i], lang="ja")))
            graph.add((p, HV.position, Literal(n + 1)))
            graph.add((p, HV.section, Literal("見出し", lang="ja")))
        found = selectors.compute(graph, root)
    assert [(s.start, s.end) for s in found] == expected
    for s in found:
        assert text[s.start : s.end] == s.exact
        assert s.prefix == text[max(0, s.start - 32) : s.start] and s.suffix == text[s.end : s.end + 32]


def test_a_quote_missing_from_its_section_is_a_clear_error() -> None:
    text = "■A\nあ。\n■B\nい。"
    assert selectors.locate(text, "い。", 0, "B") == text.index("い。")
    with pytest.raises(selectors.SelectorError, match=r"not found .* / 引用"):  # English / 日本語
        selectors.locate(text, "あ。", 0, "B")  # the words stand only under another heading
    record = "**E-001** - x - *p* - one\n**E-002** - y - *p* - two one\n"
    with pytest.raises(selectors.SelectorError, match="record"):  # a repeat in a later record is not its own
        selectors.locate(text=record.replace("- one", "- uno"), quote="one", after=0, section="E-001 - x")


# --- Language tags against scripts -------------------------------------------------------------------------

# Kana and kanji (not the CJK punctuation or full-width Latin letters that Japanese text shares with others).
JAPANESE = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
LATIN = re.compile(r"[A-Za-z]")
NAME_PREDICATES = {SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel, RDFS.label, FOAF.name, DCTERMS.title}


def _names(graph: Graph) -> list[str]:
    return [str(o) for p in NAME_PREDICATES for o in graph.objects(None, p) if len(str(o)) >= 2]


def tag_contradiction(predicate: Node, literal: Literal, names: list[str]) -> str | None:
    """Why this literal's language tag contradicts its script, or None.

    @en: Japanese may appear only as a mention inside English text (fewer Japanese characters than Latin
    letters). @ja (and its script variants but -Latn): Japanese text needs a Japanese character, except a
    name, which may be written in Latin letters in Japanese too ("Windows XP"): a short value of a naming
    predicate, or a table row of the article whose cells are numbers, Japanese, or start with a name."""
    text, tag = str(literal), (literal.language or "").lower()
    japanese, latin = len(JAPANESE.findall(text)), len(LATIN.findall(text))
    if tag.split("-")[0] == "en":
        return "an @en literal written mostly in Japanese" if japanese and japanese >= latin else None
    if tag.split("-")[0] != "ja" or "latn" in tag.split("-")[1:] or japanese:
        return None
    if predicate in NAME_PREDICATES and len(text.split()) <= 6:
        return None
    cells = [c.strip() for c in text.split("|") if c.strip()]
    if "|" in text and all(c.isdigit() or any(c.startswith(n) for n in names) for c in cells):
        return None
    return "a @ja literal with no Japanese character that is not a name"


def test_no_literal_has_a_language_tag_its_script_contradicts(snapshot: Snapshot) -> None:
    graph = snapshot.graph
    names = _names(graph)
    tagged = [(s, p, o) for s, p, o in graph if isinstance(o, Literal) and o.language]
    assert len(tagged) > 1000
    wrong = [(str(s), str(p), str(o), why) for s, p, o in tagged if (why := tag_contradiction(p, o, names))]
    assert wrong == []


def test_the_tag_check_refuses_what_it_should() -> None:
    names = ["Windows", "Windows XP"]
    # the article's copyright line once stood tagged @ja (issue 19)
    notice = Literal("Copyright© Digital Advantage Corp. All Rights Reserved.", lang="ja")
    assert tag_contradiction(HV.quote, notice, names)
    assert tag_contradiction(HV.quote, Literal("仮想マシンに導入可能なゲストOS。", lang="en"), names)
    sentence = Literal("Quoted for reference under a publisher's copyright", lang="ja")
    assert tag_contradiction(SKOS.prefLabel, sentence, names)
    assert tag_contradiction(HV.quote, Literal("All rights | reserved |", lang="ja"), names)
    # and lets names and mentions through
    assert tag_contradiction(SKOS.prefLabel, Literal("Windows XP", lang="ja"), names) is None
    assert tag_contradiction(HV.quote, Literal("Windows XP SP2 Professional(x86) | 1 |", lang="ja"), names) is None
    mention = Literal('The heading, for example "対応ゲストOS".', lang="en")
    assert tag_contradiction(RDFS.comment, mention, names) is None
