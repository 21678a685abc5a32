"""Help in words: every option shows what it takes (PATH, N, TEXT) or, for a flag, nothing.

typer prints each parameter's Python type (``<list[Path]>``, ``<int>``, ``<bool>``), which
tells a reader of ``ragline index -h`` little. These command classes give each parameter a
word instead, once, when the command is built; an explicit ``metavar=`` still wins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args, get_origin

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

WORDS: dict[Any, str] = {int: "N", float: "NUMBER", str: "TEXT", Path: "PATH", bool: ""}


def word_for(annotation: Any) -> str:
    """The word help shows for a parameter of type ``annotation`` (a list: its items').

    >>> word_for(int), word_for(list[Path]), word_for(bool)
    ('N', 'PATH', '')
    """
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation)
    return WORDS.get(annotation, "VALUE")


def _annotation(param: Any) -> Any:
    """The type typer resolved for ``param`` (Optional removed)."""
    return param.type_descriptor.annotation


class _ArgumentInWords(TyperArgument):
    """A positional argument whose help shows a word for its type."""

    def display_type_rich(self, ctx: Any) -> str | None:
        """The word for this argument's type, in place of the Python type."""
        return word_for(_annotation(self))


def in_words(params: list[Any]) -> None:
    """Give ``params`` words for help: options a metavar (none for flags), arguments a
    class that shows one."""
    for param in params:
        if isinstance(param, TyperOption) and param.metavar is None:
            param.metavar = "" if param.is_flag else word_for(_annotation(param))
        elif type(param) is TyperArgument:
            param.__class__ = _ArgumentInWords


def _help_option_in_words(option: Any) -> Any:
    """``-h/--help``, a flag: nothing in the type column."""
    if option is not None:
        option.metavar = ""
    return option


class WordsCommand(TyperCommand):
    """A command whose help names values in words (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        in_words(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        """The help option, shown as a flag."""
        return _help_option_in_words(super().get_help_option(ctx))


class WordsGroup(TyperGroup):
    """A command group whose help names values in words (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        in_words(self.params)

    def get_help_option(self, ctx: Any) -> Any:
        """The help option, shown as a flag."""
        return _help_option_in_words(super().get_help_option(ctx))
