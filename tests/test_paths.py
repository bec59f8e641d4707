"""Architecture paths (graph.paths): I/O paths hop by hop, each product's own path, directed and undirected
paths between components, layers.

The expected evidence sentences are cut out of graph/sources/article-ja.txt here, and the relation labels are
read from the ontology's own triples, so the tests do not take the answer's word for either; the lengths of
paths are checked against a breadth-first search of the relations table written here.
"""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Literal, URIRef
from rdflib.namespace import RDFS

from graph.build import build_snapshot
from graph.layout import DataLayout
from graph.model import Architecture, ArchitecturePath, BadInput, Hop, IoMode
from graph.paths import io_path, layers, path
from graph.problems import InvalidGraph
from graph.snapshot import Snapshot
from graph.verdicts import check_guest

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (ROOT / "graph" / "sources" / "article-ja.txt").read_text(encoding="utf-8")
VOCAB = "https://hyperv-kg.example.org/id/ontology/"
INVERSE_LABEL = URIRef(VOCAB + "inverseLabel")


def sentence(pattern: str) -> str:
    """The one sentence of the article that matches the pattern, from its start to its 。."""
    found = re.findall(r"[^。\n]*" + pattern + r"[^。\n]*。", ARTICLE)
    assert len(found) == 1, found
    return str(found[0])


SYNTHETIC_SENTENCE = sentence(re.escape("仮想マシンからの命令やI/O要求は、「VSC"))
EMULATED_SENTENCE = sentence(re.escape("Virtual Serverと同様、ハードウェアのエミュレーション"))
VIRTUAL_SERVER_SENTENCE = sentence(re.escape("エミュレートされたデバイス・ドライバ"))
SYNTHETIC_IDS = ["hyper-v-virtual-machine", "vsc", "vmbus", "vsp", "host-device-driver", "physical-hardware"]
VIRTUAL_SERVER_IDS = [
    "virtual-server-virtual-machine",
    "emulated-device-driver",
    "virtual-server-vmm",
    "physical-hardware",
]


def ontology_label(snapshot: Snapshot, predicate: str, forward: bool) -> dict[str, str]:
    prop = RDFS.label if forward else INVERSE_LABEL
    labels = {}
    for value in snapshot.graph.objects(URIRef(predicate), prop):
        assert isinstance(value, Literal)
        labels[value.language or ""] = str(value)
    return labels


def ids(found: ArchitecturePath) -> list[str]:
    return [c.id for c in found.components]


def assert_hop_is_documented(snapshot: Snapshot, hop: Hop) -> None:
    """The hop is one documented relation, read in its direction, with the label for that direction."""
    subject, obj = (hop.source.id, hop.target.id) if hop.forward else (hop.target.id, hop.source.id)
    assert any(
        r.subject == subject and r.object == obj and r.predicate == hop.relation_iri for r in snapshot.tables.relations
    ), hop
    expected = ontology_label(snapshot, hop.relation_iri, hop.forward)
    assert dict(hop.relation) == {"en": expected["en"], "ja": expected["ja"]}
    assert hop.relation["en"] != hop.relation["ja"]
    assert hop.evidence
    assert all(c.quote for c in hop.evidence)


def assert_chain(found: ArchitecturePath) -> None:
    assert len(found.hops) == len(found.components) - 1
    for hop, (a, b) in zip(found.hops, zip(found.components, found.components[1:], strict=False), strict=True):
        assert (hop.source, hop.target) == (a, b)


def test_the_sentences_are_in_the_article() -> None:
    assert SYNTHETIC_SENTENCE.startswith("仮想マシンからの命令やI/O要求は、「VSC(Virtualization Service Client)」")
    assert SYNTHETIC_SENTENCE.endswith("ハードウェアを利用する。")
    assert EMULATED_SENTENCE.startswith("統合サービスが利用できないゲストOSの場合は")
    assert VIRTUAL_SERVER_SENTENCE.startswith(
        "仮想マシンからの命令やI/O要求は、エミュレートされたデバイス・ドライバから"
    )


# ---- I/O paths -------------------------------------------------------------------------------------------


def test_hyper_v_synthetic_path_hop_by_hop(snapshot: Snapshot) -> None:
    found = io_path(snapshot, "hyper-v", IoMode.SYNTHETIC)
    assert found is not None
    assert found.mode is IoMode.SYNTHETIC
    assert ids(found) == SYNTHETIC_IDS
    assert_chain(found)
    for hop in found.hops:
        assert hop.forward is True
        assert hop.relation_iri == VOCAB + "sendsIoTo"
        assert dict(hop.relation) == {"en": "sends I/O to", "ja": "にI/O要求を渡す"}
        assert_hop_is_documented(snapshot, hop)
        assert SYNTHETIC_SENTENCE in [c.quote for c in hop.evidence]
        assert all(c.quote in ARTICLE for c in hop.evidence)
        assert all(c.section == "Hyper-Vのアーキテクチャ" for c in hop.evidence)


def test_hyper_v_emulated_path(snapshot: Snapshot) -> None:
    found = io_path(snapshot, "hyper-v", IoMode.EMULATED)
    assert found is not None
    assert found.mode is IoMode.EMULATED
    assert ids(found)[0] == "hyper-v-virtual-machine"
    assert ids(found)[-1] == "physical-hardware"
    assert not {"vsc", "vmbus", "vsp"} & set(ids(found))
    assert_chain(found)
    for hop in found.hops:
        assert hop.forward is True
        assert_hop_is_documented(snapshot, hop)
        assert EMULATED_SENTENCE in [c.quote for c in hop.evidence]


def test_virtual_server_emulated_path(snapshot: Snapshot) -> None:
    found = io_path(snapshot, "virtual-server-2005-r2", IoMode.EMULATED)
    assert found is not None
    assert found.mode is IoMode.EMULATED
    assert ids(found) == VIRTUAL_SERVER_IDS
    assert_chain(found)
    for hop in found.hops:
        assert hop.forward is True
        assert_hop_is_documented(snapshot, hop)
        assert VIRTUAL_SERVER_SENTENCE in [c.quote for c in hop.evidence]


def test_products_without_a_documented_path(snapshot: Snapshot) -> None:
    assert io_path(snapshot, "virtual-server-2005-r2", IoMode.SYNTHETIC) is None
    assert io_path(snapshot, "vmware-esx", IoMode.SYNTHETIC) is None
    assert io_path(snapshot, "vmware-esx", IoMode.EMULATED) is None


def test_hop_order_in_the_data_agrees_with_the_computed_route(snapshot: Snapshot) -> None:
    assert len(snapshot.tables.io_paths) == 3
    for definition in snapshot.tables.io_paths:
        found = io_path(snapshot, definition.product, definition.mode)
        assert found is not None
        ordered = sorted((r for r in snapshot.tables.relations if r.path == definition.iri), key=lambda r: r.order or 0)
        assert [r.order for r in ordered] == list(range(1, len(ordered) + 1))
        assert [(r.subject, r.object) for r in ordered] == [(h.source.id, h.target.id) for h in found.hops]
        assert ordered[0].subject == definition.start
        assert ordered[-1].object == definition.end


def test_contract_example_synthetic_io_path(snapshot: Snapshot) -> None:
    found = io_path(snapshot, "hyper-v", IoMode.SYNTHETIC)
    assert found is not None
    labels = [c.label["en"] for c in found.components]
    positions = [
        next(i for i, label in enumerate(labels) if word in label)
        for word in ("VSC", "VMBus", "VSP", "driver", "hardware")
    ]
    assert positions == sorted(positions)
    assert len(set(positions)) == 5


# ---- the product's own path: io_path with no mode -------------------------------------------------------

NATIVE_PATH = URIRef(VOCAB + "nativePath")
IO_MODE = URIRef(VOCAB + "ioMode")
KG = "https://hyperv-kg.example.org/id/"


def test_with_no_mode_each_product_answers_its_own_path(snapshot: Snapshot) -> None:
    # What the article says: Hyper-V's design is the VMBus path (emulation is the fallback for guests without
    # integration services, "like Virtual Server"); Virtual Server 2005 R2 has only the emulated one.
    expected = {"hyper-v": IoMode.SYNTHETIC, "virtual-server-2005-r2": IoMode.EMULATED, "vmware-esx": None}
    assert set(expected) == set(snapshot.tables.products)
    for product, mode in expected.items():
        own = io_path(snapshot, product)
        if mode is None:
            assert own is None
            continue
        assert own is not None, product
        assert own.mode is mode
        # one memo entry per (product, mode): the own path is the very answer asked for by its mode
        assert own is io_path(snapshot, product, mode)
        assert own.components[-1].id == "physical-hardware"
        assert all(hop.forward for hop in own.hops)


def test_the_own_path_is_data(snapshot: Snapshot) -> None:
    """Which path is a product's own is read from the graph's hv:nativePath, and the answer agrees with it."""
    for product in snapshot.tables.products.values():
        own = list(snapshot.graph.objects(URIRef(product.iri), NATIVE_PATH))
        found = io_path(snapshot, product.id)
        if not own:
            assert found is None
            continue
        (path_iri,) = own
        (mode,) = snapshot.graph.objects(path_iri, IO_MODE)
        assert found is not None
        assert found.mode is IoMode(str(mode)[len(KG) :])
        assert snapshot.tables.native_paths[product.id] == str(path_iri)
        # the fact cites the passages it rests on
        assert product.iri in snapshot.tables.citations


def test_the_synthetic_path_is_not_virtual_servers_default(snapshot: Snapshot) -> None:
    """The defect: with SYNTHETIC as everyone's default, Virtual Server 2005 R2 answered no path."""
    found = io_path(snapshot, "virtual-server-2005-r2")
    assert found is not None
    assert ids(found) == VIRTUAL_SERVER_IDS


def test_io_path_of_an_unknown_product_is_bad_input(snapshot: Snapshot) -> None:
    with pytest.raises(BadInput) as raised:
        io_path(snapshot, "nope")
    assert raised.value.argument == "product"
    assert raised.value.message["ja"] != raised.value.message["en"]


@pytest.mark.parametrize(
    ("old", "new", "resource", "rule", "complaint"),
    [
        (
            "    hv:nativePath kg:io-path-virtual-server-emulated ;\n",
            "",
            "kg:virtual-server-2005-r2",
            "[hv:NativePathShape]",
            "names none as its own",
        ),
        (
            "hv:nativePath kg:io-path-hyper-v-synthetic ;",
            "hv:nativePath kg:io-path-virtual-server-emulated ;",
            "kg:hyper-v",
            "[hv:NativePathShape]",
            "is not one of this product's I/O paths",
        ),
        (
            "hv:nativePath kg:io-path-hyper-v-synthetic ;",
            "hv:nativePath kg:io-path-hyper-v-synthetic , kg:io-path-hyper-v-emulated ;",
            "kg:hyper-v",
            "[hv:ProductShape]",
            "at most one own I/O path",
        ),
    ],
)
def test_a_wrong_own_path_is_refused(
    data_copy: DataLayout, old: str, new: str, resource: str, rule: str, complaint: str
) -> None:
    products = data_copy.root / "graph" / "facts" / "products.ttl"
    source = products.read_text(encoding="utf-8")
    assert old in source
    products.write_text(source.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InvalidGraph) as caught:
        build_snapshot(data_copy)
    problems = [str(p) for p in caught.value.problems]
    assert any(f"{resource} {rule}" in p and complaint in p for p in problems), problems


# ---- verdicts get the path their guest takes -----------------------------------------------------------


@pytest.mark.parametrize(
    ("os", "sp", "arch", "vcpus"),
    [
        ("Windows NT", 6, Architecture.X86, 1),
        ("Windows XP", 0, Architecture.X86, 1),
        ("Windows XP", 2, Architecture.X86, 2),
        ("Windows 2000 Server", 4, Architecture.X64, 1),
        ("Windows 7", 0, Architecture.X64, 1),
    ],
)
def test_an_unsupported_guest_gets_the_path_its_integration_services_give(
    snapshot: Snapshot, os: str, sp: int, arch: Architecture, vcpus: int
) -> None:
    # The contract: integration services depend on the OS, edition, service pack and architecture, never on
    # the processor count; the path follows them (Windows XP SP2 x86 with 2 processors is unsupported, but
    # its integration services install).
    verdict = check_guest(snapshot, "hyper-v", os, None, sp, arch, vcpus)
    assert not verdict.supported
    mode = IoMode.SYNTHETIC if verdict.integration_services else IoMode.EMULATED
    assert verdict.io_path == io_path(snapshot, "hyper-v", mode)


def test_a_supported_guest_gets_the_synthetic_path(snapshot: Snapshot) -> None:
    verdict = check_guest(snapshot, "hyper-v", "Windows Vista", "Business", 1, Architecture.X64, 2)
    assert verdict.supported
    assert verdict.io_path == io_path(snapshot, "hyper-v", IoMode.SYNTHETIC)


# ---- paths between components ----------------------------------------------------------------------------


def distances(snapshot: Snapshot, target: str, directed: bool) -> dict[str, int]:
    """Hops from each component to the target, by a plain breadth-first search over the relations table (not
    over graph.paths' network), walking relations backwards from the target (either way if undirected)."""
    before: dict[str, set[str]] = {}
    for r in snapshot.tables.relations:
        before.setdefault(r.object, set()).add(r.subject)
        if not directed:
            before.setdefault(r.subject, set()).add(r.object)
    found = {target: 0}
    frontier = [target]
    while frontier:
        following = []
        for node in frontier:
            for previous in sorted(before.get(node, ())):
                if previous not in found:
                    found[previous] = found[node] + 1
                    following.append(previous)
        frontier = following
    return found


def assert_route(snapshot: Snapshot, found: ArchitecturePath, source: str, target: str, directed: bool) -> None:
    """A route from source to target whose every hop is a documented relation walked as the hop says, all
    forward when directed, and no longer than the shortest chain of relations."""
    assert found.mode is None
    assert ids(found)[0] == source
    assert ids(found)[-1] == target
    assert_chain(found)
    assert len(set(ids(found))) == len(ids(found))
    for hop in found.hops:
        assert_hop_is_documented(snapshot, hop)
        assert all(c.quote in ARTICLE for c in hop.evidence)
        if directed:
            assert hop.forward is True
    assert len(found.hops) == distances(snapshot, target, directed)[source]


ARTICLE_ROUTE = ["vsc", "vmbus", "vsp", "host-device-driver", "physical-hardware"]


def test_from_the_vsc_to_the_hardware_is_the_articles_route(snapshot: Snapshot) -> None:
    """The defect: this answered VSC → virtual machine → emulated devices → hardware, its first hop backwards.
    The article: 「VSC」からVMBusを通り、ホストOSの「VSP」に渡され、そこからホストOSのデバイス・ドライバ経由で
    ハードウェアを利用する."""
    found = path(snapshot, "vsc", "physical-hardware")
    assert found is not None
    assert ids(found) == ARTICLE_ROUTE
    assert_route(snapshot, found, "vsc", "physical-hardware", directed=True)
    for hop in found.hops:
        assert hop.relation_iri == VOCAB + "sendsIoTo"
        assert SYNTHETIC_SENTENCE in [c.quote for c in hop.evidence]
    # The same with directed=True spelt out.
    assert path(snapshot, "vsc", "physical-hardware", directed=True) == found


def test_undirected_the_route_may_walk_backwards_and_says_so(snapshot: Snapshot) -> None:
    found = path(snapshot, "vsc", "physical-hardware", directed=False)
    assert found is not None
    assert_route(snapshot, found, "vsc", "physical-hardware", directed=False)
    assert len(found.hops) < len(ARTICLE_ROUTE) - 1  # a shorter way exists only against a relation
    backward = [hop for hop in found.hops if not hop.forward]
    assert backward
    for hop in backward:
        assert dict(hop.relation) == ontology_label(snapshot, hop.relation_iri, forward=False)


def test_path_forward_and_backward_between_neighbours(snapshot: Snapshot) -> None:
    forward = path(snapshot, "vsc", "vmbus")
    backward = path(snapshot, "vmbus", "vsc", directed=False)
    assert forward is not None
    assert backward is not None
    assert ids(forward) == ["vsc", "vmbus"]
    assert ids(backward) == ["vmbus", "vsc"]
    (f,), (b,) = forward.hops, backward.hops
    assert f.forward is True
    assert b.forward is False
    assert f.relation_iri == b.relation_iri == VOCAB + "sendsIoTo"
    assert dict(f.relation) == {"en": "sends I/O to", "ja": "にI/O要求を渡す"}
    assert dict(b.relation) == {"en": "receives I/O from", "ja": "からI/O要求を受け取る"}
    assert SYNTHETIC_SENTENCE in [c.quote for c in f.evidence]
    assert SYNTHETIC_SENTENCE in [c.quote for c in b.evidence]
    assert_hop_is_documented(snapshot, f)
    assert_hop_is_documented(snapshot, b)
    # Directed, the VMBus reaches the VSC only the long way round, every hop forward.
    around = path(snapshot, "vmbus", "vsc")
    assert around is not None
    assert_route(snapshot, around, "vmbus", "vsc", directed=True)
    assert len(around.hops) > 1


def test_a_backward_hop_is_taken_only_when_asked(snapshot: Snapshot) -> None:
    # Nothing runs from the hardware to anything: every relation that touches it points at it.
    assert path(snapshot, "physical-hardware", "host-device-driver") is None
    found = path(snapshot, "physical-hardware", "host-device-driver", directed=False)
    assert found is not None
    assert ids(found) == ["physical-hardware", "host-device-driver"]
    (hop,) = found.hops
    assert hop.forward is False
    assert dict(hop.relation) == ontology_label(snapshot, hop.relation_iri, forward=False)
    assert hop.relation["en"] == "receives I/O from"


def test_path_to_itself(snapshot: Snapshot) -> None:
    for directed in (True, False):
        found = path(snapshot, "vmbus", "vmbus", directed=directed)
        assert found is not None
        assert ids(found) == ["vmbus"]
        assert found.hops == ()


def test_no_path_is_none(snapshot: Snapshot) -> None:
    # Every component of the shipped graph is connected (through the hardware both products share), so cut
    # the one relation that reaches Virtual Server's service and ask again.
    network = snapshot.network.copy()
    cut = [(u, v, k) for u, v, k in network.edges(keys=True) if "virtual-server-service" in (u, v)]
    assert cut
    network.remove_edges_from(cut)
    cut_off = dataclasses.replace(snapshot, network=network)
    for directed in (True, False):
        assert path(cut_off, "vsc", "virtual-server-service", directed=directed) is None
        assert path(cut_off, "virtual-server-service", "vsc", directed=directed) is None
    assert path(snapshot, "vsc", "virtual-server-service", directed=False) is not None


@pytest.mark.parametrize("product", ["hyper-v", "virtual-server-2005-r2"])
def test_every_ordered_pair_of_a_products_components(snapshot: Snapshot, product: str) -> None:
    """Both directions of every pair: directed, a path exactly when the relations lead there, all forward;
    undirected, a path between any two connected components, backward hops marked as such."""
    own = sorted(c.id for c in snapshot.tables.products[product].components)
    assert len(own) >= 8
    directed_none = 0
    for target in own:
        reach = distances(snapshot, target, directed=True)
        connected = distances(snapshot, target, directed=False)
        for source in own:
            found = path(snapshot, source, target)
            if source not in reach:
                assert found is None, (source, target)
                directed_none += 1
            else:
                assert found is not None, (source, target)
                assert_route(snapshot, found, source, target, directed=True)
            loose = path(snapshot, source, target, directed=False)
            assert source in connected  # each product's components hang together
            assert loose is not None, (source, target)
            assert_route(snapshot, loose, source, target, directed=False)
            if found is not None:
                assert len(loose.hops) <= len(found.hops)
                if len(loose.hops) == len(found.hops):
                    # a route against no relation is preferred to one as short that walks one backwards
                    assert all(hop.forward for hop in loose.hops)
    # Direction matters: some pairs have no directed path at all (e.g. from the hardware up).
    assert directed_none > 0


def test_every_pair_of_all_components(snapshot: Snapshot) -> None:
    components = sorted(snapshot.tables.components)
    assert len(components) == 20
    for target in components:
        reach = distances(snapshot, target, directed=True)
        connected = distances(snapshot, target, directed=False)
        for source in components:
            for directed, known in ((True, reach), (False, connected)):
                found = path(snapshot, source, target, directed=directed)
                assert (found is not None) == (source in known), (source, target, directed)
                if found is not None:
                    assert_route(snapshot, found, source, target, directed)


COMPONENT_IDS = sorted(build_snapshot().tables.components)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    source=st.sampled_from(COMPONENT_IDS),
    target=st.sampled_from(COMPONENT_IDS),
    directed=st.booleans(),
    shuffle=st.randoms(use_true_random=False),
)
def test_paths_hold_whatever_the_order_the_graph_was_loaded_in(
    snapshot: Snapshot, source: str, target: str, directed: bool, shuffle: random.Random
) -> None:
    """For any pair and either direction: a shortest documented route, all forward when directed, and the
    same answer when the relations are loaded in another order (the preference among routes is stable)."""
    found = path(snapshot, source, target, directed=directed)
    reach = distances(snapshot, target, directed)
    assert (found is not None) == (source in reach)
    if found is None:
        return
    assert_route(snapshot, found, source, target, directed)
    # Going back the same way undirected is as long (the undirected relation is symmetric).
    if not directed:
        back = path(snapshot, target, source, directed=False)
        assert back is not None
        assert len(back.hops) == len(found.hops)
    edges = list(snapshot.network.edges(keys=True, data=True))
    nodes = list(snapshot.network.nodes)
    shuffle.shuffle(edges)
    shuffle.shuffle(nodes)
    network = nx.MultiDiGraph()
    network.add_nodes_from(nodes)
    network.add_edges_from(edges)
    reloaded = dataclasses.replace(snapshot, network=network)
    assert path(reloaded, source, target, directed=directed) == found


@pytest.mark.parametrize(
    ("source", "target", "argument"),
    [("nope", "vsc", "from"), ("vsc", "nope", "to"), ("", "vsc", "from"), ("vsc", "VSC", "to")],
)
def test_unknown_component_is_bad_input(snapshot: Snapshot, source: str, target: str, argument: str) -> None:
    for directed in (True, False):
        with pytest.raises(BadInput) as raised:
            path(snapshot, source, target, directed=directed)
        assert raised.value.argument == argument
        assert "unknown component" in raised.value.message["en"]
        assert repr(source if argument == "from" else target) in raised.value.message["en"]
        assert raised.value.message["ja"] != raised.value.message["en"]
        assert argument in str(raised.value)


# ---- layers ---------------------------------------------------------------------------------------------


def test_hyper_v_layers_from_hardware_up(snapshot: Snapshot) -> None:
    stack = layers(snapshot, "hyper-v")
    assert [layer.position for layer in stack] == [1, 2, 3, 4]
    assert [{c.id for c in layer.components} for layer in stack] == [
        {"physical-hardware"},
        {"windows-hypervisor"},
        {"parent-partition", "child-partition"},
        {"hyper-v-host-os", "hyper-v-virtual-machine"},
    ]
    for layer in stack:
        assert layer.label["en"]
        assert layer.label["ja"]
        assert layer.evidence
        assert all(c.quote in ARTICLE for c in layer.evidence)
    assert any("OSと物理マシンの間に位置している" in c.quote for c in stack[1].evidence)


def test_virtual_server_layers_from_hardware_up(snapshot: Snapshot) -> None:
    stack = layers(snapshot, "virtual-server-2005-r2")
    assert [layer.position for layer in stack] == [1, 2, 3, 4]
    assert [{c.id for c in layer.components} for layer in stack] == [
        {"physical-hardware"},
        {"virtual-server-host-os"},
        {"virtual-server-application", "virtual-server-service", "virtual-server-vmm"},
        {"virtual-server-virtual-machine"},
    ]
    for layer in stack:
        assert layer.evidence
        assert all(c.quote in ARTICLE for c in layer.evidence)
    assert any("ホストOS上にインストールされる1つのアプリケーション" in c.quote for c in stack[2].evidence)


def test_vmware_esx_has_no_layers_because_the_article_does_not_describe_it(snapshot: Snapshot) -> None:
    assert layers(snapshot, "vmware-esx") == ()
