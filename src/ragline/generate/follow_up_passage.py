"""The ``passage`` follow-up: the question and a passage found, searched for together.

Multi-hop dense retrieval (MDR; Xiong et al., 2021) embeds the question together with the
passage of the first hop: the bridge entity and its context then steer the second search
toward what the first passage points at, whether or not it names a title. Here the
packaged embedder does this without training; each of the ``width`` best passages found
gives one search.
"""

from __future__ import annotations

from ragline.generate.claims import question_terms
from ragline.generate.follow_up import FollowUpTools, HopState, NextSearch, unsearched
from ragline.generate.follow_up_entities import bridge_terms

WIDTH = 2
"""How many of the best passages found are each searched with the question."""
TERMS = 8
"""How many of a passage's new names and dates a hit may state to count."""


class PassageExpansion:
    """One search per passage among the best ``width`` found: the question, then the
    passage's indexed text (its title header and text). A hit counts when it states a name
    of the question or one the passage adds (:func:`bridge_terms`): it continues the chain
    rather than merely resembling it."""

    def __init__(self, width: int = WIDTH) -> None:
        self.width = width

    @classmethod
    def from_tools(cls, tools: FollowUpTools) -> PassageExpansion:
        return cls()

    def next_searches(self, state: HopState) -> list[NextSearch]:
        asked = tuple(question_terms(state.question))
        searches = [
            NextSearch(
                f"{state.question}\n{hit.chunk.indexed_text}",
                requires=asked + tuple(bridge_terms(state.question, [hit], TERMS)),
            )
            for hit in state.found[: self.width]
        ]
        return unsearched(searches, state)
