"""The extractive generator: picks the answering sentence, cites it, abstains when unrelated."""

from __future__ import annotations

import pytest

from ragline.documents import Chunk, Hit
from ragline.embed.fake import HashEncoder
from ragline.generate.base import Completion, Generator, complete
from ragline.generate.citations import parse_citations
from ragline.generate.extractive import ExtractiveGenerator, statements
from ragline.generate.prompt import ABSTAIN_TEXT, build_messages

PASSAGES_TEXT = [
    "Magma rises through the crust and erupts as lava. Basalt is a dark volcanic rock.",
    "Coral reefs shelter clownfish and sea turtles. Reefs grow slowly in warm water.",
    "The Eiffel Tower was completed in 1889 for the World's Fair. It stands in Paris.",
    "Steam locomotives pulled freight wagons. The tower of the station held a clock.",
]


def hits(texts: list[str]) -> list[Hit]:
    return [
        Hit(Chunk(f"d{i}#0", f"d{i}", t, 0, len(t)), 1.0 / i, i, "hybrid")
        for i, t in enumerate(texts, start=1)
    ]


@pytest.fixture(scope="module")
def generator() -> ExtractiveGenerator:
    from ragline.embed.sentence_transformers import SentenceTransformerEncoder

    return ExtractiveGenerator(SentenceTransformerEncoder())


def test_picks_the_answering_sentence_among_distractors_and_cites_it(generator) -> None:
    text, used = generator.answer("When was the Eiffel Tower completed?", hits(PASSAGES_TEXT))
    assert text == "The Eiffel Tower was completed in 1889 for the World's Fair [3]."
    assert used == [3]
    assert parse_citations(text) == [
        (3, "The Eiffel Tower was completed in 1889 for the World's Fair.")
    ]


def test_abstains_when_no_sentence_shares_a_word_with_the_question(generator) -> None:
    text, used = generator.answer("Who composed the Moonlight Sonata?", hits(PASSAGES_TEXT))
    assert (text, used) == (ABSTAIN_TEXT, [])
    assert generator.answer("Anything?", []) == (ABSTAIN_TEXT, [])


COMPANIES = [
    "# Brassivor Bank\n\nBrassivor Bank is a bank founded in 1866 in Drazhimel. "
    "Its chief executive is Teodric Vanslew.",
    "# Teodric Vanslew\n\nTeodric Vanslew was born in Lunevarra. "
    "He has led Brassivor Bank since 2011.",
]


def test_a_leading_pronoun_is_the_passage_title_and_the_short_answer_is_the_new_name() -> None:
    gen = ExtractiveGenerator(HashEncoder())
    [best, *_] = gen.read("Who is the chief executive of Brassivor Bank?", COMPANIES)
    assert best.cited("sentence") == ("Brassivor Bank's chief executive is Teodric Vanslew [1].")
    assert best.cited("short") == "Teodric Vanslew [1]"


@pytest.mark.parametrize(
    "question",
    [
        "Who founded Brassivor Bank?",  # founded "in Drazhimel": a place, not a founder
        "What is the currency of Brassivor Bank?",  # no sentence speaks of a currency
        "How high is Brassivor Bank?",  # no measure of a height
    ],
)
def test_sentences_that_do_not_answer_are_not_answers(question: str) -> None:
    gen = ExtractiveGenerator(HashEncoder())
    assert gen.answer(question, hits(COMPANIES)) == (ABSTAIN_TEXT, [])
    text, _ = gen.partial(question, hits(COMPANIES))
    assert "Brassivor Bank" in text  # what multi-hop follows up on


def test_generate_reads_the_prompt_and_gives_the_same_answer(generator) -> None:
    question = "When was the Eiffel Tower completed?"
    messages, used = build_messages(question, hits(PASSAGES_TEXT))
    assert isinstance(generator, Generator) and generator.name == "extractive"
    direct, _ = generator.answer(question, used)
    assert generator.generate(messages) == direct
    assert "".join(generator.stream(messages)) == direct
    assert generator.generate(messages, stop=[" in 1889"]) == "The Eiffel Tower was completed"


def test_ties_go_to_the_higher_ranked_passage_and_footnotes_are_dropped() -> None:
    same = "Sourdough bread needs a lively starter.[12]"
    gen = ExtractiveGenerator(HashEncoder())
    text, used = gen.answer("What does sourdough need?", hits(["Cats purr.", same, same]))
    assert (text, used) == ("Sourdough bread needs a lively starter [2].", [2])


def test_weight_must_be_a_share() -> None:
    with pytest.raises(ValueError):
        ExtractiveGenerator(HashEncoder(), weight=1.5)


def test_default_encoder_is_the_packaged_minilm_built_on_first_use() -> None:
    gen = ExtractiveGenerator()
    assert gen._encoder is None  # the constructor stays cheap
    assert gen.encoder.name == "sentence-transformers/all-MiniLM-L6-v2"


CSV_PAGE = (
    "Navigation index modules | next | previous\n"
    "Python » 3.12 Documentation » The Python Standard Library »\n"
    "csv — CSV File Reading and Writing\n"
    "Source code: Lib/csv.py\n"
    "The so-called CSV format is the most common import and export format for spreadsheets.\n"
    "Module Contents\n"
    "===============\n"
    "## Reading and writing CSV files\n"
    "The csv module's reader and writer objects read and write sequences."
)
HASHLIB_TABLE = (
    "| Method | Meaning |\n"
    "|--------|---------|\n"
    "| digest() | Return the digest value as a bytes object. |\n"
    "+--------+---------+\n"
    "Hash objects return their digest value from the digest() method as a bytes object."
)


@pytest.mark.parametrize(
    ("passage", "expected"),
    [
        (
            CSV_PAGE,
            [
                "Source code: Lib/csv.py",
                "The so-called CSV format is the most common import and export format for "
                "spreadsheets.",
                "The csv module's reader and writer objects read and write sequences.",
            ],
        ),
        (HASHLIB_TABLE, [HASHLIB_TABLE.splitlines()[-1]]),
        ("Previous topic\nThis Page\nShow Source\nQuick search", []),
        ("hashlib — Secure hashes and message digests\nSecure hashes", []),
        # short unpunctuated lines that state something stay
        ("Quellport is the capital\nFounded in 1887\nCapital: Quellport", None),
        # a long unpunctuated line is prose (a wrapped sentence), not a label
        ("The river flows north through the old town and into the lake", None),
    ],
)
def test_statements_leave_out_headings_tables_titles_and_navigation(
    passage: str, expected: list[str] | None
) -> None:
    assert statements(passage) == (passage.splitlines() if expected is None else expected)


@pytest.mark.parametrize(
    ("question", "passage", "answer"),
    [
        (
            "How do I read and write CSV files?",
            CSV_PAGE,
            "The csv module's reader and writer objects read and write sequences [1].",
        ),
        (
            "What does digest return?",
            HASHLIB_TABLE,
            "Hash objects return their digest value from the digest() method as a bytes "
            "object [1].",
        ),
    ],
)
def test_never_answers_with_a_heading_or_a_table_row(
    question: str, passage: str, answer: str
) -> None:
    gen = ExtractiveGenerator(HashEncoder(), weight=0.0)  # lexical overlap alone
    assert gen.answer(question, hits([passage])) == (answer, [1])


def test_a_passage_of_only_table_rows_and_titles_has_no_answer() -> None:
    table = "\n".join(HASHLIB_TABLE.splitlines()[:-1])
    title = "hashlib — Secure hashes and message digests"
    gen = ExtractiveGenerator(HashEncoder())
    assert gen.answer("What does digest return?", hits([table, title])) == (ABSTAIN_TEXT, [])


def test_a_reply_is_never_cut() -> None:
    gen = ExtractiveGenerator(HashEncoder())
    messages, _ = build_messages("When was the Eiffel Tower completed?", hits(PASSAGES_TEXT))
    pieces: list[str] = []
    done = complete(gen, messages, max_new_tokens=1, on_token=pieces.append)
    assert done == Completion(gen.generate(messages), "stop") and "".join(pieces) == done.text
    assert "Eiffel" in done.text
