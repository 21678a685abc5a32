"""The old home of :mod:`ragline.filters`, kept until ``ragline.cli`` imports from there."""

from __future__ import annotations

from ragline.filters import Filters, parse_filters, parse_value, to_sql

__all__ = ["Filters", "parse_filters", "parse_value", "to_sql"]
