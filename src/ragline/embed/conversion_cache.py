"""Models converted for a faster runtime, made once and kept beside the model cache.

An entry is keyed by what decides its contents: the model's fingerprint (a hash of its
weight, configuration and tokenizer files, so an edited or retrained model gets a new entry
even at the same path), the runtime's version (its file format and optimisations change
between releases) and the variant (``f32``, ``int8``). Entries are written to a temporary
folder and renamed into place, so a crash or a second process never leaves half an entry.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from ragline.cache import default_cache_dir, files_fingerprint

log = logging.getLogger(__name__)

FINGERPRINTED = (".safetensors", ".bin", ".json", ".txt", ".model")
"""Files of a model directory whose bytes decide the converted model."""


def model_fingerprint(model_dir: Path) -> str:
    """A short hash of the files in ``model_dir`` that decide its vectors (weights, configs,
    vocabulary), by relative name and content; README and the like do not count."""
    files = (
        p
        for p in model_dir.rglob("*")
        if p.is_file() and p.suffix in FINGERPRINTED and not p.name.startswith(".")
    )
    return files_fingerprint(model_dir, files)


def entry_dir(
    model_dir: Path, runtime: str, version: str, variant: str, cache_dir: Path | None = None
) -> Path:
    """Where the ``variant`` of ``model_dir`` converted for ``runtime`` ``version`` lives."""
    root = (cache_dir or default_cache_dir()) / "converted" / runtime
    safe_version = version.split("-", 1)[0]
    return root / f"{model_dir.name}-{model_fingerprint(model_dir)}" / safe_version / variant


def cached_entry(entry: Path, build: Callable[[Path], None]) -> Path:
    """``entry``, made by ``build(folder)`` (which writes the converted files into
    ``folder``) unless it already exists."""
    if entry.is_dir():
        return entry
    entry.parent.mkdir(parents=True, exist_ok=True)
    log.info("converting once into %s", entry)
    tmp = Path(tempfile.mkdtemp(dir=entry.parent, prefix=f".{entry.name}-"))
    try:
        build(tmp)
        tmp.rename(entry)
    except OSError:
        if not entry.is_dir():  # else another process won the race: its entry is as good
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return entry
