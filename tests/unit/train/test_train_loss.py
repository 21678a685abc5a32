"""InfoNCE: ragline's function and the sentence-transformers loss it trains with, both
against a direct NumPy computation of L = −log(exp(s⁺/τ) / Σ exp(s/τ))."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ragline.train.loss import contrastive_loss, info_nce  # noqa: E402


def numpy_info_nce(query: np.ndarray, positive: np.ndarray, negatives: np.ndarray, tau: float):
    """The issue's formula for one query, cosine similarity, written out."""

    def cos(a: np.ndarray, b: np.ndarray) -> float:
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    scores = np.array([cos(query, positive)] + [cos(query, n) for n in negatives]) / tau
    return -(scores[0] - np.log(np.exp(scores).sum()))


@pytest.mark.parametrize("tau", [0.05, 0.1, 1.0])
def test_info_nce_matches_numpy(tau: float):
    rng = np.random.default_rng(0)
    queries = rng.normal(size=(4, 8))
    candidates = rng.normal(size=(4, 5, 8))
    unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)  # noqa: E731
    similarities = np.einsum("qd,qcd->qc", unit(queries), unit(candidates))
    got = info_nce(torch.tensor(similarities), tau).item()
    expected = np.mean(
        [numpy_info_nce(queries[i], candidates[i, 0], candidates[i, 1:], tau) for i in range(4)]
    )
    assert got == pytest.approx(expected, rel=1e-9)


def test_temperature_must_be_positive():
    with pytest.raises(ValueError, match="temperature"):
        info_nce(torch.zeros(2, 3), 0.0)


class FixedEmbeddings(torch.nn.Module):
    """Stands in for a SentenceTransformer: each input text id maps to a fixed vector."""

    def __init__(self, vectors: np.ndarray) -> None:
        super().__init__()
        self.vectors = torch.tensor(vectors, dtype=torch.float64)

    def forward(self, features: dict) -> dict:
        return {"sentence_embedding": self.vectors[features["ids"]]}


@pytest.mark.parametrize("tau", [0.05, 0.2])
def test_sentence_transformers_loss_is_info_nce_over_batch_and_hard_negatives(tau: float):
    """The training loss: for each query, N = the other queries' positives and every hard
    negative in the batch; with a batch of one it is the formula with the pair's own N."""
    rng = np.random.default_rng(1)
    batch, hard, dim = 3, 2, 6
    vectors = rng.normal(size=(batch * (2 + hard), dim))
    model = FixedEmbeddings(vectors)
    loss = contrastive_loss(model, tau)
    columns = [list(range(c * batch, (c + 1) * batch)) for c in range(2 + hard)]
    features = [{"ids": torch.tensor(ids)} for ids in columns]
    got = loss(features, None).item()
    queries = vectors[columns[0]]
    passages = vectors[[i for col in columns[1:] for i in col]]
    expected = np.mean(
        [
            numpy_info_nce(
                queries[q],
                passages[q],
                np.delete(passages, q, axis=0),
                tau,
            )
            for q in range(batch)
        ]
    )
    assert got == pytest.approx(expected, rel=1e-6)
