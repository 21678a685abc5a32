"""The contrastive (InfoNCE) loss that dual-encoder retrievers are trained with.

For a query q, its positive p⁺ and negatives N, with cosine similarity s and temperature τ:

    L = −log( exp(s(q,p⁺)/τ) / Σ_{p∈{p⁺}∪N} exp(s(q,p)/τ) )

averaged over the queries of a batch. A small τ sharpens the softmax: the loss then focuses
on the negatives that score closest to the positive. Training uses sentence-transformers'
MultipleNegativesRankingLoss with ``scale = 1/τ``: its N for a query are the other queries'
positives in the batch (in-batch negatives) and every hard negative in the batch.
"""

from __future__ import annotations

from typing import Any

DEFAULT_TEMPERATURE = 0.05


def info_nce(similarities: Any, temperature: float = DEFAULT_TEMPERATURE) -> Any:
    """The InfoNCE loss (mean over rows) of a (queries × candidates) similarity matrix
    whose column 0 holds each query's positive."""
    import torch
    import torch.nn.functional as F

    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    targets = torch.zeros(similarities.shape[0], dtype=torch.long, device=similarities.device)
    return F.cross_entropy(similarities / temperature, targets)


def contrastive_loss(model: Any, temperature: float = DEFAULT_TEMPERATURE) -> Any:
    """sentence-transformers' in-batch + hard-negative InfoNCE for ``model`` at ``temperature``."""
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return MultipleNegativesRankingLoss(model, scale=1.0 / temperature)
