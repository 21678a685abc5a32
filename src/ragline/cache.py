"""Where ragline keeps what it downloads, converts, trains and builds for reuse, and the
content hashes that tell whether a kept entry still fits."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path


def default_cache_dir() -> Path:
    """``$RAGLINE_CACHE``, else ``$XDG_CACHE_HOME/ragline``, else ``~/.cache/ragline``."""
    if os.environ.get("RAGLINE_CACHE"):
        return Path(os.environ["RAGLINE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ragline"


def files_fingerprint(root: Path, files: Iterable[Path]) -> str:
    """A short hash of ``files`` (paths under ``root``) by relative name and content, in
    sorted order: it changes when any of their names or bytes do."""
    digest = hashlib.sha256()
    for file in sorted(files):
        digest.update(str(file.relative_to(root)).encode() + b"\0")
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]
