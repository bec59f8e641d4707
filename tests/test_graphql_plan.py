"""A planned answer (server.graphql.plan) is graphql-core's answer, key for key and in the same order.

Every portal operation, with the contract's example variables and a spread of others, is planned and answered as
graphql-core answers it (with the plan set aside, and by `graphql.execute` itself); documents generated from the
schema (hypothesis-graphql), written again with aliases, fragments, repeated fields, directives and variables,
answer alike too. What a plan does not do gets no plan; what a plan meets at run time (bad input, a null in a
non-null field, a value that does not serialize, a variable of the wrong type) is answered by graphql-core, with
its errors and paths; the plan converts variable arguments per request.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import random
import re
from collections import Counter
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphql
import hypothesis_graphql
import pytest
from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLUnionType,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    ast_from_value,
    get_named_type,
    get_operation_ast,
    is_non_null_type,
    parse,
    parse_type,
    print_ast,
)
from graphql.utilities import value_from_ast_untyped
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph import catalog
from graph.layout import BASE
from graph.snapshot import Snapshot
from server.graphql import execution, products, tables, types
from server.graphql.execution import SCHEMA, GraphQLRequest, prepare
from server.graphql.plan import Plan, make_plan, run_plan
from server.graphql.types import Context
from tests import contract
from tests.contract import pending_operation, xfail_if_pending

ROOT = Path(__file__).resolve().parents[1]
OPERATIONS = {Path(file).stem: text for file, text in contract.OPERATIONS.items()}
EXAMPLES = contract.EXAMPLES
IDE_OPERATIONS = ROOT / "server" / "static" / "graphiql" / "operations"
IDE_INDEX = json.loads((IDE_OPERATIONS / "index.json").read_text())
CORE = SCHEMA._schema
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
OMIT = object()  # a variable left out of the request


# --- answering both ways --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    body: dict[str, Any]
    planned: bool  # the plan gave the answer (graphql-core's executor was not called)


@dataclass
class Answers:
    """Answers a request with the plan, and again with the plan set aside, and holds that both are one answer."""

    context: Context = field(repr=False)
    core_calls: int = 0  # calls of execution.graphql_execute
    plan_runs: list[str] = field(default_factory=list)  # what each run_plan did: "data" or the exception's name

    def planned(self, request: GraphQLRequest) -> Outcome:
        before = self.core_calls
        body = execution.execute(request, self.context)
        return Outcome(body, self.core_calls == before)

    def unplanned(self, request: GraphQLRequest) -> dict[str, Any]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                execution, "prepare", lambda query, name: dataclasses.replace(prepare(query, name), plan=None)
            )
            runs = len(self.plan_runs)
            body = execution.execute(request, self.context)
            assert len(self.plan_runs) == runs  # no plan ran
            return body

    def alike(self, request: GraphQLRequest) -> Outcome:
        outcome = self.planned(request)
        expected = self.unplanned(request)
        assert outcome.body == expected, request
        assert json.dumps(outcome.body, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False), request
        self.graphql_core_agrees(request, outcome.body)
        return outcome

    def graphql_core_agrees(self, request: GraphQLRequest, body: dict[str, Any]) -> None:
        """graphql-core's own execute, with no help from server.graphql.execution: the same data and error paths."""
        prepared = prepare(request.query, request.operation_name)
        if prepared.document is None:
            return
        result = graphql.execute(
            CORE,
            prepared.document,
            context_value=self.context,
            variable_values=request.variables,
            operation_name=request.operation_name,
        )
        assert not isinstance(result, Awaitable)
        assert json.dumps(body.get("data"), ensure_ascii=False) == json.dumps(result.data, ensure_ascii=False)
        assert [e.get("path") for e in body.get("errors", [])] == [e.path for e in result.errors or []]


@pytest.fixture
def answers(snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch) -> Answers:
    found = Answers(Context(snapshot, "plan-test"))
    core_execute = execution.graphql_execute

    def counted(*args: Any, **kwargs: Any) -> Any:
        found.core_calls += 1
        return core_execute(*args, **kwargs)

    def spied(plan: Plan, executor: Any) -> dict[str, Any]:
        try:
            data = run_plan(plan, executor)
        except Exception as err:
            found.plan_runs.append(type(err).__name__)
            raise
        found.plan_runs.append("data")
        return data

    monkeypatch.setattr(execution, "graphql_execute", counted)
    monkeypatch.setattr(execution, "run_plan", spied)
    return found


def request(query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None) -> GraphQLRequest:
    sent = None if variables is None else {k: v for k, v in variables.items() if v is not OMIT}
    return GraphQLRequest(query, sent, operation_name)


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


# --- 1. the portals' operations ---------------------------------------------------------------------------------

ARCHITECTURES = ("X86", "X64")
LANGS: tuple[object, ...] = ("EN", "JA", OMIT, None)
VCPUS = (1, 2, 3, 4, 5, 6, 7, 8, 0, -1)
MORE_NAMES = (
    "Windows NT",
    "XP",
    "SLES 10",
    "Win2000",
    "windows xp professional",
    "Windws XP",
    "Windows Server 2009",
    "Linux",
    "ウィンドウズ",
    "",
    "   ",
    "x" * 300,
)
MORE_EDITIONS: tuple[object, ...] = (OMIT, None, "", "Home", "professional", "Datacenter Edition", "エンタープライズ")


def os_names(snapshot: Snapshot) -> list[str]:
    """Every operating system of every product's tables by id, English and Japanese name (as written, in capitals,
    in lower case with spaces around), and names that match loosely or not at all."""
    systems = [row.operating_system for row in catalog.licensing(snapshot)]
    for product in catalog.products(snapshot):
        rows = (*catalog.guest_support(snapshot, product.id), *catalog.host_support(snapshot, product.id))
        systems.extend(row.operating_system for row in rows)
    names: dict[str, None] = {}
    for system in systems:
        for name in (system.id, *system.label.values()):
            names.update(dict.fromkeys((name, name.upper(), f"  {name.lower()}  ")))
    names.update(dict.fromkeys(MORE_NAMES))
    return list(names)


def edition_names(snapshot: Snapshot) -> list[object]:
    found: dict[object, None] = {}
    for product in catalog.products(snapshot):
        rows = (*catalog.guest_support(snapshot, product.id), *catalog.host_support(snapshot, product.id))
        for edition in (e for row in rows for e in row.editions):
            found.update(dict.fromkeys((edition.id, *edition.label.values())))
    found.update(dict.fromkeys(MORE_EDITIONS))
    return list(found)


def product_ids(snapshot: Snapshot) -> list[str]:
    return [p.id for p in catalog.products(snapshot)] + ["Hyper-V", "no-such-product", ""]


def check_guest_variables(snapshot: Snapshot) -> Iterator[dict[str, Any]]:
    names, editions, products = os_names(snapshot), edition_names(snapshot), product_ids(snapshot)
    count = itertools.count()
    # every name, with each architecture and service pack 0-3; the rest turns round
    for name, arch, sp in itertools.product(names, ARCHITECTURES, range(4)):
        i = next(count)
        yield {
            "product": products[i % len(products)] if i % 3 == 0 else OMIT,
            "os": name,
            "edition": editions[i % len(editions)],
            "sp": sp,
            "arch": arch,
            "vcpus": VCPUS[i % len(VCPUS)],
            "lang": LANGS[i % len(LANGS)],
        }
    # every operating system of the Hyper-V guest table, with each of its editions, none and another's, every
    # service pack 0-3, both architectures and every processor count
    by_os: dict[str, set[str]] = {}
    for row in catalog.guest_support(snapshot, "hyper-v"):
        by_os.setdefault(row.operating_system.label["en"], set()).update(e.label["en"] for e in row.editions)
    for name, own in sorted(by_os.items()):
        for edition, sp, arch, vcpus in itertools.product(
            [*sorted(own), OMIT, "Ultimate"], range(4), ARCHITECTURES, VCPUS
        ):
            yield {
                "os": name,
                "edition": edition,
                "sp": sp,
                "arch": arch,
                "vcpus": vcpus,
                "lang": LANGS[next(count) % 4],
            }


def check_host_variables(snapshot: Snapshot) -> Iterator[dict[str, Any]]:
    names, editions, count = os_names(snapshot), edition_names(snapshot), itertools.count()
    for name, arch, installation in itertools.product(names, ARCHITECTURES, ("FULL", "SERVER_CORE", OMIT)):
        i = next(count)
        edition = editions[i % len(editions)]
        yield {
            "os": name,
            "edition": "Standard" if edition is OMIT or edition is None else edition,
            "arch": arch,
            "installation": installation,
            "lang": LANGS[i % len(LANGS)],
        }
    for edition, arch, installation, lang in itertools.product(editions, ARCHITECTURES, ("FULL", "SERVER_CORE"), LANGS):
        if edition is not OMIT and edition is not None:
            yield {
                "os": "Windows Server 2008",
                "edition": edition,
                "arch": arch,
                "installation": installation,
                "lang": lang,
            }


def per_product(snapshot: Snapshot, **more: tuple[object, ...]) -> Iterator[dict[str, Any]]:
    keys = list(more)
    for product, lang, *values in itertools.product([*product_ids(snapshot), OMIT], LANGS, *more.values()):
        yield {"product": product, "lang": lang, **dict(zip(keys, values, strict=True))}


def path_variables(snapshot: Snapshot) -> Iterator[dict[str, Any]]:
    components = [*sorted({c.id for p in catalog.products(snapshot) for c in p.components}), "no-such-component", ""]
    for i, (source, target) in enumerate(itertools.product(components, repeat=2)):
        yield {"from": source, "to": target, "lang": LANGS[i % len(LANGS)]}


def search_variables(snapshot: Snapshot) -> Iterator[dict[str, Any]]:
    texts = [
        "VMBus",
        "vmbus",
        "Windows",
        "windows server",
        "hyper",
        "仮想",
        "ハイパーバイザー",
        "",
        " ",
        "x",
        "%",
        "z" * 300,
    ]
    texts += [label for p in catalog.products(snapshot) for label in p.label.values()]
    texts += [c.id for p in catalog.products(snapshot) for c in p.components]
    for text, lang in itertools.product(texts, LANGS):
        yield {"text": text, "lang": lang}


def node_variables(snapshot: Snapshot) -> Iterator[dict[str, Any]]:
    """Every id the graph mints under /id/, and ids that name nothing."""
    ids = [iri.removeprefix(BASE) for iri in snapshot.descriptions]
    for i, node in enumerate([*ids, "no-such-thing", "", " ", "VMBus", "x" * 300]):
        yield {"id": node, "lang": LANGS[i % len(LANGS)]}


def lang_only(snapshot: Snapshot) -> Iterator[dict[str, Any]]:
    for lang in LANGS:
        yield {"lang": lang}


def variable_sets(name: str, snapshot: Snapshot) -> list[dict[str, Any]]:
    examples = [e["variables"] for e in EXAMPLES if e["operation"] == f"{name}.graphql"]
    examples += [o["variables"] for o in IDE_INDEX["operations"] if o["file"] == f"{name}.graphql"]
    spread = {
        "CheckGuest": check_guest_variables,
        "CheckHost": check_host_variables,
        "GuestTable": per_product,
        "HostTable": per_product,
        "Storage": per_product,
        "IoPath": lambda s: per_product(s, mode=("SYNTHETIC", "EMULATED", OMIT)),
        "Path": path_variables,
        "Search": search_variables,
        "Node": node_variables,
        "Licensing": lang_only,
        "Products": lang_only,
    }[name]
    return [*examples, *spread(snapshot)]


def pending_names(names: list[str]) -> list[Any]:
    """Operation names as parameters; those pending in the contract's revision are expected to fail."""
    return [xfail_if_pending(name, pending_operation(f"{name}.graphql"), name) for name in names]


def test_the_portals_operations_and_the_default_query() -> None:
    assert sorted(OPERATIONS) == [
        "CheckGuest",
        "CheckHost",
        "GuestTable",
        "HostTable",
        "IoPath",
        "Licensing",
        "Node",
        "Path",
        "Products",
        "Search",
        "Storage",
    ]
    assert prepare(IDE_INDEX["defaultQuery"], None).plan is not None


@pytest.mark.parametrize("name", pending_names(sorted(OPERATIONS)))
def test_every_portal_operation_gets_a_plan(name: str) -> None:
    assert prepare(OPERATIONS[name], None).plan is not None
    assert prepare((IDE_OPERATIONS / f"{name}.graphql").read_text(), None).plan is not None


@pytest.mark.parametrize("name", pending_names(sorted(OPERATIONS)))
def test_portal_operations_answer_as_graphql_core_does(name: str, snapshot: Snapshot, answers: Answers) -> None:
    query = OPERATIONS[name]
    assert prepare(query, None).plan is not None
    seen = Counter[str]()
    for variables in variable_sets(name, snapshot):
        outcome = answers.alike(request(query, variables))
        # the plan answers whatever has no error; graphql-core only what has one
        assert outcome.planned == ("errors" not in outcome.body), variables
        seen["planned" if outcome.planned else "graphql-core"] += 1
        seen.update(codes(outcome.body))
    assert seen["planned"] > 0
    assert set(seen) <= {"planned", "graphql-core", "BAD_USER_INPUT"}, seen  # nothing internal
    if name in ("CheckGuest", "CheckHost"):
        assert seen["planned"] >= 100 and seen["BAD_USER_INPUT"] > 0, seen


@pytest.mark.parametrize(
    "item", [xfail_if_pending(item, pending_operation(item["file"]), item["file"]) for item in IDE_INDEX["operations"]]
)
def test_the_operations_of_one_document_are_planned_each_by_name(item: dict[str, Any], answers: Answers) -> None:
    """The portals' operations in one document: the plan is made for the operation that operationName picks.
    The document holds every operation that is not pending in the contract's revision (one that the schema does not
    meet yet would make the whole document invalid), and this one."""
    name = item["file"].removesuffix(".graphql")
    document = "\n".join(
        text for other, text in OPERATIONS.items() if other == name or not pending_operation(f"{other}.graphql")
    )
    prepared, alone = prepare(document, name), prepare(OPERATIONS[name], None)
    assert prepared.plan is not None and alone.plan is not None
    assert [f.key for f in prepared.plan.fields] == [f.key for f in alone.plan.fields]
    outcome = answers.alike(request(document, item["variables"], name))
    assert outcome.planned and "errors" not in outcome.body
    assert outcome.body == answers.planned(request(OPERATIONS[name], item["variables"])).body


@pytest.mark.parametrize(
    "item", [xfail_if_pending(item, pending_operation(item["file"]), item["file"]) for item in IDE_INDEX["operations"]]
)
def test_the_graphiql_tabs_answer_as_graphql_core_does(item: dict[str, Any], answers: Answers) -> None:
    query = (IDE_OPERATIONS / item["file"]).read_text()
    assert prepare(query, None).plan is not None
    outcome = answers.alike(request(query, item["variables"]))
    assert outcome.planned and "errors" not in outcome.body and outcome.body["data"]


@pytest.mark.parametrize("lang", ["EN", "JA", OMIT])
def test_the_graphiql_default_query_answers_as_graphql_core_does(lang: object, answers: Answers) -> None:
    outcome = answers.alike(request(IDE_INDEX["defaultQuery"], {"lang": lang}))
    assert outcome.planned and outcome.body["data"]["products"]


# --- 2. generated documents -------------------------------------------------------------------------------------

TYPENAME = FieldNode(name=NameNode(value="__typename"), directives=(), arguments=())
INTROSPECTION = tuple(
    parse(text).definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]
    for text in ("{ __schema { queryType { name } } }", '{ __type(name: "Product") { name fields { name } } }')
)
WRONG_VALUES = {"String": 5, "ID": True, "Int": "two", "Boolean": "yes"}
PRODUCT_IDS = ("hyper-v", "virtual-server-2005-r2", "vmware-esx")
COMPONENT_IDS = ("vsc", "vmbus", "vsp", "physical-hardware", "windows-hypervisor", "virtual-server-vmm")
# Values that name something in the graph, put in place of most generated arguments: generated text names nothing,
# and a request with bad input is graphql-core's to answer, so without these few answers would be the plan's.
KNOWN: dict[str, tuple[object, ...]] = {
    "product": PRODUCT_IDS,
    "id": PRODUCT_IDS,
    "operatingSystem": ("Windows XP", "Windows Server 2008", "windows-vista", "SLES 10", "Windows NT", "Windws XP"),
    "edition": ("Enterprise", "Professional", "Standard", None),
    "servicePack": (0, 1, 2, 3),
    "virtualProcessors": (1, 2, 4, 8),
    "from": COMPONENT_IDS,
    "to": COMPONENT_IDS,
    "text": ("VMBus", "Windows", "仮想"),
}


class Rewriter:
    """A generated document written again the ways a client may write a request: aliases, `__typename`, the same
    field twice, inline and named fragments on the type they are spread in, @skip/@include, variables in place of
    literal arguments (given, left to their default, left out or of the wrong type), now and then introspection."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        # about half the documents stay within what a plan does; the others may use what it does not
        self.unplannable = 1.0 if rng.random() < 0.5 else 0.0
        self.fragments: list[FragmentDefinitionNode] = []
        self.variables: list[VariableDefinitionNode] = []
        self.values: dict[str, Any] = {}
        self.names = itertools.count()

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self.names)}"

    def request(self, generated: DocumentNode) -> GraphQLRequest:
        operation = generated.definitions[0]
        assert isinstance(operation, OperationDefinitionNode) and CORE.query_type is not None
        selection_set = self.selection_set(CORE.query_type, operation.selection_set)
        if self.chance(0.1 * self.unplannable):
            introspection = self.rng.choice(INTROSPECTION)
            selection_set = SelectionSetNode(selections=(*selection_set.selections, introspection))
        named = self.chance(0.5)
        rewritten = OperationDefinitionNode(
            operation=OperationType.QUERY,
            name=NameNode(value="Generated") if named else None,
            variable_definitions=tuple(self.variables),
            directives=(),
            selection_set=selection_set,
        )
        text = print_ast(DocumentNode(definitions=(rewritten, *self.fragments)))
        return GraphQLRequest(text, self.values or None, "Generated" if named and self.chance(0.5) else None)

    def selection_set(
        self, parent: GraphQLObjectType | GraphQLInterfaceType, node: SelectionSetNode
    ) -> SelectionSetNode:
        selections: list[SelectionNode] = []
        for selection in node.selections:
            if isinstance(selection, InlineFragmentNode):  # "... on Component" inside a Node selection
                assert selection.type_condition is not None
                on = CORE.get_type(selection.type_condition.name.value)
                assert isinstance(on, GraphQLObjectType | GraphQLInterfaceType)
                below = self.selection_set(on, selection.selection_set)
                selections.append(dataclasses.replace(selection, selection_set=below))
                continue
            assert isinstance(selection, FieldNode)
            selections.extend(self.field(parent, selection))
        if self.chance(0.1):
            typename = TYPENAME
            if self.chance(0.5):
                typename = dataclasses.replace(TYPENAME, alias=NameNode(value=self.fresh("t")))
            selections.insert(self.rng.randrange(len(selections) + 1), typename)
        return SelectionSetNode(selections=tuple(selections))

    def field(self, parent: GraphQLObjectType | GraphQLInterfaceType, node: FieldNode) -> list[SelectionNode]:
        definition = parent.fields[node.name.value]
        arguments = tuple(self.argument(definition.args[a.name.value], a) for a in node.arguments)
        below = None
        if node.selection_set is not None:
            child = get_named_type(definition.type)
            assert isinstance(child, GraphQLObjectType | GraphQLInterfaceType)
            below = self.selection_set(child, node.selection_set)
        rewritten = dataclasses.replace(node, arguments=arguments, selection_set=below)
        if self.chance(0.15):
            rewritten = dataclasses.replace(rewritten, alias=NameNode(value=self.fresh("a")))
        if self.chance(0.1 * self.unplannable):
            rewritten = dataclasses.replace(rewritten, directives=(self.directive(),))
        selections: list[SelectionNode] = [rewritten]
        if self.chance(0.1 * self.unplannable):
            selections.append(rewritten)  # the same field twice: one key, merged
        roll = self.rng.random()
        directives = (self.directive(),) if self.chance(0.2 * self.unplannable) else ()
        if roll < 0.1:
            condition = NamedTypeNode(name=NameNode(value=parent.name)) if self.chance(0.5) else None
            inline = InlineFragmentNode(
                type_condition=condition,
                directives=directives,
                selection_set=SelectionSetNode(selections=tuple(selections)),
            )
            return [inline]
        if roll < 0.2:
            name = self.fresh("F")
            self.fragments.append(
                FragmentDefinitionNode(
                    name=NameNode(value=name),
                    type_condition=NamedTypeNode(name=NameNode(value=parent.name)),
                    directives=(),
                    selection_set=SelectionSetNode(selections=tuple(selections)),
                )
            )
            return [FragmentSpreadNode(name=NameNode(value=name), directives=directives)]
        return selections

    def directive(self) -> DirectiveNode:
        condition = ArgumentNode(name=NameNode(value="if"), value=BooleanValueNode(value=self.chance(0.5)))
        return DirectiveNode(name=NameNode(value=self.rng.choice(("skip", "include"))), arguments=(condition,))

    def argument(self, definition: GraphQLArgument, node: ArgumentNode) -> ArgumentNode:
        known = KNOWN.get(node.name.value)
        if known is not None and self.chance(0.85):
            chosen = self.rng.choice([v for v in known if v is not None or not is_non_null_type(definition.type)])
            value = NullValueNode() if chosen is None else ast_from_value(chosen, definition.type)
            assert value is not None
            node = dataclasses.replace(node, value=value)
        if not self.chance(0.35):
            return node
        name = self.fresh("v")
        default = node.value if self.chance(0.2) else None
        roll = self.rng.random()
        if roll < 0.15:
            if default is None and is_non_null_type(definition.type):
                self.values[name] = value_from_ast_untyped(node.value)
            # else left out: the variable's default, else the argument's
        elif roll < 0.22:
            named = get_named_type(definition.type)
            self.values[name] = "NO_SUCH_VALUE" if isinstance(named, GraphQLEnumType) else WRONG_VALUES[named.name]
        else:
            self.values[name] = value_from_ast_untyped(node.value)
        self.variables.append(
            VariableDefinitionNode(
                variable=VariableNode(name=NameNode(value=name)),
                type=parse_type(str(definition.type)),
                default_value=default,
                directives=(),
            )
        )
        return dataclasses.replace(node, value=VariableNode(name=NameNode(value=name)))


GENERATED = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def keep_document(document: DocumentNode) -> DocumentNode:
    return document


def test_generated_documents_answer_as_graphql_core_does(answers: Answers) -> None:
    seen = Counter[str]()

    @GENERATED
    # a seed, not st.randoms(): hypothesis's own random draws lean to 0.0, so every rewrite would happen at once
    @given(hypothesis_graphql.queries(CORE, print_ast=keep_document), st.integers(0, 2**32 - 1))
    def check(generated: DocumentNode, seed: int) -> None:
        graphql_request = Rewriter(random.Random(seed)).request(generated)  # noqa: S311 - not for secrets
        prepared = prepare(graphql_request.query, graphql_request.operation_name)
        outcome = answers.alike(graphql_request)
        seen["documents"] += 1
        if prepared.document is None:
            seen.update(codes(outcome.body))
            return
        seen["with a plan" if prepared.plan is not None else "without a plan"] += 1
        seen["answered by the plan" if outcome.planned else "answered by graphql-core"] += 1
        if prepared.plan is None:
            assert not outcome.planned

    check()
    assert seen["GRAPHQL_VALIDATION_FAILED"] == 0, seen  # the rewritten documents are valid
    assert seen["with a plan"] >= seen["documents"] / 3, seen
    assert seen["answered by the plan"] >= seen["documents"] / 4, seen
    assert seen["without a plan"] >= 10 and seen["answered by graphql-core"] >= 20, seen


# --- 3. what gets a plan ----------------------------------------------------------------------------------------

CHECK_GUEST = OPERATIONS["CheckGuest"]
XP_SP3 = {"os": "Windows XP", "edition": "Professional", "sp": 3, "arch": "X86", "vcpus": 2}

UNPLANNED = {
    "skip on a field": "{ products { id label @skip(if: true) } }",
    "include on a field": "query Q($on: Boolean!) { products { id label @include(if: $on) } }",
    "include on a spread": "{ products { id ...Names @include(if: false) } } fragment Names on Product { label iri }",
    "skip on an inline fragment": "{ products { id ... @skip(if: false) { label } } }",
    "a key twice": "{ products { id id } }",
    "a key twice through a fragment": "{ products { id ... on Product { id label } } }",
    "an alias twice": "{ p: products { id } p: products { id } }",
    "schema introspection": "{ __schema { queryType { name } } }",
    "type introspection": '{ products { id } __type(name: "Product") { name } }',
}


@pytest.mark.parametrize("name", UNPLANNED)
def test_what_a_plan_does_not_do_gets_no_plan(name: str, answers: Answers) -> None:
    query = UNPLANNED[name]
    prepared = prepare(query, None)
    assert prepared.document is not None and prepared.errors is None
    assert prepared.plan is None
    outcome = answers.alike(request(query, {"on": name.startswith("include")}))
    assert not outcome.planned and answers.plan_runs == []
    assert "errors" not in outcome.body and outcome.body["data"]


def test_directives_without_a_plan_still_do_what_they_say(answers: Answers) -> None:
    shown = answers.alike(request(UNPLANNED["include on a field"], {"on": True})).body["data"]["products"]
    hidden = answers.alike(request(UNPLANNED["include on a field"], {"on": False})).body["data"]["products"]
    assert all(list(p) == ["id", "label"] for p in shown) and all(list(p) == ["id"] for p in hidden)
    assert list(answers.alike(request(UNPLANNED["a key twice through a fragment"])).body["data"]["products"][0]) == [
        "id",
        "label",
    ]


def test_a_fragment_on_an_unrelated_type_is_refused_and_one_on_the_interface_is_planned(answers: Answers) -> None:
    """The schema's abstract types are the Node interface and the Fact interface that implements it. A fragment on
    a type that cannot overlap its parent is refused before planning; a fragment on an implementing type (or on Fact)
    inside a Node selection applies to that type only, and the plan answers it as graphql-core does."""
    abstract = [t.name for t in CORE.type_map.values() if isinstance(t, GraphQLInterfaceType | GraphQLUnionType)]
    assert sorted(abstract) == ["Fact", "Node"]
    for query in (
        "{ products { id ... on Component { label } } }",
        "{ products { id ...C } } fragment C on Component { label }",
    ):
        prepared = prepare(query, None)
        assert prepared.document is None and prepared.errors is not None
        assert {e["extensions"]["code"] for e in prepared.errors} == {"GRAPHQL_VALIDATION_FAILED"}
    document = parse("{ products { noSuchField } }")  # no plan for a field the type does not have
    assert make_plan(SCHEMA, document, get_operation_ast(document)) is None  # type: ignore[arg-type]
    query = """{
      a: node(id: "vmbus") { __typename id ... on Component { description } ... on Product { architectureStyle } }
      b: node(id: "hyper-v") { __typename id ... on Component { description } ... on Product { architectureStyle } }
      c: node(id: "guest-row-01") { __typename id ... on Node { type } }
      d: node(id: "rule-processors-per-guest") { __typename ... on Fact { basis } ... on Product { id } }
    }"""
    assert prepare(query, None).plan is not None
    body = answers.alike(request(query)).body["data"]
    assert body["a"]["__typename"] == "Component" and "description" in body["a"]
    assert "architectureStyle" not in body["a"]
    assert body["b"]["__typename"] == "Product" and body["b"]["architectureStyle"] == "HYPERVISOR"
    assert body["c"] == {"__typename": "Thing", "id": "guest-row-01", "type": "GuestSupport"}
    assert body["d"] == {"__typename": "Rule", "basis": "STATED"}


def test_aliases_typename_and_fragments_on_the_same_type_are_planned(answers: Answers) -> None:
    query = """
    query Aliased($lang: Lang = EN) {
      kind: __typename
      __typename
      first: products { ...ProductNames __typename }
      hyperV: product(id: "hyper-v") {
        ... on Product { id styled: architectureStyle }
        ... { comps: components { ...Comp kind: __typename } }
        ...ProductNames
      }
      verdict: checkGuest(operatingSystem: "Windows XP", servicePack: 3, architecture: X86) {
        ... { ok: supported }
        reasons { ... on Reason { code text: message(lang: $lang) } }
      }
    }
    fragment ProductNames on Product { ident: id name: label(lang: $lang) en: label(lang: EN) }
    fragment Comp on Component { id label(lang: $lang) }
    """
    assert prepare(query, None).plan is not None
    for lang in ("EN", "JA", OMIT):
        outcome = answers.alike(request(query, {"lang": lang}))
        assert outcome.planned and "errors" not in outcome.body
        data = outcome.body["data"]
        assert list(data) == ["kind", "__typename", "first", "hyperV", "verdict"]
        assert data["kind"] == data["__typename"] == "Query"
        assert (
            list(data["first"][0]) == ["ident", "name", "en", "__typename"]
            and data["first"][0]["__typename"] == "Product"
        )
        assert list(data["hyperV"]) == ["id", "styled", "comps", "ident", "name", "en"]
        assert (
            list(data["hyperV"]["comps"][0]) == ["id", "label", "kind"]
            and data["hyperV"]["comps"][0]["kind"] == "Component"
        )
        assert list(data["verdict"]) == ["ok", "reasons"] and data["verdict"]["ok"] is True
        assert (lang == "JA") == bool(JAPANESE.search(data["hyperV"]["name"] + data["verdict"]["reasons"][0]["text"]))


# --- 4. what a plan meets at run time ---------------------------------------------------------------------------


def test_bad_input_falls_back_to_graphql_cores_errors(answers: Answers) -> None:
    outcome = answers.alike(request(CHECK_GUEST, {**XP_SP3, "vcpus": 0}))
    assert not outcome.planned and answers.plan_runs == ["BadInput"]
    assert outcome.body["data"] is None
    [error] = outcome.body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["argument"] == "virtualProcessors"
    assert error["path"] == ["checkGuest"] and error["locations"]
    assert error["message"].startswith("virtualProcessors:") and JAPANESE.search(error["extensions"]["messageJa"])


def test_an_unknown_product_nested_in_a_list_falls_back_with_its_path(answers: Answers) -> None:
    query = '{ products { id } ioPath(product: "no-such-product") { mode } storageFormats { id } }'
    outcome = answers.alike(request(query))
    assert not outcome.planned and answers.plan_runs == ["BadInput"]
    assert (
        outcome.body["data"]["ioPath"] is None
        and outcome.body["data"]["products"]
        and outcome.body["data"]["storageFormats"]
    )
    assert [(e["path"], e["extensions"]["code"]) for e in outcome.body["errors"]] == [(["ioPath"], "BAD_USER_INPUT")]


def test_a_null_in_a_non_null_field_nulls_the_nearest_nullable_parent(
    answers: Answers, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = '{ search(text: "VMBus") { id } product(id: "hyper-v") { id label components { id } } }'
    before = answers.alike(request(query))
    assert before.planned and before.body["data"]["product"]["label"]
    monkeypatch.setattr(types, "text", lambda value, lang: None)  # every label: None, where String! is owed
    outcome = answers.alike(request(query))
    assert not outcome.planned and answers.plan_runs == ["data", "Fallback"]
    assert outcome.body["data"] == {"search": before.body["data"]["search"], "product": None}
    [error] = outcome.body["errors"]
    assert error["path"] == ["product", "label"] and error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"


def test_a_null_for_a_non_null_object_nulls_the_nearest_nullable_parent(
    answers: Answers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(products, "Component", lambda data: None)  # Hop.from: Component!, none given
    query = "{ products { id } ioPath(mode: EMULATED) { mode hops { from { id } } } }"
    outcome = answers.alike(request(query))
    assert not outcome.planned and answers.plan_runs == ["Fallback"]
    assert outcome.body["data"]["ioPath"] is None and outcome.body["data"]["products"]
    assert [e["path"] for e in outcome.body["errors"]] == [["ioPath", "hops", 0, "from"]]


def test_a_null_in_a_list_of_non_null_items_nulls_the_nearest_nullable_parent(
    answers: Answers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tables, "texts", lambda values, lang: [None for _ in values])
    query = '{ products { id } product(id: "hyper-v") { id guestSupport { editions } } }'
    outcome = answers.alike(request(query))
    assert not outcome.planned and answers.plan_runs == ["Fallback"]
    assert outcome.body["data"]["product"] is None and outcome.body["data"]["products"]
    paths = [e["path"] for e in outcome.body["errors"]]
    assert paths == [["product", "guestSupport", 0, "editions", 0]]


def test_a_value_that_does_not_serialize_falls_back(answers: Answers, monkeypatch: pytest.MonkeyPatch) -> None:
    real = catalog.storage_formats
    monkeypatch.setattr(products, "convert", lambda value, into: "NOT_A_MEMBER")  # enums
    monkeypatch.setattr(
        catalog, "storage_formats", lambda *a: tuple(dataclasses.replace(f, max_size_gb="huge") for f in real(*a))
    )
    query = '{ product(id: "hyper-v") { id architectureStyle } storageFormats { id maxSizeGB } }'
    outcome = answers.alike(request(query))
    assert not outcome.planned and answers.plan_runs == ["GraphQLError"]  # the enum's serialize refused
    formats = [{"id": f.id, "maxSizeGB": None} for f in real(answers.context.snapshot, "hyper-v")]
    assert len(formats) >= 2
    # architectureStyle is non-null: its product is nulled; maxSizeGB is nullable: only it is
    assert outcome.body["data"] == {"product": None, "storageFormats": formats}
    paths = [e["path"] for e in outcome.body["errors"]]
    assert paths == [["product", "architectureStyle"]] + [
        ["storageFormats", i, "maxSizeGB"] for i in range(len(formats))
    ]
    assert set(codes(outcome.body)) == {"INTERNAL_SERVER_ERROR"}


def test_an_unexpected_exception_falls_back_and_is_masked(answers: Answers, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(catalog, "licensing", broken)
    outcome = answers.alike(request("{ products { id } licensing { unlimited } }"))
    assert not outcome.planned and answers.plan_runs == ["RuntimeError"]
    assert outcome.body["data"] is None  # licensing is a non-null list
    [error] = outcome.body["errors"]
    assert error["path"] == ["licensing"] and error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "boom" not in json.dumps(outcome.body)


# --- 5. the fast path ------------------------------------------------------------------------------------------


def test_a_normal_request_never_reaches_graphql_cores_executor(answers: Answers) -> None:
    for variables in (XP_SP3, IDE_INDEX["operations"][0]["variables"]):
        outcome = answers.planned(request(CHECK_GUEST, variables))
        assert outcome.planned and outcome.body["data"]["checkGuest"]["reasons"]
    assert answers.core_calls == 0 and answers.plan_runs == ["data", "data"]


@pytest.mark.parametrize(
    "variables",
    [
        {**XP_SP3, "vcpus": "two"},
        {**XP_SP3, "sp": 1.5},
        {**XP_SP3, "arch": "ARM"},
        {**XP_SP3, "os": None},
        {**XP_SP3, "lang": "FR"},
        {"os": "Windows XP"},  # no architecture
    ],
    ids=["vcpus-two", "sp-float", "arch-unknown", "os-null", "lang-unknown", "arch-missing"],
)
def test_variables_that_do_not_fit_go_to_graphql_core(variables: dict[str, Any], answers: Answers) -> None:
    outcome = answers.alike(request(CHECK_GUEST, variables))
    assert not outcome.planned and answers.plan_runs == []  # refused before any plan ran
    assert answers.core_calls == 2  # planned path's fallback, then the plan set aside
    assert "data" not in outcome.body
    assert codes(outcome.body) == ["BAD_USER_INPUT"]
    assert outcome.body["errors"][0]["locations"] and JAPANESE.search(
        outcome.body["errors"][0]["extensions"]["messageJa"]
    )


# --- 6. arguments per request -----------------------------------------------------------------------------------


def test_variable_arguments_are_converted_per_request(answers: Answers) -> None:
    variables = {"os": "Windows XP", "edition": "Enterprise", "sp": 1, "arch": "X64", "vcpus": 4}
    plan = prepare(CHECK_GUEST, None).plan
    bodies = {}
    for lang in ("EN", "JA", "EN", OMIT, "JA"):
        outcome = answers.alike(request(CHECK_GUEST, {**variables, "lang": lang}))
        assert outcome.planned and prepare(CHECK_GUEST, None).plan is plan  # one plan, many requests
        verdict = outcome.body["data"]["checkGuest"]
        words = [c["label"] for c in verdict["ioPath"]["components"]] + [r["message"] for r in verdict["reasons"]]
        assert len(verdict["reasons"]) >= 2
        if lang == "JA":
            assert all(JAPANESE.search(w) for w in words), words
        else:
            assert not any(JAPANESE.search(w) for w in words), words
        assert bodies.setdefault(lang if lang == "JA" else "EN", outcome.body) == outcome.body
    assert bodies["EN"] != bodies["JA"]
    # and the other arguments too: the same document, another guest
    other = answers.alike(request(CHECK_GUEST, {"os": "Windows Server 2008", "sp": 0, "arch": "X64", "vcpus": 4}))
    assert other.planned and other.body["data"]["checkGuest"]["supported"] is True
    assert bodies["EN"]["data"]["checkGuest"]["supported"] is False
    assert answers.core_calls == 6  # only the plan-disabled answers
