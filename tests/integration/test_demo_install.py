"""``make demo`` installs ragline alone, no extras: the commands it runs (index, info,
search, ask with the default reader) must never reach for an optional package. Every such
import in ragline goes through ``ragline._optional.require``, so the demo's commands are run
here with ``require`` recording what it is asked for, on the demo's own corpus module and
default embedder (the packaged MiniLM)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

RUN_RECORDING = """
import json, sys
import ragline._optional as optional

asked = []
real_require = optional.require


def require(module, extra):
    asked.append([module, extra])
    return real_require(module, extra)


optional.require = require
from ragline.cli import main

codes = []
for argv in json.loads(sys.argv[1]):
    sys.argv = ["ragline", *argv]
    try:
        main()
        codes.append(0)
    except SystemExit as e:
        codes.append(e.code or 0)
print(json.dumps({"codes": codes, "asked": asked}))
"""


def test_demo_commands_need_no_extra(tmp_path: Path) -> None:
    docs, kb = tmp_path / "stdlib-docs", str(tmp_path / "kb")
    from ragline.demo_corpus import write_corpus

    write_corpus(docs, ("bisect",))
    commands = [  # hybrid search runs both the dense and the BM25 side
        ["index", str(docs), "--kb", kb, "-q"],
        ["search", "keep a list sorted", "--kb", kb, "-k", "3"],
        ["ask", "What does bisect.insort do?", "--kb", kb, "--show-unsupported"],
    ]
    done = subprocess.run(
        [sys.executable, "-c", RUN_RECORDING, json.dumps(commands)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["codes"] == [0] * len(commands), done.stderr
    assert report["asked"] == []
