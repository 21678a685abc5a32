"""Questions about two named options, each decided by its own passage: an answer picking
one option of a choice in time, or "yes" to "are A and B both Z?", is supported only when
the options' own passages decide it (fictional bands, people and games)."""

from __future__ import annotations

import pytest

from ragline.documents import Chunk, Hit
from ragline.generate.citations import attribute, resolve_citations
from ragline.generate.comparison import choice_in_time, confirmed_both, decided_choice


def hit(title: str, text: str, rank: int, *, start: int = 0) -> Hit:
    chunk = Chunk(f"{title}#{rank}", title, text, start, start + len(text), {"title": title})
    return Hit(chunk, 1.0, rank, "hybrid")


BANDS = [
    hit("Orvell Quartet Live", "Orvell Quartet Live is a 1999 album by the Orvell Quartet.", 1),
    hit("The Drennick Five", "The Drennick Five are a folk band from Sallow, formed in 2003.", 2),
    hit(
        "Orvell Quartet", "The Orvell Quartet is a string band. It was founded in 1987 in Kest.", 3
    ),
]
FORMED = "Which band was formed first, the Orvell Quartet or The Drennick Five?"


def test_the_years_of_the_options_own_passages_support_the_earlier_one():
    citations, _ = resolve_citations("Orvell Quartet [1].", BANDS, question=FORMED)
    # the album's passage [1] is no band's own; the two bands' passages decide together
    assert [(c.n, c.supported, c.origin) for c in citations if c.supported] == [
        (3, True, "compared"),
        (2, True, "compared"),
    ]
    uncited = attribute("The Orvell Quartet", BANDS, question=FORMED)
    assert [(c.n, c.origin) for c in uncited] == [(3, "attributed"), (2, "compared")]


@pytest.mark.parametrize(
    "answer",
    [
        "The Drennick Five",  # the years decide for the other band
        "The Orvell Quartet and The Drennick Five",  # picks no one option
        "Kest",  # picks neither
    ],
)
def test_an_answer_the_years_do_not_decide_for_is_not_supported(answer: str):
    citations, _ = resolve_citations(f"{answer} [2].", BANDS, question=FORMED)
    assert not any(c.supported for c in citations)
    assert decided_choice(answer, FORMED, BANDS) is None


def test_asking_for_the_later_one_turns_the_decision_around():
    later = "Which band was formed later, the Orvell Quartet or The Drennick Five?"
    assert decided_choice("The Drennick Five", later, BANDS) == (2, 3)
    assert decided_choice("Orvell Quartet", later, BANDS) is None


PEOPLE = [
    hit("Ilse Varro", 'Ilse "Izzy" Varro (born 3 May 1951) is a Keshian sculptor.', 1),
    hit("Tomas Wend", "Tomas Wend (1948 – 12 June 2011) was a Keshian painter.", 2),
]


@pytest.mark.parametrize(
    ("question", "right", "wrong"),
    [
        ("Who is older, Ilse Varro or Tomas Wend?", "Tomas Wend", "Ilse Varro"),
        ("Who was the youngest, Ilse Varro or Tomas Wend?", "Ilse Varro", "Tomas Wend"),
    ],
)
def test_birth_dates_and_life_spans_decide_who_is_older(question: str, right: str, wrong: str):
    assert decided_choice(right, question, PEOPLE) is not None
    assert decided_choice(wrong, question, PEOPLE) is None


@pytest.mark.parametrize(
    "passages",
    [
        # no year of beginning: "a 1999 album" says nothing about when the band began
        [BANDS[1], hit("Orvell Quartet", "The Orvell Quartet played a 1999 album tour.", 3)],
        # a later chunk of the band's document: its first sentences do not open it
        [BANDS[1], hit("Orvell Quartet", "It was founded in 1987 in Kest.", 3, start=40)],
        # both began the same year
        [BANDS[1], hit("Orvell Quartet", "The Orvell Quartet was formed in 2003.", 3)],
        # one option has no passage of its own
        BANDS[:2],
    ],
)
def test_without_two_years_that_decide_nothing_is_supported(passages: list[Hit]):
    assert decided_choice("Orvell Quartet", FORMED, passages) is None


@pytest.mark.parametrize(
    "question",
    [
        "Which band is from Sallow, the Orvell Quartet or The Drennick Five?",  # not in time
        "Which band released its first album in Kest?",  # no two options
        "Was the Orvell Quartet formed first?",
    ],
)
def test_questions_that_order_no_two_options_in_time_are_no_choice(question: str):
    assert choice_in_time(question) is None


KINDS = [
    hit("Tallow Rings", "Tallow Rings is a card game by Oda Venn. Players trade rings.", 1),
    hit("Brisk", "Brisk (or Brusk) is a card game from the Kest valley.", 2),
    hit("Mallow Tiles", "Mallow Tiles is a tile-laying board game. It was published in 1990.", 3),
]


def test_yes_to_both_is_supported_when_each_options_own_passage_states_the_kind():
    question = "Are Tallow Rings and Brisk both card games?"
    citations, _ = resolve_citations("Yes [1].", KINDS, question=question)
    assert [(c.n, c.supported, c.origin) for c in citations] == [
        (1, True, "model"),
        (2, True, "compared"),
    ]
    assert confirmed_both("Yes, both are card games.", question, KINDS) == (1, 2)


@pytest.mark.parametrize(
    ("answer", "question"),
    [
        ("Yes", "Are Tallow Rings and Mallow Tiles both card games?"),  # Mallow Tiles is not
        ("No", "Are Tallow Rings and Mallow Tiles both card games?"),  # "no" is never checked
        ("Yes", "Are Tallow Rings and Brisk both card games from Kest?"),  # one passage lacks Kest
        ("Yes", "Are Tallow Rings and Brisk card games of the same maker?"),  # not "both"
    ],
)
def test_yes_or_no_that_the_passages_do_not_state_is_not_supported(answer: str, question: str):
    citations, _ = resolve_citations(f"{answer} [1].", KINDS, question=question)
    assert not any(c.supported for c in citations)
    assert confirmed_both(answer, question, KINDS) is None
