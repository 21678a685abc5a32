"""Which phrase of an answering sentence is the short answer: the side of the question's
words it stands on follows the question's shape (fictional facts, so no model knows them)."""

from __future__ import annotations

import pytest

from ragline.generate.question_type import answer_spans, parse_question, restated_answer


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


def test_a_question_about_what_is_not_so_is_answered_only_by_a_negated_sentence() -> None:
    asked = parse_question("Who never captured Fort Orvane?")
    assert asked.negated and not parse_question("Who captured Fort Orvane?").negated
    assert answer_spans(asked, "Ilse Marrow captured Fort Orvane in 1702.") == []
    spans = answer_spans(asked, "Fort Orvane was never captured by Ilse Marrow.")
    assert [span.text for span in spans][:1] == ["Ilse Marrow"]


def test_a_word_restricting_what_is_asked_must_be_said() -> None:
    # "first" is one word in three that could be paraphrased, but the last captain is
    # not the first, however sure a reader is
    asked = parse_question("Who was the first captain of the SV Brannock fleet?")
    sentence = "The SV Brannock fleet's last captain was Edvin Rasko."
    assert answer_spans(asked, sentence) == []
    assert answer_spans(asked, sentence, passage=f"SV Brannock\n{sentence}") == []
    said = "The SV Brannock fleet's first captain was Edvin Rasko."
    assert [span.text for span in answer_spans(asked, said)][:1] == ["Edvin Rasko"]


def test_a_vouched_sentence_may_leave_the_subject_to_its_passage_and_say_the_rest_otherwise() -> (
    None
):
    asked = parse_question("Who designed the Orvane mace?")
    passage = "The Orvane mace is a ceremonial mace. The mace was forged by Edda Brell in 1620."
    sentence = "The mace was forged by Edda Brell in 1620."
    assert answer_spans(asked, sentence) == []  # neither "Orvane mace" nor "designed"
    spans = answer_spans(asked, sentence, passage=passage)
    assert [span.text for span in spans][:1] == ["Edda Brell"]
    # a sentence that names its own subject is about that, not about the mace
    other = "Pardovel was founded in 1342 by Ormund Tavessic."
    assert answer_spans(asked, other, passage=f"{passage} {other}") == []
    # the subject must be somewhere in the passage
    assert answer_spans(asked, sentence, passage=sentence) == []


def test_prepositions_link_the_questions_words_and_need_not_be_said() -> None:
    asked = parse_question("What did Ilse Marrow build after the war, during the siege?")
    assert sorted(asked.words) == ["build", "sieg", "war"]
    sentence = "In the siege that followed the war, Ilse Marrow built the Orvane bastion."
    # the sentence says neither "after" nor "during", and answers
    assert any("Orvane bastion" in span.text for span in answer_spans(asked, sentence))


def test_a_question_asking_in_place_wants_the_relation_before_its_question_word() -> None:
    asked = parse_question("Ilse Marrow is a character from a Zorbian radio drama created by whom?")
    assert asked.relation == "creat"
    voiced = (
        "Ilse Marrow is a character from the Zorbian radio drama Quell Lane, voiced by Orla Menske."
    )
    assert answer_spans(asked, voiced) == []
    created = "The Zorbian radio drama with the character Ilse Marrow was created by Brannock Vell."
    assert [span.text for span in answer_spans(asked, created)] == ["Brannock Vell"]
    assert parse_question("Who created the Zorbian radio drama?").relation is None


@pytest.mark.parametrize(
    ("question", "reply", "short"),
    [
        (
            "Who founded Ossavenn Foods?",
            "Ossavenn Foods was founded by Idrenna Vosskari.",
            "Idrenna Vosskari",
        ),
        ("When was Quellport founded?", "Quellport was founded in 1313 [1].", "1313"),
        ("What is the Orvane mace made of?", "The Orvane mace is made of brellite.", "brellite"),
        # no verb: a name with a word of the question in it is its own short answer
        ("Which company manufactures the Velmar desk?", "Velmar Manufacturing", ""),
        # a yes-or-no question has no phrase to cut
        ("Is Quellport the capital of Zorbia?", "Yes, Quellport is the capital [1].", ""),
        # nothing of the question said again: the reply is the answer already
        ("Who founded Ossavenn Foods?", "Idrenna Vosskari was its founder.", ""),
    ],
)
def test_a_sentence_written_for_a_short_answer_is_cut_to_the_phrase_that_answers(
    question: str, reply: str, short: str
) -> None:
    assert restated_answer(question, reply) == short
