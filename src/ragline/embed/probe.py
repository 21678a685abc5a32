"""The check that lets a faster runtime stand in for sentence-transformers: its vectors for a
fixed set of probe texts must be close to the reference (PyTorch float32) vectors, and a
re-ranker's scores for probe pairs of those texts close to the reference scores.

A knowledge base records the model, not the runtime that ran it, so a base built with one
backend is searched with another. That is safe only while their vectors agree; the probe
measures the agreement as cosine per text and refuses a backend whose lowest cosine is
under its threshold. The result is kept in the conversion cache beside the converted model,
so the reference model is loaded once per model, variant and runtime version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

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

PROBE_PAIRS = tuple(zip(PROBE_TEXTS, PROBE_TEXTS[1:] + PROBE_TEXTS[:1], strict=True))
"""(query, passage) pairs for re-rankers: each probe text with the next, so short and long
texts meet on both sides and the long one is truncated in two pairs."""

THRESHOLDS = {"f32": 0.999, "bf16": 0.999, "int8w": 0.998, "int8": 0.97}
"""Lowest cosine to the reference that each precision must reach on every probe text.
Float graphs differ from PyTorch by rounding only (0.99999+). The int8 threshold sits under
the 0.981 measured for the int8 MiniLM graph whose SciFact nDCG@10 matched float32, and well
over the 0.894 of the variant that also quantized the feed-forward output (README, Speed).
Int8 weights with float32 arithmetic (``int8w``, the query graph) measured 0.9988 on the probe
texts and 0.9994 or more on SciFact's queries, whose nDCG@10 moved by under 0.001."""


SCORE_TOLERANCES = {"f32": 1e-3, "bf16": 2e-2}
"""Largest score difference to the reference each precision may show on a probe pair, in
units of the reference's largest absolute score (at least 1, so sigmoid scores are judged
as they are). Float32 graphs differ by rounding only (1e-6 here, README, Speed); the bf16
allowance (8 mantissa bits, ~4e-3 per product) is reasoned, not measured: this CPU has no
native bf16."""

Result = TypeVar("Result")


@dataclass(frozen=True)
class ScoreProbe:
    """Absolute differences of a re-ranker's probe scores to the reference's, largest and
    mean, and the reference's largest absolute score."""

    max_difference: float
    mean_difference: float
    scale: float


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


def recorded(record: Path | None, kind: type[Result], measure: Callable[[], Result]) -> Result:
    """The ``kind`` result kept in ``record`` by a previous run, else ``measure()`` (then
    kept there)."""
    result = _read(record, kind)
    if result is None:
        result = measure()
        if record is not None:
            record.write_text(json.dumps(vars(result)), encoding="utf-8")
    return result


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
    result = recorded(record, ProbeResult, lambda: measure(encode, reference))
    threshold = THRESHOLDS[precision]
    if result.min_cosine < threshold:
        raise RaglineError(
            f"embedder backend {backend}: cosine to the sentence-transformers float32 vectors "
            f"is {result.min_cosine:.4f} on the probe texts (mean {result.mean_cosine:.4f}), "
            f"under {threshold}; use --embed-backend torch"
        )
    return result


def checked_scores(
    backend: str,
    precision: str,
    score: Callable[[list[tuple[str, str]]], NDArray[np.float32]],
    reference: Callable[[list[tuple[str, str]]], NDArray[np.float32]],
    record: Path | None = None,
) -> ScoreProbe:
    """``checked`` for a re-ranker: its scores of ``PROBE_PAIRS`` against ``reference``'s,
    refused in one line when they differ by more than ``SCORE_TOLERANCES[precision]``."""

    def measure_scores() -> ScoreProbe:
        pairs = list(PROBE_PAIRS)
        want = np.asarray(reference(pairs), dtype=np.float64)
        differences = np.abs(np.asarray(score(pairs), dtype=np.float64) - want)
        return ScoreProbe(
            float(differences.max()), float(differences.mean()), float(np.abs(want).max())
        )

    result = recorded(record, ScoreProbe, measure_scores)
    allowed = SCORE_TOLERANCES[precision] * max(1.0, result.scale)
    if result.max_difference > allowed:
        raise RaglineError(
            f"re-ranker backend {backend}: scores differ from the PyTorch ones by up to "
            f"{result.max_difference:.4g} on the probe pairs (mean {result.mean_difference:.4g}), "
            f"over {allowed:.4g}; use --rerank-backend torch"
        )
    return result


def _read(record: Path | None, kind: type[Result]) -> Result | None:
    if record is None or not record.is_file():
        return None
    try:
        values: dict[str, Any] = json.loads(record.read_text(encoding="utf-8"))
        return kind(**values)
    except (ValueError, TypeError):
        return None
