"""Tiny re-ranker training runs through the CLI: each kind writes a model that `--rerank DIR`
loads, and re-ranked search keeps first-stage facts on every hit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def pairs_file(tmp_path: Path, corpus_docs, queries) -> Path:
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        "".join(
            json.dumps({"query": queries[d.id], "positive": d.text}) + "\n" for d in corpus_docs
        )
    )
    return path


@pytest.mark.parametrize(
    ("kind", "extra", "steps"),
    [
        ("cross-encoder", ["--loss", "listwise", "--dense-negatives", "0"], 2),
        # pointwise: each pair's positive and its negative are separate rows
        ("cross-encoder", ["--loss", "bce", "--head", "cls", "--dense-negatives", "0"], 4),
        ("colbert", ["--dense-negatives", "0"], 2),
    ],
)
def test_train_reranker_writes_a_model_that_reranks(
    kind: str,
    extra: list[str],
    steps: int,
    tmp_path: Path,
    pairs_file: Path,
    docs_kb_dir: Path,
    queries,
    run_cli,
):
    out = tmp_path / kind
    trained = run_cli(
        "train", "reranker", "--kind", kind, "--jsonl", pairs_file, "--out", out,
        "--epochs", "1", "--batch-size", "4", "--bm25-negatives", "1", "--max-length", "64",
        "--dev-fraction", "0", *extra, "--json", timeout=600,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    assert report["kind"] == kind and report["data"]["pairs"] == 8
    assert report["rounds"][0]["steps"] == steps
    assert (out / "ragline-training.json").is_file() and (out / "training-log.jsonl").is_file()

    query = queries["volcanoes"]
    found = run_cli("search", query, "--kb", docs_kb_dir, "--search-mode", "hybrid", "-k", "3",
                    "--rerank", out, "--rerank-depth", "5", "--json")  # fmt: skip
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)["hits"]
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert all({"first_stage", "rerank"} <= set(h["ranks"]) for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    if kind == "cross-encoder":  # re-ranks at the length it was trained with
        from ragline.rerank.cross_encoder import CrossEncoderReranker

        assert CrossEncoderReranker(out).model.max_seq_length == 64


def test_rerank_flag_errors_name_the_input(tmp_path: Path, docs_kb_dir: Path, run_cli):
    missing = run_cli("search", "lava", "--kb", docs_kb_dir, "--rerank", tmp_path / "nope")
    assert missing.returncode == 1 and "--rerank" in missing.stderr
    colbert_head = run_cli("train", "reranker", "--kind", "colbert", "--jsonl", tmp_path / "x",
                           "--head", "cls")  # fmt: skip
    assert (
        colbert_head.returncode == 1 and "--head applies to cross-encoders" in colbert_head.stderr
    )
    bad_head = run_cli("train", "reranker", "--jsonl", tmp_path / "x", "--head", "max")
    assert bad_head.returncode == 1 and "--head max" in bad_head.stderr
    bad_kind = run_cli("train", "reranker", "--kind", "bm25", "--jsonl", tmp_path / "x")
    assert bad_kind.returncode == 1 and "--kind bm25" in bad_kind.stderr
