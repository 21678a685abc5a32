"""The loaders' parsers are imported when a file needs them, not with ``ragline.load``."""

from __future__ import annotations

import subprocess
import sys

PARSERS = ("docutils", "docx", "yaml", "pypdf", "bs4", "lxml")


def test_import_ragline_load_imports_no_parser() -> None:
    code = f"import sys, ragline.load; print(','.join(m for m in {PARSERS!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
