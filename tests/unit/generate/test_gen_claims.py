"""Claims: the names, numbers, dates and quantities of a sentence, normalised, and finding them."""

from __future__ import annotations

import pytest

from ragline.generate.claims import PassageTerms, claims, fold, question_terms, words


def kinds(text: str) -> list[tuple[str, str]]:
    return [(term.kind, term.text) for term in claims(text)]


def keys(text: str) -> list[str]:
    return [term.key for term in claims(text)]


def test_names_are_runs_of_capitalised_words() -> None:
    assert kinds("The Dovul river flows into Lake Kafen.") == [
        ("name", "Dovul"),
        ("name", "Lake Kafen"),
    ]
    # punctuation, a possessive and lower-case words end a name
    assert kinds("Quellport Shipping, Zorbia's port of Eldra") == [
        ("name", "Quellport Shipping"),
        ("name", "Zorbia"),
        ("name", "Eldra"),
    ]


def test_a_common_first_word_is_not_a_name_but_a_name_first_is() -> None:
    assert kinds("The capital of Rufen is Gralir.") == [("name", "Rufen"), ("name", "Gralir")]
    assert kinds("Despite the rain, Eldra stood. However it fell.") == [("name", "Eldra")]
    assert kinds("Quellport is the capital. Eldra is not.") == [
        ("name", "Quellport"),
        ("name", "Eldra"),
    ]
    # a common word is a name's first word inside a sentence, where it is capitalised on purpose
    assert kinds("He sailed with Many Rivers Company.") == [("name", "Many Rivers Company")]


@pytest.mark.parametrize(
    ("written", "same"),
    [
        ("1,200", "1200"),
        ("3.50", "3.5"),
        ("1.200.000", "1,200,000"),
        ("1.5 million", "1,500,000"),
        ("twenty-five", "25"),
        ("12 per cent", "12%"),
        ("12 percent", "12 %"),
        ("8 kilometres", "8 km"),
        ("8 kilometers", "8km"),
        ("3 metres", "3 m"),
        ("$5m", "5 million dollars"),
        ("the 10th", "the tenth"),
        ("5 May 1902", "May 5, 1902"),
        ("the 1990s", "the 1990's"),
    ],
)
def test_spellings_of_one_value_share_a_key(written: str, same: str) -> None:
    assert keys(written) == keys(same) and keys(written)


@pytest.mark.parametrize(
    ("one", "other"),
    [("1,200", "1.2"), ("3.5", "35"), ("8 km", "8 m"), ("8 km", "8 miles"), ("1902", "1903")],
)
def test_different_values_keep_different_keys(one: str, other: str) -> None:
    assert keys(one) != keys(other)


def test_kinds_of_numbers() -> None:
    assert kinds("In 1902 it had 1,200 staff, 12% of them in 3 km of docks.") == [
        ("date", "1902"),
        ("number", "1,200"),
        ("quantity", "12%"),
        ("quantity", "3 km"),
    ]
    assert kinds("It ended on 5 May 1902, before March 1903.") == [
        ("date", "5 May 1902"),
        ("date", "March 1903"),
    ]
    assert kinds("In 70 AD and 300 BC") == [("date", "70 AD"), ("date", "300 BC")]
    assert keys("In 70 AD and 300 BC") == ["70", "300 bc"]
    # a list of numbers with commas is not one number, nor a decimal
    assert keys("items 1,2,3") == []


def test_normalisation_of_text() -> None:
    assert fold("Zorbia’s café — “Kâfen”") == 'Zorbia\'s cafe - "Kafen"'
    assert words("The Normans' Anglo-Saxon FOES") == ["the", "norman", "anglo", "saxon", "foe"]
    assert words("Kåfen's") == words("KAFEN")


def test_terms_are_found_as_whole_words_and_phrases_after_normalisation() -> None:
    passage = PassageTerms(
        "On May 5, 1902 Quellport Shipping, of the Kåfen estuary, hired 1200 dockers "
        "for 3.50 dollars a day along 8 kilometres of quay; 12 percent were women."
    )
    sentence = "Quellport Shipping hired 1,200 dockers in Kafen on 5 May 1902 for $3.5 along 8 km."
    assert passage.missing(claims(sentence)) == []
    assert passage.missing(claims("In May 1902, 12% were women.")) == []
    # a part of a word, a part of a number, the wrong unit, another date: not found
    assert passage.missing(claims("Quell hired 200 dockers for 8 m in 1903.")) == [
        "Quell",
        "200",
        "8 m",
        "1903",
    ]
    # the words of a name must be there as a phrase, not scattered
    assert passage.missing(claims("Shipping Quellport did it.")) == ["Shipping Quellport"]


def test_a_name_may_leave_out_the_passages_middle_initial_but_not_add_one() -> None:
    passage = PassageTerms("Arvid T. Tenn Jr. founded Quellport Shipping; Mara Ossel joined.")
    assert passage.missing(claims("Arvid Tenn Jr. founded it.")) == []
    assert passage.missing(claims("Arvid T. Tenn founded it.")) == []
    # an initial the passage does not give is a claim of its own
    assert passage.missing(claims("Mara K. Ossel joined.")) == ["Mara K"]
    assert PassageTerms("Arvid Tenn founded it.").missing(claims("Arvid T. Tenn")) == ["Arvid T"]


def test_question_terms_are_its_subject() -> None:
    assert [t.text for t in question_terms("What is the capital of Zorbia?")] == ["Zorbia"]
    assert [t.text for t in question_terms("Who founded Quellport Shipping in 1902?")] == [
        "Quellport Shipping",
        "1902",
    ]
    # a spelled-out number in a question describes the answer
    assert [t.text for t in question_terms("Which two rivers first reach Lake Kafen?")] == [
        "Lake Kafen"
    ]


def test_a_question_subject_is_there_when_one_of_its_names_is() -> None:
    passage = PassageTerms("Germany invaded France in 1940.")
    assert passage.missing_subject(question_terms("When did Germany invade Poland?")) == []
    assert passage.missing_subject(question_terms("When did Zorbia invade Rufen?")) == [
        "Zorbia",
        "Rufen",
    ]
    assert passage.missing_subject(question_terms("Whom did Germany invade in 1939?")) == ["1939"]
