"""RAG-Sequence: one passage explains the whole answer; marginalise over which one.

Following Lewis et al. (2020), the answer probability is

    p(y|q) = Σ_z p(z|q) · p(y|q,z)

where ``p(z|q)`` is the retrieval prior over the ``k`` passages (:func:`passage_prior`) and
``p(y|q,z)`` is the language model's probability of the whole answer given the question
and passage ``z``. Decoding follows the paper's "thorough decoding" on a small beam: each
passage proposes its greedy answer, every candidate is scored under every passage by
teacher forcing, and the candidate with the highest marginal likelihood wins. All sums are
done in log space (``logsumexp``), since sequence probabilities underflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ragline.errors import RaglineError
from ragline.generate.base import Message
from ragline.generate.scoring import TokenScorer, first_stop, log_mixture, passage_prior

__all__ = [
    "Candidate",
    "SequenceResult",
    "greedy_candidates",
    "log_prior_of",
    "marginal_loglik",
    "passage_prior",
    "rag_sequence",
]


@dataclass
class Candidate:
    """One passage's greedy answer.

    ``token_ids`` are the generated tokens (without an end-of-sequence token, but with the
    tokens that spelled a stop string); ``scored_ids`` the tokens whose likelihood is
    measured: the answer followed by the end-of-sequence token when the model ended it, so
    that short prefixes do not win for free.
    ``finish`` is ``"eos"``, ``"stop"`` or ``"length"``.
    """

    text: str
    token_ids: list[int]
    scored_ids: list[int]
    finish: str
    sources: list[int] = field(default_factory=list)


@dataclass
class SequenceResult:
    """The chosen answer and the numbers behind the choice.

    ``loglik[z, j]`` is ``log p(y_j|q,z)`` for passage ``z`` and candidate ``j``;
    ``marginal[j]`` is ``log Σ_z p(z|q) p(y_j|q,z)``; ``posterior[z]`` is ``p(z|q,y)`` for
    the chosen answer — how much each passage explains it, useful for citations.
    """

    text: str
    token_ids: list[int]
    best: int
    candidates: list[Candidate]
    prior: NDArray[np.float64]
    loglik: NDArray[np.float64]
    marginal: NDArray[np.float64]
    posterior: NDArray[np.float64]


def log_prior_of(prior: ArrayLike, k: int | None = None) -> NDArray[np.float64]:
    """``log p(z|q)`` from a prior that must be non-negative; it is normalised to sum to 1."""
    p = np.asarray(prior, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or (k is not None and p.shape[0] != k):
        raise RaglineError(f"prior must have shape ({k if k is not None else 'k'},), got {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
        raise RaglineError("prior must be non-negative and finite, with a positive sum")
    with np.errstate(divide="ignore"):
        return np.log(p / p.sum())


def marginal_loglik(log_prior: ArrayLike, loglik: ArrayLike) -> NDArray[np.float64]:
    """``log Σ_z p(z|q) p(y_j|q,z)`` for each candidate ``j``.

    ``log_prior`` has shape ``(k,)``, ``loglik`` shape ``(k, m)``; the result ``(m,)``.

    >>> import numpy as np
    >>> marginal_loglik(np.log([0.25, 0.75]), np.log([[0.4], [0.8]])).round(4).tolist()
    [-0.3567]
    """
    return log_mixture(log_prior, loglik)


def greedy_candidates(
    scorer: TokenScorer,
    prompts: Sequence[list[int]],
    *,
    max_new_tokens: int = 128,
    stop: Sequence[str] = (),
    eos: Sequence[int] | None = None,
) -> list[Candidate]:
    """The greedy answer of each prompt, decoded side by side (one batched step per token)."""
    eos_ids = set(scorer.eos_token_ids() if eos is None else eos)
    filler = min(eos_ids) if eos_ids else 0
    k = len(prompts)
    ids: list[list[int]] = [[] for _ in range(k)]
    finish: list[str | None] = [None] * k
    texts = [""] * k
    if max_new_tokens <= 0:
        finish = ["length"] * k
    steps = scorer.begin(prompts) if max_new_tokens > 0 else None
    for step in range(max_new_tokens):
        assert steps is not None
        chosen = np.argmax(steps.logprobs, axis=1)
        feed = []
        for row in range(k):
            token = int(chosen[row])
            if finish[row] is None:
                if token in eos_ids:
                    finish[row] = "eos"
                else:
                    ids[row].append(token)
                    texts[row] = scorer.decode(ids[row])
                    if first_stop(texts[row], stop) is not None:
                        finish[row] = "stop"
            feed.append(token if finish[row] is None else filler)
        if all(f is not None for f in finish):
            break
        if step + 1 < max_new_tokens:
            steps.feed(feed)
    candidates = []
    for row in range(k):
        text, reason = texts[row], finish[row] or "length"
        if reason == "stop":
            # The tokens that spelled the stop string stay in the scored ids: like an
            # end-of-sequence token, they are how the model said the answer was over.
            text = text[: first_stop(text, stop)]
            scored = list(ids[row])
        elif reason == "eos":
            scored = ids[row] + [min(eos_ids)]
        else:
            scored = list(ids[row])
        candidates.append(Candidate(text, ids[row], scored, reason, [row]))
    return candidates


def rag_sequence(
    scorer: TokenScorer,
    candidates_messages: Sequence[Sequence[Message]],
    prior: ArrayLike,
    *,
    max_new_tokens: int = 128,
    stop: Sequence[str] = (),
    eos: Sequence[int] | None = None,
) -> SequenceResult:
    """Answer with the candidate of highest ``log Σ_z p(z|q) p(y|q,z)``.

    ``candidates_messages[z]`` is the chat for passage ``z`` alone (question plus that
    passage); ``prior[z]`` is ``p(z|q)``. Each passage's chat proposes its greedy answer;
    identical answers are merged, then every candidate is scored under every passage.
    """
    k = len(candidates_messages)
    if k == 0:
        raise RaglineError("rag_sequence needs at least one passage")
    log_prior = log_prior_of(prior, k)
    prompts = [scorer.prompt_ids(messages) for messages in candidates_messages]
    proposed = greedy_candidates(scorer, prompts, max_new_tokens=max_new_tokens, stop=stop, eos=eos)
    unique: dict[tuple[int, ...], Candidate] = {}
    for candidate in proposed:
        key = tuple(candidate.scored_ids)
        if key in unique:
            unique[key].sources.extend(candidate.sources)
        else:
            unique[key] = candidate
    candidates = list(unique.values())
    loglik = scorer.continuations_logprobs(prompts, [c.scored_ids for c in candidates])
    marginal = marginal_loglik(log_prior, loglik)
    best = int(np.argmax(marginal))
    with np.errstate(invalid="ignore"):
        posterior = np.exp(log_prior + loglik[:, best] - marginal[best])
    chosen = candidates[best]
    return SequenceResult(
        text=chosen.text.strip(),
        token_ids=list(chosen.token_ids),
        best=best,
        candidates=candidates,
        prior=np.exp(log_prior),
        loglik=loglik,
        marginal=marginal,
        posterior=posterior,
    )
