"""The ``auto`` follow-up, the default when there is more than one hop: the general
follow-ups that measured best, run together (README, "Multi-hop on HotpotQA-100").

Each part proposes its searches; all of them run, and multi-hop retrieval stops as soon
as a hop finds no new passage that its searches count (see
:class:`~ragline.generate.follow_up.NextSearch`). Title links are followed only where
the caller can find titles (a ``doc_id`` filter turns them off).
"""

from __future__ import annotations

from collections.abc import Sequence

from ragline.generate.follow_up import (
    FollowUp,
    FollowUpTools,
    HopState,
    NextSearch,
    make_follow_up,
    unsearched,
)

AUTO_PARTS = ("links", "entities")
"""The follow-ups ``auto`` runs, in order: title links where passages name titles, then the
names the passages add. ``passage`` is left out: added to these two it changed no recall
measured (HotpotQA-100 0.920, without titles 0.850) and costs two long searches a hop."""


class CombinedFollowUp:
    """Every search that any of ``parts`` proposes, each part's in turn, once each."""

    def __init__(self, parts: Sequence[FollowUp]) -> None:
        self.parts = list(parts)

    def next_searches(self, state: HopState) -> list[NextSearch]:
        return unsearched([s for part in self.parts for s in part.next_searches(state)], state)


class AutoFollowUp(CombinedFollowUp):
    """:data:`AUTO_PARTS` combined; ``links`` left out when titles cannot be followed."""

    @classmethod
    def from_tools(cls, tools: FollowUpTools) -> AutoFollowUp:
        names = [n for n in AUTO_PARTS if n != "links" or tools.named_documents is not None]
        return cls([make_follow_up(name, tools) for name in names])
