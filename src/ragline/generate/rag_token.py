"""RAG-Token: each answer token may draw on a different passage.

Following Lewis et al. (2020), the next-token distribution mixes the passage-conditioned
distributions with the retrieval prior, which is fixed for the query:

    p(y_i | q, y_<i) = Σ_z p(z|q) · p(y_i | q, z, y_<i)

computed in log space as ``logsumexp_z(log p(z|q) + log p(y_i|q,z,y_<i))``. The ``k``
passage prompts are left-padded into one batch whose key/value cache is kept, so each
generated token costs one batched forward pass over ``k`` rows of one token each. Decoding
is greedy. For each token we record the passage with the largest term
``p(z|q)·p(y_i|q,z,y_<i)`` and its share of the mixture; runs of tokens led by the same
passage become the answer's ``token_sources`` spans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ragline.errors import RaglineError
from ragline.generate.base import Message
from ragline.generate.rag_sequence import log_prior_of
from ragline.generate.scoring import TokenScorer, first_stop, log_mixture

__all__ = ["TokenResult", "mix_next_token", "rag_token", "source_spans"]


@dataclass
class TokenResult:
    """A RAG-Token answer with per-token provenance.

    ``token_passages[i]`` is the 0-based passage that contributed most to token ``i`` and
    ``token_shares[i]`` its share of that token's mixture probability;
    ``token_logprobs[i]`` is the mixture log-probability of the token. ``sources`` are the
    spans ``{"start", "end", "passage" (1-based), "share"}`` over ``text``. ``finish`` is
    ``"eos"``, ``"stop"`` or ``"length"``.
    """

    text: str
    token_ids: list[int]
    token_passages: list[int]
    token_shares: list[float]
    token_logprobs: list[float]
    sources: list[dict[str, Any]] = field(default_factory=list)
    prior: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    finish: str = "length"


def mix_next_token(log_prior: ArrayLike, next_logprobs: ArrayLike) -> NDArray[np.float64]:
    """``log Σ_z p(z|q) p(v|q,z,y_<i)`` for every vocabulary entry ``v``.

    ``log_prior`` has shape ``(k,)``, ``next_logprobs`` shape ``(k, V)``; the result ``(V,)``.

    >>> import numpy as np
    >>> mix = mix_next_token(np.log([0.5, 0.5]), np.log([[0.9, 0.1], [0.3, 0.7]]))
    >>> np.exp(mix).round(3).tolist()
    [0.6, 0.4]
    """
    return log_mixture(log_prior, next_logprobs)


def rag_token(
    scorer: TokenScorer,
    passage_messages: Sequence[Sequence[Message]],
    prior: ArrayLike,
    *,
    max_new_tokens: int = 128,
    stop: Sequence[str] = (),
    eos: Sequence[int] | None = None,
) -> TokenResult:
    """Greedy RAG-Token decoding over ``k`` passages with a fixed prior ``p(z|q)``.

    ``passage_messages[z]`` is the chat for passage ``z`` alone (question plus that
    passage). Decoding ends at an end-of-sequence token (``eos``, default the scorer's), at
    the first stop string (the text is cut before it) or after ``max_new_tokens``.
    """
    k = len(passage_messages)
    if k == 0:
        raise RaglineError("rag_token needs at least one passage")
    log_prior = log_prior_of(prior, k)
    eos_ids = set(scorer.eos_token_ids() if eos is None else eos)
    prompts = [scorer.prompt_ids(messages) for messages in passage_messages]
    ids: list[int] = []
    passages: list[int] = []
    shares: list[float] = []
    logprobs: list[float] = []
    ends: list[int] = []
    text, finish, cut = "", "length", None
    steps = scorer.begin(prompts) if max_new_tokens > 0 else None
    for step in range(max_new_tokens):
        assert steps is not None
        mixed = mix_next_token(log_prior, steps.logprobs)
        token = int(np.argmax(mixed))
        if token in eos_ids:
            finish = "eos"
            break
        with np.errstate(invalid="ignore"):
            terms = log_prior + steps.logprobs[:, token]
        best = int(np.argmax(terms))
        ids.append(token)
        passages.append(best)
        shares.append(float(np.exp(terms[best] - mixed[token])))
        logprobs.append(float(mixed[token]))
        text = scorer.decode(ids)
        # Byte-level tokens can end mid-character; keep offsets monotonic regardless.
        ends.append(max(len(text), ends[-1] if ends else 0))
        cut = first_stop(text, stop)
        if cut is not None:
            finish = "stop"
            break
        if step + 1 < max_new_tokens:
            steps.feed(token)
    if cut is not None:
        text = text[:cut]
    stripped = text.strip()
    shift = len(text) - len(text.lstrip())
    starts = [0, *ends[:-1]]
    offsets = [
        (min(max(s - shift, 0), len(stripped)), min(max(e - shift, 0), len(stripped)))
        for s, e in zip(starts, ends, strict=True)
    ]
    return TokenResult(
        text=stripped,
        token_ids=ids,
        token_passages=passages,
        token_shares=shares,
        token_logprobs=logprobs,
        sources=source_spans(offsets, passages, shares),
        prior=np.exp(log_prior),
        finish=finish,
    )


def source_spans(
    offsets: Sequence[tuple[int, int]], passages: Sequence[int], shares: Sequence[float]
) -> list[dict[str, Any]]:
    """Runs of tokens led by the same passage, as character spans.

    ``passage`` is 1-based (as in ``[n]`` citations); ``share`` is the mean share of that
    passage over the run's tokens. Tokens that add no characters join the current run.

    >>> for span in source_spans([(0, 3), (3, 7), (7, 9)], [0, 0, 2], [1.0, 0.5, 0.9]):
    ...     print(span)
    {'start': 0, 'end': 7, 'passage': 1, 'share': 0.75}
    {'start': 7, 'end': 9, 'passage': 3, 'share': 0.9}
    """
    spans: list[dict[str, Any]] = []
    run: list[float] = []
    for (start, end), passage, share in zip(offsets, passages, shares, strict=True):
        if spans and (end <= start or spans[-1]["passage"] == passage + 1):
            spans[-1]["end"] = max(spans[-1]["end"], end)
            if spans[-1]["passage"] == passage + 1:
                run.append(share)
                spans[-1]["share"] = float(np.mean(run))
            continue
        if end <= start:
            continue
        run = [share]
        spans.append({"start": start, "end": end, "passage": passage + 1, "share": share})
    return spans
