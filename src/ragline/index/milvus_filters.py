"""Metadata filters (:mod:`ragline.filters`) as Milvus boolean expressions, without injection.

Milvus Lite ignores templated ``filter_params``, so values are written into the expression;
:func:`to_milvus_expression` is the one place that does it: every string (metadata key or
value) is a double-quoted literal with its backslashes, quotes and line breaks escaped,
numbers are written by ``repr`` (finite ones only), and the only field names it writes are
``doc_id`` and ``metadata``. The meaning follows the catalog's SQL: a chunk without the key
matches no condition on it (``ne`` and ``nin`` included), ``in []`` matches nothing and
``nin []`` everything that has the key.
"""

from __future__ import annotations

import math
from typing import Any

from ragline.errors import RaglineError
from ragline.filters import OPERATORS, Filters

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}
_COMPARE = {"eq": "==", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def quote(text: str) -> str:
    """``text`` as a Milvus string literal.

    >>> print(quote('x" or 1==1 or "'))
    "x\\" or 1==1 or \\""
    """
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in text) + '"'


def literal(key: str, value: Any) -> str:
    """A filter value as a Milvus literal: a quoted string or a finite number."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise RaglineError(f"filter on {key!r}: value {value!r} is not valid Unicode") from e
        return quote(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return repr(value)
    raise RaglineError(f"filter on {key!r}: value {value!r} is not a string or finite number")


def to_milvus_expression(filters: Filters) -> str:
    """The Milvus expression equivalent to ``ragline.filters.to_sql(filters)`` over a
    collection with a ``doc_id`` VARCHAR and a ``metadata`` JSON field ("" for no filter).

    >>> print(to_milvus_expression({"lang": "en", "year": {"gte": 2020}, "doc_id": {"in": ["a", "b"]}}))
    (exists metadata["lang"] and metadata["lang"] == "en") and (exists metadata["year"] and metadata["year"] >= 2020) and (doc_id == "a" or doc_id == "b")
    """  # noqa: E501
    clauses: list[str] = []
    for key, condition in filters.items():
        if not isinstance(key, str):
            raise RaglineError(f"filter key {key!r}: not a string")
        literal(key, key)  # refuses a key that is not valid Unicode
        if not isinstance(condition, dict):
            condition = {"eq": condition}
        for op, value in condition.items():
            clauses.append(_clause(key, op, value))
    return " and ".join(clauses)


def _clause(key: str, op: str, value: Any) -> str:
    """One condition on one key."""
    if op not in OPERATORS:
        raise RaglineError(
            f"filter on {key!r}: unknown operator {op!r} (use {', '.join(OPERATORS)})"
        )
    field = "doc_id" if key == "doc_id" else f"metadata[{quote(key)}]"
    present = "" if key == "doc_id" else f"exists {field} and "
    if op in ("in", "nin"):
        values = list(value) if isinstance(value, list | tuple | set) else [value]
        if not values:
            return "false" if op == "in" else f"({present}true)"
        symbol, joiner = ("==", " or ") if op == "in" else ("!=", " and ")
        either = joiner.join(f"{field} {symbol} {literal(key, v)}" for v in values)
        return f"({present}({either}))" if present else f"({either})"
    return f"({present}{field} {_COMPARE[op]} {literal(key, value)})"
