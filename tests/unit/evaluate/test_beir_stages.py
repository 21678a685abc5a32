"""``evaluate_beir`` with a re-ranker scores the first stage as it is and each re-ranked
stage beside it (a keyword re-ranker that puts one wrong document first tells them apart)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from beir_folders import write_beir_folder
from ragline.config import Config
from ragline.evaluate.runner import evaluate_beir
from ragline.rerank.base import PairScoringReranker

CORPUS = {
    "d1": "Vitamin D deficiency is linked to bone loss in older adults.",
    "d2": "Statins lower LDL cholesterol and reduce heart attack risk.",
    "d3": "Malaria is transmitted by Anopheles mosquitoes carrying parasites.",
    "d4": "Insulin regulates blood glucose; decoy text for the re-ranker.",
}
QUERIES = {"q1": "vitamin D bone loss", "q2": "statins cholesterol", "q3": "malaria mosquitoes"}


class DecoyReranker(PairScoringReranker):
    """Scores only the passage holding "decoy": the re-ranked stage puts d4 first."""

    name = "decoy"

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        return np.array([float("decoy" in p) for p in passages], dtype=np.float32)


def write_beir(root: Path) -> Path:
    return write_beir_folder(
        root,
        [{"_id": d, "title": "", "text": t} for d, t in CORPUS.items()],
        [{"_id": q, "text": t} for q, t in QUERIES.items()],
        {"test": [(q, f"d{q[1]}", 1) for q in QUERIES]},
    )


def test_the_first_stage_is_scored_without_the_reranker(tmp_path: Path) -> None:
    config = Config().with_overrides("embed", model="hash-64")
    payload = evaluate_beir(
        write_beir(tmp_path / "beir"),
        ["dense"],
        config=config,
        use_cache=False,
        rerank=DecoyReranker(),  # type: ignore[arg-type]
        rerank_fusions=["none", "rrf"],
    )
    results = payload["results"]
    assert set(results) == {"dense", "dense+rerank", "dense+rerank-rrf"}
    assert results["dense"]["ndcg@10"] == 1.0  # each query shares words with its document alone
    assert results["dense+rerank"]["ndcg@10"] < 1.0  # the decoy leads every re-ranked list
