"""Every embedder backend side by side with the raw sentence-transformers float32 encode of
the same texts, in the same run: speed, and how close the vectors are to the float32 ones.

The rounds are interleaved (raw, then each backend, then raw again ...) and repeated, and the
median is reported, so a change in machine load during the run falls on every backend alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ragline._optional import is_available
from ragline.config import EmbedConfig
from ragline.embed import make_encoder
from ragline.embed.probe import cosines
from ragline.errors import RaglineError

BACKENDS = ("torch", "openvino", "openvino-int8")
NEEDS = {"openvino": ("openvino",), "openvino-int8": ("openvino", "nncf")}


def available_backends() -> list[str]:
    """The backends whose packages are installed here."""
    return [b for b in BACKENDS if all(is_available(m) for m in NEEDS.get(b, ()))]


def _timed(encode: Callable[[], NDArray[np.float32]]) -> tuple[float, NDArray[np.float32]]:
    start = time.perf_counter()
    vectors = encode()
    return time.perf_counter() - start, vectors


def compare_backends(
    embed: EmbedConfig,
    texts: Sequence[str],
    *,
    backends: Sequence[str] | None = None,
    rounds: int = 3,
    batch_size: int = 64,
    side: str = "documents",
) -> dict[str, Any]:
    """Texts/s of the raw sentence-transformers encode and of each backend's
    ``encode_<side>``, the speed-up over raw, and mean and lowest cosine to the raw vectors.

    A backend that cannot run here (refused by its probe, not convertible) is reported
    with its error instead of numbers. Each is warmed up (converted, probed) before timing.
    """
    from ragline.embed.sentence_transformers import SentenceTransformerEncoder

    texts = list(texts)
    raw_model = SentenceTransformerEncoder(embed.model).model

    def raw() -> NDArray[np.float32]:
        return np.asarray(
            raw_model.encode(
                texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
            ),
            dtype=np.float32,
        )

    runners: dict[str, Callable[[], NDArray[np.float32]]] = {"raw": raw}
    results: dict[str, Any] = {}
    for name in backends or available_backends():
        encoder = make_encoder(replace(embed, backend=name))
        encode = getattr(encoder, f"encode_{side}")
        try:
            encode(texts[:batch_size], batch_size=batch_size)  # converts, probes, warms up
        except (RaglineError, RuntimeError) as e:
            results[name] = {"error": str(e)}
            continue
        runners[name] = lambda encode=encode: encode(texts, batch_size=batch_size)
    raw()  # warm-up
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    vectors: dict[str, NDArray[np.float32]] = {}
    for _ in range(rounds):
        for name, run in runners.items():
            elapsed, vectors[name] = _timed(run)
            seconds[name].append(elapsed)
    raw_rate = len(texts) / statistics.median(seconds["raw"])
    for name in runners:
        rate = len(texts) / statistics.median(seconds[name])
        close = cosines(vectors[name], vectors["raw"])
        results[name] = {
            "texts_per_s": rate,
            "seconds": seconds[name],
            "speedup_vs_raw": rate / raw_rate,
            "mean_cosine": float(close.mean()),
            "min_cosine": float(close.min()),
        }
    return {"texts": len(texts), "rounds": rounds, "side": side, "backends": results}
