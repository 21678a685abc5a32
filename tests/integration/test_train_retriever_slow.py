"""The default retriever recipe on SciFact train, evaluated on SciFact test and HotpotQA
(slow: about 15 minutes of training and 8 of indexing on 2 cores)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runs import cli_report

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.mark.slow
def test_default_recipe_meets_the_scifact_targets_without_hurting_hotpotqa(tmp_path: Path):
    if not (DATA / "scifact" / "corpus.jsonl").is_file():
        pytest.skip(f"SciFact is not at {DATA / 'scifact'} (see ../shared/data/README.md)")
    model = tmp_path / "scifact-retriever"
    report = cli_report("train", "retriever", "--beir", DATA / "scifact", "--out", model,
                        cache=tmp_path)  # fmt: skip
    assert report["seconds"] < 30 * 60
    scifact = cli_report("eval", "beir", DATA / "scifact", "--embedder", model,
                         "--search-mode", "dense,hybrid", cache=tmp_path)["results"]  # fmt: skip
    assert scifact["dense"]["ndcg@10"] >= 0.70
    assert scifact["hybrid"]["ndcg@10"] >= 0.73
    base, trained = (
        cli_report("eval", "beir", DATA / "hotpotqa-100", "--embedder", embedder,
                   "--search-mode", "dense", cache=tmp_path)["results"]["dense"]["ndcg@10"]
        for embedder in ("minilm", model)
    )  # fmt: skip
    assert trained >= base - 0.01
