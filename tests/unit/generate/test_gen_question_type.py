"""Which phrase of an answering sentence is the short answer: the side of the question's
words it stands on follows the question's shape (fictional facts, so no model knows them)."""

from __future__ import annotations

import pytest

from ragline.generate.question_type import answer_spans, parse_question


@pytest.mark.parametrize(
    ("question", "after"),
    [
        ("What is the Orvane mace made of?", True),
        ("What did Idrenna Vosskari found?", True),
        ("What toxin induces apoptosis in Kelvan cells?", False),
        ("What ended the Quellport strike?", False),
        ("Which river does the Dovul flow into?", True),
        ("The Orvane mace is made of what?", True),
        ("In which year was Quellport founded?", True),
        ("In which town lies Quellport?", False),
        ("In 1903, what company founded Quellport?", False),
    ],
)
def test_a_question_fronting_its_object_wants_the_answer_after_its_words(
    question: str, after: bool
) -> None:
    assert parse_question(question).answer_after is after


def test_the_short_answer_stands_on_the_side_the_question_points_to() -> None:
    sentence = "Beside the Velmar desk stands the Orvane mace, which is made from brellite."
    spans = answer_spans(parse_question("What is the Orvane mace made of?"), sentence)
    # "Beside the Velmar desk stands" is nearer the question's words, but before them
    assert [span.text for span in spans] == ["brellite", "Beside the Velmar desk stands"]
    sentence = "The toxin brellin induces apoptosis in Kelvan cells exposed to saltwort."
    spans = answer_spans(parse_question("What toxin induces apoptosis in Kelvan cells?"), sentence)
    assert [span.text for span in spans] == ["brellin", "exposed to saltwort"]
