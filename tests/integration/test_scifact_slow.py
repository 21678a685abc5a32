"""SciFact test split through `ragline eval beir`: the retrieval quality targets (slow: it
embeds 5,183 abstracts with the packaged MiniLM)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCIFACT = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "scifact"


@pytest.mark.slow
def test_scifact_quality_targets(tmp_path: Path) -> None:
    if not (SCIFACT / "corpus.jsonl").is_file():
        pytest.skip(f"SciFact is not at {SCIFACT} (see ../shared/data/README.md)")
    done = subprocess.run(
        [sys.executable, "-m", "ragline.cli", "eval", "beir", str(SCIFACT), "--json"],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["results"]
    assert results["bm25"]["ndcg@10"] >= 0.670
    assert results["dense"]["ndcg@10"] >= 0.640
    hybrid = results["hybrid"]["ndcg@10"]
    assert hybrid >= 0.710
    assert hybrid > max(results["bm25"]["ndcg@10"], results["dense"]["ndcg@10"])
