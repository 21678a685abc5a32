"""Follow-up strategies on a corpus where the bridge entity is named without a title link:
one hop misses the second passage, each general follow-up finds it, ``auto`` picks it up,
and retrieval stops when a hop adds no passage its searches count."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from ragline import Document, KnowledgeBase
from ragline.embed.fake import HashEncoder
from ragline.generate.claims import claims
from ragline.generate.extractive import ExtractiveGenerator
from ragline.generate.follow_up import (
    FOLLOW_UPS,
    FollowUpTools,
    HopState,
    NextSearch,
    make_follow_up,
    unsearched,
)
from ragline.generate.follow_up_decompose import sub_questions
from ragline.generate.multihop import hop_rounds, passages_read, scoped_search

# No passage names another's title: "Ketta" links the river to the painter.
RIVERS = [
    Document("dovul", "The Dovul river rises in the Ketta hills.", {"title": "Dovul river"}),
    Document("marr", "The Ketta hills are home to the painter Ilse Marr.", {"title": "Ilse Marr"}),
    Document(
        "tolle",
        "The painter Ama Tolle lives by the Sorrel river.",
        {"title": "Ama Tolle"},
    ),
    Document(
        "vask",
        "The painter Oren Vask lives where the Pellan river meets the sea.",
        {"title": "Oren Vask"},
    ),
    Document(
        "brint", "The Brint river rises in the Umber hills and flows east.", {"title": "Brint"}
    ),
]
QUESTION = "Which painter lives where the Dovul rises?"
OPTIONS = {"k": 2, "search_mode": "hybrid"}


class RepliesInTurn:
    """A generator that writes the given replies in turn (the last one again after)."""

    def __init__(self, *replies: str) -> None:
        self.name = "replies"
        self.replies = list(replies)
        self.prompts: list[object] = []

    def generate(self, messages, **options) -> str:  # type: ignore[no-untyped-def]
        self.prompts.append(messages)
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def stream(self, messages, **options) -> Iterator[str]:  # type: ignore[no-untyped-def]
        yield self.generate(messages, **options)


@pytest.fixture()
def kb(tmp_path: Path) -> Iterator[KnowledgeBase]:
    with KnowledgeBase.create(tmp_path / "kb", encoder=HashEncoder()) as knowledge_base:
        knowledge_base.add(RIVERS)
        yield knowledge_base


def read(answer) -> set[str]:  # type: ignore[no-untyped-def]
    return {hit.chunk.doc_id for hit in answer.passages}


def test_one_hop_misses_the_painter_and_no_title_link_leads_there(kb: KnowledgeBase) -> None:
    generator = ExtractiveGenerator(encoder=HashEncoder())
    single = kb.ask(QUESTION, generator=generator, **OPTIONS)
    links = kb.ask(QUESTION, generator=generator, hops=2, follow_up="links", **OPTIONS)
    assert "dovul" in read(single) and "marr" not in read(single)
    assert "marr" not in read(links) and len(links.hops) == 1


@pytest.mark.parametrize("follow_up", ["passage", "entities", "decompose", "auto"])
def test_general_follow_ups_find_the_painter(kb: KnowledgeBase, follow_up: str) -> None:
    generator = ExtractiveGenerator(encoder=HashEncoder())  # cannot write: decompose falls back
    answer = kb.ask(QUESTION, generator=generator, hops=2, follow_up=follow_up, **OPTIONS)
    assert {"dovul", "marr"} <= read(answer)
    assert len(answer.hops) == 2 and "marr#0" in answer.hops[1]["chunk_ids"]


def test_auto_is_the_default_with_more_than_one_hop(kb: KnowledgeBase) -> None:
    generator = ExtractiveGenerator(encoder=HashEncoder())
    answer = kb.ask(QUESTION, generator=generator, hops=2, **OPTIONS)
    assert {"dovul", "marr"} <= read(answer)
    queries = [s["query"] for s in answer.hops[1]["searches"]]
    assert f"Ketta {QUESTION}" in queries  # links find no title; the entity search does


def test_entity_searches_count_only_hits_that_name_the_entity(kb: KnowledgeBase) -> None:
    answer = kb.ask(QUESTION, generator=ExtractiveGenerator(encoder=HashEncoder()), hops=2,
                    follow_up="entities", **OPTIONS)  # fmt: skip
    # Searches for Ketta and for the name the other passage read adds (the Pellan river);
    # only the painter of the Ketta hills is new and names one of them.
    assert answer.hops[1]["chunk_ids"] == ["marr#0"]


def test_decomposition_answers_the_first_sub_question_and_searches_the_second(
    kb: KnowledgeBase,
) -> None:
    generator = RepliesInTurn(
        "1. Where does the Dovul rise?\n2. Which painter lives in #1?",
        "The Ketta hills [1].",
        "Ilse Marr [2].",
    )
    answer = kb.ask(QUESTION, generator=generator, hops=2, follow_up="decompose", **OPTIONS)
    assert answer.hops[1]["query"] == "Which painter lives in The Ketta hills?"
    assert "marr" in read(answer)


def test_decomposition_falls_back_when_the_reply_is_no_sub_questions(
    kb: KnowledgeBase,
) -> None:
    generator = RepliesInTurn("The Dovul rises in the hills.")
    answer = kb.ask(QUESTION, generator=generator, hops=2, follow_up="decompose", **OPTIONS)
    queries = [s["query"] for s in answer.hops[1]["searches"]]
    assert f"Ketta {QUESTION}" in queries and "marr" in read(answer)


def test_decomposition_that_copies_the_prompts_example_falls_back(kb: KnowledgeBase) -> None:
    question = "Which artist works where the Dovul rises?"  # no painter, nobody lives
    generator = RepliesInTurn("Where does the Dovul rise?\nWhich painter lives in #1?")
    answer = kb.ask(question, generator=generator, hops=2, follow_up="decompose", **OPTIONS)
    queries = [s["query"] for s in answer.hops[1]["searches"]]
    assert queries == [f"Ketta {question}", f"Umber {question}"] and "marr" in read(answer)


def test_retrieval_stops_when_a_hop_adds_no_counted_passage(kb: KnowledgeBase) -> None:
    generator = ExtractiveGenerator(encoder=HashEncoder())
    answer = kb.ask(QUESTION, generator=generator, hops=4, follow_up="auto", **OPTIONS)
    # after the second hop there is nothing new to search for (Ketta and the Pellan river
    # were searched; Ilse Marr is the painter passage's own title): two hops ran, not four
    assert len(answer.hops) == 2 and {"dovul", "marr"} <= read(answer)
    assert "brint" not in read(answer)


def test_a_hop_whose_searches_were_all_run_before_ends_retrieval(kb: KnowledgeBase) -> None:
    strategy = make_follow_up("entities", FollowUpTools())
    hits = kb.search("Dovul", k=1, mode="bm25")
    state = HopState(QUESTION, hits, frozenset())
    searches = strategy.next_searches(state)
    assert [s.query for s in searches] == [f"Ketta {QUESTION}"]
    assert strategy.next_searches(HopState(QUESTION, hits, frozenset(searches))) == []


def test_follow_ups_that_ask_a_generator_need_one() -> None:
    from ragline.errors import RaglineError

    with pytest.raises(RaglineError, match="follow-up 'missing' needs a generator"):
        make_follow_up("missing", FollowUpTools())
    assert FOLLOW_UPS.names()[-1] == "auto"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Where does it rise?\nWho lives in #1?", ["Where does it rise?", "Who lives in #1?"]),
        ("Q1: Where does it rise?\nQ2: Who lives there?", []),  # no reference to answer 1
        ("", []),
    ],
)
def test_sub_questions_need_two_questions_and_a_reference(reply: str, expected: list[str]) -> None:
    assert sub_questions(reply) == expected


class SearchesForNothingNew:
    """A strategy whose every search requires a name no passage states."""

    def next_searches(self, state: HopState) -> list[NextSearch]:
        (term,) = claims("Nowhere")
        return unsearched([NextSearch("Dovul river", requires=(term,))], state)


def test_a_hop_that_keeps_no_passage_is_logged_and_ends_retrieval(kb: KnowledgeBase) -> None:
    search = scoped_search(partial(kb.search, mode="hybrid"), k=2)
    rounds, log = hop_rounds(QUESTION, search, SearchesForNothingNew(), hops=3, passages=2)
    assert len(rounds) == 1 and [entry["chunk_ids"] for entry in log][1:] == [[]]


def test_every_registered_follow_up_can_be_named_in_config_and_requests() -> None:
    from typing import get_args

    from ragline.config import FollowUpName
    from ragline.generate.follow_up import FOLLOW_UPS

    assert set(get_args(FollowUpName)) == set(FOLLOW_UPS.names())


class SearchesInOrder:
    """A strategy that runs the given searches, in this order, once."""

    def __init__(self, *queries: str) -> None:
        self.queries = queries

    def next_searches(self, state: HopState) -> list[NextSearch]:
        return unsearched([NextSearch(q) for q in self.queries], state)


def test_a_hop_reads_the_passage_that_adds_the_questions_words_not_the_first_search_s(
    kb: KnowledgeBase,
) -> None:
    search = scoped_search(partial(kb.search, mode="hybrid"), k=1)
    strategy = SearchesInOrder("Brint river", "Ketta hills")
    rounds, _ = hop_rounds(QUESTION, search, strategy, hops=2, passages=1)
    assert [h.chunk.doc_id for h in rounds[0]] == ["dovul"]
    # "Brint river" finds a river that rises elsewhere: nothing the question asks that the
    # Dovul passage did not say; "Ketta hills" finds the painter's passage
    assert [h.chunk.doc_id for h in rounds[1]][0] == "marr"
    assert passages_read(rounds, 1)[-1].chunk.doc_id == "marr"
