"""Backends by name: one small table per role, imported only when a backend is asked for.

Each role (embedder, dense index, sparse index, re-ranker, generator) keeps a
:class:`Registry` beside its protocol, mapping a name to ``"module:attribute"``. A new
backend is one new module plus one line in its role's table; nothing heavy is imported until
the name is used, and an unknown name or a missing optional package fails loudly.

>>> registry = Registry("codec", {"json": "json:JSONDecoder"})
>>> registry.load("json").__name__
'JSONDecoder'
>>> registry.load("yaml")
Traceback (most recent call last):
...
ragline.errors.RaglineError: codec 'yaml': unknown (use json)
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from ragline.errors import RaglineError


class Registry:
    """Names of one role's backends and where each lives, in preference order."""

    def __init__(self, role: str, entries: Mapping[str, str]) -> None:
        self.role = role
        self._entries = dict(entries)

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def load(self, name: str) -> Any:
        """The object registered as ``name``, its module imported now."""
        if name not in self._entries:
            raise RaglineError(f"{self.role} {name!r}: unknown (use {', '.join(self._entries)})")
        module, _, attribute = self._entries[name].partition(":")
        return getattr(importlib.import_module(module), attribute)
