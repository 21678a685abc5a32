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


def _metrics(tmp_path: Path, **ask_options: str) -> dict[str, float]:
    data = load_qa(SUITE)
    with KnowledgeBase.create(tmp_path / "kb", Config()) as kb:
        report = kb.add(data.documents)
        assert report.added == len(data.documents) and not report.errors
        return evaluate_answers(kb, data, ["plain"], **ask_options)["plain"]


@pytest.mark.integration
def test_checked_extractive_answers_hold_their_measured_line(tmp_path: Path) -> None:
    """The extractive generator under the claim check, as measured when it was introduced
    (correct and cited 0.692, 22 wrong answers with every citation supported, 5 of 12
    unanswerable abstained; before the check: 0.673, 26, 2 of 12): a guard against the
    check or the extractive answers getting worse, not the target."""
    metrics = _metrics(tmp_path, generator="extractive")
    summary = {key: round(value, 3) for key, value in metrics.items()}
    assert metrics["correct_cited"] >= 0.65, summary
    assert metrics["wrong_supported"] <= 22, summary
    assert metrics["abstain_unanswerable"] >= 5 / 12, summary


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="issue 17's targets are not met yet by the default generator (packaged SmolLM2)",
)
def test_default_answers_are_right_and_cited_or_abstentions(tmp_path: Path) -> None:
    metrics = _metrics(tmp_path)
    summary = {key: round(value, 3) for key, value in metrics.items()}
    assert metrics["correct_cited"] >= 0.90, summary
    assert metrics["wrong_supported"] == 0, summary
    assert metrics["abstain_unanswerable"] >= 0.90, summary
