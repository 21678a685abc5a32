"""Follow-ups the generator writes: a query for the fact still missing (``missing``), or
the question with the answer so far (``answer``).

A reader that extracts rather than writes (the extractive generator, a span reader) gives
its best partial answer for both. Measured on HotpotQA-100, neither helped small readers
(README, "Multi-hop on HotpotQA-100"): a 0.5B model names the wrong bridge entity.
"""

from __future__ import annotations

from collections.abc import Sequence

from ragline.documents import Hit
from ragline.errors import RaglineError
from ragline.generate.answer import first_answer
from ragline.generate.base import Generator, Message
from ragline.generate.citations import is_abstention_text, strip_citations
from ragline.generate.follow_up import ContextBudget, FollowUpTools, HopState, NextSearch
from ragline.generate.prompt import build_messages, format_passage

FOLLOW_UP_TOKENS = 32
"""Longest follow-up a generator writes between hops (a query or a short answer)."""

FOLLOW_UP_SYSTEM = (
    "You plan searches for a question that may need several facts. Given the question and "
    "the passages found so far, write one short search query for the fact that is still "
    "missing. If the passages already contain everything needed, reply exactly: DONE"
)


def needs_generator(tools: FollowUpTools, name: str) -> Generator:
    """The generator of ``tools``; a one-line error naming the follow-up when there is none."""
    if tools.generator is None:
        raise RaglineError(f"follow-up {name!r} needs a generator: give one, or use passage")
    return tools.generator


def partial_answer(
    question: str, passages: Sequence[Hit], generator: Generator, budget: ContextBudget
) -> str | None:
    """The generator's answer to ``question`` from ``passages`` (packed into ``budget``),
    without citations; None when it abstains or says nothing. An extracting reader gives
    its best partial answer: a sentence that shares words with the question will do."""
    extract = getattr(generator, "partial", None) or getattr(generator, "answer", None)
    if callable(extract):
        text, _ = extract(question, passages)
    else:
        messages, _ = build_messages(
            question,
            passages,
            count_tokens=budget.count_tokens,
            context_tokens=budget.tokens,
            answer_style=budget.answer_style,
        )
        reply = generator.generate(messages, max_new_tokens=FOLLOW_UP_TOKENS, temperature=0.0)
        text = first_answer(reply)
    text = strip_citations(text).strip()
    return None if not text or is_abstention_text(text) else text


def writes(generator: Generator) -> bool:
    """Whether ``generator`` writes text of its own (a language model), rather than
    extracting it from the passages (the extractive generator, a span reader)."""
    return not any(callable(getattr(generator, name, None)) for name in ("partial", "answer"))


class AnswerSoFar:
    """The question searched again together with the generator's answer so far."""

    def __init__(self, generator: Generator, budget: ContextBudget) -> None:
        self.generator = generator
        self.budget = budget

    @classmethod
    def from_tools(cls, tools: FollowUpTools) -> AnswerSoFar:
        return cls(needs_generator(tools, "answer"), tools.budget)

    def next_searches(self, state: HopState) -> list[NextSearch]:
        partial = partial_answer(state.question, state.found, self.generator, self.budget)
        return [NextSearch(f"{state.question} {partial}")] if partial else []


class MissingFact(AnswerSoFar):
    """A query the generator writes for the fact still missing; none when it replies
    ``DONE``. A reader that cannot write follows up on its answer so far instead."""

    @classmethod
    def from_tools(cls, tools: FollowUpTools) -> MissingFact:
        return cls(needs_generator(tools, "missing"), tools.budget)

    def next_searches(self, state: HopState) -> list[NextSearch]:
        if not writes(self.generator):
            return super().next_searches(state)
        blocks = "\n\n".join(format_passage(n, hit) for n, hit in enumerate(state.found, start=1))
        messages: list[Message] = [
            {"role": "system", "content": FOLLOW_UP_SYSTEM},
            {
                "role": "user",
                "content": f"Passages:\n\n{blocks}\n\nQuestion: {state.question}\n\nQuery:",
            },
        ]
        reply = self.generator.generate(messages, max_new_tokens=FOLLOW_UP_TOKENS, temperature=0.0)
        lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
        query = lines[0].removeprefix("Query:").strip().strip('"') if lines else ""
        if not query or query.upper().startswith("DONE"):
            return []
        return [NextSearch(query)]
