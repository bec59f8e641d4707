"""Every fact reachable from GraphQL (issue 14), through a real uvicorn on loopback and a real client (gql).

The questions a portal asks of the article are each answered by one request, checked against the article's own
words and numbers, read here from graph/sources/article-ja.txt (never from the graph): the rules, the advice, the
comparison with VMware ESX and its reasons, the downgrade right, the VHD migration notes, the hardware
requirements, the definitions of products and components, a storage format's description, extension and
allocation unit. Then: every subject of the graph that cites a passage is a node with evidence; every Basis occurs
and every INFERRED statement names a cited rule; the article's quotes are told from other documents' by `basis`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from graphql import GraphQLEnumType, GraphQLInterfaceType, GraphQLObjectType
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import URIRef
from starlette.applications import Starlette

from graph.layout import BASE
from graph.snapshot import Snapshot
from server.graphql.limits import MAX_ALIASES
from server.graphql.view import graphql_routes
from server.ops.state import SnapshotHolder
from tests.live import serve

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = (ROOT / "graph" / "sources" / "article-ja.txt").read_text(encoding="utf-8")
DERIVED_FROM = URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")


# --- the article, read as the portals' users read it ------------------------------------------------------------


def sentences() -> list[tuple[str, str]]:
    """(section heading, sentence) for every sentence of the article, footnote marks ("* ") taken off."""
    found, section = [], ""
    for line in ARTICLE.splitlines():
        if line.startswith("■"):
            section = line.removeprefix("■").strip()
            continue
        for part in re.findall(r"[^。]+。?", line):
            if part.strip():
                found.append((section, part.strip().removeprefix("* ")))
    return found


def sentence(words: str) -> str:
    """The one sentence of the article that holds these words."""
    matching = [s for _, s in sentences() if words in s]
    assert len(matching) == 1, (words, matching)
    return matching[0]


def section_of(words: str) -> str:
    matching = [h for h, s in sentences() if words in s]
    assert len(matching) == 1, (words, matching)
    return matching[0]


def article_month() -> str:
    """The date the article speaks for, as it writes it ("2008年8月時点"), in the form asOf uses (2008-08)."""
    found = re.search(r"(\d{4})年(\d{1,2})月時点", ARTICLE)
    assert found is not None
    return f"{found[1]}-{int(found[2]):02d}"


def quotes(evidence: list[dict[str, Any]]) -> list[str]:
    return [c["quote"] for c in evidence]


# --- the server -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def url(snapshot: Snapshot) -> Iterator[str]:
    holder = SnapshotHolder()
    holder.swap(snapshot)
    with serve(Starlette(routes=graphql_routes(holder)), lifespan="off") as base:
        yield base + "/graphql"


@pytest.fixture(scope="module")
def client(url: str) -> Client:
    """Validates every request against the schema it fetched from the server, as a portal would."""
    return Client(transport=HTTPXTransport(url=url, timeout=60), fetch_schema_from_transport=True)


def ask(client: Client, query: str, **variables: Any) -> dict[str, Any]:
    return client.execute(GraphQLRequest(query, variable_values=variables or None))


# --- the 13 questions, one request each -------------------------------------------------------------------------


def test_rule_integration_services_and_service_packs(client: Client) -> None:
    data = ask(
        client,
        """{ rules(about: "integration-services") {
             id label(lang: JA) basis about { id } evidence { quote section basis }
             relationToArticle { notation } } }""",
    )
    rules = data["rules"]
    refused = sentence("統合サービスのインストールは拒否される")
    (rule,) = [r for r in rules if refused in quotes(r["evidence"])]
    assert "統合サービス" in rule["label"] and rule["basis"] == "STATED"
    assert {c["section"] for c in rule["evidence"]} == {section_of("統合サービスのインストールは拒否される")}
    assert all(r["about"] and "integration-services" in {a["id"] for a in r["about"]} for r in rules)
    # the article's rules first; another document's follow, each saying how it stands to the article
    bases = [r["basis"] for r in rules]
    assert bases == sorted(bases, key=["STATED", "INFERRED", "OUTSIDE"].index)
    assert all(r["relationToArticle"] for r in rules if r["basis"] == "OUTSIDE")
    assert all(not r["relationToArticle"] for r in rules if r["basis"] == "STATED")


def test_rule_processors_per_guest(client: Client) -> None:
    data = ask(
        client,
        """{ rules(about: "hyper-v-virtual-machine") { id label(lang: JA) definition(lang: JA)
               evidence { quote section document basis } statements { predicate { id } basis } } }""",
    )
    (rule,) = [r for r in data["rules"] if sentence("プロセッサの数が異なる") in quotes(r["evidence"])]
    header = next(line for line in ARTICLE.splitlines() if "最大プロセッサ(コア)数" in line)
    assert header in quotes(rule["evidence"])  # the table's own heading: the numbers are per virtual machine
    assert "プロセッサ" in rule["label"] and "最大プロセッサ(コア)数" in rule["definition"]
    assert {c["section"] for c in rule["evidence"]} == {section_of("プロセッサの数が異なる")}
    assert {c["basis"] for c in rule["evidence"]} == {"STATED"}
    assert {s["basis"] for s in rule["statements"]} == {"STATED"}


def test_advice_choose_by_roadmap(client: Client) -> None:
    data = ask(client, '{ advice(about: "vmware-esx") { label(lang: JA) about { id } asOf basis evidence { quote } } }')
    roadmap = sentence("ロードマップを見据えつつ")
    (advice,) = [a for a in data["advice"] if roadmap in quotes(a["evidence"])]
    assert {"hyper-v", "vmware-esx"} <= {a["id"] for a in advice["about"]}
    assert "ロードマップ" in advice["label"] and advice["asOf"] == article_month() and advice["basis"] == "STATED"


def test_advice_datacenter_for_many_virtual_machines(client: Client) -> None:
    data = ask(
        client,
        """{ advice(about: "windows-server-2008-datacenter") { label(lang: JA) definition(lang: JA) about { id }
             evidence { quote } outsideFacts { __typename basis asOf evidence { quote basis } } } }""",
    )
    buy = sentence("Datacenterの購入も検討")
    (advice,) = [a for a in data["advice"] if buy in quotes(a["evidence"])]
    assert sentence("登場当初のWindows 2000 Datacenter Server") in quotes(advice["evidence"])
    assert "Datacenter" in advice["label"] and "Windows 2000 Datacenter Server" in advice["definition"]
    # the outside records that explain it (OEM-only sales, per-processor licensing) stand beside it
    assert advice["outsideFacts"]
    for fact in advice["outsideFacts"]:
        assert fact["basis"] == "OUTSIDE" and fact["asOf"] != article_month()
        assert all(c["basis"] == "OUTSIDE" and c["quote"] not in ARTICLE for c in fact["evidence"])


def test_advice_vendor_support_caveat(client: Client) -> None:
    data = ask(client, '{ advice(about: "hyper-v") { label(lang: JA) asOf evidence { quote section } } }')
    policy = sentence("ベンダのサポート・ポリシー")
    (advice,) = [a for a in data["advice"] if policy in quotes(a["evidence"])]
    assert "サポート・ポリシー" in advice["label"] and advice["asOf"] == article_month()
    assert advice["evidence"][0]["section"] == section_of("ベンダのサポート・ポリシー")


def test_the_comparison_with_vmware_esx_and_its_reasons(client: Client) -> None:
    data = ask(
        client,
        """{ comparisons { label(lang: JA) favors { id } comparedWith { id } reasons(lang: JA) asOf basis
             evidence { quote } } }""",
    )
    verdict = sentence("軍配が上がる")
    (comparison,) = [c for c in data["comparisons"] if verdict in quotes(c["evidence"])]
    assert comparison["favors"]["id"] == "vmware-esx"
    assert [p["id"] for p in comparison["comparedWith"]] == ["hyper-v"]
    assert comparison["asOf"] == article_month() and comparison["basis"] == "STATED"
    # the reasons are the article's: no live migration (its word in 「」), fewer supported operating systems
    feature = re.search(r"「(.+?)」機能がない", verdict)
    assert feature is not None and feature[1] in comparison["reasons"]
    assert "サポートOSの種類が少ない" in verdict and "サポートOSの種類が少ない" in comparison["reasons"]


def test_what_vmware_esx_has_is_read_by_named_rules(client: Client) -> None:
    data = ask(
        client,
        """{ product(id: "vmware-esx") { architectureStyle architectureStyleBasis
               architectureStyleRule { id basis evidence { quote } }
               features { feature available asOf basis rule { id evidence { quote } } evidence { quote } } } }""",
    )
    esx = data["product"]
    # the article never describes ESX: its style and its live migration are the graph's reading, each by a rule
    assert esx["architectureStyleBasis"] == "INFERRED"
    assert esx["architectureStyleRule"]["evidence"] and esx["architectureStyleRule"]["basis"] == "STATED"
    (live,) = [f for f in esx["features"] if f["feature"] == "live migration"]
    assert live["available"] is True and live["asOf"] == article_month() and live["basis"] == "INFERRED"
    assert sentence("軍配が上がる") in quotes(live["rule"]["evidence"])


def test_the_downgrade_right(client: Client) -> None:
    data = ask(
        client,
        """{ downgradeRights { label(lang: JA) asOf evidence { quote }
               appliesTo { edition virtualInstances unlimited downgradeRights { id } } } }""",
    )
    (right,) = data["downgradeRights"]
    assert sentence("ダウングレードして使用することも可能") in quotes(right["evidence"])
    assert "ダウングレード" in right["label"] and right["asOf"] == article_month()
    counts = re.search(r"Standardでは「(\d+)」、Enterpriseでは「(\d+)」、Datacenterでは「(.+?)」", ARTICLE)
    assert counts is not None
    rows = {r["edition"].split()[-1]: r for r in right["appliesTo"]}  # "Windows Server 2008 Standard"
    assert rows["Standard"]["virtualInstances"] == int(counts[1])
    assert rows["Enterprise"]["virtualInstances"] == int(counts[2])
    assert counts[3] == "無制限" and rows["Datacenter"]["unlimited"] and rows["Datacenter"]["virtualInstances"] is None
    assert all(r["downgradeRights"] for r in right["appliesTo"])  # and back from each licence row


def test_the_vhd_migration_notes(client: Client) -> None:
    data = ask(
        client,
        """{ storageFormats { id fileExtension migrationNotes { label(lang: JA) about { id } basis
               evidence { quote } outsideFacts { basis asOf evidence { quote } } } } }""",
    )
    extension = re.search(r"拡張子が「(.+?)」", ARTICLE)
    assert extension is not None
    (vhd,) = [f for f in data["storageFormats"] if f["fileExtension"] == extension[1]]
    migration = sentence("そのまま使用できる")
    notes = vhd["migrationNotes"]
    assert len(notes) == 2  # the article says two things: reuse the disks, uninstall the additions first
    assert all(migration in quotes(n["evidence"]) and n["basis"] == "STATED" for n in notes)
    assert any("そのまま使用できる" in n["label"] for n in notes)
    assert any("アンインストール" in n["label"] for n in notes)
    assert all({a["id"] for a in n["about"]} == {"virtual-server-2005-r2"} for n in notes)
    # other documents confirm or extend them, dated apart from the article
    outside = [f for n in notes for f in n["outsideFacts"]]
    assert outside and all(f["basis"] == "OUTSIDE" and f["asOf"] != article_month() for f in outside)
    assert all(f["migrationNotes"] == [] for f in data["storageFormats"] if f is not vhd)


def test_the_hardware_requirements(client: Client) -> None:
    data = ask(
        client,
        """{ hardwareRequirements(product: "hyper-v") { label basis asOf relationToArticle { notation }
             evidence { quote document documentIri basis } } }""",
    )
    requirements = data["hardwareRequirements"]
    announced = sentence("ハードウェア要件が必須")
    first = requirements[0]
    assert first["basis"] == "STATED" and quotes(first["evidence"]) == [announced]
    # the article announces a list and leaves it out: the requirements come from another document, marked so
    outside = [r for r in requirements if r["basis"] == "OUTSIDE"]
    assert len(outside) >= 3
    article_document = first["evidence"][0]["documentIri"]
    for requirement in outside:
        assert requirement["relationToArticle"]
        for citation in requirement["evidence"]:
            assert citation["basis"] == "OUTSIDE" and citation["documentIri"] != article_document
            assert citation["quote"] not in ARTICLE


def test_the_products_definitions(client: Client) -> None:
    data = ask(
        client,
        "{ products { id description(lang: JA) definition(lang: JA) english: description evidence { quote } } }",
    )
    products = {p["id"]: p for p in data["products"]}
    hosted = sentence("ホストOS上にインストールされる1つのアプリケーション")
    assert hosted in quotes(products["virtual-server-2005-r2"]["evidence"])
    assert "ホストOS上にインストールされる1つのアプリケーション" in products["virtual-server-2005-r2"]["description"]
    assert "ハイパーバイザ型" in products["hyper-v"]["description"]
    assert sentence("ハイパーバイザ型と呼ばれる") in quotes(products["hyper-v"]["evidence"])
    for product in products.values():
        assert product["description"] == product["definition"] and product["english"]
        assert product["description"] != product["english"]


def test_the_components_definitions(client: Client) -> None:
    data = ask(
        client,
        """{ product(id: "hyper-v") { components { id description(lang: JA) definition(lang: JA)
               evidence { quote basis } } } }""",
    )
    components = {c["id"]: c for c in data["product"]["components"]}
    hypervisor = components["windows-hypervisor"]
    assert "CPU・メモリの調整を行うソフトウェア" in hypervisor["description"]
    assert sentence("CPU・メモリの調整を行うソフトウェア") in quotes(hypervisor["evidence"])
    for component in components.values():
        assert component["description"] and component["description"] == component["definition"]
        assert component["evidence"] and all(c["basis"] == "STATED" for c in component["evidence"])
        assert all(q in ARTICLE for q in quotes(component["evidence"]))


def test_a_storage_formats_description_extension_and_allocation_unit(client: Client) -> None:
    data = ask(
        client,
        """{ storageFormats { id description(lang: JA) fileExtension allocationUnit maxSizeGB noCapacityLimit
             supportsSnapshots supportsSnapshotsBasis supportsSnapshotsRule { evidence { quote } }
             prerequisites prerequisiteNotes { label evidence { quote } } evidence { quote } } }""",
    )
    formats = data["storageFormats"]
    extension, size = re.search(r"拡張子が「(.+?)」", ARTICLE), re.search(r"最大(\d+)Gbytes", ARTICLE)
    assert extension is not None and size is not None
    (vhd,) = [f for f in formats if f["fileExtension"] == extension[1]]
    assert vhd["maxSizeGB"] == int(size[1]) and not vhd["noCapacityLimit"]
    assert "1つのファイル" in vhd["description"] and vhd["allocationUnit"]
    assert sentence("1つのファイルとして認識される") in quotes(vhd["evidence"])
    # only pass-through is said to lose snapshots: VHD keeping them is read by a rule that cites that sentence
    assert vhd["supportsSnapshots"] is True and vhd["supportsSnapshotsBasis"] == "INFERRED"
    assert sentence("「スナップショット」が利用できなくなる") in quotes(vhd["supportsSnapshotsRule"]["evidence"])
    (passthrough,) = [f for f in formats if f is not vhd]
    assert "ボリューム単位" in passthrough["description"] and passthrough["allocationUnit"]
    assert passthrough["fileExtension"] is None and passthrough["maxSizeGB"] is None
    assert passthrough["noCapacityLimit"] is True and passthrough["supportsSnapshots"] is False
    assert passthrough["supportsSnapshotsBasis"] == "STATED" and passthrough["supportsSnapshotsRule"] is None
    assert sentence("容量的な制約もない") in quotes(passthrough["evidence"])
    (prerequisite,) = passthrough["prerequisiteNotes"]
    assert passthrough["prerequisites"] == [prerequisite["label"]]
    assert quotes(prerequisite["evidence"]) == [sentence("ボリュームをオフラインにしておく必要がある")]


# --- the article's quotes told from other documents' ------------------------------------------------------------


def test_guest_table_and_check_host_tell_the_articles_quotes_from_outside_ones(client: Client) -> None:
    data = ask(
        client,
        """{ guestSupport { evidence { quote basis documentIri } outsideFacts { evidence { quote basis } } }
            web: checkHost(operatingSystem: "Windows Server 2008", edition: "Web", architecture: X64) {
              reasons { evidence { quote basis documentIri } } }
            standard: checkHost(operatingSystem: "Windows Server 2008", edition: "Standard", architecture: X64) {
              reasons { evidence { quote basis documentIri } } } }""",
    )
    citations = [c for row in data["guestSupport"] for c in row["evidence"]]
    citations += [c for key in ("web", "standard") for r in data[key]["reasons"] for c in r["evidence"]]
    outside = [c for row in data["guestSupport"] for f in row["outsideFacts"] for c in f["evidence"]]
    assert {c["basis"] for c in citations} == {"STATED", "OUTSIDE"}  # the Web edition's answer cites both
    assert outside and {c["basis"] for c in outside} == {"OUTSIDE"}
    article = {c["documentIri"] for c in citations if c["basis"] == "STATED"}
    assert len(article) == 1
    for citation in citations + outside:
        assert (citation["quote"] in ARTICLE) == (citation["basis"] == "STATED"), citation
        if "documentIri" in citation:
            assert (citation["documentIri"] in article) == (citation["basis"] == "STATED")


# --- every fact is reachable: node(id) for every subject that cites a passage ------------------------------------

NODE_FIELDS = """__typename id type evidence { quote iri basis }
    statements { predicate { id } basis object { id } rule { __typename id evidence { quote basis } } }"""


@pytest.fixture(scope="module")
def cited_nodes(client: Client, snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    """node(id) of every IRI that has prov:wasDerivedFrom, fetched MAX_ALIASES at a time."""
    subjects = sorted(
        {str(s) for s in snapshot.graph.subjects(DERIVED_FROM, None) if isinstance(s, URIRef)},
    )
    assert subjects and all(s.startswith(BASE) for s in subjects)
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(subjects), MAX_ALIASES):
        batch = subjects[start : start + MAX_ALIASES]
        query = "query Batch(" + ", ".join(f"$i{n}: ID!" for n in range(len(batch))) + ") {\n"
        query += "\n".join(f"  n{n}: node(id: $i{n}) {{ {NODE_FIELDS} }}" for n in range(len(batch))) + "\n}"
        data = ask(client, query, **{f"i{n}": iri[len(BASE) :] for n, iri in enumerate(batch)})
        found.update({iri: data[f"n{n}"] for n, iri in enumerate(batch)})
    return found


def test_every_subject_that_cites_a_passage_is_a_node_with_its_evidence(
    cited_nodes: dict[str, dict[str, Any]], snapshot: Snapshot, client: Client
) -> None:
    assert client.schema is not None
    implementations = {
        name
        for name, kind in client.schema.type_map.items()
        if isinstance(kind, GraphQLObjectType) and any(i.name == "Node" for i in kind.interfaces)
    }
    for iri, node in cited_nodes.items():
        assert node is not None, iri
        assert node["id"] == iri[len(BASE) :]
        cited = {str(o) for o in snapshot.graph.objects(URIRef(iri), DERIVED_FROM)}
        assert node["evidence"], iri
        assert {c["iri"] for c in node["evidence"]} == cited, iri
        # the most specific type the schema has: the graph's own class when the schema has a type of that name
        if node["type"] in implementations:
            assert node["__typename"] == node["type"], iri
        elif iri[len(BASE) :] in snapshot.tables.components:
            assert node["__typename"] == "Component", iri
        else:
            assert node["__typename"] in ("Thing", "OtherFact"), iri


def test_every_basis_occurs_and_every_inferred_statement_names_a_cited_rule(
    cited_nodes: dict[str, dict[str, Any]], client: Client
) -> None:
    assert client.schema is not None
    basis = client.schema.type_map["Basis"]
    assert isinstance(basis, GraphQLEnumType)
    statements = [s for node in cited_nodes.values() for s in node["statements"]]
    assert {s["basis"] for s in statements} == set(basis.values)
    inferred = [s for s in statements if s["basis"] == "INFERRED"]
    for found in inferred:
        rule = found["rule"]
        assert rule is not None and rule["__typename"] == "Rule", found
        assert rule["evidence"] and all(c["basis"] == "STATED" and c["quote"] in ARTICLE for c in rule["evidence"])
    assert all(s["rule"] is None for s in statements if s["basis"] != "INFERRED")
    # the two examples are among them
    assert {"supportsSnapshots", "available"} <= {s["predicate"]["id"] for s in inferred}


def test_fact_types_implement_the_fact_interface(client: Client) -> None:
    assert client.schema is not None
    fact = client.schema.type_map["Fact"]
    assert isinstance(fact, GraphQLInterfaceType) and [i.name for i in fact.interfaces] == ["Node"]
    data = ask(
        client,
        """{ outsideFacts { __typename id basis asOf relationToArticle { notation label(lang: JA) } relatesTo { id }
             evidence { basis } } }""",
    )
    facts = data["outsideFacts"]
    assert {"Release", "GuestList", "GuestListEntry", "LicenseTerm", "CapacityLimit"} <= {
        f["__typename"] for f in facts
    }
    for found in facts:
        assert found["basis"] == "OUTSIDE" and found["asOf"] and found["relationToArticle"], found
        assert {c["basis"] for c in found["evidence"]} == {"OUTSIDE"}, found


# --- `about` arguments: an id as node(id) takes it, or a clear error ---------------------------------------------

ABOUT_QUERY = """query About($about: ID) {
  rules(about: $about) { basis about { id } }
  advice(about: $about) { basis about { id } }
  outsideFacts(about: $about) { statements { object { id } } }
}"""


@pytest.fixture(scope="module")
def known_ids(snapshot: Snapshot) -> list[str]:
    return sorted(iri[len(BASE) :] for iri in snapshot.descriptions)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_about_filters_by_what_each_fact_names_or_is_bad_input(
    data: st.DataObject, client: Client, known_ids: list[str]
) -> None:
    about = data.draw(st.one_of(st.sampled_from(known_ids), st.text(max_size=40)), label="about")
    request = GraphQLRequest(ABOUT_QUERY, variable_values={"about": about})
    if about not in known_ids:
        with pytest.raises(TransportQueryError) as caught:
            client.execute(request)
        assert caught.value.errors
        assert {e["extensions"]["code"] for e in caught.value.errors} == {"BAD_USER_INPUT"}
        return
    answer = client.execute(request)
    for key in ("rules", "advice"):
        assert all(about in {a["id"] for a in item["about"]} for item in answer[key]), key
        bases = [item["basis"] for item in answer[key]]
        assert bases == sorted(bases, key=["STATED", "INFERRED", "OUTSIDE"].index)
    for fact in answer["outsideFacts"]:
        assert about in {(s["object"] or {}).get("id") for s in fact["statements"]}
