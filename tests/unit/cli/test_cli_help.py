"""Help a new user can read: ``-h`` everywhere, values named in words (no Python types),
defaults given as values (not "default: config"), ``--version``, and every number checked."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

import ragline
from ragline.cli import app

PYTHON_TYPES = re.compile(r"<(int|float|str|bool|path|list\[[^\]]*\])>|list\[", re.I)


def _commands() -> list[tuple[list[str], Any]]:
    """Every command and group as (argv path, click command), the root first."""
    found: list[tuple[list[str], Any]] = []

    def walk(path: list[str], command: Any) -> None:
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk([*path, name], sub)

    walk([], typer.main.get_command(app))
    return found


COMMANDS = _commands()
IDS = [" ".join(path) or "ragline" for path, _ in COMMANDS]


def _help(path: list[str]) -> str:
    env = {"COLUMNS": "200", "NO_COLOR": "1"}
    result = CliRunner().invoke(app, [*path, "-h"], env=env, prog_name="ragline")
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_is_found() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"index", "search", "ask", "delete", "info", "eval beir", "bench query"} <= names
    assert {"train rag", "serve", "reindex", "eval qa", "bench ann"} <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_help_names_values_in_words(path: list[str], command: Any) -> None:
    text = _help(path)
    assert "Usage: ragline" in text
    assert not PYTHON_TYPES.search(text), PYTHON_TYPES.search(text)
    assert "default: config" not in text
    for param in getattr(command, "params", []):
        if getattr(param, "help", None) and not param.hidden:
            assert param.opts[-1] in text or param.name in text


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=IDS)
def test_every_number_is_checked(path: list[str], command: Any) -> None:
    """An int or float option has a range (typer's ``min``/``max``) or a checking callback,
    so that a bad value is a one-line usage error, not a silent default or a traceback."""
    unchecked = [
        param.name
        for param in getattr(command, "params", [])
        if param.type_descriptor.annotation in (int, float)
        and param.min is None
        and param.max is None
        and param.callback is None
    ]
    assert not unchecked, f"{' '.join(path)}: {unchecked}"


def test_search_help_shows_search_mode_not_the_deprecated_mode() -> None:
    text = _help(["search"])
    assert "--search-mode" in text and "(default: hybrid)" in text
    assert "--mode " not in text


def test_defaults_come_from_the_config() -> None:
    assert f"(new knowledge base: {ragline.Config().chunk.size})" in _help(["index"])
    assert f"default: {ragline.Config().generate.generator}" in _help(["ask"])


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"ragline {ragline.__version__}\n"
