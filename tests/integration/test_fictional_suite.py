"""The fictional-facts suites (tests/data/fictional, -2 and -3) through the
default configuration: the guard of issue 17's promise that default answers are right and
cited, or abstentions.

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

SUITES = [
    Path(__file__).parents[1] / "data" / name
    for name in ("fictional", "fictional-2", "fictional-3")
]


def _metrics(tmp_path: Path, suite: Path, **ask_options: object) -> dict[str, float]:
    data = load_qa(suite)
    with KnowledgeBase.create(tmp_path / "kb", Config()) as kb:
        report = kb.add(data.documents)
        assert report.added == len(data.documents) and not report.errors
        return evaluate_answers(kb, data, ["plain"], **ask_options)["plain"]


@pytest.mark.integration
@pytest.mark.parametrize("hops", [1, 2])
@pytest.mark.parametrize("suite", SUITES, ids=lambda path: path.name)
def test_default_answers_are_right_and_cited_or_abstentions(
    tmp_path: Path, suite: Path, hops: int
) -> None:
    """Issue 17's targets, through the default configuration (``span-rules``: the
    extractive reader's sentences, the packaged span reader's short answers):
    right and cited >= 0.90, no wrong answer shown as supported, >= 0.90 of unanswerable
    questions abstained. Measured: 0.962 / 0 / 1.0 (fictional), 0.969 / 0 / 1.0
    (fictional-2, written after the rules and tuned on once), 0.955 / 0 / 1.0 (fictional-3,
    written after fictional-2's tuning: 0.955 / 1 / 0.875 before its one fix). With two
    hops an answer may also rest on two passages joined by a named entity (issue 25): the
    same numbers."""
    metrics = _metrics(tmp_path, suite, hops=hops)
    summary = {key: round(value, 3) for key, value in metrics.items()}
    assert metrics["correct_cited"] >= 0.90, summary
    assert metrics["wrong_supported"] == 0, summary
    assert metrics["abstain_unanswerable"] >= 0.90, summary
