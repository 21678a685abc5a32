"""The default retriever recipe on SciFact train, evaluated on SciFact test and HotpotQA
(slow: about 15 minutes of training and 8 of indexing on 2 cores)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def ragline(*args: str | Path, cache: Path) -> dict:
    env = {**os.environ, "RAGLINE_CACHE": str(cache)}
    argv = [sys.executable, "-m", "ragline.cli", *map(str, args), "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=7200, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
def test_default_recipe_meets_the_scifact_targets_without_hurting_hotpotqa(tmp_path: Path):
    if not (DATA / "scifact" / "corpus.jsonl").is_file():
        pytest.skip(f"SciFact is not at {DATA / 'scifact'} (see ../shared/data/README.md)")
    model = tmp_path / "scifact-retriever"
    report = ragline("train", "retriever", "--beir", DATA / "scifact", "--out", model,
                     cache=tmp_path)  # fmt: skip
    assert report["seconds"] < 30 * 60
    scifact = ragline("eval", "beir", DATA / "scifact", "--embedder", model,
                      "--mode", "dense,hybrid", cache=tmp_path)["results"]  # fmt: skip
    assert scifact["dense"]["ndcg@10"] >= 0.70
    assert scifact["hybrid"]["ndcg@10"] >= 0.73
    base, trained = (
        ragline("eval", "beir", DATA / "hotpotqa-100", "--embedder", embedder,
                "--mode", "dense", cache=tmp_path)["results"]["dense"]["ndcg@10"]
        for embedder in ("minilm", model)
    )  # fmt: skip
    assert trained >= base - 0.01
