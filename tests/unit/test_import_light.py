"""`import ragline` stays light: no model, search or plotting library is loaded by it."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "torch",
    "transformers",
    "sentence_transformers",
    "faiss",
    "bm25s",
    "scipy",
    "pypdf",
    "bs4",
    "matplotlib",
    "pytrec_eval",
)


def test_import_ragline_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, ragline, ragline.cli, ragline.load, ragline.chunk, ragline.evaluate;"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
