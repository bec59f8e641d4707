"""A prepared document executed by a plan made for it once, instead of by graphql-core's general executor.

Per field of every result, graphql-core builds an info, looks the field and its resolver up and completes the
value by its type's kind; strawberry's wrapper then builds its own info and converts the arguments again. A
CheckGuest answer has some 240 fields (bench/README.md). A plan does that lookup once per document: per
field, its response key, how its value is read (an attribute; the resolver, its arguments converted once per
request, with strawberry's Info if it asks; else graphql-core's call of strawberry's wrapper), and how the
value is completed (serialize a leaf, map a list, plan an object).

A document gets a plan only if it stays within what a plan does: object types and interfaces (no union),
fields with arguments and aliases, `__typename`, fragments on their own type, no directive, no response key
twice. Anything else, and any request whose plan meets an exception, a null in a non-null field or a value
that does not complete, is answered by graphql-core in full (the resolvers are pure functions of the
snapshot, so running it again gives what the first run would have). graphql-core coerces the variables for
both (`Executor.build`). tests/test_graphql_plan.py: both answer alike; bench/graphql_limits.py: the gain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.executor import Executor
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined, is_iterable
from strawberry.types.arguments import convert_argument
from strawberry.types.field import StrawberryField

MAX_REMEMBERED = 4096  # argument conversions kept per field
MAX_PLANNED_FIELDS = 2000  # fields in one plan, fragments expanded: beyond it graphql-core executes
DEFINITION = "strawberry-definition"  # where strawberry links a GraphQL field to its StrawberryField


Complete = Callable[[Any, "Run", "Path | None"], Any]  # a value and where it is -> its place in the answer


class Fallback(Exception):
    """This request is for graphql-core: its plan met something only the full executor answers right."""


@dataclass(eq=False)
class FieldPlan:
    key: str  # the response key (alias or name)
    type_name: str  # the parent type's name (for __typename and paths)
    field_def: GraphQLField | None  # None for __typename
    node: FieldNode
    read: Callable[[FieldPlan, Any, Run, Path | None], Any]
    complete: Complete
    parent_type: GraphQLObjectType | None = None
    python_name: str = ""  # _read_attribute
    resolver: Callable[..., Any] | None = None  # _read_by_resolver
    with_self: bool = False
    convert: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # GraphQL argument values -> Python
    needs_path: bool = False  # a field at or below this one is given an info, which has a path
    info: Callable[[GraphQLResolveInfo[Any]], dict[str, Any]] | None = None  # the resolver's info argument


@dataclass
class Run:
    """One request's execution of a plan."""

    executor: Executor[Any]
    kwargs: dict[FieldPlan, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    fields: tuple[FieldPlan, ...]  # the root fields


class _Unplannable(Exception):
    """The document uses something a plan does not do: graphql-core executes it."""


# --- making a plan --------------------------------------------------------------------------------------------


def make_plan(schema: strawberry.Schema, document: DocumentNode, operation: OperationDefinitionNode) -> Plan | None:
    """The plan for `operation` of a validated `document`, or None when graphql-core must run it."""
    core = schema._schema
    root = core.query_type
    if root is None or operation.directives:
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    try:
        return Plan(_Planner(schema, fragments).selection(root, operation.selection_set))
    except _Unplannable:
        return None


class _Planner:
    def __init__(self, schema: strawberry.Schema, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.default_resolver = schema.config.default_resolver
        self.budget = MAX_PLANNED_FIELDS

    def selection(self, parent: GraphQLObjectType, selections: SelectionSetNode) -> tuple[FieldPlan, ...]:
        nodes = self._fields(parent, selections, set())
        self.budget -= len(nodes)
        if self.budget < 0:
            raise _Unplannable  # fragments nested to multiply fields: graphql-core's, under the query limits
        keys = [(n.alias or n.name).value for n in nodes]
        if len(set(keys)) != len(keys):
            raise _Unplannable  # merging fields of one key is graphql-core's
        return tuple(self._field(parent, node) for node in nodes)

    def _fields(self, parent: GraphQLObjectType, selections: SelectionSetNode, spread: set[str]) -> list[FieldNode]:
        """The fields of one selection set, fragments expanded. A fragment spread twice into the same selection
        set gives its keys twice (graphql-core merges them): refused at once, before it can double again."""
        found: list[FieldNode] = []
        for selection in selections.selections:
            if selection.directives:
                raise _Unplannable  # @skip / @include
            if isinstance(selection, FieldNode):
                found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if selection.type_condition is not None and not self._applies(
                    selection.type_condition.name.value, parent
                ):
                    continue  # a fragment on another type of an interface: not for objects of this type
                found.extend(self._fields(parent, selection.selection_set, spread))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if (
                    fragment is None
                    or name in spread
                    or fragment.directives
                    or getattr(selection, "arguments", None)
                    or getattr(fragment, "variable_definitions", None)
                    or fragment.type_condition.name.value != parent.name
                ):
                    raise _Unplannable
                spread.add(name)
                found.extend(self._fields(parent, fragment.selection_set, spread))
            else:
                raise _Unplannable
        return found

    def _applies(self, condition: str, parent: GraphQLObjectType) -> bool:
        """Whether a fragment on `condition` applies to objects of `parent`: the same type, or an interface of it."""
        if condition == parent.name:
            return True
        core = self.schema._schema
        abstract = core.get_type(condition)
        return isinstance(abstract, GraphQLInterfaceType) and core.is_sub_type(abstract, parent)

    def _field(self, parent: GraphQLObjectType, node: FieldNode) -> FieldPlan:
        name = node.name.value
        key = (node.alias or node.name).value
        if name == "__typename":
            typename, as_is = (lambda plan, source, run, path: plan.type_name), (lambda value, run, path: value)
            return FieldPlan(key, parent.name, None, node, typename, as_is)
        if name.startswith("__"):
            raise _Unplannable  # introspection
        field_def = parent.fields.get(name)
        if field_def is None:
            raise _Unplannable
        complete, below_needs_path = self._completer(field_def.type, node)
        plan = FieldPlan(key, parent.name, field_def, node, _read_by_graphql_core, complete, parent_type=parent)
        plan.needs_path = True
        definition = field_def.extensions.get(DEFINITION)
        if not isinstance(definition, StrawberryField) or definition.extensions or self.schema.exception_handlers:
            return plan  # graphql-core's call of strawberry's resolver, with a real info
        resolver = definition.base_resolver
        if resolver is None:
            if self.default_resolver is not getattr or node.arguments:
                return plan
            plan.read, plan.python_name, plan.needs_path = _read_attribute, definition.python_name, below_needs_path
            return plan
        function = resolver.wrapped_func
        leaf_arguments = all(
            isinstance(get_named_type(argument.type), GraphQLScalarType | GraphQLEnumType)
            for argument in field_def.args.values()
        )
        if (
            resolver.root_parameter
            or resolver.parent_parameter
            or resolver.is_async
            or not callable(function)
            or not leaf_arguments  # input objects may build their value from strawberry's info: graphql-core's call
        ):
            return plan
        plan.read, plan.resolver, plan.with_self = _read_by_resolver, function, resolver.self_parameter is not None
        plan.needs_path = below_needs_path
        if resolver.info_parameter:
            # strawberry's Info around graphql-core's, as its resolver wrapper makes it; the info has the path
            info_class, name = self.schema.config.info_class, resolver.info_parameter.name
            plan.info = lambda raw: {name: info_class(_raw_info=raw, _field=definition)}
            plan.read, plan.needs_path = _read_by_resolver_with_info, True
        if field_def.args or node.arguments:
            plan.convert = self._converter(definition)
        return plan

    def _converter(self, definition: StrawberryField) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """What strawberry's resolver wrapper does with the argument values graphql-core coerced
        (`convert_arguments`), each value's conversion remembered: for scalars and enums it is a pure function of
        the value, and each conversion walks strawberry's type checks again."""
        registry, config = self.schema.schema_converter.scalar_registry, self.schema.config
        arguments = [(config.name_converter.from_argument(a), a.python_name, a.type) for a in definition.arguments]
        known: dict[tuple[int, type, object], object] = {}

        def convert(raw: dict[str, Any]) -> dict[str, Any]:
            kwargs: dict[str, Any] = {}
            for index, (name, python_name, type_) in enumerate(arguments):
                if name not in raw:
                    continue
                value = raw[name]
                key = (index, value.__class__, value)
                try:
                    converted = known[key]
                except KeyError:
                    converted = convert_argument(value, type_, registry, config, path=(name,))
                    if len(known) < MAX_REMEMBERED:
                        known[key] = converted
                except TypeError:  # unhashable (a list): converted every time
                    converted = convert_argument(value, type_, registry, config, path=(name,))
                kwargs[python_name] = converted
            return kwargs

        return convert

    def _completer(self, type_: GraphQLOutputType, node: FieldNode, required: bool = False) -> tuple[Complete, bool]:
        """How a value of `type_` is completed, and whether anything below asks for the path. A `required` value
        (non-null) that is None is graphql-core's to answer: it nulls the nearest nullable parent and says why."""
        if isinstance(type_, GraphQLNonNull):
            return self._completer(type_.of_type, node, required=True)
        if isinstance(type_, GraphQLList):
            item, needs_path = self._completer(type_.of_type, node)

            def list_of(value: Any, run: Run, path: Path | None) -> Any:
                if value is None:
                    if required:
                        raise Fallback
                    return None
                if not is_iterable(value):
                    raise Fallback
                if needs_path:
                    return [item(element, run, Path(path, index, None)) for index, element in enumerate(value)]
                return [item(element, run, None) for element in value]

            return list_of, needs_path
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            serialize = type_.serialize
            # graphql-core serializes a str as itself for these two
            text = type_ is GraphQLString or type_ is GraphQLID

            def leaf(value: Any, run: Run, path: Path | None) -> Any:
                if text and value.__class__ is str:
                    return value
                if value is None:
                    if required:
                        raise Fallback
                    return None
                serialized = serialize(value)
                if serialized is Undefined or serialized is None:
                    raise Fallback
                return serialized

            return leaf, False
        if isinstance(type_, GraphQLObjectType) and node.selection_set is not None:
            fields = self.selection(type_, node.selection_set)
            # strawberry gives the types that implement an interface an is_type_of (an isinstance check of the
            # value's class): a value of another class is graphql-core's to report
            checked = None if type_.is_type_of is None else type_.name

            def object_of(value: Any, run: Run, path: Path | None) -> Any:
                if value is None:
                    if required:
                        raise Fallback
                    return None
                if checked is not None and _type_name(value) != checked:
                    raise Fallback
                return _object(fields, value, run, path)

            return object_of, any(f.needs_path for f in fields)
        if isinstance(type_, GraphQLInterfaceType) and node.selection_set is not None:
            # one plan per type that implements the interface; the value's own type picks one
            by_type = {
                possible.name: self.selection(possible, node.selection_set)
                for possible in self.schema._schema.get_possible_types(type_)
            }
            needs_path = any(f.needs_path for fields in by_type.values() for f in fields)

            def abstract_of(value: Any, run: Run, path: Path | None) -> Any:
                if value is None:
                    if required:
                        raise Fallback
                    return None
                fields = by_type.get(_type_name(value))
                if fields is None:
                    raise Fallback
                return _object(fields, value, run, path)

            return abstract_of, needs_path
        raise _Unplannable  # unions, and object types that check what they are given


def _type_name(value: Any) -> str:
    """The GraphQL type a strawberry object is of (its class's definition names it)."""
    definition = getattr(value.__class__, "__strawberry_definition__", None)
    return str(getattr(definition, "name", ""))


# --- running a plan -------------------------------------------------------------------------------------------


def run_plan(plan: Plan, executor: Executor[Any]) -> dict[str, Any]:
    """The `data` of the answer; raises Fallback (or any exception) when graphql-core must answer instead."""
    run = Run(executor)
    return _object(plan.fields, executor.root_value, run, None)


def _object(fields: tuple[FieldPlan, ...], source: Any, run: Run, path: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for plan in fields:
        here = Path(path, plan.key, plan.type_name) if plan.needs_path else None
        out[plan.key] = plan.complete(plan.read(plan, source, run, here), run, here)
    return out


def _read_attribute(plan: FieldPlan, source: Any, run: Run, path: Path | None) -> Any:
    return getattr(source, plan.python_name)


def _kwargs(plan: FieldPlan, run: Run) -> dict[str, Any]:
    """The resolver's keyword arguments: graphql-core's coercion, then strawberry's conversion, once per run."""
    found = run.kwargs.get(plan)
    if found is None:
        assert plan.field_def is not None
        assert plan.convert is not None
        raw = get_argument_values(plan.field_def, plan.node, run.executor.variable_values)
        found = plan.convert(raw)
        run.kwargs[plan] = found
    return found


def _read_by_resolver(plan: FieldPlan, source: Any, run: Run, path: Path | None) -> Any:
    """What strawberry's get_result calls: the resolver, with the parent object as `self` when it asks for it."""
    assert plan.resolver is not None
    if plan.convert is None:
        return plan.resolver(source) if plan.with_self else plan.resolver()
    kwargs = _kwargs(plan, run)
    return plan.resolver(source, **kwargs) if plan.with_self else plan.resolver(**kwargs)


def _read_by_resolver_with_info(plan: FieldPlan, source: Any, run: Run, path: Path | None) -> Any:
    assert plan.resolver is not None
    assert plan.info is not None
    assert plan.field_def is not None
    assert plan.parent_type is not None
    assert path is not None
    raw = run.executor.build_resolve_info(plan.field_def, [plan.node], plan.parent_type, path)
    kwargs = plan.info(raw)
    if plan.convert is not None:
        kwargs.update(_kwargs(plan, run))
    return plan.resolver(source, **kwargs) if plan.with_self else plan.resolver(**kwargs)


def _read_by_graphql_core(plan: FieldPlan, source: Any, run: Run, path: Path | None) -> Any:
    assert plan.field_def is not None
    assert plan.parent_type is not None
    assert path is not None
    executor = run.executor
    field_def = plan.field_def
    info = executor.build_resolve_info(field_def, [plan.node], plan.parent_type, path)
    args = get_argument_values(field_def, plan.node, executor.variable_values) if field_def.args else {}
    resolve = field_def.resolve or executor.field_resolver
    value = resolve(source, info, **args)
    if executor.is_awaitable(value):
        raise Fallback
    return value
