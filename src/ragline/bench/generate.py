"""Generation benchmark: time to first token and decoding speed of a local generator on
real retrieved passages, for each way of holding its weights side by side in one run (the
first is the baseline the others' greedy answers are compared with), with the cost per
token of RAG-Token relative to plain decoding and the cost per answer of RAG-Sequence
relative to a plain answer where the runtime can score tokens."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ragline.bench.machine import machine_info


def _plain(model: Any, messages: Any, max_new_tokens: int) -> tuple[float, float, int, str]:
    """(seconds to the first streamed piece, total seconds, tokens, text) of one greedy
    answer."""
    started = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    for piece in model.stream(messages, max_new_tokens=max_new_tokens):
        if first is None and piece:
            first = time.perf_counter() - started
        pieces.append(piece)
    total = time.perf_counter() - started
    text = "".join(pieces)
    return (total if first is None else first), total, len(model.encode(text)), text


class _Timings:
    """What one runtime measured over the questions."""

    def __init__(self) -> None:
        self.first: list[float] = []
        self.plain_rate: list[float] = []
        self.plain_per_token: list[float] = []
        self.token_rate: list[float] = []
        self.token_per_token: list[float] = []
        self.sequence_per_answer: list[float] = []
        self.answers: list[str] = []

    def report(self, load_seconds: float, baseline: list[str]) -> dict[str, Any]:
        def median(values: list[float]) -> float | None:
            return float(np.median(values)) if values else None

        same = sum(a == b for a, b in zip(self.answers, baseline, strict=True))
        return {
            "load_seconds": load_seconds,
            "ttft_p50_s": float(np.percentile(self.first, 50)) if self.first else None,
            "ttft_p95_s": float(np.percentile(self.first, 95)) if self.first else None,
            "plain_tokens_per_s": median(self.plain_rate),
            "rag_token_tokens_per_s": median(self.token_rate),
            "rag_token_cost_per_token": (
                float(np.median(self.token_per_token) / np.median(self.plain_per_token))
                if self.token_per_token and self.plain_per_token
                else None
            ),
            "rag_sequence_cost_per_answer": median(self.sequence_per_answer),
            "same_answer_as_baseline": same / len(baseline) if baseline else None,
        }


def bench_generate(
    kb: Any,
    questions: Sequence[str],
    *,
    generator: str = "smollm2",
    k: int = 3,
    max_new_tokens: int = 32,
    prior_temperature: float = 0.1,
    weights: Sequence[str] = ("fp32",),
) -> dict[str, Any]:
    """Per question: retrieve ``k`` passages, then with each of ``weights`` in turn (``fp32``,
    ``int8`` or ``gguf``, see :func:`ragline.generate.registry.local_generator`) answer
    plainly (streamed) and, where the runtime scores tokens, by RAG-Token and RAG-Sequence.
    Reports per weights: load time, time to first token, tokens/s, RAG-Token's time per
    token / plain, RAG-Sequence's time per answer / plain, and the share of greedy answers
    equal to the first weights' (interleaved per question, so load changes hit all alike)."""
    from ragline.generate.prompt import build_messages, passage_messages
    from ragline.generate.rag_sequence import rag_sequence
    from ragline.generate.rag_token import rag_token
    from ragline.generate.registry import local_generator
    from ragline.generate.scoring import TokenScorer, passage_prior

    models = {w: local_generator(generator, w) for w in dict.fromkeys(weights)}
    loads = {}
    for name, model in models.items():
        started = time.perf_counter()
        model._load()
        loads[name] = time.perf_counter() - started
    timings = {name: _Timings() for name in models}
    for question in questions:
        hits = kb.search(question, k=k)
        messages, _ = build_messages(question, hits)
        per_passage = [passage_messages(question, hit) for hit in hits]
        prior = passage_prior([hit.score for hit in hits], prior_temperature)
        for name, model in models.items():
            seen = timings[name]
            ttft, total, tokens, text = _plain(model, messages, max_new_tokens)
            seen.first.append(ttft)
            seen.answers.append(text)
            if tokens > 1 and total > ttft:
                seen.plain_rate.append((tokens - 1) / (total - ttft))
                seen.plain_per_token.append(total / tokens)
            if not isinstance(model, TokenScorer):
                continue
            started = time.perf_counter()
            result = rag_token(model, per_passage, prior, max_new_tokens=max_new_tokens)
            seconds = time.perf_counter() - started
            if result.token_ids:
                seen.token_rate.append(len(result.token_ids) / seconds)
                seen.token_per_token.append(seconds / len(result.token_ids))
            started = time.perf_counter()
            rag_sequence(model, per_passage, prior, max_new_tokens=max_new_tokens)
            seen.sequence_per_answer.append((time.perf_counter() - started) / total)
    baseline = timings[next(iter(models))].answers
    return {
        "machine": machine_info(),
        "generator": next(iter(models.values())).name,
        "questions": len(questions),
        "k": k,
        "max_new_tokens": max_new_tokens,
        "weights": {name: seen.report(loads[name], baseline) for name, seen in timings.items()},
    }
