"""train_colbert: the loss masks labelled passages, a tiny run learns, saves atomically and
writes a directory ColbertReranker loads.

The runs use a tiny random BERT (2 layers, width 32) saved as a sentence-transformers
bi-encoder, as both the start and the dense-negative miner, so they take seconds.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from ragline.errors import RaglineError  # noqa: E402
from ragline.rerank.colbert import ColbertReranker  # noqa: E402
from ragline.rerank.colbert_checkpoint import is_colbert_checkpoint  # noqa: E402
from ragline.train.colbert import (  # noqa: E402
    LOG_FILE,
    RECIPE_FILE,
    ColbertRecipe,
    _candidate_scores,
    train_colbert,
)
from ragline.train.pairs import TrainingData, TrainingPair  # noqa: E402
from tiny_models import TOPIC_VOCAB, TOPICS, write_tiny_bert  # noqa: E402


def tiny_data() -> TrainingData:
    data = TrainingData(corpus=list(TOPICS.values()))
    for word, passage in TOPICS.items():
        data.add_pair(TrainingPair(f"where the {word}", passage))
    return data


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_bert(tmp_path_factory.mktemp("tiny") / "bi-encoder", TOPIC_VOCAB)


def tiny_recipe(base: Path, **changes) -> ColbertRecipe:
    settings = {
        "base": str(base),
        "miner": str(base),
        "dim": 16,
        "epochs": 6,
        "batch_size": 4,
        "learning_rate": 2e-3,
        "warmup": 0.0,
        "bm25_negatives": 1,
        "dense_negatives": 1,
        "mine_margin": None,
        "query_length": 8,
        "document_length": 16,
        "pca_texts": 8,
        "dev_fraction": 0.0,
    }
    return ColbertRecipe(**(settings | changes))


def test_candidate_scores_put_the_positive_first_and_mask_labelled_passages():
    batch = [TrainingPair("q1", "p1", ("n1",)), TrainingPair("q2", "p2", ("p1",))]
    texts = ["p1", "n1", "p2", "p1"]
    scores = torch.arange(8, dtype=torch.float32).reshape(2, 4)
    relevant = {"q1": {"p1"}, "q2": {"p2"}}
    rows = _candidate_scores(scores, batch, texts, relevant, in_batch=True)
    assert rows[0].tolist() == [0.0, 1.0, 2.0, -math.inf]  # the duplicate of p1 is masked
    assert rows[1].tolist() == [6.0, 4.0, 5.0, 7.0]
    own = _candidate_scores(scores, batch, texts, relevant, in_batch=False)
    assert own[0].tolist() == [0.0, 1.0, -math.inf, -math.inf]
    assert own[1].tolist() == [6.0, -math.inf, -math.inf, 7.0]


def test_tiny_run_lowers_the_loss_and_saves_a_loadable_colbert(tmp_path, base):
    out = tmp_path / "colbert"
    report = train_colbert(tiny_data(), out, tiny_recipe(base), progress=False)
    (result,) = report["rounds"]
    assert result["pairs"] == 8 and result["negatives_per_pair"] == 2
    assert result["steps"] == 12
    assert result["loss_per_epoch"][-1] < result["loss_per_epoch"][0]
    assert result["dev_ndcg@10_before"] is None and result["dev_ndcg@10_per_epoch"] == []
    assert is_colbert_checkpoint(out)
    assert not (tmp_path / ".colbert.partial").exists()
    saved = json.loads((out / RECIPE_FILE).read_text())
    assert saved["recipe"]["dim"] == 16 and saved["rounds"][0]["steps"] == 12
    lines = [json.loads(line) for line in (out / LOG_FILE).read_text().splitlines()]
    assert [r["step"] for r in lines] == list(range(1, 13)) and "loss" in lines[0]

    reranker = ColbertReranker(out)
    assert reranker.model.settings.document_length == 16
    assert reranker.model.dim == 16
    scores = reranker.score("where the boat", list(TOPICS.values()))
    assert scores.shape == (8,) and int(scores.argmax()) == 1


def test_training_is_deterministic_and_reports_dev_ndcg(tmp_path, base):
    recipe = tiny_recipe(base, epochs=2, dev_fraction=0.25, dev_depth=3)
    first = train_colbert(tiny_data(), tmp_path / "a", recipe, progress=False)
    second = train_colbert(tiny_data(), tmp_path / "b", recipe, progress=False)
    assert first["rounds"][0]["loss_per_epoch"] == second["rounds"][0]["loss_per_epoch"]
    assert first["data"]["dev_queries"] == 2
    dev = [first["rounds"][0]["dev_ndcg@10_before"], *first["rounds"][0]["dev_ndcg@10_per_epoch"]]
    assert len(dev) == 3 and all(0 <= v <= 1 for v in dev)
    records = (tmp_path / "a" / LOG_FILE).read_text().splitlines()
    assert sum("dev_ndcg@10" in json.loads(r) for r in records) == 2


def test_refuses_a_non_empty_output_and_bad_recipes(tmp_path, base):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    with pytest.raises(RaglineError, match="not empty"):
        train_colbert(tiny_data(), tmp_path / "taken", tiny_recipe(base))
    with pytest.raises(RaglineError, match="temperature"):
        ColbertRecipe(temperature=0)
    with pytest.raises(RaglineError, match="dev-fraction"):
        ColbertRecipe(dev_fraction=1.0)
    with pytest.raises(RaglineError, match="precision"):
        ColbertRecipe(precision="fp8")


@pytest.mark.integration
def test_minilm_start_trains_to_a_128_d_checkpoint(tmp_path):
    recipe = ColbertRecipe(
        epochs=1,
        batch_size=4,
        pca_texts=8,
        query_length=8,
        document_length=16,
        dev_fraction=0.0,
    )
    report = train_colbert(tiny_data(), tmp_path / "colbert", recipe, progress=False)
    assert report["rounds"][0]["steps"] == 2 and math.isfinite(report["rounds"][0]["last_loss"])
    reranker = ColbertReranker(tmp_path / "colbert")
    assert reranker.model.dim == 128
    assert len(reranker.model.tokenizer) == 30524, "[Q] and [D] were added to MiniLM's vocabulary"
    assert reranker.score("where the boat", list(TOPICS.values())).shape == (8,)
