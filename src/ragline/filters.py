"""Metadata filters: parsed from ``key=value`` strings or dicts, compiled to SQL over the catalog.

A filter is a dict from metadata key to a condition. A bare value means equality; a dict of
operators means ``in`` (any of), ``nin`` (none of), ``ne`` or a numeric range::

    {"lang": "en", "year": {"gte": 2020, "lt": 2024}, "tag": {"in": ["a", "b"]}}

A chunk without the key matches no condition on it, ``ne`` and ``nin`` included.

The key ``doc_id`` filters on the document id itself. The catalog turns a filter into the set
of allowed chunk ids, which the indexes apply inside their search (FAISS IDSelector, BM25 mask).
"""

from __future__ import annotations

import re
from typing import Any

from ragline.errors import RaglineError

Filters = dict[str, Any]

OPERATORS = {
    "eq": "=",
    "ne": "!=",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "in": "IN",
    "nin": "NOT IN",
}
_LISTS = {"=": "in", "!=": "nin"}
_EXPRESSION = re.compile(r"^\s*([\w.\-]+)\s*(>=|<=|!=|=|>|<)\s*(.*?)\s*$")
_SYMBOLS = {"=": "eq", "!=": "ne", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}


def parse_value(text: str) -> Any:
    """A number when ``text`` reads as one, else the string itself."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_filters(expressions: list[str]) -> Filters:
    """Parse CLI filters such as ``lang=en``, ``year>=2020``, ``tag=a|b`` (any of) or
    ``tag!=a|b`` (none of).

    >>> parse_filters(["lang=en", "year>=2020", "year<2024", "tag=a|b", "src!=x|y"])
    {'lang': {'eq': 'en'}, 'year': {'gte': 2020, 'lt': 2024}, 'tag': {'in': ['a', 'b']}, 'src': {'nin': ['x', 'y']}}
    """  # noqa: E501
    filters: Filters = {}
    for expression in expressions:
        match = _EXPRESSION.match(expression)
        if not match or not match.group(3):
            raise RaglineError(
                f"filter {expression!r}: expected key=value, key!=value, key>=number, "
                "key<number ... key=a|b or key!=a|b"
            )
        key, symbol, raw = match.groups()
        condition = filters.setdefault(key, {})
        if symbol in _LISTS and "|" in raw:
            condition[_LISTS[symbol]] = [parse_value(v) for v in raw.split("|")]
        else:
            condition[_SYMBOLS[symbol]] = parse_value(raw)
    return filters


def to_sql(filters: Filters) -> tuple[str, list[Any]]:
    """A SQL condition over table ``chunks`` (columns ``doc_id``, ``metadata``) and its params.

    >>> condition, params = to_sql({"lang": "en", "year": {"gte": 2020}})
    >>> condition
    'json_extract(metadata, ?) = ? AND json_extract(metadata, ?) >= ?'
    >>> params
    ['$."lang"', 'en', '$."year"', 2020]
    """
    clauses: list[str] = []
    params: list[Any] = []
    for key, condition in filters.items():
        if not isinstance(condition, dict):
            condition = {"eq": condition}
        for op, value in condition.items():
            if op not in OPERATORS:
                raise RaglineError(
                    f"filter on {key!r}: unknown operator {op!r} (use {', '.join(OPERATORS)})"
                )
            if key == "doc_id":
                column, column_params = "doc_id", []
            else:
                column, column_params = "json_extract(metadata, ?)", [f'$."{key}"']
            if op in _LISTS.values():
                values = list(value) if isinstance(value, list | tuple | set) else [value]
                if not values:
                    # Nothing is in an empty list; everything that has the key is not.
                    clauses.append("0" if op == "in" else f"{column} IS NOT NULL")
                    params += [] if op == "in" else column_params
                    continue
                marks = ", ".join("?" for _ in values)
                clauses.append(f"{column} {OPERATORS[op]} ({marks})")
                params += column_params + values
            else:
                clauses.append(f"{column} {OPERATORS[op]} ?")
                params += column_params + [value]
    return " AND ".join(clauses) or "1", params
