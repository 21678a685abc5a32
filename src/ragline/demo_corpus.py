"""Write the demo corpus: the documentation of standard-library modules, as ``pydoc`` renders it.

It exists on every machine with Python, so ``make demo`` needs nothing else.
Usage: ``python -m ragline.demo_corpus OUT_DIR [MODULE ...]``.
"""

from __future__ import annotations

import importlib
import pydoc
import sys
from pathlib import Path

MODULES = (
    "argparse",
    "asyncio",
    "base64",
    "bisect",
    "calendar",
    "collections",
    "concurrent.futures",
    "configparser",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "enum",
    "fractions",
    "functools",
    "getpass",
    "glob",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "http.server",
    "itertools",
    "json",
    "logging",
    "math",
    "os",
    "pathlib",
    "pickle",
    "pprint",
    "queue",
    "random",
    "re",
    "secrets",
    "shutil",
    "sqlite3",
    "statistics",
    "string",
    "subprocess",
    "tarfile",
    "tempfile",
    "textwrap",
    "threading",
    "time",
    "unittest",
    "urllib.parse",
    "uuid",
    "zipfile",
)


def write_corpus(out: Path, modules: tuple[str, ...] = MODULES) -> list[Path]:
    """Render each module's documentation to ``out/<module>.txt``; returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in modules:
        module = importlib.import_module(name)
        text = pydoc.render_doc(module, "Help on %s:", renderer=pydoc.plaintext)
        path = out / f"{name}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 1
    modules = tuple(argv[1:]) or MODULES
    files = write_corpus(Path(argv[0]), modules)
    size = sum(f.stat().st_size for f in files)
    print(
        f"wrote the docs of {len(files)} modules ({size / 1e6:.1f} MB) to {argv[0]}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
