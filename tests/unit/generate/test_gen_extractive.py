"""The extractive generator: picks the answering sentence, cites it, abstains when unrelated."""

from __future__ import annotations

import pytest

from ragline.documents import Chunk, Hit
from ragline.embed.fake import HashEncoder
from ragline.generate.base import Generator
from ragline.generate.citations import parse_citations
from ragline.generate.extractive import ExtractiveGenerator
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


def test_several_sentences_each_carry_their_passage_number(generator) -> None:
    text, used = generator.answer(
        "What do coral reefs shelter, and where do reefs grow?",
        hits(PASSAGES_TEXT),
        max_sentences=2,
    )
    assert used == [2]
    assert "clownfish" in text and "warm water [2]." in text
    assert [n for n, _ in parse_citations(text)] == [2, 2]


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
