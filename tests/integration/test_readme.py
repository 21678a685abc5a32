"""Every command and Python example in README.md runs as shown (real packaged embedder)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


def _blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(README.read_text()) if lang == language]


def _commands(language: str = "bash") -> list[str]:
    return [
        line.split("#")[0].strip()
        for body in _blocks(language)
        for line in body.splitlines()
        if line.startswith("ragline ")
    ]


def _parse(command: str) -> None:
    """Parse ``command`` with ragline's own command line, without running it."""
    import typer

    from ragline.cli import app

    group = typer.main.get_command(app)
    name, args = "ragline", shlex.split(command)[1:]
    while hasattr(group, "commands"):  # a group of subcommands (typer ships its own click)
        context = group.make_context(name, list(args), resilient_parsing=True)
        name, group, args = group.resolve_command(context, list(args))
    group.make_context(name, list(args))


def test_readme_benchmark_commands_parse() -> None:
    """The measurement commands (```sh blocks) take minutes to hours, so they are not run
    here; every flag and argument they use must still exist."""
    commands = _commands("sh")
    assert len(commands) >= 10, "README lost its benchmark commands"
    for command in commands:
        _parse(command)
    with pytest.raises(Exception, match="No such option"):
        _parse("ragline train rag --kb x --out y --no-such-flag")


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    docs = tmp_path / "my-docs"
    docs.mkdir()
    (docs / "notes.md").write_text(
        "# Ranking\n\nPassages are ranked by fusing BM25 and dense rankings with reciprocal "
        "rank fusion.\n"
    )
    (docs / "cooking.txt").write_text("Boil the pasta in salted water for nine minutes.\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.integration
def test_readme_commands_run(workdir: Path) -> None:
    commands = _commands()
    assert len(commands) >= 5, "README lost its command examples"
    outputs = []
    for command in commands:
        argv = [sys.executable, "-m", "ragline.cli", *shlex.split(command)[1:]]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=os.environ)
        assert done.returncode == 0, f"{command}\n{done.stderr}"
        outputs.append((command, done.stdout))
    searched = [
        json.loads(out)
        for cmd, out in outputs
        if cmd.startswith("ragline search") and "--json" in cmd
    ]
    assert searched and searched[0]["hits"][0]["doc_id"] == "my-docs/notes.md"
    info = [json.loads(out) for cmd, out in outputs if cmd.startswith("ragline info")][0]
    assert info["documents"] == 2


@pytest.mark.integration
def test_readme_python_example_runs(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = _blocks("python")[0]
    exec(compile(example, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed and printed[0].split()[2] == "faq-1"
    assert "fuses BM25 and dense" in printed[-1]


@pytest.mark.integration
def test_readme_integration_examples_run(workdir: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """The MCP, LangChain and LlamaIndex examples (the Python blocks after the first), each
    finding the passage on ranking first (``capfd``: the MCP client hands its server
    process the real stderr)."""
    examples = _blocks("python")[1:]
    assert len(examples) == 3, "README lost an integration example"
    for example in examples:
        exec(compile(example, "README.md", "exec"), {})
        printed = capfd.readouterr().out.splitlines()
        assert printed and printed[0].startswith("my-docs/notes.md"), (example, printed)
