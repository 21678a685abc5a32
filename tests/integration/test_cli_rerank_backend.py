"""``--rerank-backend``: the same re-ranked search on torch and OpenVINO through the CLI, and
a backend name it does not know refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
pytest.importorskip("openvino")


@pytest.fixture(scope="module")
def cross_encoder_dir(tmp_path_factory) -> Path:
    """An untrained, seeded cross-encoder on MiniLM (a head of modules on pooled states)."""
    import torch

    from ragline.train.cross_encoder import _new_cross_encoder

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("cross-encoder")
    _new_cross_encoder("minilm", 128, "mean").save(str(path))
    return path


def test_search_reranks_alike_on_torch_and_openvino(
    docs_kb_dir: Path, cross_encoder_dir: Path, tmp_path: Path, run_cli
):
    found = {}
    for backend in ("torch", "openvino"):
        flags = ["--rerank", cross_encoder_dir, "--rerank-backend", backend, "--rerank-depth", "8"]
        cache = {"RAGLINE_CACHE": str(tmp_path / "cache")}
        done = run_cli(
            "search", "volcano lava", "--kb", docs_kb_dir, *flags, "--rerank-fusion", "none",
            "--json", env=cache,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        found[backend] = json.loads(done.stdout)["hits"]
    assert len(found["torch"]) > 3
    assert [h["doc_id"] for h in found["openvino"]] == [h["doc_id"] for h in found["torch"]]
    assert [h["score"] for h in found["openvino"]] == pytest.approx(
        [h["score"] for h in found["torch"]], abs=1e-4
    )
    assert list((tmp_path / "cache" / "converted" / "openvino").iterdir())  # converted there


def test_an_unknown_rerank_backend_is_refused_in_one_line(
    docs_kb_dir: Path, cross_encoder_dir: Path, run_cli
):
    done = run_cli("search", "lava", "--kb", docs_kb_dir, "--rerank", cross_encoder_dir,
                   "--rerank-backend", "onnx")  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "ragline: error: --rerank-backend onnx: use torch or openvino"
    ]
