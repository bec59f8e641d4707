"""graph/tables.py reads the named queries' rows on pyoxigraph as plain strings.

An engine lists unordered rows in whatever order its store gives them, and Oxigraph's depends on the order the
triples went in. The tables must not: what a portal lists (alternative names, rows, citations) is the same
whichever order the graph was loaded in. Each example loads the article's graph in another order.
"""

from __future__ import annotations

import random

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oxrdflib._converter import to_ox

from graph.layout import DataLayout
from graph.loading import Loaded, load_files
from graph.tables import Tables, build_tables


@pytest.fixture(scope="module")
def loaded() -> Loaded:
    found, problems = load_files(DataLayout())
    assert found is not None, problems
    return found


@pytest.fixture(scope="module")
def reference(loaded: Loaded) -> Tables:
    return tables_in_order(loaded, seed=None)


def tables_in_order(loaded: Loaded, seed: int | None) -> Tables:
    triples = sorted(loaded.graph, key=lambda t: tuple(x.n3() for x in t))
    if seed is not None:
        random.Random(seed).shuffle(triples)  # noqa: S311 - a load order, not a secret
    store = ox.Store()
    store.bulk_extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in triples)  # type: ignore[arg-type]
    return build_tables(store, loaded.queries)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_the_tables_do_not_depend_on_the_order_the_graph_was_loaded_in(
    loaded: Loaded, reference: Tables, seed: int
) -> None:
    assert tables_in_order(loaded, seed) == reference


def test_labels_keep_their_language_and_booleans_their_value(reference: Tables) -> None:
    """The language is the row's ?lang (queries/labels.rq); an xsd:boolean is read from its lexical form."""
    os = "https://hyperv-kg.example.org/id/windows-server-2008"
    assert set(reference.labels[os]) == {"en", "ja"}
    assert reference.labels[os]["en"] == "Windows Server 2008"
    assert any(not ch.isascii() for name in reference.alt_labels[os] for ch in name)  # the katakana names
    assert list(reference.alt_labels[os]) == sorted(reference.alt_labels[os])
    unlimited: dict[str, set[bool]] = {}
    for row in reference.license_rows:
        unlimited.setdefault(row.edition.id, set()).add(row.unlimited)
    assert unlimited["windows-server-2008-datacenter"] == {True}
    assert unlimited["windows-server-2008-standard"] == {False}


@given(lexical=st.sampled_from(["true", "false", "1", "0"]))
def test_a_boolean_reads_as_rdflib_reads_it(lexical: str) -> None:
    """xsd:boolean's lexical space is true, false, 1 and 0; a row gives the lexical form as written."""
    from rdflib import Literal
    from rdflib.namespace import XSD

    from graph.tables import _true

    assert _true(lexical) is Literal(lexical, datatype=XSD.boolean).toPython()
