"""Fine-tune a bi-encoder retriever on (query, relevant passage) pairs.

The recipe: InfoNCE (sentence-transformers' multiple-negatives ranking loss, ``scale = 1/τ``)
over in-batch negatives plus one BM25 hard negative per pair (negatives mined by the model
itself can be added or swapped in: better dense-only retrieval, slower), batches without
duplicate texts, bf16 autocast where the CPU has it, linear warm-up and decay, a fixed seed.
With ``rounds = 2`` the trained model re-mines its own hard negatives and trains again. The
result is a standard sentence-transformers directory (``ragline index --embedder DIR``), with
the recipe and the training log beside the weights.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ragline.errors import RaglineError
from ragline.precision import use_bf16
from ragline.train.loss import DEFAULT_TEMPERATURE
from ragline.train.negatives import NEGATIVE_SOURCES, mine_negatives
from ragline.train.pairs import TrainingData
from ragline.train.runner import (
    LOG_FILE,
    RECIPE_FILE,
    Schedule,
    check_recipe,
    run_trainer,
    seed_everything,
    staged_output,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrieverRecipe:
    """How to train; the defaults are the measured SciFact recipe for 2 CPU cores."""

    base: str = "minilm"
    negatives: tuple[str, ...] = ("in-batch", "bm25")
    bm25_negatives: int = 1
    model_negatives: int = 1
    mine_skip: int = 0
    mine_margin: float | None = 0.05
    rounds: int = 1
    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 3e-5
    warmup_ratio: float = 0.1
    temperature: float = DEFAULT_TEMPERATURE
    max_seq_length: int = 256
    mine_length: int = 256
    precision: str = "auto"
    dev_fraction: float = 0.1
    dev_depth: int = 20
    seed: int = 42

    def __post_init__(self) -> None:
        check_recipe(self)
        unknown = [n for n in self.negatives if n not in NEGATIVE_SOURCES]
        if unknown or "in-batch" not in self.negatives:
            raise RaglineError(
                f"--negatives {','.join(self.negatives)}: combine {', '.join(NEGATIVE_SOURCES)} "
                "(in-batch is always part of the loss)"
            )
        if self.rounds < 1 or self.epochs < 1 or self.batch_size < 2:
            raise RaglineError("--rounds and --epochs must be >= 1, --batch-size >= 2")


def _load_model(base: str, max_seq_length: int) -> Any:
    from ragline.packaged_models import resolve_model

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    path, _ = resolve_model(base)
    model = SentenceTransformer(str(path), device="cpu")
    model.max_seq_length = min(max_seq_length, model.max_seq_length or max_seq_length)
    return model


def _dev_evaluator(dev: TrainingData, depth: int) -> Any:
    """nDCG@10 on dev queries over their positives and BM25 top-``depth`` passages."""
    from sentence_transformers.sentence_transformer.evaluation import (
        InformationRetrievalEvaluator,
    )

    from ragline.train.negatives import bm25_negatives

    candidates = bm25_negatives(dev, depth, depth=depth)
    passages = list(
        dict.fromkeys(
            [p for ps in dev.relevant.values() for p in sorted(ps)]
            + [p for ps in candidates.values() for p in ps]
        )
    )
    ids = {text: f"p{i}" for i, text in enumerate(passages)}
    queries = {f"q{i}": q for i, q in enumerate(dev.relevant)}
    relevant = {f"q{i}": {ids[p] for p in ps} for i, ps in enumerate(dev.relevant.values())}
    return InformationRetrievalEvaluator(
        queries,
        {v: k for k, v in ids.items()},
        relevant,
        name="dev",
        show_progress_bar=False,
        ndcg_at_k=[10],
        mrr_at_k=[10],
        accuracy_at_k=[1],
        precision_recall_at_k=[10],
        map_at_k=[100],
    )


def train_retriever(
    data: TrainingData,
    output: str | Path,
    recipe: RetrieverRecipe | None = None,
    *,
    progress: bool = True,
) -> dict[str, Any]:
    """Train ``recipe.base`` on ``data`` and save it to ``output`` (written atomically: a
    crash leaves no half-written model there); returns the training report."""
    from ragline.train.loss import contrastive_loss

    recipe = recipe or RetrieverRecipe()
    output = Path(output)
    started = time.perf_counter()
    seed_everything(recipe.seed)
    train, dev = data.split(recipe.dev_fraction, recipe.seed)
    if not train.pairs:
        raise RaglineError("no training pairs left after holding out the dev split")
    schedule = Schedule(
        recipe.epochs,
        recipe.batch_size,
        recipe.learning_rate,
        recipe.warmup_ratio,
        recipe.precision,
        recipe.seed,
    )
    with staged_output(output) as staging:
        model = _load_model(recipe.base, recipe.max_seq_length)
        evaluator = _dev_evaluator(dev, recipe.dev_depth) if dev.pairs else None
        summary = data.summary() | {
            "train_queries": len(train.relevant),
            "dev_queries": len(dev.relevant),
        }
        report: dict[str, Any] = {
            "output": str(output),
            "kind": "retriever",
            "data": summary,
            "recipe": asdict(recipe),
            "rounds": [],
        }
        for round_number in range(1, recipe.rounds + 1):
            pairs, stats = mine_negatives(
                train,
                bm25=recipe.bm25_negatives if "bm25" in recipe.negatives else 0,
                model=model,
                dense=recipe.model_negatives if "model" in recipe.negatives else 0,
                skip=recipe.mine_skip,
                margin=recipe.mine_margin,
                bf16=use_bf16(recipe.precision),
                length=recipe.mine_length,
                seed=recipe.seed + round_number,
            )
            log.info("round %d: %d pairs, %s", round_number, len(pairs), stats)
            result = run_trainer(
                "bi-encoder",
                model,
                pairs,
                contrastive_loss(model, recipe.temperature),
                evaluator,
                schedule,
                dev_metric="dev_cosine_ndcg@10",
                log_path=staging / LOG_FILE,
                round_number=round_number,
                progress=progress,
            )
            report["rounds"].append(stats | result)
        report["seconds"] = round(time.perf_counter() - started, 1)
        model.save(str(staging))
        (staging / RECIPE_FILE).write_text(json.dumps(report, indent=2) + "\n")
    return report
