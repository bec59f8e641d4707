"""What every process that evaluates queries (a SPARQL worker, `hvkg query`) does to rdflib first: lock it
against fetching anything, mend what it evaluates wrongly, and allow the recursion deep queries need."""

from __future__ import annotations

import sys
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.plugins.sparql.sparql import FrozenBindings, QueryContext

__all__ = ["RECURSION_LIMIT", "allow_deep_queries", "lock_rdflib", "mend_rdflib"]

# Python's recursion limit while a query is parsed and evaluated (the worker process, `hvkg query`). rdflib
# recurses per level of nesting and per link of a chain (3,600 BINDs, 4,000 MINUS): measured on the largest
# queries the endpoint accepts (64 KiB), 10,000 frames end in RecursionError, never in a C-stack overflow.
RECURSION_LIMIT = 10_000


def allow_deep_queries() -> None:
    """Raise Python's recursion limit to RECURSION_LIMIT (never lower it): for a process that parses and
    evaluates queries (a SPARQL worker, `hvkg query`), never for the server's own."""
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)


def lock_rdflib() -> None:
    """Make sure rdflib itself never fetches anything, whatever slips past the gate.

    FROM / FROM NAMED would make rdflib parse the IRI (over HTTP, or from disk for file:) unless
    SPARQL_LOAD_GRAPHS is off; SERVICE would send the query to another host. The gate refuses SERVICE and the
    endpoint never passes rdflib a dataset clause; this is the lock behind them.
    """
    import rdflib.plugins.sparql as rdflib_sparql
    from rdflib.plugins.sparql import evaluate as rdflib_evaluate

    rdflib_sparql.SPARQL_LOAD_GRAPHS = False
    rdflib_evaluate.evalServiceQuery = _never_service


def mend_rdflib() -> None:
    """Correct what rdflib evaluates wrongly on valid queries (for a process that evaluates them)."""
    from rdflib.plugins.sparql import evaluate as rdflib_evaluate

    rdflib_evaluate.evalAggregateJoin = _aggregate_join


def _aggregate_join(ctx: QueryContext, agg: CompValue) -> Generator[FrozenBindings, None, None]:
    """rdflib's evalAggregateJoin, except that GROUP BY over no solution makes no group (SPARQL 1.1 section
    18.5.1: one group per key, and no solution has a key); rdflib answers one empty row, as is right only for
    aggregates without GROUP BY (`SELECT (COUNT(*) AS ?n) {}` is one row, n = 0)."""
    from rdflib.plugins.sparql.aggregates import Aggregator
    from rdflib.plugins.sparql.evaluate import evalPart
    from rdflib.plugins.sparql.evalutils import _eval
    from rdflib.plugins.sparql.sparql import FrozenBindings

    group_expr = agg.p.expr
    groups: dict[Any, Aggregator] = {}
    for row in evalPart(ctx, agg.p):
        key = True if group_expr is None else tuple(_eval(e, row, False) for e in group_expr)
        if key not in groups:
            groups[key] = Aggregator(aggregations=agg.A)
        groups[key].update(row)
    if not groups and group_expr is None:
        groups[True] = Aggregator(aggregations=agg.A)
    for aggregator in groups.values():
        yield FrozenBindings(ctx, aggregator.get_bindings())


def _never_service(ctx: QueryContext, part: CompValue) -> NoReturn:
    raise RuntimeError("SERVICE reached evaluation although the gate refuses it")
