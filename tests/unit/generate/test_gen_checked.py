"""Answers show only what passes the support check: the streaming gate, the span-reader path
and what happens when nothing passes (abstain, regenerate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragline import Document, KnowledgeBase
from ragline.config import GenerateConfig
from ragline.documents import Chunk, Hit
from ragline.embed.fake import HashEncoder
from ragline.errors import RaglineError
from ragline.generate.answer import answer
from ragline.generate.checked import CheckedText
from ragline.generate.prompt import ABSTAIN_TEXT
from ragline.generate.span_reader import Span, window_spans

ZORBIA = "Quellport is the capital of the island nation of Zorbia. It has a deep harbour."
ELDRA = "Eldra is a mountain of 4120 metres in Rufen. Gralir is the capital of Rufen."


def hits(*texts: str) -> list[Hit]:
    return [
        Hit(Chunk(f"d{n}#0", f"d{n}", text, 0, len(text)), 1.0, n, "bm25")
        for n, text in enumerate(texts, start=1)
    ]


class Scripted:
    """A generator whose replies are given in advance, one per call."""

    name = "scripted"

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.calls = 0

    def generate(self, messages, **options):  # type: ignore[no-untyped-def]
        self.calls += 1
        return self.replies.pop(0)

    def stream(self, messages, **options):  # type: ignore[no-untyped-def]
        reply = self.generate(messages, **options)
        yield from (reply[i : i + 3] for i in range(0, len(reply), 3))


def test_streamed_text_is_the_answer_and_unsupported_sentences_are_withheld() -> None:
    shown: list[str] = []
    reply = "The capital of Zorbia is Eldra [2]. Quellport is the capital of Zorbia [1]."
    result = answer(
        "What is the capital of Zorbia?",
        hits(ZORBIA, ELDRA),
        Scripted(reply),
        GenerateConfig(),
        on_token=shown.append,
    )
    assert "".join(shown) == result.text == "Quellport is the capital of Zorbia [1]."
    assert [c.n for c in result.citations] == [1] and result.citations[0].supported
    (withheld,) = result.withheld
    assert withheld["cited"] == [2] and "Zorbia" in withheld["missing"]


def test_uncited_wrong_entity_is_not_attributed_and_the_answer_abstains() -> None:
    config = GenerateConfig()
    result = answer(
        "What is the capital of Zorbia?", hits(ZORBIA, ELDRA), Scripted("Eldra."), config
    )
    assert result.abstained and result.text == ABSTAIN_TEXT and not result.citations


def test_regenerate_asks_once_more_and_keeps_only_a_supported_reply() -> None:
    generator = Scripted("The capital is Eldra [2].", "Quellport is the capital [1].")
    config = GenerateConfig(unsupported="regenerate")
    result = answer("What is the capital of Zorbia?", hits(ZORBIA, ELDRA), generator, config)
    assert generator.calls == 2 and result.text == "Quellport is the capital [1]."
    with pytest.raises(RaglineError, match="unsupported-answer policy 'maybe'"):
        answer("q?", hits(ZORBIA), Scripted("x"), GenerateConfig(unsupported="maybe"))  # type: ignore[arg-type]


def test_code_lines_between_supported_sentences_keep_their_layout() -> None:
    passage = "Use csv.reader to read rows [1]. import csv opens the module."
    gate = CheckedText("How do I read a CSV file?", hits(passage))
    gate.finish("Use csv.reader to read rows [1]:\n```\nimport csv\n```")
    assert gate.text == "Use csv.reader to read rows [1]:\n```\nimport csv\n```"


def test_truncated_reply_is_marked() -> None:
    class Cut(Scripted):
        def encode(self, text: str) -> list[int]:
            return list(range(64))

    reply = "Quellport is the capital of Zorbia [1]. It has a deep har"
    result = answer("What is the capital of Zorbia?", hits(ZORBIA), Cut(reply), GenerateConfig())
    assert result.finish_reason == "length" and result.text.endswith("…")
    assert result.text.startswith("Quellport is the capital of Zorbia [1].")


def test_a_short_answer_written_as_a_sentence_is_cut_to_its_answer() -> None:
    question = "What is the capital of Zorbia?"
    wordy = answer(
        question,
        hits(ZORBIA),
        Scripted("The capital of Zorbia is Quellport [1]."),
        GenerateConfig(answer_style="short"),
    )
    assert wordy.text == "The capital of Zorbia is Quellport [1]."
    assert wordy.short_answer == "Quellport"
    terse = answer(
        question, hits(ZORBIA), Scripted("Quellport [1]"), GenerateConfig(answer_style="short")
    )
    assert terse.short_answer == ""
    sentence = answer(
        question,
        hits(ZORBIA),
        Scripted("The capital of Zorbia is Quellport [1]."),
        GenerateConfig(),
    )
    assert sentence.short_answer == ""


class FakeReader:
    """A span reader with fixed candidates."""

    name = "fake-reader"
    threshold = 1.0

    def __init__(self, spans: list[Span]) -> None:
        self.spans = spans

    def read(self, question: str, passages: list[str]) -> list[Span]:
        return self.spans


def test_reader_answers_with_the_best_span_that_passes_the_check() -> None:
    passages = hits(ELDRA, ZORBIA)
    gralir = Span(1, ELDRA.index("Gralir"), ELDRA.index("Gralir") + 6, "Gralir", 9.0)
    quellport = Span(2, 0, 9, "Quellport", 5.0)
    reader = FakeReader([gralir, quellport])
    result = answer("What is the capital of Zorbia?", passages, reader, GenerateConfig())
    assert result.short_answer == "Quellport" and result.citations[0].n == 2
    assert result.text == "Quellport is the capital of the island nation of Zorbia [2]."
    assert result.withheld[0]["sentence"].startswith("Gralir is the capital of Rufen")
    short = answer(
        "What is the capital of Zorbia?",
        passages,
        reader,
        GenerateConfig(answer_style="short"),
    )
    assert short.text == "Quellport [2]"


def test_reader_abstains_below_its_threshold_and_refuses_marginalized_modes() -> None:
    weak = FakeReader([Span(1, 0, 9, "Quellport", 0.5)])
    result = answer("What is the capital of Zorbia?", hits(ZORBIA), weak, GenerateConfig())
    assert result.abstained and result.withheld == []
    with pytest.raises(RaglineError, match="reads spans"):
        answer("q?", hits(ZORBIA), weak, GenerateConfig(), mode="token")


def test_window_spans_stay_inside_the_context_and_in_order() -> None:
    import numpy as np

    start = np.array([5.0, 9.0, 1.0, 4.0, 0.0])
    end = np.array([5.0, 9.0, 0.0, 3.0, 2.0])
    offsets = [(0, 0), (0, 0), (0, 5), (6, 9), (10, 14)]
    sequence = [None, 0, 1, 1, 1]  # [CLS], a question token, three context tokens
    spans = window_spans(start, end, offsets, sequence, max_answer_tokens=2)
    assert spans[0] == (4.0 + 3.0 - 10.0, 6, 9)
    assert all(s <= e for _, s, e in spans) and (0, 14) not in [(s, e) for _, s, e in spans]


def test_fallback_shows_the_best_passage_sentence_that_passes(tmp_path: Path) -> None:
    with KnowledgeBase.create(tmp_path / "kb", encoder=HashEncoder()) as kb:
        kb.add([Document("zorbia", ZORBIA), Document("rufen", ELDRA)])
        result = kb.ask(
            "What is the capital of Zorbia?",
            generator=Scripted("The capital of Zorbia is Eldra."),
            search_mode="bm25",
            unsupported="fallback",
        )
    assert result.fallback and not result.abstained
    assert result.text.startswith("Quellport is the capital")
    assert result.citations[0].doc_id == "zorbia" and result.citations[0].supported
    assert result.withheld[0]["sentence"] == "The capital of Zorbia is Eldra."
