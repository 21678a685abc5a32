"""Write the demo corpus: the documentation of standard-library modules, as ``pydoc`` renders it.

It exists on every machine with Python, so ``make demo`` needs nothing else. The text is the
same on every run (see :func:`deterministic`), so a second ``make demo`` finds every
document unchanged.
Usage: ``python -m ragline.demo_corpus OUT_DIR [MODULE ...]``.
"""

from __future__ import annotations

import importlib
import pydoc
import re
import sys
from pathlib import Path

ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
ENVIRONMENT = re.compile(r"^(\s*environb?) = environ\(.*$", re.MULTILINE)

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


def deterministic(text: str) -> str:
    """``text`` without what differs from one run to the next: memory addresses in object
    reprs, and the contents of ``os.environ`` (which would also copy the user's environment
    into the corpus).

    >>> deterministic("copy_function=<function copy2 at 0x7f3a2c1e0d60>)")
    'copy_function=<function copy2>)'
    >>> deterministic("    environ = environ({'HOME': '/root', 'SHELL': '/bin/b...")
    '    environ = environ({...})'
    """
    return ENVIRONMENT.sub(r"\1 = environ({...})", ADDRESS.sub("", text))


def write_corpus(out: Path, modules: tuple[str, ...] = MODULES) -> list[Path]:
    """Render each module's documentation to ``out/<module>.txt``; returns the files. A file
    whose text is already there is left alone (its modification time too)."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in modules:
        module = importlib.import_module(name)
        text = deterministic(pydoc.render_doc(module, "Help on %s:", renderer=pydoc.plaintext))
        path = out / f"{name}.txt"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    """Write the corpus to ``argv[0]`` (the modules named after it, or all); exit status."""
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
