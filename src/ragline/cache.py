"""Where ragline keeps what it downloads, converts, trains and builds for reuse."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """``$RAGLINE_CACHE``, else ``$XDG_CACHE_HOME/ragline``, else ``~/.cache/ragline``."""
    if os.environ.get("RAGLINE_CACHE"):
        return Path(os.environ["RAGLINE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ragline"
