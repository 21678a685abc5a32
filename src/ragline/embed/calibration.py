"""Texts that int8 quantization measures activation ranges on: real English prose present on
every machine with Python, so calibration needs no download and gives the same model
everywhere.

The prose is the documentation of standard-library modules (their docstrings, as ``pydoc``
renders them), cut into passages of a few sentences, like the chunks a knowledge base embeds.
"""

from __future__ import annotations

import importlib
import inspect
import pydoc
import re
from collections.abc import Iterator
from types import ModuleType

MODULES = (
    "argparse",
    "collections",
    "datetime",
    "decimal",
    "email.message",
    "json",
    "logging",
    "pathlib",
    "random",
    "sqlite3",
    "statistics",
    "textwrap",
    "threading",
    "unittest",
    "urllib.parse",
    "zipfile",
)
PASSAGE_WORDS = 120
"""About the length of a default chunk (200 tokens)."""

_LETTERS = re.compile(r"[A-Za-z]")


def calibration_texts(limit: int = 64) -> list[str]:
    """Up to ``limit`` passages of documentation prose, in a fixed order."""
    passages: list[str] = []
    for name in MODULES:
        words: list[str] = []
        for paragraph in _docstrings(importlib.import_module(name)):
            line = " ".join(paragraph.split())
            if len(_LETTERS.findall(line)) < 0.6 * max(len(line), 1):
                continue  # tables, code and signatures: not prose
            words.extend(line.split())
            if len(words) >= PASSAGE_WORDS:
                passages.append(" ".join(words))
                words = []
        if words:
            passages.append(" ".join(words))
    return passages[:limit]


def _docstrings(module: ModuleType) -> Iterator[str]:
    """The paragraphs of ``module``'s docstring and of its public classes, their methods
    and its functions, in definition order."""
    objects: list[object] = [module]
    for key, value in vars(module).items():
        if key.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        objects.append(value)
        if inspect.isclass(value):
            objects.extend(v for k, v in vars(value).items() if not k.startswith("_"))
    for item in objects:
        yield from pydoc.getdoc(item).split("\n\n")
