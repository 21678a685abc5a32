"""The ragline CLI run in a subprocess, as a user runs it (tests/ is on pytest's pythonpath:
``from cli_runs import cli_report``; the ``run_cli`` fixture serves the rest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

CLI_TIMEOUT = 120
RECIPE_TIMEOUT = 7200


def run_cli(
    *args: str | os.PathLike[str],
    timeout: float = CLI_TIMEOUT,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ragline.cli ARGS`` and capture its output (never raises on exit code);
    ``env`` adds variables to this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "ragline.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200", **(env or {})},
        cwd=cwd,
    )


def cli_report(*args: str | os.PathLike[str], cache: Path) -> dict[str, Any]:
    """The JSON report of ``ragline ARGS --json`` run with its cache in ``cache``, which must
    succeed (long recipe runs: training and full evaluations)."""
    done = run_cli(*args, "--json", timeout=RECIPE_TIMEOUT, env={"RAGLINE_CACHE": str(cache)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
