"""ANN benchmark on seeded synthetic clusters: exact ground truth, recall curves, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ragline import Config, Document, KnowledgeBase
from ragline.bench.ann import bench_ann, ground_truth, ivf_nlist, recall_at_k
from ragline.bench.datasets import VectorSet, hold_out, load_vectors
from ragline.errors import RaglineError

N, QUERIES, TOLERANCE = 5000, 100, 0.005


@pytest.fixture(scope="module")
def vectors() -> VectorSet:
    return load_vectors("synthetic", limit=N, queries=QUERIES, seed=3)


@pytest.fixture(scope="module")
def result(vectors: VectorSet, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    nlist = ivf_nlist(N)
    return bench_ann(
        vectors,
        nprobe=(1, 4, 16, 64, nlist),
        repeats=1,
        cache_dir=tmp_path_factory.mktemp("ann-cache"),
    )


def rows(result: dict[str, Any], index: str) -> list[dict[str, Any]]:
    return [row for row in result["rows"] if row["index"] == index]


def test_synthetic_source_is_unit_and_seeded(vectors: VectorSet) -> None:
    assert vectors.base.shape == (N, 32) and vectors.queries.shape == (QUERIES, 32)
    assert vectors.base.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors.base, axis=1), 1.0, rtol=1e-5)
    again = load_vectors("synthetic", limit=N, queries=QUERIES, seed=3)
    np.testing.assert_array_equal(again.base, vectors.base)
    assert again.cache_key(10) == vectors.cache_key(10) != vectors.cache_key(5)


def test_held_out_queries_are_not_in_the_base() -> None:
    rows_ = np.arange(60, dtype=np.float32)[:, None] * np.eye(1, 4, dtype=np.float32) + 1
    base, queries = hold_out(rows_, 10, seed=1)
    assert len(base) == 50 and len(queries) == 10
    assert not {tuple(q) for q in queries} & {tuple(b) for b in base}
    assert len(hold_out(rows_, 10, limit=20, seed=1)[0]) == 20
    with pytest.raises(RaglineError):
        hold_out(rows_, 60)


def test_ground_truth_equals_numpy_brute_force(vectors: VectorSet, tmp_path: Path) -> None:
    truth, cached = ground_truth(vectors, 10, cache_dir=tmp_path)
    expected = np.argsort(-(vectors.queries @ vectors.base.T), axis=1, kind="stable")[:, :10]
    assert not cached
    np.testing.assert_array_equal(np.sort(truth, axis=1), np.sort(expected, axis=1))
    again, cached = ground_truth(vectors, 10, cache_dir=tmp_path)
    assert cached and len(list(tmp_path.glob("synthetic-*.npy"))) == 1
    np.testing.assert_array_equal(again, truth)


def test_recall_at_k() -> None:
    truth = np.array([[1, 2, 3], [4, 5, 6]])
    assert recall_at_k(truth, truth) == 1.0
    assert recall_at_k(np.array([[3, 9, -1], [6, 5, 4]]), truth) == pytest.approx(4 / 6)


def test_sweep_has_flat_hnsw_and_ivf_rows(result: dict[str, Any]) -> None:
    assert [len(rows(result, name)) for name in ("Flat", "HNSW", "IVF")] == [1, 5, 5]
    assert result["n"] == N and result["dim"] == 32 and result["queries"] == QUERIES
    assert set(result["builds"]) == {"Flat", "HNSW", "IVF"}
    for row in result["rows"]:
        assert row["ragline_qps"] > 0 and row["faiss_qps"] > 0
        assert row["ratio"] == pytest.approx(row["ragline_qps"] / row["faiss_qps"])


def test_flat_recall_is_exact(result: dict[str, Any]) -> None:
    (flat,) = rows(result, "Flat")
    assert flat["recall"] == 1.0 and flat["faiss_recall"] == 1.0


@pytest.mark.parametrize("index", ["HNSW", "IVF"])
def test_recall_rises_with_the_search_knob(result: dict[str, Any], index: str) -> None:
    recalls = [row["recall"] for row in rows(result, index)]
    assert all(b >= a - TOLERANCE for a, b in zip(recalls, recalls[1:], strict=False)), recalls
    assert recalls[-1] > recalls[0] or recalls[0] == 1.0


def test_ivf_probing_every_cell_is_exact(result: dict[str, Any]) -> None:
    ivf = rows(result, "IVF")
    assert ivf[0]["recall"] < 1.0
    assert ivf[-1]["value"] == result["nlist"] and ivf[-1]["recall"] == 1.0
    assert ivf[-1]["faiss_recall"] == 1.0


def test_ragline_and_faiss_find_the_same_neighbours_on_ivf(result: dict[str, Any]) -> None:
    for row in rows(result, "IVF"):
        assert row["recall"] == row["faiss_recall"]


def test_kb_source_reads_stored_vectors(tmp_path: Path) -> None:
    config = Config().with_overrides("embed", model="hash-64")
    with KnowledgeBase.create(tmp_path / "kb", config) as kb:
        kb.add([Document(f"d{i}", f"word{i} other{i} text {i}") for i in range(12)])
    vectors = load_vectors("kb", kb=tmp_path / "kb", queries=2)
    assert vectors.dim == 64 and vectors.n >= 10 and len(vectors.queries) == 2
    assert vectors.source.startswith("kb:")
    with pytest.raises(RaglineError, match="--kb"):
        load_vectors("kb")
    with pytest.raises(RaglineError, match="--source"):
        load_vectors("nope")


@pytest.mark.integration
def test_cli_bench_ann_writes_json_and_plot(tmp_path: Path) -> None:
    png = tmp_path / "ann.png"
    env = {**os.environ, "RAGLINE_CACHE": str(tmp_path / "cache"), "NO_COLOR": "1"}
    args = ["--source", "synthetic", "--limit", "3000", "--queries", "50", "--json"]
    done = subprocess.run(
        [sys.executable, "-m", "ragline.cli", "bench", "ann", *args, "--plot", str(png)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["source"] == "synthetic" and result["n"] == 3000 and result["queries"] == 50
    assert result["machine"]["cores"] and {"rows", "builds", "dim"} <= set(result)
    assert {row["index"] for row in result["rows"]} == {"Flat", "HNSW", "IVF"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list((tmp_path / "cache" / "ann").glob("*.npy"))
