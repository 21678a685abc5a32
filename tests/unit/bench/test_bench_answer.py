"""bench answer: seconds per answer for several generators on the same questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragline import Document, KnowledgeBase
from ragline.bench.answer import bench_answer
from ragline.embed.fake import HashEncoder
from ragline.generate.prompt import ABSTAIN_TEXT


class Fixed:
    def __init__(self, name: str, reply: str) -> None:
        self.name, self.reply = name, reply

    def generate(self, messages, **options):  # type: ignore[no-untyped-def]
        return self.reply

    def stream(self, messages, **options):  # type: ignore[no-untyped-def]
        yield self.reply


def test_each_generator_is_timed_on_every_question(tmp_path: Path) -> None:
    with KnowledgeBase.create(tmp_path / "kb", encoder=HashEncoder()) as kb:
        kb.add([Document("z", "Quellport is the capital of Zorbia.")])
        result = bench_answer(
            kb,
            ["What is the capital of Zorbia?", "Where is Quellport?"],
            [Fixed("cites", "Quellport is the capital of Zorbia [1]."), Fixed("no", ABSTAIN_TEXT)],
            search_mode="bm25",
        )
        with pytest.raises(ValueError, match="at least one generator"):
            bench_answer(kb, ["q"], [])
    assert result["baseline"] == "cites" and result["questions"] == 2
    rows = result["generators"]
    assert rows["cites"]["relative_to_baseline"] == 1.0
    assert rows["cites"]["abstained"] == 0 and rows["no"]["abstained"] == 2
    assert all(row["p95_s"] >= row["p50_s"] > 0 for row in rows.values())
