"""pyshacl's rules for one value node (pyshacl/constraints/core), as functions of an rdflib term, each with a
shortcut on pyoxigraph's terms for the common cases: what graph/shacl_shapes.py compiles sh:datatype, the ranges,
lengths, sh:pattern, sh:in and sh:languageIn into.

The rules are pyshacl's on purpose: an ill-typed literal, a lexical form rdflib normalises or a regular expression
is judged as pyshacl judges it (tests/test_validation_speed.py compares the two on generated values).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node


@dataclass(frozen=True)
class ValueTest:
    """pyshacl's rule for one value node: `exact` judges the rdflib term; `quick`, where given, judges the
    pyoxigraph term of the common cases (a string, a plain integer) the same way without building the rdflib
    term, and answers None for anything else."""

    exact: Callable[[Node], bool]
    quick: Callable[[Any], bool | None] | None = None


def _python_types() -> dict[URIRef, type]:
    from datetime import date, datetime, time
    from decimal import Decimal

    return {
        XSD.integer: int,
        XSD.float: float,
        XSD.decimal: Decimal,
        XSD.boolean: bool,
        XSD.date: date,
        XSD.time: time,
        XSD.dateTime: datetime,
    }


_PYTHON_TYPES = _python_types()


_STRING, _LANG_STRING, _LITERAL, _DATATYPE, _INTEGER = (
    XSD.string,
    RDF.langString,
    RDFS.Literal,
    RDFS.Datatype,
    XSD.integer,
)
_STRINGS = (None, _STRING, _LANG_STRING)
_STRING_IRI, _INTEGER_IRI = str(XSD.string), str(XSD.integer)  # plain str: what pyoxigraph's IRIs compare with
_DIGITS = re.compile(r"[0-9]+")


def _text(term: Any) -> str | None:
    """The text of a pyoxigraph string literal (xsd:string or language-tagged), else None: for such a literal
    rdflib's value is that text, and what pyshacl measures and matches."""
    if isinstance(term, ox.Literal) and (term.language or term.datatype.value == _STRING_IRI):
        return term.value
    return None


def _plain_integer(term: Any) -> int | None:
    """The value of a pyoxigraph xsd:integer written with digits only, else None (rdflib reads it the same)."""
    if isinstance(term, ox.Literal) and term.datatype.value == _INTEGER_IRI and _DIGITS.fullmatch(term.value):
        return int(term.value)
    return None


def datatype_test(datatype: URIRef) -> ValueTest:
    """pyshacl's DatatypeConstraintComponent: the same IRI and a well-typed value (rdflib's reading of it)."""
    python = _PYTHON_TYPES.get(datatype)

    def actual(value: Literal) -> bool:
        if datatype in _STRINGS:
            return isinstance(value.value, (str, bytes))
        return python is None or isinstance(value.value, python)

    def exact(value: Node) -> bool:
        if not isinstance(value, Literal):
            return False
        if value.datatype == datatype:
            return getattr(value, "ill_typed", None) is not True and actual(value)
        if datatype == _LITERAL or (datatype == _DATATYPE and value.datatype):
            return True
        if value.datatype is None and value.language is None and datatype == _STRING:
            return actual(value)
        return bool(datatype == _LANG_STRING and value.language and actual(value))

    def quick(term: Any) -> bool | None:
        if datatype == _STRING and _text(term) is not None:
            return not term.language
        if datatype == _LANG_STRING and _text(term) is not None:
            return bool(term.language)
        if datatype == _INTEGER and _plain_integer(term) is not None:
            return True
        return None

    return ValueTest(exact, quick)


def range_test(bound: Literal, *, strict: bool, above: bool) -> ValueTest:
    """pyshacl's value range components: a literal comparable with the bound, on the right side of it."""
    bound_is_string = isinstance(bound.value, str)
    integer = bound.value if bound.datatype == _INTEGER and isinstance(bound.value, int) else None

    def exact(value: Node) -> bool:
        if not isinstance(value, Literal) or isinstance(value.value, str) != bound_is_string:
            return False
        from pyshacl.rdfutil.compare import compare_literal

        try:
            order: int = compare_literal(value, bound) if above else compare_literal(bound, value)  # type: ignore[no-untyped-call]
        except (TypeError, NotImplementedError):
            return False
        return order > 0 or (order == 0 and not strict)

    def quick(term: Any) -> bool | None:
        number = _plain_integer(term) if integer is not None else None
        if number is None or integer is None:
            return None
        order = (number > integer) - (number < integer) if above else (integer > number) - (integer < number)
        return order > 0 or (order == 0 and not strict)

    return ValueTest(exact, quick)


def _string_of(value: Node) -> str:
    """What pyshacl measures and matches: a string's value, or the node's text."""
    if isinstance(value, Literal) and value.value is not None and value.datatype in _STRINGS:
        return str(value.value)
    return str(value)


def length_test(length: int, *, longest: bool) -> ValueTest:
    def exact(value: Node) -> bool:
        if isinstance(value, BNode):
            return not longest and length == 0
        size = len(_string_of(value))
        return size <= length if longest else size >= length

    def quick(term: Any) -> bool | None:
        text = _text(term)
        if text is None:
            return None
        return len(text) <= length if longest else len(text) >= length

    return ValueTest(exact, quick)


def pattern_test(pattern: Literal, flags: Node | None) -> ValueTest:
    options = 0
    if flags is not None:
        letters = str(flags.value if isinstance(flags, Literal) else flags).lower()
        options |= re.IGNORECASE if "i" in letters else 0
        options |= re.MULTILINE if "m" in letters else 0
    text = str(pattern.value) if pattern.value is not None and len(pattern.value) > 1 else str(pattern)
    matcher = re.compile(text, options)

    def exact(value: Node) -> bool:
        return not isinstance(value, BNode) and matcher.search(_string_of(value)) is not None

    def quick(term: Any) -> bool | None:
        string = _text(term)
        return None if string is None else matcher.search(string) is not None

    return ValueTest(exact, quick)


def in_test(allowed: set[Node]) -> ValueTest:
    return ValueTest(lambda value: value in allowed)


def language_test(languages: set[str]) -> ValueTest:
    def exact(value: Node) -> bool:
        if not isinstance(value, Literal) or not value.language:
            return False
        tag = str(value.language).lower()
        return "*" in languages or tag in languages or tag.split("-")[0] in languages

    return ValueTest(exact)
