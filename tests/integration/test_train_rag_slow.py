"""The SQuAD end-to-end recipes: train on the train side of the by-paragraph split (seed 0)
from (question, answer) pairs alone, then measure the held-out side (slow: 25–35 minutes of
training and a few of answering per arm on 2 cores)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runs import cli_report

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SQUAD = DATA / "squad2-dev" / "dev-v2.0.json"
RECALL = ("--answerable", "10000", "--generator", "extractive", "-k", "5")
ANSWERS = ("--answerable", "120", "-k", "1", "--max-new-tokens", "32")


def held_out(*options: str | Path, cache: Path) -> dict:
    """Plain answers to the test side's answerable questions, dense retrieval."""
    report = cli_report("eval", "qa", SQUAD, "--held-out", "0.2", "--split-seed", "0",
                        "--unanswerable", "0", "--search-mode", "dense", *options,
                        cache=cache)  # fmt: skip
    return report["results"]["plain"]


def train(arm: str, *options: str, cache: Path) -> Path:
    """Train one arm on a seeded 400 of the train side; returns its output directory."""
    (kb,) = (cache / "kb").glob("squad2-dev-*")
    out = cache / f"rag-{arm}"
    cli_report("train", "rag", "--kb", kb, "--squad", SQUAD, "--limit", "400", "--train", arm,
               *options, "--out", out, cache=cache)  # fmt: skip
    return out


@pytest.fixture
def squad(tmp_path: Path) -> Path:
    if not SQUAD.is_file():
        pytest.skip(f"SQuAD is not at {SQUAD} (see ../shared/data/README.md)")
    return tmp_path


@pytest.mark.slow
def test_generator_arm_lifts_held_out_answer_f1(squad: Path):
    before = held_out(*ANSWERS, cache=squad)["f1"]  # measured 0.106
    out = train("generator", "-k", "2", cache=squad)
    after = held_out(*ANSWERS, "--generator", out / "generator", cache=squad)["f1"]
    assert after > before  # measured 0.339


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="measured recall@5 0.8965 -> 0.8754: trained on 360 questions the query encoder "
    "learns them (answer-bearing top-1 0.675 -> 0.825) but loses held-out recall (issue 8)",
)
def test_query_arm_lifts_held_out_passage_recall(squad: Path):
    before = held_out(*RECALL, cache=squad)["supporting_recall"]
    out = train("query", "-k", "10", "--epochs", "2", "--query-lr", "1e-4", cache=squad)
    after = held_out(*RECALL, "--query-encoder", out / "query-encoder", cache=squad)
    assert after["supporting_recall"] > before
