from __future__ import annotations

import pytest

from ragline.evaluate import (
    ABSTENTION_PHRASES,
    abstention_accuracy,
    exact_match,
    f1,
    is_abstention,
    normalize_answer,
    supporting_recall,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Eiffel Tower", "eiffel tower"),
        ("  A  cat, an   apple; THE end.  ", "cat apple end"),
        ("theatre", "theatre"),  # articles only as whole words
        ("U.S.A.", "usa"),
        ("", ""),
    ],
)
def test_normalize_answer(text: str, expected: str) -> None:
    assert normalize_answer(text) == expected


def test_exact_match_squad_examples() -> None:
    assert exact_match("The Eiffel Tower", ["eiffel tower"]) == 1.0
    assert exact_match("Eiffel Tower.", ["the Eiffel tower"]) == 1.0
    assert exact_match("Eiffel", ["Eiffel Tower"]) == 0.0
    assert exact_match("Denver Broncos", ["Carolina Panthers", "denver broncos"]) == 1.0
    assert exact_match("Paris", "paris") == 1.0  # a single gold string is accepted


def test_f1_by_hand() -> None:
    # "cat sat" vs "cat sat down": overlap 2, precision 2/2, recall 2/3 -> F1 = 2PR/(P+R) = 0.8
    assert f1("the cat sat", ["a cat sat down"]) == pytest.approx(0.8)
    # repeated tokens count at most as often as in the gold: overlap 1, P 1/3, R 1/2 -> 0.4
    assert f1("cat cat cat", ["cat dog"]) == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert f1("dog", ["cat"]) == 0.0
    # max over golds
    assert f1("the cat sat", ["dog", "cat sat"]) == 1.0
    # an answer made only of articles/punctuation is empty against a real gold
    assert f1("the", ["cat"]) == 0.0


@pytest.mark.parametrize("golds", [[], [""], ["  ", "the"]])
def test_unanswerable_scores_one_iff_abstaining(golds: list[str]) -> None:
    for metric in (exact_match, f1):
        assert metric("", golds) == 1.0
        assert metric("The knowledge base does not say.", golds) == 1.0
        assert metric("Paris", golds) == 0.0


def test_is_abstention() -> None:
    assert is_abstention("")
    assert is_abstention("   ")
    assert is_abstention("The knowledge base does not say.")
    assert is_abstention("NO ANSWER")
    assert is_abstention("This cannot be answered from the passages.")
    assert is_abstention("The answer is not in the passages.")
    assert is_abstention("I don\u2019t know")
    assert is_abstention("i don't  know.")
    assert not is_abstention("Paris")
    assert not is_abstention("Nobody knows answers like Nora")
    assert all(p == p.lower() for p in ABSTENTION_PHRASES)


def test_abstention_accuracy() -> None:
    predictions = ["Paris", "I don't know", "", "Berlin"]
    answerable = [True, False, True, False]
    assert abstention_accuracy(predictions, answerable) == 0.5
    with pytest.raises(ValueError):
        abstention_accuracy(["a"], [True, False])
    with pytest.raises(ValueError):
        abstention_accuracy([], [])


def test_supporting_recall() -> None:
    retrieved = ["Paris", "France", "Seine", "Louvre"]
    assert supporting_recall(retrieved, ["Paris", "Louvre"]) == 1.0
    assert supporting_recall(retrieved, ["Paris", "Louvre"], k=2) == 0.5
    assert supporting_recall(retrieved, ["Paris", "Paris", "Louvre"], k=3) == 0.5  # distinct
    assert supporting_recall(retrieved, ["Rome"], k=10) == 0.0
    assert supporting_recall(retrieved, ["Paris"], k=0) == 0.0
    with pytest.raises(ValueError):
        supporting_recall(retrieved, [])
    with pytest.raises(ValueError):
        supporting_recall(retrieved, ["Paris"], k=-1)
