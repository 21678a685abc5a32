"""The ``entities`` follow-up: what the passages found name that the question does not,
each searched for in the whole corpus.

"Which painter lives where the Dovul rises?" finds "The Dovul river rises in the Ketta
hills."; the name it adds, *Ketta hills*, is the bridge to "The Ketta hills are home to
the painter Ilse Marr." Links by title need that passage to be the document *Ketta hills*;
this needs only that it names them. The names and dates come from
:func:`ragline.generate.claims.claims` (capitalised phrases, dates in any spelling); a
search counts only the passages that state its term, so a search that finds nothing new
about it ends multi-hop retrieval.
"""

from __future__ import annotations

from collections.abc import Sequence

from ragline.documents import Hit
from ragline.generate.claims import PassageTerms, Term, claims
from ragline.generate.follow_up import FollowUpTools, HopState, NextSearch, unsearched

PASSAGES = 2
"""How many of the best passages found are read for new names."""
ENTITIES = 3
"""How many new names (then dates) are searched for per hop."""


def bridge_terms(question: str, passages: Sequence[Hit], limit: int = ENTITIES) -> list[Term]:
    """Names, then dates, that ``passages`` state and neither ``question`` nor the passage's
    own title does, in order of first mention, once each, at most ``limit``.

    >>> from ragline.documents import Chunk
    >>> hit = Hit(Chunk("d#0", "d", "The Dovul river rises in the Ketta hills.", 0, 41), 1, 1, "")
    >>> [t.text for t in bridge_terms("Which painter lives where the Dovul rises?", [hit])]
    ['Ketta']
    """
    asked = PassageTerms(question)
    found: dict[str, Term] = {}
    for hit in passages:
        title = PassageTerms(hit.chunk.header or str(hit.chunk.metadata.get("title", "")))
        for term in claims(hit.chunk.text):
            if term.kind in ("name", "date") and not asked.found(term) and not title.found(term):
                found.setdefault(term.key, term)
    ordered = sorted(found.values(), key=lambda term: term.kind != "name")
    return ordered[:limit]


class EntitySearches:
    """One search per bridge term of the best ``passages`` found: the term and the question,
    counting only hits that state the term."""

    def __init__(self, passages: int = PASSAGES, entities: int = ENTITIES) -> None:
        self.passages = passages
        self.entities = entities

    @classmethod
    def from_tools(cls, tools: FollowUpTools) -> EntitySearches:
        return cls()

    def next_searches(self, state: HopState) -> list[NextSearch]:
        terms = bridge_terms(state.question, state.found[: self.passages], self.entities)
        searches = [NextSearch(f"{term.text} {state.question}", requires=(term,)) for term in terms]
        return unsearched(searches, state)
