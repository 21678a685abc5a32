"""The fictional-facts suite (tests/data/fictional) through the default configuration: the
guard of issue 17's promise that default answers are right and cited, or abstentions.

The documents are about invented island nations, cities, companies, people, mountains,
rivers and lakes, so no model can answer from memory, and they share attribute types
(capitals, founders, heights, chief executives, rivers and lakes ...), so an answer naming
the wrong entity is tempting. Every unanswerable question asks for a fact no document states.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ragline import Config, KnowledgeBase
from ragline.evaluate.qa import evaluate_answers, load_qa

SUITE = Path(__file__).parents[1] / "data" / "fictional"


@pytest.mark.integration
def test_default_answers_are_right_and_cited_or_abstentions(tmp_path: Path) -> None:
    data = load_qa(SUITE)
    with KnowledgeBase.create(tmp_path / "kb", Config()) as kb:
        report = kb.add(data.documents)
        assert report.added == len(data.documents) and not report.errors
        metrics = evaluate_answers(kb, data, ["plain"])["plain"]
    summary = {key: round(value, 3) for key, value in metrics.items()}
    assert metrics["correct_cited"] >= 0.90, summary
    assert metrics["wrong_supported"] == 0, summary
    assert metrics["abstain_unanswerable"] >= 0.90, summary
