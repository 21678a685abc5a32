"""Checkpoints of an end-to-end RAG run: its whole state saved beside the output every few
steps (random generators included), so an interrupted run resumes to the same weights."""

from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path
from typing import Any

from ragline.errors import RaglineError

CHECKPOINT_FILE = "state.pt"


def run_fingerprint(*parts: Any) -> str:
    """A short hash of what makes a run (recipe, data, knowledge base): a checkpoint is
    resumed only by the run it was written by."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def checkpoint_dir(output: Path) -> Path:
    """Where the checkpoint of a run writing to ``output`` lives: beside it, hidden."""
    return output.parent / f".{output.name}.checkpoint"


def rng_state() -> dict[str, Any]:
    """The torch, Python and numpy random states, as tensors and lists torch can save."""
    import numpy as np
    import torch

    state: Any = np.random.get_state()
    kind, keys, position, has_gauss, gauss = state
    return {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, gauss],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` saved."""
    import numpy as np
    import torch

    torch.set_rng_state(state["torch"])
    python = state["python"]
    random.setstate((python[0], tuple(python[1]), python[2]))
    kind, keys, position, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, gauss))


def save_checkpoint(directory: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``directory`` atomically (a crash keeps the previous checkpoint)."""
    import torch

    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f"{CHECKPOINT_FILE}.partial"
    torch.save(state, partial)
    os.replace(partial, directory / CHECKPOINT_FILE)


def load_checkpoint(directory: Path, fingerprint: str) -> dict[str, Any] | None:
    """The saved state of this same run (recipe and data), or None when there is none."""
    import torch

    file = directory / CHECKPOINT_FILE
    if not file.is_file():
        return None
    state = torch.load(file, weights_only=True, map_location="cpu")
    if state.get("fingerprint") != fingerprint:
        raise RaglineError(
            f"{directory}: checkpoint of another recipe or data; delete it or pass resume=False"
        )
    return state
