"""The span reader checked by the rules: its span where the rules and the claim check agree,
else the extractive reader's answer, else nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from ragline.config import GenerateConfig
from ragline.documents import Chunk, Hit
from ragline.embed.fake import HashEncoder
from ragline.errors import RaglineError
from ragline.generate.answer import answer
from ragline.generate.registry import generator_kind
from ragline.generate.span_reader import Span
from ragline.generate.span_rules import SpanRulesReader

QUELLPORT = (
    "Quellport\n\nQuellport is the capital of the island nation of Zorbia. "
    "Quellport exports salted fish and amber through its old harbour."
)
RUFEN = "Rufen\n\nGralir is the capital of Rufen. Gralir lies on the Dovul river."


class FixedSpans:
    """A span reader that finds the spans it is given (``text`` in ``passage``), each with
    its margin over no-answer, when it is asked to read that passage; it keeps the
    passages it was asked to read."""

    def __init__(self, found: Sequence[tuple[str, str, float]]) -> None:
        self.found = found
        self.read_passages: list[str] = []

    def read(self, question: str, passages: Sequence[str], *, per_passage: int = 3) -> list[Span]:
        self.read_passages.extend(passages)
        spans = []
        for passage, text, score in self.found:
            if passage in passages:
                n = list(passages).index(passage) + 1
                start = passage.index(text)
                spans.append(Span(n, start, start + len(text), text, score))
        return sorted(spans, key=lambda s: -s.score)


def _reader(found: Sequence[tuple[str, str, float]], **options: float) -> SpanRulesReader:
    return SpanRulesReader(FixedSpans(found), encoder=HashEncoder(), **options)  # type: ignore[arg-type]


def _hits(*texts: str) -> list[Hit]:
    return [
        Hit(Chunk(f"d{n}#0", f"d{n}", text, 0, len(text)), 1.0 / n, n, "bm25")
        for n, text in enumerate(texts, start=1)
    ]


def test_the_span_reader_sharpens_the_rules_answer_inside_an_accepted_sentence() -> None:
    question = "What does Quellport export?"
    rules_only = _reader([]).read(question, [QUELLPORT])
    assert rules_only[0].text == "salted fish and amber through its old harbour"
    found = _reader([(QUELLPORT, "salted fish and amber", 3.0)]).read(question, [QUELLPORT])
    assert found[0].text == "salted fish and amber"
    assert found[0].sentence.startswith("Quellport exports salted fish")


def test_a_confident_span_from_a_sentence_the_rules_reject_is_not_shown() -> None:
    question = "What is the capital of Zorbia?"
    reader = _reader([(RUFEN, "Gralir", 9.0), (QUELLPORT, "Quellport", -1.0)])
    found = reader.read(question, [QUELLPORT, RUFEN])
    assert all(c.n == 1 for c in found), "Rufen's capital never answers for Zorbia"
    result = answer(question, _hits(QUELLPORT, RUFEN), reader, GenerateConfig(answer_style="short"))
    assert result.short_answer == "Quellport" and not result.abstained
    assert result.citations and all(c.supported and c.n == 1 for c in result.citations)


def test_a_span_above_the_threshold_chooses_the_sentence_below_it_only_the_phrase() -> None:
    question = "What is the capital of Zorbia?"
    passages = [
        "Zorbia\n\nThe capital of Zorbia is Quellport.",
        "Zorbia\n\nQuellport is the capital of the island nation of Zorbia.",
    ]
    assert [c.n for c in _reader([]).read(question, passages)][:2] == [1, 2]
    spans = [(passages[1], "Quellport", 1.0)]
    assert _reader(spans).read(question, passages)[0].n == 2
    unsure = _reader(spans, threshold=2.0).read(question, passages)
    assert [(c.n, c.text) for c in unsure][:2] == [(1, "Quellport"), (2, "Quellport")]


def test_a_span_does_not_lead_over_the_subjects_own_passage() -> None:
    question = "Into which lake does the Dovul River flow?"
    passages = [
        "Sella River\n\nThe Sella River rises on Mount Orn and flows into the Dovul River.",
        "Dovul River\n\nThe Dovul River flows into Lake Kafen.",
    ]
    found = _reader([(passages[0], "Mount Orn", 9.0), (passages[1], "Lake Kafen", -3.0)]).read(
        question, passages
    )
    assert (found[0].n, found[0].text) == (2, "Lake Kafen")


def test_no_sentence_that_answers_means_no_answer_however_sure_the_span_reader_is() -> None:
    # the rules alone turn "Who founded Zorbia?" down (no sentence says *founded* of
    # Zorbia); a span reader may vouch for a sentence that says it otherwise, but not for
    # a passage without the question's subject, nor for a sentence about another one
    question = "Who founded Zorbia?"
    assert _reader([]).read(question, [QUELLPORT]) == []
    reader = _reader([(QUELLPORT, "Quellport", 12.0), (RUFEN, "Gralir", 12.0)])
    assert reader.read("Who founded Ardessa?", [QUELLPORT, RUFEN]) == []
    rufen = "Rufen\n\nRufen borders Zorbia. Gralir is a city founded by Ilse Marrow."
    assert _reader([(rufen, "Ilse Marrow", 12.0)]).read(question, [rufen]) == []
    reader = _reader([(QUELLPORT, "Quellport", -0.5)])
    result = answer(question, _hits(QUELLPORT), reader, GenerateConfig(answer_style="short"))
    assert result.abstained and not result.citations


def test_it_is_named_span_rules_and_a_reader_directory() -> None:
    assert generator_kind("span-rules:my-reader") == "span-rules"
    with pytest.raises(RaglineError, match="use span-rules or span-rules:READER_DIR"):
        SpanRulesReader.from_config(GenerateConfig(generator="span-rules:"))
    made = SpanRulesReader.from_config(GenerateConfig(generator="span-rules:my-reader"))
    assert made.reader.path == "my-reader"


def test_only_passages_holding_an_accepted_sentence_are_read_by_the_span_reader() -> None:
    spans = FixedSpans([(QUELLPORT, "salted fish and amber", 3.0)])
    reader = SpanRulesReader(spans, encoder=HashEncoder())  # type: ignore[arg-type]
    found = reader.read("What does Quellport export?", [RUFEN, QUELLPORT])
    assert spans.read_passages == [QUELLPORT]
    assert (found[0].n, found[0].text) == (2, "salted fish and amber")


def test_span_rules_alone_reads_with_the_span_reader_that_ships_inside_ragline() -> None:
    from ragline.generate.registry import make_generator
    from ragline.generate.span_reader import ReaderSettings
    from ragline.packaged_models import packaged_reader

    assert GenerateConfig().generator == "span-rules"
    made = make_generator(GenerateConfig())
    assert isinstance(made, SpanRulesReader) and made.reader.path == str(packaged_reader())
    assert ReaderSettings.read(packaged_reader()).base == "minilm"
    assert (packaged_reader() / "adapter_model.safetensors").stat().st_size < 4_000_000


def test_the_span_readers_phrase_neither_begins_nor_ends_with_a_stopword() -> None:
    question = "What does Quellport export?"
    found = _reader([(QUELLPORT, "salted fish and amber through its", 3.0)])
    assert found.read(question, [QUELLPORT])[0].text == "salted fish and amber"


ORVANE = (
    "Orvane mace\n\nThe Orvane mace is a ceremonial mace of the Velmar court. "
    "The mace was forged by Edda Brell in 1620."
)


@pytest.mark.parametrize(("margin", "shown"), [(0.5, "Edda Brell"), (-0.5, None)])
def test_a_sentence_saying_the_question_otherwise_answers_only_if_the_span_reader_vouches(
    margin: float, shown: str | None
) -> None:
    # "designed" is not "forged": the rules alone turn the sentence down, a span that beats
    # no-answer in it stands for the meaning
    question = "Who designed the Orvane mace?"
    assert _reader([]).read(question, [ORVANE]) == []
    found = _reader([(ORVANE, "Edda Brell", margin)]).read(question, [ORVANE])
    assert [c.text for c in found][:1] == ([shown] if shown else [])
    result = answer(
        question, _hits(ORVANE), _reader([(ORVANE, "Edda Brell", margin)]), GenerateConfig()
    )
    assert result.abstained is (shown is None)
    if shown:
        assert result.citations and all(c.supported and c.n == 1 for c in result.citations)


def test_a_vouched_sentence_about_another_subject_than_the_questions_is_not_shown() -> None:
    question = "Who founded Ossavenn Foods?"
    pardovel = (
        "Pardovel\n\nPardovel is a port on the Ustravine coast, where Ossavenn Foods has a "
        "cannery. Pardovel was founded in 1342 by the navigator Ormund Tavessic."
    )
    reader = _reader([(pardovel, "Ormund Tavessic", 6.0)])
    assert reader.read(question, [pardovel]) == []


def test_a_knowledge_base_lends_its_embedder_to_the_readers_that_embed_sentences(
    tmp_path: Path,
) -> None:
    from ragline import Config, KnowledgeBase
    from ragline.generate.extractive import ExtractiveGenerator, default_sentence_encoder

    encoder = HashEncoder()
    with KnowledgeBase.create(tmp_path / "kb", Config(), encoder=encoder) as kb:
        made = kb.answering.generator(None, kb.config.generate)
        assert isinstance(made, SpanRulesReader) and made.extractive.encoder is encoder
        extractive = kb.answering.generator("extractive", kb.config.generate)
        assert isinstance(extractive, ExtractiveGenerator) and extractive.encoder is encoder
    # a reader lent nothing shares one default encoder per process (made lazily)
    assert ExtractiveGenerator()._encoder is None
    assert default_sentence_encoder() is default_sentence_encoder()


def test_the_answer_to_when_is_the_date_the_span_holds() -> None:
    passage = "Quellport\n\nQuellport was founded back in the year 1313 by amber traders."
    found = _reader([(passage, "back in the year 1313", 2.0)]).read(
        "When was Quellport founded?", [passage]
    )
    assert found[0].text == "1313"


def test_the_answer_ends_before_a_clause_that_says_more_about_it() -> None:
    passage = QUELLPORT.replace("through its old harbour", "which it ships from its harbour")
    found = _reader([(passage, "salted fish and amber which it ships", 3.0)]).read(
        "What does Quellport export?", [passage]
    )
    assert found[0].text == "salted fish and amber"
