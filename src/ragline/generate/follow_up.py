"""Follow-ups: what multi-hop retrieval searches for after a hop, one strategy per name.

After a hop, a follow-up strategy reads the question and the passages found so far and
names the next searches (a query, optionally only within some documents); none means
there is nothing more to look for. Strategies live in their own modules and are found by
name in :data:`FOLLOW_UPS`, as backends are in the other registries: a new one is a
module with a class that has ``from_tools`` and ``next_searches``, and one line here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ragline.documents import Hit
from ragline.errors import RaglineError
from ragline.generate.base import Generator
from ragline.generate.claims import Term
from ragline.registry import Registry

FOLLOW_UPS = Registry(
    "follow-up",
    {
        "missing": "ragline.generate.follow_up_model:MissingFact",
        "answer": "ragline.generate.follow_up_model:AnswerSoFar",
        "links": "ragline.generate.follow_up_links:TitleLinks",
        "passage": "ragline.generate.follow_up_passage:PassageExpansion",
        "entities": "ragline.generate.follow_up_entities:EntitySearches",
        "decompose": "ragline.generate.follow_up_decompose:Decomposition",
        "auto": "ragline.generate.follow_up_auto:AutoFollowUp",
    },
)


@dataclass(frozen=True)
class ContextBudget:
    """How passages are packed into a prompt and the answer asked for: the final answer's
    settings, so that a follow-up that asks the generator reads the same passages and
    answers in the same style as the answer would."""

    tokens: int = 1536
    count_tokens: Callable[[str], int] | None = None
    answer_style: str = "sentence"


@dataclass(frozen=True)
class FollowUpTools:
    """What strategies may use: the generator (None in retrieval-only runs), the prompt
    budget, and ``named_documents`` (the ids of the documents texts name by title; None
    where title links must not be followed)."""

    generator: Generator | None = None
    budget: ContextBudget = ContextBudget()
    named_documents: Callable[[Sequence[str]], list[str]] | None = None


@dataclass(frozen=True)
class NextSearch:
    """One search of a hop: ``query``, only within ``documents`` (ids) when not None; with
    ``requires``, only the hits that state one of those terms count (a search for a bridge
    entity is after passages that name it, not merely ones like the question)."""

    query: str
    documents: tuple[str, ...] | None = None
    requires: tuple[Term, ...] = ()


@dataclass(frozen=True)
class HopState:
    """Where multi-hop retrieval stands: the question, the passages read so far (best
    first), and every search already run (not to be run again)."""

    question: str
    found: Sequence[Hit]
    searched: frozenset[NextSearch]

    @property
    def documents(self) -> set[str]:
        """Ids of the documents the passages found belong to."""
        return {hit.chunk.doc_id for hit in self.found}


class FollowUp(Protocol):
    """A follow-up strategy: the searches of the next hop, or [] to stop."""

    def next_searches(self, state: HopState) -> list[NextSearch]: ...


def check_follow_up(name: str) -> str:
    """``name`` if it names a follow-up strategy, else a one-line error listing them."""
    if name not in FOLLOW_UPS:
        raise RaglineError(f"follow-up {name!r}: use {', '.join(FOLLOW_UPS.names())}")
    return name


def make_follow_up(name: str, tools: FollowUpTools) -> FollowUp:
    """The strategy called ``name``, built with ``tools``."""
    strategy: FollowUp = FOLLOW_UPS.load(check_follow_up(name)).from_tools(tools)
    return strategy


def unsearched(searches: Sequence[NextSearch], state: HopState) -> list[NextSearch]:
    """``searches`` without repeats and without those already run (queries compared
    case-insensitively)."""
    seen = {(s.query.lower(), s.documents) for s in state.searched}
    kept: list[NextSearch] = []
    for search in searches:
        key = (search.query.lower(), search.documents)
        if search.query.strip() and key not in seen:
            seen.add(key)
            kept.append(search)
    return kept
