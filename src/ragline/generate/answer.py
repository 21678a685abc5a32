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
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ragline.config import GenerateConfig
from ragline.documents import Answer, Hit
from ragline.errors import RaglineError
from ragline.generate.base import Generator, Message, complete
from ragline.generate.checked import CheckedText
from ragline.generate.citations import (
    ClaimSupport,
    SupportChecker,
    is_abstention_text,
    resolve_citations,
    strip_citations,
)
from ragline.generate.prompt import (
    ABSTAIN_TEXT,
    build_messages,
    check_answer_style,
    passage_messages,
)
from ragline.generate.question_type import restated_answer

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

    Models go on after answering, so what follows that paragraph is left out. A paragraph
    ending in ":" introduces the next one and is kept with it, and a fenced code block is one
    paragraph even across blank lines, so an explanation keeps the example it announces.
    The text kept is the model's own, blank lines included.

    >>> first_answer("The answer is:\\n\\n34% [2].\\n\\nMore rambling.")
    '34% [2].'
    >>> reply = "Use csv [1]:\\n\\n```\\nimport csv\\n\\ncsv.reader(f)\\n```\\n\\nHope it helps."
    >>> print(first_answer(reply))
    Use csv [1]:
    <BLANKLINE>
    ```
    import csv
    <BLANKLINE>
    csv.reader(f)
    ```
    """
    begin: int | None = None  # where the answer starts, once a paragraph says something
    start = end = 0
    fenced = False
    for gap in [*re.finditer(r"\n\s*\n", text), None]:
        end = len(text) if gap is None else gap.start()
        fences = re.findall(r"^\s*(?:```|~~~)", text[start:end], re.MULTILINE)
        fenced ^= len(fences) % 2 == 1
        if begin is None:
            body = text[start:end].lstrip()
            lead_in = _LEAD_IN.match(body)
            begin = end - len(body) + (lead_in.end() if lead_in else 0)
            if not text[begin:end].strip():
                begin = None
        if begin is not None and not fenced and not text[begin:end].rstrip().endswith(":"):
            break
        start = end if gap is None else gap.end()
    return "" if begin is None else text[begin:end].strip()


def mark_truncated(text: str) -> str:
    """``text``, an answer cut at the token limit, visibly cut: without its last word (which
    may be a partial one) or dangling punctuation, and ending with "…".

    >>> mark_truncated("Quellport lies on the coast, wh")
    'Quellport lies on the coast…'
    >>> mark_truncated("Quellport is the capital [1]. It")
    'Quellport is the capital [1]. …'
    """
    body = text.rstrip()
    if re.search(r"\w$", body):
        body = re.sub(r"\s+\S+$", "", body)  # a lone word stays: it is all there is
    body = body.rstrip(",;:([{-–— \t\n")
    return f"{body} …" if body.endswith((".", "!", "?")) else f"{body}…"


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

    Only sentences that pass the support check (``checker``, default
    :class:`~ragline.generate.citations.ClaimSupport`) are shown; ``on_token`` receives
    them as they are decided in plain mode (the marginalized modes decode several passages
    at once and report the finished answer only), and what it receives is the answer's
    text. When nothing passes, ``config.unsupported`` decides: ``abstain``, ``fallback``
    (the best-matching passage sentence that passes the check, marked as such) or
    ``regenerate`` (ask once more).
    A span reader (:class:`~ragline.generate.span_reader.SpanReader`) answers with the
    best span that passes the check.
    """
    mode = mode or config.mode
    if mode not in MODES:
        raise RaglineError(f"answer mode {mode!r}: use {', '.join(MODES)}")
    check_unsupported(config.unsupported)
    result = Answer(question, ABSTAIN_TEXT, mode=mode, generator=generator.name)
    result.passages = list(passages)
    result.timings = dict.fromkeys(ANSWER_TIMINGS)
    if retrieval_too_weak(passages, config.min_score):
        result.abstained = True
        return result
    check = checker if checker is not None else ClaimSupport()
    if callable(getattr(generator, "read", None)):
        if mode != "plain":
            raise RaglineError(
                f"mode {mode!r} needs token probabilities; generator {generator.name!r} "
                "reads spans (use --mode plain, or a language model: --generator smollm2)"
            )
        started = time.perf_counter()
        try:
            return _read(generator, result, config, check, on_token)
        finally:
            checking = result.timings["support_check_s"] or 0.0
            result.timings["generate_s"] = time.perf_counter() - started - checking
    if mode == "plain":
        messages, result.passages = build_messages(
            question,
            passages,
            count_tokens=count_tokens,
            context_tokens=config.context_tokens,
            answer_style=config.answer_style,
        )
        gate = _generate_checked(generator, messages, config, check, result, on_token)
        if not gate.text and config.unsupported == "regenerate" and gate.withheld:
            retry = [*messages, {"role": "user", "content": REGENERATE_PROMPT}]
            gate = _generate_checked(generator, retry, config, check, result, on_token)
    else:
        started = time.perf_counter()
        text = _marginalized(question, passages, generator, config, mode, count_tokens, result)
        result.timings["generate_s"] = time.perf_counter() - started
        gate = CheckedText(question, result.passages, check, on_text=on_token, select=first_answer)
        started = time.perf_counter()
        gate.finish(text)
        result.timings["support_check_s"] = time.perf_counter() - started
    result.withheld = gate.withheld
    if gate.text and not is_abstention_text(gate.text):
        result.text, result.citations = gate.text, gate.citations
        return _shortened(result, config)
    if gate.withheld and config.unsupported == "fallback":
        from ragline.generate.extractive import ExtractiveGenerator

        sentence, _ = ExtractiveGenerator().answer(question, result.passages)
        fallback = CheckedText(question, result.passages, check, on_text=on_token)
        fallback.finish(sentence)
        if fallback.text and not is_abstention_text(fallback.text):
            result.text, result.citations, result.fallback = fallback.text, fallback.citations, True
            return _shortened(result, config)
    result.text, result.abstained = ABSTAIN_TEXT, True
    return result


def _shortened(result: Answer, config: GenerateConfig) -> Answer:
    """``result`` with a ``short_answer`` when the short style was asked for and the answer
    is a sentence around it (:func:`~ragline.generate.question_type.restated_answer`): small
    models often say the question again whatever the prompt asks."""
    if config.answer_style == "short":
        result.short_answer = restated_answer(result.question, strip_citations(result.text))
    return result


ANSWER_TIMINGS = ("generate_s", "first_token_s", "decode_tokens_per_s", "support_check_s")
"""The keys :func:`answer` sets in ``Answer.timings`` (seconds, and tokens per second)."""

REGENERATE_PROMPT = (
    "Your answer was not supported by the passages. Answer again, copying the facts word "
    "for word from one passage and citing it as [n], or reply exactly: " + ABSTAIN_TEXT
)
"""The follow-up message of ``unsupported = "regenerate"``."""

UNSUPPORTED = ("abstain", "fallback", "regenerate")


def check_unsupported(policy: str) -> str:
    """``policy`` if it is one of :data:`UNSUPPORTED`, else a one-line error."""
    if policy not in UNSUPPORTED:
        raise RaglineError(f"unsupported-answer policy {policy!r}: use {', '.join(UNSUPPORTED)}")
    return policy


def _generate_checked(
    generator: Generator,
    messages: list[Message],
    config: GenerateConfig,
    check: SupportChecker,
    result: Answer,
    on_token: Callable[[str], None] | None,
) -> CheckedText:
    """The generator's reply to ``messages``, streamed through the support check; the time
    each took is added to ``result.timings`` (the first call's first token and speed kept)."""
    gate = CheckedText(
        result.question, result.passages, check, on_text=on_token, select=first_answer
    )
    checking = 0.0

    def feed(piece: str) -> None:
        nonlocal checking
        started = time.perf_counter()
        gate.feed(piece)
        checking += time.perf_counter() - started

    started = time.perf_counter()
    completion = complete(
        generator,
        messages,
        max_new_tokens=config.max_new_tokens,
        stop=(config.stop,) if config.stop else (),
        temperature=config.temperature,
        seed=config.seed,
        on_token=feed if on_token is not None else None,
    )
    generating = time.perf_counter() - started - checking
    result.finish_reason = completion.finish_reason
    text = completion.text
    cut = completion.finish_reason == "length" and first_answer(text) == text.strip()
    started = time.perf_counter()
    gate.finish(mark_truncated(text) if cut else text)
    if cut and gate.text and not gate.text.endswith("…"):
        gate.show(" …")
    checking += time.perf_counter() - started
    timings = result.timings
    timings["generate_s"] = (timings.get("generate_s") or 0.0) + generating
    timings["support_check_s"] = (timings.get("support_check_s") or 0.0) + checking
    if timings.get("first_token_s") is None:
        timings["first_token_s"] = completion.first_token_s
        timings["decode_tokens_per_s"] = completion.decode_tokens_per_s()
    return gate


def _read(
    reader: Any,
    result: Answer,
    config: GenerateConfig,
    check: SupportChecker,
    on_token: Callable[[str], None] | None,
) -> Answer:
    """``result`` answered by a span reader: its best span above the reader's threshold whose
    answer passes the support check, in ``config.answer_style``; else an abstention. The
    time the checks took is ``result.timings["support_check_s"]``."""
    texts = [hit.chunk.indexed_text for hit in result.passages]
    checking = result.timings["support_check_s"] = 0.0
    for span in reader.read(result.question, texts):
        if span.score < reader.threshold:
            break
        text = span.cited(config.answer_style, texts[span.n - 1])
        started = time.perf_counter()
        citations, _ = resolve_citations(
            text, result.passages, checker=check, question=result.question
        )
        checking += time.perf_counter() - started
        result.timings["support_check_s"] = checking
        if citations and all(c.supported for c in citations):
            result.text, result.citations, result.short_answer = text, citations, span.text
            result.abstained = False
            if on_token is not None:
                on_token(text)
            return result
        result.withheld.append(
            {
                "sentence": strip_citations(text),
                "missing": sorted({t for c in citations for t in c.missing}),
                "cited": [span.n],
            }
        )
    result.text, result.abstained = ABSTAIN_TEXT, True
    return result


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
    """``config`` with the non-None ``values`` replaced; an unknown answer style or
    unsupported-answer policy is refused here, before any retrieval or model load."""
    merged = replace(config, **{k: v for k, v in values.items() if v is not None})
    check_answer_style(merged.answer_style)
    check_unsupported(merged.unsupported)
    return merged
