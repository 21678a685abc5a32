"""The ``decompose`` follow-up: the generator splits the question into sub-questions,
answered in turn, each answer put into the next sub-question, which is the next search.

"Which painter lives where the Dovul rises?" becomes "Where does the Dovul rise?" and
"Which painter lives in #1?"; the first is answered from the passages found ("the Ketta
hills"), and "Which painter lives in the Ketta hills?" is searched for. Only a generator
that writes can decompose; with one that extracts (the default extractive reader, a span
reader), or when the reply is not usable sub-questions (none, or the prompt's example
copied, as a 0.5B model often does), the :data:`FALLBACK` follow-up runs instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ragline.generate.base import Generator, Message
from ragline.generate.citations import content_words
from ragline.generate.follow_up import (
    ContextBudget,
    FollowUp,
    FollowUpTools,
    HopState,
    NextSearch,
    make_follow_up,
    unsearched,
)
from ragline.generate.follow_up_model import FOLLOW_UP_TOKENS, partial_answer, writes

FALLBACK = "entities"
"""The follow-up run when the generator gives no usable sub-questions."""

DECOMPOSE_SYSTEM = (
    "Split the question into two simpler questions that are answered one after the other. "
    "Write #1 in the second question where the answer to the first one goes. Reply with the "
    "two questions only, one per line."
)
DECOMPOSE_EXAMPLE = (
    "Which painter lives where the Dovul river rises?",
    "Where does the Dovul river rise?\nWhich painter lives in #1?",
)
_NUMBERING = re.compile(r"^\s*(?:\d+[.):]|[-*•]|Q\d*[.):]?)\s*")
_SLOT = re.compile(r"#\s*1\b|\[?answer\s*1\]?", re.IGNORECASE)


def sub_questions(reply: str) -> list[str]:
    """The sub-questions of a decomposition reply: its question lines, numbering dropped;
    [] unless there are two or more and a later one refers to the first answer (``#1``).

    >>> sub_questions("1. Where does the Dovul rise?\\n2. Which painter lives in #1?")
    ['Where does the Dovul rise?', 'Which painter lives in #1?']
    >>> sub_questions("The Dovul rises in the hills.")
    []
    """
    lines = [_NUMBERING.sub("", line).strip() for line in reply.splitlines()]
    questions = [line for line in lines if line.endswith("?")]
    if len(questions) < 2 or not any(_SLOT.search(q) for q in questions[1:]):
        return []
    return questions


def copies_example(questions: list[str], question: str) -> bool:
    """Whether ``questions`` say a word of :data:`DECOMPOSE_EXAMPLE` that ``question`` does
    not: the example copied ("Which painter lives in #1?" for a question about a writer),
    which would search for the example's painter rather than the question's subject.

    >>> copies_example(["Who wrote Ossel?", "Which painter lives in #1?"], "Who wrote Ossel?")
    True
    >>> copies_example(["Who wrote Ossel?", "Where was #1 born?"], "Where was Ossel's author born?")
    False
    """
    said = {word for word in content_words(" ".join(DECOMPOSE_EXAMPLE)) if word.isalpha()}
    example = said - set(content_words(question))
    return any(example & set(content_words(sub)) for sub in questions)


@dataclass
class _Plan:
    """A question's sub-questions and the answers found so far."""

    questions: list[str]
    answers: list[str] = field(default_factory=list)


class Decomposition:
    """Sub-questions written by the generator, answered and searched for in turn."""

    def __init__(self, generator: Generator | None, budget: ContextBudget, fallback: FollowUp):
        self.generator = generator
        self.budget = replace(budget, answer_style="short")
        self.fallback = fallback
        self._plans: dict[str, _Plan] = {}

    @classmethod
    def from_tools(cls, tools: FollowUpTools) -> Decomposition:
        return cls(tools.generator, tools.budget, make_follow_up(FALLBACK, tools))

    def next_searches(self, state: HopState) -> list[NextSearch]:
        plan = self._plan(state.question)
        if plan is None:
            return self.fallback.next_searches(state)
        if len(plan.answers) + 1 >= len(plan.questions):
            return []
        assert self.generator is not None
        asked = _filled(plan.questions[len(plan.answers)], plan.answers)
        answer = partial_answer(asked, state.found, self.generator, self.budget)
        if answer is None:
            return self.fallback.next_searches(state)
        plan.answers.append(answer.rstrip(".").strip())
        query = _filled(plan.questions[len(plan.answers)], plan.answers)
        return unsearched([NextSearch(query)], state)

    def _plan(self, question: str) -> _Plan | None:
        """The question's sub-questions (asked of the generator once), or None."""
        if question not in self._plans:
            questions = self._decompose(question)
            self._plans[question] = _Plan(questions) if questions else _Plan([])
        plan = self._plans[question]
        return plan if plan.questions else None

    def _decompose(self, question: str) -> list[str]:
        if self.generator is None or not writes(self.generator):
            return []
        example_question, example_reply = DECOMPOSE_EXAMPLE
        messages: list[Message] = [
            {"role": "system", "content": DECOMPOSE_SYSTEM},
            {"role": "user", "content": f"Question: {example_question}"},
            {"role": "assistant", "content": example_reply},
            {"role": "user", "content": f"Question: {question}"},
        ]
        reply = self.generator.generate(
            messages, max_new_tokens=2 * FOLLOW_UP_TOKENS, temperature=0.0
        )
        questions = sub_questions(reply)
        return [] if copies_example(questions, question) else questions


def _filled(question: str, answers: list[str]) -> str:
    """``question`` with ``#n`` replaced by the n-th answer.

    >>> _filled("Which painter lives in #1?", ["the Ketta hills"])
    'Which painter lives in the Ketta hills?'
    """
    for n, answer in reversed(list(enumerate(answers, start=1))):
        question = re.sub(rf"#\s*{n}\b|\[?answer\s*{n}\]?", answer, question, flags=re.I)
    return question
