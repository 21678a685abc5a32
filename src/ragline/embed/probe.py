"""The check that lets a faster runtime stand in for sentence-transformers: its vectors for a
fixed set of probe texts must be close to the reference (PyTorch float32) vectors.

A knowledge base records the model, not the runtime that ran it, so a base built with one
backend is searched with another. That is safe only while their vectors agree; the probe
measures the agreement as cosine per text and refuses a backend whose lowest cosine is
under its threshold. The result is kept in the conversion cache beside the converted model,
so the reference model is loaded once per model, variant and runtime version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ragline.errors import RaglineError

PROBE_TEXTS = (
    "What causes the seasons on Earth?",
    "aspirin dose for adults",
    "The committee approved the budget after a long debate on Tuesday evening.",
    "Mitochondria produce most of the chemical energy needed by the cell.",
    "Install the package, then run the command with --help to list its options.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "1998 FIFA World Cup final: France 3, Brazil 0.",
    "ok",
    "Vaccination reduced the incidence of measles by more than ninety percent in the cohort, "
    "although coverage varied widely between regions and age groups, and outbreaks persisted "
    "where fewer than eighty percent of children had received both doses before school age.",
    "def mean(xs): return sum(xs) / len(xs)  # average of a non-empty list",
    "Rain is expected in the north; the south stays dry and warm through the weekend.",
    "Which enzyme unwinds the DNA double helix during replication?",
    " ".join(
        [
            "The treaty, signed after months of negotiation, set out rules for trade, fishing "
            "rights, the movement of workers and the settlement of disputes between members."
        ]
        * 12
    ),
)
"""Short and long, questions and passages, several domains, one over the 256-token limit."""

THRESHOLDS = {"f32": 0.999, "bf16": 0.999, "int8": 0.97}
"""Lowest cosine to the reference that each precision must reach on every probe text.
Float graphs differ from PyTorch by rounding only (0.99999+). The int8 threshold sits under
the 0.981 measured for the int8 MiniLM graph whose SciFact nDCG@10 matched float32, and well
over the 0.894 of the variant that also quantized the feed-forward output (README, Speed)."""


@dataclass(frozen=True)
class ProbeResult:
    """Cosines of a backend's probe vectors to the reference's: mean and lowest."""

    mean_cosine: float
    min_cosine: float


def cosines(vectors: NDArray[np.float32], reference: NDArray[np.float32]) -> NDArray[np.float64]:
    """Row-wise cosine of two arrays of vectors of the same shape."""
    a = vectors.astype(np.float64)
    b = reference.astype(np.float64)
    return np.einsum("ij,ij->i", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def measure(
    encode: Callable[[list[str]], NDArray[np.float32]],
    reference: Callable[[list[str]], NDArray[np.float32]],
) -> ProbeResult:
    """How close ``encode``'s probe vectors are to ``reference``'s."""
    texts = list(PROBE_TEXTS)
    values = cosines(encode(texts), reference(texts))
    return ProbeResult(float(values.mean()), float(values.min()))


def checked(
    backend: str,
    precision: str,
    encode: Callable[[list[str]], NDArray[np.float32]],
    reference: Callable[[list[str]], NDArray[np.float32]],
    record: Path | None = None,
) -> ProbeResult:
    """The probe result of ``backend`` (read from ``record`` when a previous run measured
    it, else measured and written there), or a one-line error naming the backend and the
    measured cosine when it is under the threshold of ``precision``."""
    result = _read(record)
    if result is None:
        result = measure(encode, reference)
        if record is not None:
            record.write_text(json.dumps(asdict(result)), encoding="utf-8")
    threshold = THRESHOLDS[precision]
    if result.min_cosine < threshold:
        raise RaglineError(
            f"embedder backend {backend}: cosine to the sentence-transformers float32 vectors "
            f"is {result.min_cosine:.4f} on the probe texts (mean {result.mean_cosine:.4f}), "
            f"under {threshold}; use --embed-backend torch"
        )
    return result


def _read(record: Path | None) -> ProbeResult | None:
    if record is None or not record.is_file():
        return None
    try:
        return ProbeResult(**json.loads(record.read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        return None
