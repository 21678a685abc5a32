"""The ``links`` follow-up: the question again, only within the documents that the passages
found name by title (see :mod:`ragline.generate.links`); needs no language model, and
helps only where passages name each other's titles exactly."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ragline.errors import RaglineError
from ragline.generate.follow_up import FollowUpTools, HopState, NextSearch


class TitleLinks:
    """Searches the question within the documents named in the passages found and not yet
    among them; nothing when there are none."""

    def __init__(self, named_documents: Callable[[Sequence[str]], list[str]]) -> None:
        self.named_documents = named_documents

    @classmethod
    def from_tools(cls, tools: FollowUpTools) -> TitleLinks:
        if tools.named_documents is None:
            raise RaglineError("follow-up 'links' needs a way to find the documents passages name")
        return cls(tools.named_documents)

    def next_searches(self, state: HopState) -> list[NextSearch]:
        seen = state.documents | {
            doc for search in state.searched for doc in search.documents or ()
        }
        named = self.named_documents([hit.chunk.text for hit in state.found])
        documents = tuple(doc_id for doc_id in named if doc_id not in seen)
        return [NextSearch(state.question, documents)] if documents else []
