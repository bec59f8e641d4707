"""Architecture paths (graph.paths): I/O paths hop by hop, paths between components, layers.

The expected evidence sentences are cut out of graph/sources/article-ja.txt here, and the relation labels are
read from the ontology's own triples, so the tests do not take the answer's word for either.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDFS

from graph.model import Architecture, ArchitecturePath, BadInput, Hop, IoMode
from graph.paths import io_path, layers, path
from graph.snapshot import Snapshot, build_snapshot
from graph.verdicts import check_guest

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (ROOT / "graph" / "sources" / "article-ja.txt").read_text(encoding="utf-8")
VOCAB = "https://hyperv-kg.example.org/id/ontology/"
INVERSE_LABEL = URIRef(VOCAB + "inverseLabel")


def sentence(pattern: str) -> str:
    """The one sentence of the article that matches the pattern, from its start to its 。."""
    found = re.findall(r"[^。\n]*" + pattern + r"[^。\n]*。", ARTICLE)
    assert len(found) == 1, found
    return found[0]


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


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return build_snapshot()


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
def test_an_unsupported_guest_gets_the_emulated_path(
    snapshot: Snapshot, os: str, sp: int, arch: Architecture, vcpus: int
) -> None:
    verdict = check_guest(snapshot, "hyper-v", os, None, sp, arch, vcpus)
    assert not verdict.supported
    assert not verdict.integration_services
    assert verdict.io_path == io_path(snapshot, "hyper-v", IoMode.EMULATED)


def test_a_supported_guest_gets_the_synthetic_path(snapshot: Snapshot) -> None:
    verdict = check_guest(snapshot, "hyper-v", "Windows Vista", "Business", 1, Architecture.X64, 2)
    assert verdict.supported
    assert verdict.io_path == io_path(snapshot, "hyper-v", IoMode.SYNTHETIC)


# ---- paths between components --------------------------------------------------------------------------


def test_path_forward_and_backward_between_neighbours(snapshot: Snapshot) -> None:
    forward = path(snapshot, "vsc", "vmbus")
    backward = path(snapshot, "vmbus", "vsc")
    assert forward is not None
    assert backward is not None
    assert forward.mode is None
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


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("vsc", "physical-hardware"),
        ("host-device-driver", "hyper-v-virtual-machine"),
        ("integration-services", "vmbus"),
        ("hyper-v-guest-os", "windows-hypervisor"),
        ("virtual-server-virtual-machine", "virtual-server-service"),
    ],
)
def test_path_in_both_directions(snapshot: Snapshot, source: str, target: str) -> None:
    there = path(snapshot, source, target)
    back = path(snapshot, target, source)
    assert there is not None
    assert back is not None
    assert ids(there)[0] == source
    assert ids(there)[-1] == target
    assert ids(back)[0] == target
    assert ids(back)[-1] == source
    assert len(there.hops) == len(back.hops) >= 1
    for found in (there, back):
        assert_chain(found)
        assert len(set(ids(found))) == len(ids(found))
        for hop in found.hops:
            assert_hop_is_documented(snapshot, hop)


def test_a_backward_hop_uses_the_inverse_label(snapshot: Snapshot) -> None:
    found = path(snapshot, "physical-hardware", "host-device-driver")
    assert found is not None
    assert ids(found) == ["physical-hardware", "host-device-driver"]
    (hop,) = found.hops
    assert hop.forward is False
    assert dict(hop.relation) == ontology_label(snapshot, hop.relation_iri, forward=False)
    assert hop.relation["en"] == "receives I/O from"


def test_path_to_itself(snapshot: Snapshot) -> None:
    found = path(snapshot, "vmbus", "vmbus")
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
    assert path(cut_off, "vsc", "virtual-server-service") is None
    assert path(cut_off, "virtual-server-service", "vsc") is None
    assert path(snapshot, "vsc", "virtual-server-service") is not None


def test_every_path_between_any_two_components_is_documented(snapshot: Snapshot) -> None:
    components = sorted(snapshot.tables.components)
    assert len(components) == 20
    found_pairs = set()
    for source in components:
        for target in components:
            found = path(snapshot, source, target)
            if found is None:
                continue
            found_pairs.add((source, target))
            assert ids(found)[0] == source
            assert ids(found)[-1] == target
            assert_chain(found)
            for hop in found.hops:
                assert hop.evidence, (source, target, hop.source.id, hop.target.id)
                assert all(c.quote in ARTICLE for c in hop.evidence)
    # within a product at least, every component reaches every other
    for product in ("hyper-v", "virtual-server-2005-r2"):
        own = [c.id for c in snapshot.tables.products[product].components]
        assert len(own) >= 8
        assert {(a, b) for a in own for b in own} <= found_pairs, product


@pytest.mark.parametrize(
    ("source", "target", "argument"),
    [("nope", "vsc", "from"), ("vsc", "nope", "to"), ("", "vsc", "from"), ("vsc", "VSC", "to")],
)
def test_unknown_component_is_bad_input(snapshot: Snapshot, source: str, target: str, argument: str) -> None:
    with pytest.raises(BadInput) as raised:
        path(snapshot, source, target)
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
