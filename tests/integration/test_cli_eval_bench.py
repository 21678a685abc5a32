"""`ragline eval` and `ragline bench` end to end on tiny inputs made here (model-free embedder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = {
    "d1": ("Vitamin D", "Vitamin D deficiency is linked to bone loss in older adults."),
    "d2": ("Statins", "Statins lower LDL cholesterol and reduce heart attack risk."),
    "d3": ("Malaria", "Malaria is transmitted by Anopheles mosquitoes carrying parasites."),
    "d4": ("Insulin", "Insulin regulates blood glucose; type 1 diabetes destroys beta cells."),
    "d5": ("Sleep", "Sleep deprivation impairs memory consolidation in students."),
}
QUERIES = {
    "q1": "vitamin D deficiency bone loss",
    "q2": "what do statins do to cholesterol",
    "q3": "mosquitoes transmit malaria parasites",
    "q4": "insulin and blood glucose",
}
QRELS = {"q1": "d1", "q2": "d2", "q3": "d3", "q4": "d4"}


def _ragline(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ragline.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )


@pytest.fixture()
def beir(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-beir"
    (folder / "qrels").mkdir(parents=True)
    with open(folder / "corpus.jsonl", "w") as f:
        for doc_id, (title, text) in CORPUS.items():
            f.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with open(folder / "queries.jsonl", "w") as f:
        for query_id, text in QUERIES.items():
            f.write(json.dumps({"_id": query_id, "text": text}) + "\n")
    rows = "".join(f"{q}\t{d}\t1\n" for q, d in QRELS.items())
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + rows)
    return folder


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "RAGLINE_CACHE": str(tmp_path / "cache")}


def test_eval_beir_json_plot_and_runs(beir: Path, tmp_path: Path, env: dict[str, str]) -> None:
    plot = tmp_path / "eval.png"
    done = _ragline(
        "eval",
        "beir",
        str(beir),
        "--embedder",
        "hash-64",
        "--json",
        "--plot",
        str(plot),
        "--run-file",
        str(tmp_path / "run"),
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["dataset"] == "tiny-beir" and out["split"] == "test" and out["queries"] == 4
    assert set(out["results"]) == {"bm25", "dense", "hybrid"}
    bm25 = out["results"]["bm25"]
    assert set(bm25) == {"ndcg@10", "recall@10", "recall@100", "mrr@10", "map@100"}
    assert bm25["recall@10"] == 1.0 and bm25["mrr@10"] == 1.0  # every query's words are in its doc
    assert plot.read_bytes().startswith(b"\x89PNG")
    compare = _ragline(
        "eval",
        "compare",
        str(tmp_path / "run.bm25.trec"),
        str(tmp_path / "run.dense.trec"),
        "--qrels",
        str(beir / "qrels" / "test.tsv"),
        "--json",
        cwd=tmp_path,
        env=env,
    )
    assert compare.returncode == 0, compare.stderr
    test = json.loads(compare.stdout)
    assert test["n"] == 4 and test["mean_a"] == pytest.approx(bm25["ndcg@10"])
    cached = list((tmp_path / "cache" / "kb").iterdir())
    assert len(cached) == 1  # built once; a second run reuses it
    again = _ragline(
        "eval",
        "beir",
        str(beir),
        "--embedder",
        "hash-64",
        "--search-mode",
        "bm25",
        "--json",
        cwd=tmp_path,
        env=env,
    )
    assert json.loads(again.stdout)["results"]["bm25"] == bm25
    assert list((tmp_path / "cache" / "kb").iterdir()) == cached


def test_eval_beir_rejects_bad_input(beir: Path, tmp_path: Path, env: dict[str, str]) -> None:
    done = _ragline("eval", "beir", str(tmp_path), cwd=tmp_path, env=env)
    assert done.returncode == 1 and "not a BEIR folder" in done.stderr
    done = _ragline("eval", "beir", str(beir), "--search-mode", "sparse", cwd=tmp_path, env=env)
    assert done.returncode == 1 and "--search-mode sparse" in done.stderr


def test_bench_ingest_query_update(beir: Path, tmp_path: Path, env: dict[str, str]) -> None:
    kb = tmp_path / "kb"
    done = _ragline(
        "bench",
        "ingest",
        str(beir),
        "--kb",
        str(kb),
        "--embedder",
        "hash-64",
        "--json",
        "--plot",
        str(tmp_path / "ingest.png"),
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    ingest = json.loads(done.stdout)
    assert ingest["documents"] == 5 and ingest["chunks"] == 5
    assert set(ingest["stages"]) == {"load", "chunk", "embed", "store", "index", "save"}
    assert ingest["peak_rss_mb"] > 0 and ingest["machine"]["cores"] >= 1
    assert (tmp_path / "ingest.png").read_bytes().startswith(b"\x89PNG")
    done = _ragline(
        "bench",
        "query",
        "--kb",
        str(kb),
        "--queries",
        str(beir),
        "--json",
        "--plot",
        str(tmp_path / "query.png"),
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    query = json.loads(done.stdout)
    assert query["queries"] == 4 and set(query["results"]) == {"bm25", "dense", "hybrid"}
    for row in query["results"].values():
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"] and row["qps"] > 0
    assert (tmp_path / "query.png").read_bytes().startswith(b"\x89PNG")
    done = _ragline(
        "bench", "update", "--chunks", "300", "--repeats", "2", "--json", cwd=tmp_path, env=env
    )
    assert done.returncode == 0, done.stderr
    update = json.loads(done.stdout)
    assert update["chunks"] == 300 and set(update["median_ms"]) == {"add", "replace", "delete"}


def test_eval_qa_on_a_tiny_squad_file(tmp_path: Path, env: dict[str, str]) -> None:
    squad = {
        "version": "v2.0",
        "data": [
            {
                "title": "Tides",
                "paragraphs": [
                    {
                        "context": "Tides are caused by the Moon. Spring tides follow full moons.",
                        "qas": [
                            {
                                "id": "a1",
                                "question": "What causes tides?",
                                "answers": [{"text": "the Moon", "answer_start": 20}],
                                "is_impossible": False,
                            },
                            {
                                "id": "u1",
                                "question": "Who painted the tides?",
                                "answers": [],
                                "is_impossible": True,
                            },
                        ],
                    },
                    {
                        "context": "Pasta boils for nine minutes in salted water.",
                        "qas": [
                            {
                                "id": "a2",
                                "question": "How long does pasta boil?",
                                "answers": [{"text": "nine minutes", "answer_start": 17}],
                                "is_impossible": False,
                            }
                        ],
                    },
                ],
            }
        ],
    }
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(squad))
    per_question = tmp_path / "answers.jsonl"
    done = _ragline(
        "eval",
        "qa",
        str(path),
        "--generator",
        "extractive",
        "--embedder",
        "hash-64",
        "--answerable",
        "2",
        "--unanswerable",
        "1",
        "--json",
        "--per-question",
        str(per_question),
        "--plot",
        str(tmp_path / "qa.png"),
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["questions"] == 3
    plain = out["results"]["plain"]
    assert set(plain) == {
        "em",
        "f1",
        "abstain_acc",
        "citation_support",
        "supporting_recall",
        "answerable_em",
        "answerable_f1",
        "correct_cited",
        "wrong_supported",
        "abstain_unanswerable",
        "answerable",
        "unanswerable",
    }
    assert (plain["answerable"], plain["unanswerable"]) == (2, 1)
    assert 0 < plain["f1"] <= 1 and plain["supporting_recall"] == 1.0
    rows = [json.loads(line) for line in per_question.read_text().splitlines()]
    assert {row["id"] for row in rows} == {"a1", "a2", "u1"}
    assert all(row["citations"] or row["abstained"] for row in rows)
    assert {p["source"] for row in rows for p in row["passages"]} == {"hybrid"}
    assert (tmp_path / "qa.png").read_bytes().startswith(b"\x89PNG")

    done = _ragline("eval", "qa", str(path), "--generator", "extractive", "--embedder", "hash-64",
                    "--answerable", "2", "--unanswerable", "0", "--search-mode", "bm25", "-k", "1",
                    "--max-new-tokens", "8", "--per-question", str(per_question), "--json",
                    cwd=tmp_path, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in per_question.read_text().splitlines()]
    assert [[p["source"] for p in row["passages"]] for row in rows] == [["bm25"], ["bm25"]]
