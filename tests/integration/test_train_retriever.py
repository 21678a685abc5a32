"""A tiny retriever training run through the CLI: the loss drops, the model loads and indexes,
and ``ragline reindex`` moves a knowledge base onto it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration


def pair_loss(model_path: str, queries: list[str], passages: list[str]) -> float:
    """Mean InfoNCE (τ = 0.05) of each query against all passages, its own one positive."""
    from ragline.embed.sentence_transformers import SentenceTransformerEncoder

    encoder = SentenceTransformerEncoder(model_path)
    scores = encoder.encode_queries(queries) @ encoder.encode_documents(passages).T / 0.05
    scores -= scores.max(axis=1, keepdims=True)
    log_softmax = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    return float(-np.mean(np.diag(log_softmax)))


def assert_same_weights(a: Path, b: Path) -> None:
    """Two seeded runs of the same recipe give the same weights."""
    from safetensors.numpy import load_file

    first, second = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert first.keys() == second.keys()
    assert all(np.array_equal(first[name], second[name]) for name in first)


def test_train_retriever_lowers_the_loss_and_writes_a_usable_model(
    tmp_path: Path, corpus_docs, queries, run_cli
):
    pairs = [{"query": queries[d.id], "positive": d.text} for d in corpus_docs]
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(p) + "\n" for p in pairs) + "not json\n")
    out = tmp_path / "model"
    args = (
        "train", "retriever", "--jsonl", data, "--out", out, "--epochs", "3",
        "--batch-size", "4", "--lr", "1e-4", "--dev-fraction", "0",
        "--negatives", "in-batch,bm25", "--temperature", "0.05", "--json",
    )  # fmt: skip
    result = run_cli(*args, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["data"]["pairs"] == 8 and report["data"]["skipped"] == {
        "pairs.jsonl: invalid JSON": 1
    }
    assert report["recipe"]["temperature"] == 0.05
    [trained] = report["rounds"]
    assert trained["steps"] == 6 and trained["negatives_per_pair"] == 1
    assert (out / "model.safetensors").is_file() and (out / "ragline-training.json").is_file()
    logged = [json.loads(line) for line in (out / "training-log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged if "loss" in r] == [1, 2, 3, 4, 5, 6]

    again = tmp_path / "model-again"
    rerun = run_cli(*[again if arg == out else arg for arg in args], timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert_same_weights(out, again)

    texts = [p["positive"] for p in pairs]
    asked = [p["query"] for p in pairs]
    assert pair_loss(str(out), asked, texts) < pair_loss("minilm", asked, texts)

    kb = tmp_path / "kb"
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in corpus_docs))
    assert run_cli("index", docs, "--kb", kb, "--embedder", "hash-64").returncode == 0
    moved = run_cli("reindex", "--kb", kb, "--embedder", out, "--json")
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout)["chunks"] == 8
    found = run_cli(
        "search", queries["chess"], "--kb", kb, "--search-mode", "dense", "-k", "1", "--json"
    )
    assert json.loads(found.stdout)["hits"][0]["doc_id"] == "chess"
    info = json.loads(run_cli("info", "--kb", kb, "--json").stdout)
    assert info["embedder"] == str(out.resolve()) and info["dim"] == 384


def test_train_retriever_rejects_bad_flags(tmp_path: Path, run_cli):
    data = tmp_path / "pairs.jsonl"
    data.write_text(json.dumps({"query": "q", "positive": "p"}) + "\n")
    bad = run_cli("train", "retriever", "--jsonl", data, "--out", tmp_path / "m",
                  "--negatives", "bm25,magic")  # fmt: skip
    assert bad.returncode == 1 and "--negatives bm25,magic" in bad.stderr
    cold = run_cli("train", "retriever", "--jsonl", data, "--out", tmp_path / "m",
                   "--temperature", "0")  # fmt: skip
    assert cold.returncode == 1 and "'--temperature': 0.0: must be > 0" in cold.stderr
