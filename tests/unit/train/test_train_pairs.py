"""Training pairs from BEIR qrels, SQuAD json and JSONL: what is read, kept and skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from beir_folders import write_beir_folder
from ragline.errors import RaglineError
from ragline.train.pairs import read_beir, read_jsonl, read_squad, read_training_data


def write_beir(root: Path) -> Path:
    corpus = [
        {"_id": "d1", "title": "Aspirin", "text": "Aspirin thins the blood."},
        {"_id": "d2", "title": "", "text": "Statins lower cholesterol."},
        {"_id": "d3", "title": "Sleep", "text": "Adults need seven hours of sleep."},
    ]
    queries = [{"_id": "q1", "text": "blood thinner"}, {"_id": "q2", "text": "cholesterol"}]
    judged = [("q1", "d1", 1), ("q1", "d3", 0), ("q2", "d2", 1), ("q2", "d9", 1), ("q9", "d1", 1)]
    return write_beir_folder(root, corpus, queries, {"train": judged})


def test_beir_pairs_skip_unjudged_and_unknown_ids(tmp_path: Path):
    data = read_beir(write_beir(tmp_path / "beir"), "train")
    assert [(p.query, p.positive) for p in data.pairs] == [
        ("blood thinner", "Aspirin\n\nAspirin thins the blood."),
        ("cholesterol", "Statins lower cholesterol."),
    ]
    assert data.read == 5
    assert data.skipped == {
        "qrels: not relevant (score <= 0)": 1,
        "qrels: document id not in corpus.jsonl": 1,
        "qrels: query id not in queries.jsonl": 1,
    }
    assert len(data.corpus) == 3


def test_beir_missing_split_is_a_clear_error(tmp_path: Path):
    with pytest.raises(RaglineError, match="split 'dev'"):
        read_beir(write_beir(tmp_path / "beir"), "dev")


def test_squad_pairs_question_to_its_paragraph_unanswerable_skipped(tmp_path: Path):
    squad = {
        "data": [
            {
                "title": "T",
                "paragraphs": [
                    {
                        "context": "The Loire is the longest river in France.",
                        "qas": [
                            {"id": "a", "question": "Longest French river?", "answers": []},
                            {"id": "b", "question": "Who?", "is_impossible": True},
                        ],
                    },
                    {"context": "Paris is the capital.", "qas": []},
                ],
            }
        ]
    }
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(squad))
    data = read_squad(path)
    assert [(p.query, p.positive) for p in data.pairs] == [
        ("Longest French river?", "The Loire is the longest river in France.")
    ]
    assert data.skipped == {"squad: unanswerable question": 1}
    assert data.corpus == ["The Loire is the longest river in France.", "Paris is the capital."]


def test_jsonl_pairs_keep_given_negatives_and_report_bad_lines(tmp_path: Path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        json.dumps({"query": "q", "positive": "p", "negatives": ["n1", "n2"]})
        + "\n{broken\n"
        + json.dumps({"query": "q2"})
        + "\n"
        + json.dumps({"query": "q3", "positive": "p3", "negatives": "n"})
        + "\n"
    )
    data = read_jsonl(path)
    assert [(p.query, p.positive, p.negatives) for p in data.pairs] == [("q", "p", ("n1", "n2"))]
    assert data.read == 4
    assert data.skipped == {
        "pairs.jsonl: invalid JSON": 1,
        "pairs.jsonl: no 'positive' string": 1,
        "pairs.jsonl: 'negatives' is not a list of strings": 1,
    }
    assert data.corpus == ["p", "n1", "n2"]


def test_inputs_merge_and_dev_split_is_by_query(tmp_path: Path):
    jsonl = tmp_path / "pairs.jsonl"
    jsonl.write_text(
        "".join(json.dumps({"query": f"q{i}", "positive": f"p{i}"}) + "\n" for i in range(20))
    )
    data = read_training_data(beir=write_beir(tmp_path / "beir"), jsonl=jsonl)
    assert len(data.pairs) == 22 and len(data.relevant) == 22
    train, dev = data.split(0.25, seed=3)
    assert len(dev.relevant) == 6 and len(train.relevant) == 16
    assert not set(train.relevant) & set(dev.relevant)
    assert (
        train.split(0.25, seed=3)[1].relevant.keys() == train.split(0.25, seed=3)[1].relevant.keys()
    )


def test_no_input_or_no_pairs_is_an_error(tmp_path: Path):
    with pytest.raises(RaglineError, match="no training data"):
        read_training_data()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("{}\n")
    with pytest.raises(RaglineError, match="no usable training pairs"):
        read_training_data(jsonl=empty)
