"""The limits of one GraphQL request: its body, its tokens, how deep it nests fields, how many aliases it uses.

Tokens are graphql-core's own limit (`parse(max_lexical_tokens=...)`: comments not counted), the one
strawberry's MaxTokensLimiter sets, minus its counting of comments (it passes the older `max_tokens`).
Depth and aliases are measured here, not by strawberry's QueryDepthLimiter / MaxAliasesLimiter: theirs walk
a fragment again at every spread (2**n steps for fragments that double n times; ours measures each fragment
once) and skip introspection (ours gives it a bound of its own). bench/graphql_limits.py has the figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)

from server.graphql.errors import reject

MAX_BODY_BYTES = 100 * 1024
MAX_TOKENS = 2000
MAX_DEPTH = 12
# Introspection nests `ofType` to read wrapped types (the standard query needs 15 levels); the schema
# itself has no cycles, so data fields stay far below MAX_DEPTH.
MAX_INTROSPECTION_DEPTH = 20
MAX_ALIASES = 30

_TOO_MANY_TOKENS = f"Document contains more than {MAX_TOKENS} tokens."


def parse_within_limits(query: str) -> DocumentNode:
    """The document, or a RequestError: GRAPHQL_PARSE_FAILED, or QUERY_TOO_COMPLEX past MAX_TOKENS tokens."""
    try:
        return parse(query, max_lexical_tokens=MAX_TOKENS)
    except GraphQLError as err:
        if _TOO_MANY_TOKENS in err.message:
            raise reject(
                "QUERY_TOO_COMPLEX",
                f"The query has more than {MAX_TOKENS} tokens.",
                f"クエリのトークン数が{MAX_TOKENS}を超えています。",
            ) from err
        raise reject("GRAPHQL_PARSE_FAILED", err.message, f"クエリを構文解析できません: {err.message}") from err


@dataclass(frozen=True)
class Measure:
    """How deep an operation nests fields, and how many aliases it uses, with fragments expanded."""

    depth: int = 0
    aliases: int = 0
    introspection_depth: int = 0

    def add(self, other: Measure, depth: int) -> Measure:
        return Measure(
            max(self.depth, depth),
            self.aliases + other.aliases,
            max(self.introspection_depth, other.introspection_depth),
        )


INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


class _Measurer:
    """Each spread of a fragment counts again (aliases add up); a fragment is measured once (memo)."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.memo: dict[tuple[str, bool], Measure] = {}

    def measure(self, selections: SelectionSetNode | None, root: bool, visiting: frozenset[str]) -> Measure:
        total = Measure()
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                inner = self.measure(selection.selection_set, False, visiting)
                inner = Measure(inner.depth, inner.aliases + (selection.alias is not None), 0)
                if root and selection.name.value in INTROSPECTION_ROOTS:
                    # Introspection nests `ofType` deeply; it has its own, larger bound.
                    total = total.add(Measure(0, inner.aliases, 1 + inner.depth), total.depth)
                else:
                    total = total.add(inner, 1 + inner.depth)
            elif isinstance(selection, InlineFragmentNode):
                inner = self.measure(selection.selection_set, root, visiting)
                total = total.add(inner, inner.depth)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visiting:  # unknown fragments and cycles: left to validation
                    continue
                key = (name, root)
                if key not in self.memo:
                    self.memo[key] = self.measure(fragment.selection_set, root, visiting | {name})
                inner = self.memo[key]
                total = total.add(inner, inner.depth)
        return total


def check_limits(document: DocumentNode, operation: OperationDefinitionNode) -> None:
    measured = _Measurer(document).measure(operation.selection_set, True, frozenset())
    depth = measured.depth
    if measured.aliases > MAX_ALIASES:
        raise reject(
            "QUERY_TOO_COMPLEX",
            f"The query uses more than {MAX_ALIASES} aliases (fragments counted each time they are spread).",
            f"クエリのエイリアスが{MAX_ALIASES}個を超えています(フラグメントは展開ごとに数えます)。",
        )
    if depth > MAX_DEPTH:
        raise reject(
            "QUERY_TOO_COMPLEX",
            f"The query nests fields {depth} deep; at most {MAX_DEPTH} levels are allowed.",
            f"クエリのフィールドの入れ子が{depth}段あります。上限は{MAX_DEPTH}段です。",
        )
    if measured.introspection_depth > MAX_INTROSPECTION_DEPTH:
        raise reject(
            "QUERY_TOO_COMPLEX",
            f"The introspection query nests fields {measured.introspection_depth} deep; "
            f"at most {MAX_INTROSPECTION_DEPTH} levels are allowed.",
            f"イントロスペクションの入れ子が{measured.introspection_depth}段あります。"
            f"上限は{MAX_INTROSPECTION_DEPTH}段です。",
        )
