"""The SQuAD end-to-end recipes: train on the train side of the by-paragraph split (seed 0)
from (question, answer) pairs alone, then measure the held-out side (slow: about 45 minutes
of training and 20 of answering on 2 cores)."""

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


def train(arm: str, *options: str | Path, cache: Path) -> Path:
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
def test_recipe_lifts_held_out_answer_f1_and_passage_recall(squad: Path):
    f1_before = held_out(*ANSWERS, cache=squad)["f1"]  # measured 0.106
    recall_before = held_out(*RECALL, cache=squad)["supporting_recall"]  # measured 0.8965
    generator = train("generator", "-k", "2", cache=squad) / "generator"
    query = train("query", "-k", "10", "--query-lr", "5e-5", "--generator", generator,
                  cache=squad) / "query-encoder"  # fmt: skip
    recall = held_out(*RECALL, "--query-encoder", query, cache=squad)["supporting_recall"]
    answers = held_out(*ANSWERS, "--generator", generator, "--query-encoder", query, cache=squad)
    assert answers["f1"] > f1_before  # measured 0.347
    assert recall > recall_before  # measured 0.9035
