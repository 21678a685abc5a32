"""What every ragline trainer shares: seeds, precision, the sentence-transformers trainer
run with ragline's log, and an output directory that appears only when complete."""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragline.errors import RaglineError
from ragline.precision import PRECISIONS, use_bf16
from ragline.train.pairs import TrainingPair

RECIPE_FILE = "ragline-training.json"
LOG_FILE = "training-log.jsonl"


@dataclass(frozen=True)
class Schedule:
    """Optimisation settings of one training round."""

    epochs: int
    batch_size: int
    learning_rate: float
    warmup_ratio: float
    precision: str
    seed: int


def check_recipe(recipe: Any) -> None:
    """The checks every training recipe shares: a positive temperature, at least one epoch
    and one example per batch, a known precision and a dev share in [0, 1)."""
    if recipe.temperature <= 0:
        raise RaglineError(f"--temperature {recipe.temperature}: must be > 0")
    if recipe.epochs < 1 or recipe.batch_size < 1:
        raise RaglineError("--epochs and --batch-size must be >= 1")
    if recipe.precision not in PRECISIONS:
        raise RaglineError(f"--precision {recipe.precision}: use {', '.join(PRECISIONS)}")
    if not 0 <= recipe.dev_fraction < 1:
        raise RaglineError(f"--dev-fraction {recipe.dev_fraction}: must be in [0, 1)")


def seed_everything(seed: int) -> None:
    from transformers import set_seed

    set_seed(seed)
    random.seed(seed)


def pairs_dataset(pairs: list[TrainingPair]) -> Any:
    """Columns anchor, positive, negative_1…negative_n: the layout both trainers' losses read."""
    from ragline._optional import require

    Dataset = require("datasets", "train").Dataset

    columns: dict[str, list[str]] = {
        "anchor": [p.query for p in pairs],
        "positive": [p.positive for p in pairs],
    }
    for i in range(len(pairs[0].negatives) if pairs else 0):
        columns[f"negative_{i + 1}"] = [p.negatives[i] for p in pairs]
    return Dataset.from_dict(columns)


def run_trainer(
    kind: str,
    model: Any,
    pairs: list[TrainingPair],
    loss: Any,
    evaluator: Any,
    schedule: Schedule,
    *,
    dev_metric: str,
    log_path: Path,
    round_number: int = 1,
    progress: bool = True,
    dataset: Any = None,
) -> dict[str, Any]:
    """Train ``model`` (``kind`` "bi-encoder" or "cross-encoder") on ``pairs`` (or on
    ``dataset`` when the loss wants another layout) with sentence-transformers' trainer;
    returns steps, time, first/last loss, dev metric."""
    from ragline.train.log import JsonlLog, install_callbacks

    if kind == "bi-encoder":
        from sentence_transformers.sentence_transformer import (
            SentenceTransformerTrainer as Trainer,
        )
        from sentence_transformers.sentence_transformer import (
            SentenceTransformerTrainingArguments as Arguments,
        )
    else:
        from sentence_transformers.cross_encoder import CrossEncoderTrainer as Trainer
        from sentence_transformers.cross_encoder import CrossEncoderTrainingArguments as Arguments
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers

    seed = schedule.seed + round_number
    with tempfile.TemporaryDirectory(prefix="ragline-train-") as scratch:
        args = Arguments(
            output_dir=scratch,
            num_train_epochs=schedule.epochs,
            per_device_train_batch_size=schedule.batch_size,
            learning_rate=schedule.learning_rate,
            warmup_steps=schedule.warmup_ratio,
            bf16=use_bf16(schedule.precision),
            batch_sampler=BatchSamplers.NO_DUPLICATES if dataset is None else "batch_sampler",
            eval_strategy="epoch" if evaluator is not None else "no",
            eval_on_start=evaluator is not None and round_number == 1,
            save_strategy="no",
            logging_strategy="steps",
            logging_steps=1,
            report_to="none",
            use_cpu=True,
            seed=seed,
            data_seed=seed,
            disable_tqdm=not progress,
        )
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=pairs_dataset(pairs) if dataset is None else dataset,
            loss=loss,
            evaluator=evaluator,
        )
        training_log = JsonlLog(log_path, round_number=round_number)
        install_callbacks(trainer, training_log, progress=progress)
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    losses = [r["loss"] for r in training_log.records if "loss" in r]
    key = f"eval_{dev_metric}"
    return {
        "round": round_number,
        "pairs": len(pairs),
        "steps": trainer.state.global_step,
        "training_seconds": round(seconds, 1),
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "dev_ndcg@10_before": next(
            (r[key] for r in training_log.records if key in r and r["step"] == 0), None
        ),
        "dev_ndcg@10_per_epoch": [
            r[key] for r in training_log.records if key in r and r["step"] > 0
        ],
    }


@contextmanager
def staged_output(output: Path) -> Iterator[Path]:
    """A scratch directory beside ``output`` that becomes ``output`` when the block ends
    without error, so a crash never leaves a half-written model at ``output``."""
    if output.exists() and any(output.iterdir()):
        raise RaglineError(f"{output}: exists and is not empty (choose a new --out)")
    staging = output.parent / f".{output.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    yield staging
    if output.exists():
        output.rmdir()
    staging.rename(output)
