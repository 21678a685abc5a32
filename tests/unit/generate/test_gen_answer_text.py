"""The text of an answer: which part of a reply is kept, and how a cut reply is marked."""

from __future__ import annotations

import pytest

from ragline.generate.answer import first_answer, mark_truncated

CODE = "```python\nimport csv\n\nwith open('data.csv') as f:\n    rows = list(csv.reader(f))\n```"


@pytest.mark.parametrize(
    ("reply", "kept"),
    [
        # the CSV answer: the explanation stays with the code it introduces, and the
        # code block is whole although it holds a blank line
        (f"Here is how:\n\n{CODE}\n\nThis reads every row.", f"Here is how:\n\n{CODE}"),
        (
            "The capital is:\n\nQuellport [1].\n\nIt is also a port.",
            "The capital is:\n\nQuellport [1].",
        ),
        ("Steps:\n \n~~~\na\n\nb\n~~~\n\nDone.", "Steps:\n \n~~~\na\n\nb\n~~~"),
        # "Answer:"-style lead-ins go, on the paragraph's first line or as a paragraph of their own
        ("Answer: Quellport [1].\n\nMore rambling.", "Quellport [1]."),
        ("The final answer is - 42.", "42."),
        ("  \n\nThe answer is:\n\n34% [2].\n\nMore.", "34% [2]."),
        # a reply cut inside its code block or right after its introduction is kept as it came
        (
            "Here is how:\n\n```python\nimport csv\n\nrows =",
            "Here is how:\n\n```python\nimport csv\n\nrows =",
        ),
        ("Here is how:", "Here is how:"),
        ("", ""),
        ("Answer:", ""),
    ],
)
def test_first_answer_keeps_an_introduction_with_what_it_introduces(reply: str, kept: str) -> None:
    assert first_answer(reply) == kept
    assert kept in reply  # the model's own text, never rewritten


@pytest.mark.parametrize(
    ("cut", "marked"),
    [
        ("Quellport lies on the coast, wh", "Quellport lies on the coast…"),
        ("The capital is Quellport [1", "The capital is Quellport…"),
        ("Quellport is the capital [1]. It", "Quellport is the capital [1]. …"),
        ("Quellport is the capital [1]", "Quellport is the capital [1]…"),
        ("Steps:\n1. Boil water\n2. Add sa", "Steps:\n1. Boil water\n2. Add…"),
        ("Quellp", "Quellp…"),
        ("", "…"),
    ],
)
def test_mark_truncated_drops_the_partial_word_and_ends_with_an_ellipsis(
    cut: str, marked: str
) -> None:
    assert mark_truncated(cut) == marked
