"""From retrieved passages to a checked answer, in the plain, sequence or token mode.

plain: one prompt with numbered passages; the model cites them as ``[n]``.
sequence: RAG-Sequence — one candidate per passage, chosen by Σ_z p(z|q)·p(y|q,z).
token: RAG-Token — each token drawn from Σ_z p(z|q)·p(y_i|q,z,y_<i).
In the two marginalized modes the model sees one passage at a time, so citations come from
the probabilities instead: the passages that explain the answer (posterior p(z|q,y) for
sequence, the dominant passage of each span for token). Every citation is then checked
against its passage, and an answer the passages do not support is flagged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ragline.config import GenerateConfig
from ragline.documents import Answer, Citation, Hit
from ragline.errors import RaglineError
from ragline.generate.base import Generator
from ragline.generate.citations import (
    LexicalSupport,
    SupportChecker,
    cite,
    is_abstention_text,
    resolve_citations,
    split_sentences,
    strip_citations,
)
from ragline.generate.prompt import (
    ABSTAIN_TEXT,
    build_messages,
    check_answer_style,
    passage_messages,
)

MODES = ("plain", "sequence", "token")
CITE_POSTERIOR = 0.2


def passage_scores(passages: Sequence[Hit]) -> list[float]:
    """The scores the passage prior is a softmax of: dense cosine where known, else the hit's."""
    return [hit.scores.get("dense", hit.score) for hit in passages]


def retrieval_too_weak(passages: Sequence[Hit], min_score: float) -> bool:
    """No passage, or the best dense cosine below ``min_score`` (when dense scores exist)."""
    if not passages:
        return True
    dense = [hit.scores["dense"] for hit in passages if "dense" in hit.scores]
    return bool(dense) and max(dense) < min_score


_LEAD_IN = re.compile(r"^\s*(?:the\s+)?(?:final\s+)?answer(?:\s+is)?\s*[:\-]\s*", re.IGNORECASE)


def first_answer(text: str) -> str:
    """The first paragraph of ``text`` that says something, without an "Answer:" lead-in.

    >>> first_answer("The answer is:\\n\\n34% [2].\\n\\nMore rambling.")
    '34% [2].'
    """
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = _LEAD_IN.sub("", paragraph.strip()).strip()
        if paragraph and not paragraph.endswith(":"):
            return paragraph
    return ""


def _cite(text: str, numbers: Sequence[int]) -> str:
    """``text`` without the model's own markers, ending with ``[n]`` for each number."""
    body = strip_citations(text).strip()
    if not numbers or not body:
        return body
    markers = "".join(f"[{n}]" for n in numbers)
    if body[-1] in ".!?":
        return f"{body[:-1]} {markers}{body[-1]}"
    return f"{body} {markers}"


def answer(
    question: str,
    passages: Sequence[Hit],
    generator: Generator,
    config: GenerateConfig,
    *,
    mode: str | None = None,
    checker: SupportChecker | None = None,
    count_tokens: Callable[[str], int] | None = None,
    on_token: Callable[[str], None] | None = None,
) -> Answer:
    """Answer ``question`` from ``passages`` (rank order) with ``generator``.

    ``on_token`` receives streamed text in plain mode (the marginalized modes decode
    several passages at once and report the finished answer only).
    """
    mode = mode or config.mode
    if mode not in MODES:
        raise RaglineError(f"answer mode {mode!r}: use {', '.join(MODES)}")
    result = Answer(question, ABSTAIN_TEXT, mode=mode, generator=generator.name)
    if retrieval_too_weak(passages, config.min_score):
        result.passages = list(passages)
        result.abstained = True
        return result
    options: dict[str, Any] = {
        "max_new_tokens": config.max_new_tokens,
        "stop": (config.stop,) if config.stop else (),
    }
    if mode == "plain":
        messages, used = build_messages(
            question,
            passages,
            count_tokens=count_tokens,
            context_tokens=config.context_tokens,
            answer_style=config.answer_style,
        )
        if on_token is not None:
            pieces = []
            for piece in generator.stream(
                messages, temperature=config.temperature, seed=config.seed, **options
            ):
                pieces.append(piece)
                on_token(piece)
            text = "".join(pieces).strip()
        else:
            text = generator.generate(
                messages, temperature=config.temperature, seed=config.seed, **options
            ).strip()
        result.passages = used
    else:
        text = _marginalized(question, passages, generator, config, mode, count_tokens, result)
    result.text = first_answer(text) or ABSTAIN_TEXT
    if is_abstention_text(result.text):
        result.text, result.abstained = ABSTAIN_TEXT, True
        return result
    result.citations, _ = resolve_citations(result.text, result.passages, checker=checker)
    if not result.citations:
        result.citations = attribute(result.text, result.passages, checker or LexicalSupport())
    return result


def attribute(text: str, passages: Sequence[Hit], checker: SupportChecker) -> list[Citation]:
    """Citations for an answer the generator did not cite: each sentence goes to the passage
    that supports it best, when that support reaches the checker's threshold."""
    citations: list[Citation] = []
    for sentence in split_sentences(strip_citations(text)):
        scored = [
            (checker.support(sentence, hit.chunk.text), n)
            for n, hit in enumerate(passages, start=1)
        ]
        if not scored:
            break
        support, n = max(scored)
        if support >= checker.threshold:
            citations.append(
                cite(n, passages[n - 1], sentence, float(support), checker.threshold, "attributed")
            )
    return citations


def _marginalized(
    question: str,
    passages: Sequence[Hit],
    generator: Generator,
    config: GenerateConfig,
    mode: str,
    count_tokens: Callable[[str], int] | None,
    result: Answer,
) -> str:
    from ragline.generate.scoring import TokenScorer, passage_prior

    if not isinstance(generator, TokenScorer):
        raise RaglineError(
            f"mode {mode!r} needs token probabilities; generator {generator.name!r} has none "
            "(use a local model, or --mode plain)"
        )
    used = list(passages[: config.passages])
    stop = (config.stop,) if config.stop else ()
    prior = passage_prior(passage_scores(used), config.prior_temperature)
    per_passage = [
        passage_messages(
            question,
            hit,
            count_tokens=count_tokens,
            context_tokens=config.context_tokens,
            answer_style=config.answer_style,
        )
        for hit in used
    ]
    result.passages = used
    result.passage_probs = [float(p) for p in prior]
    if mode == "sequence":
        from ragline.generate.rag_sequence import rag_sequence

        chosen = rag_sequence(
            generator, per_passage, prior, max_new_tokens=config.max_new_tokens, stop=stop
        )
        posterior = np.asarray(chosen.posterior)
        order = [int(z) for z in np.argsort(-posterior) if posterior[z] >= CITE_POSTERIOR]
        best = [z + 1 for z in order[:2]] or [int(np.argmax(posterior)) + 1]
        return _cite(first_answer(chosen.text), best)
    from ragline.generate.rag_token import rag_token

    decoded = rag_token(
        generator, per_passage, prior, max_new_tokens=config.max_new_tokens, stop=stop
    )
    result.token_sources = [dict(span) for span in decoded.sources]
    shares: dict[int, float] = {}
    for span in decoded.sources:
        shares[span["passage"]] = shares.get(span["passage"], 0.0) + span["end"] - span["start"]
    ranked = sorted(shares, key=lambda n: -shares[n])
    return _cite(first_answer(decoded.text), ranked[:2])


def with_generation_overrides(config: GenerateConfig, **values: object) -> GenerateConfig:
    """``config`` with the non-None ``values`` replaced; an unknown answer style is refused
    here, before any retrieval or model load."""
    merged = replace(config, **{k: v for k, v in values.items() if v is not None})
    check_answer_style(merged.answer_style)
    return merged
