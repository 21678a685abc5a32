"""End-to-end RAG fine-tuning on (question, answer) pairs, the passage marginalized out.

As in Lewis et al. (2020), no passage labels are needed: each question retrieves its top-k
chunks, the retrieval prior is ``p(z|q) = softmax(q·d_z / τ)``, the generator scores the gold
answer under each passage alone, and the loss is the negative log of the marginal answer
probability (:mod:`ragline.train.rag_loss`). The query encoder learns to rank the passages
that help the generator produce the answer; the generator learns to answer from them.

What trains (``RagRecipe.train``, comma-separated parts): the query encoder (a copy of the
knowledge base's sentence-transformers embedder), the generator (LoRA adapters by default),
and the passage encoder (another copy of the embedder). By default the passage encoder
stays frozen, as in RAG: the knowledge base's stored chunk vectors are the passage index.
When it trains, the index of the stored chunks is re-encoded every ``refresh_every`` steps
and swapped in whole (:mod:`ragline.train.rag_passages`), and the knowledge base must be
re-embedded with the trained passage encoder afterwards (``ragline reindex``).

Training matches ``ragline ask --mode sequence`` at inference: dense top-k retrieval, the
prior's temperature, and one prompt per passage built by
:func:`ragline.generate.prompt.passage_messages` with the generator's own chat template.
The answer is teacher-forced followed by the end-of-turn token, the way RAG-Sequence
decoding scores a finished answer.

Output directory::

    query-encoder/          sentence-transformers model (when the query or passage encoder
                            trained: queries and passages are then encoded by two models)
    passage-encoder/        sentence-transformers model (when the passage encoder trained)
    generator/              peft LoRA adapter, or a full model with LoRA off (when trained)
    ragline-training.json   recipe and report
    training-log.jsonl      loss per step, dev answer F1 per epoch

Every ``checkpoint_every`` steps the whole training state is saved beside the output (in
``.<name>.checkpoint/``) so an interrupted run resumes where it stopped.

This module runs the loop and writes the report; the recipe is in
:mod:`~ragline.train.rag_recipe`, the pairs in :mod:`~ragline.train.rag_data`, the models
and the loss of a question in :mod:`~ragline.train.rag_trainer`, checkpoints in
:mod:`~ragline.train.rag_checkpoint`.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import time
from collections.abc import Collection, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ragline.errors import RaglineError
from ragline.train.rag_checkpoint import (
    checkpoint_dir,
    load_checkpoint,
    rng_state,
    run_fingerprint,
    save_checkpoint,
    set_rng_state,
)
from ragline.train.rag_data import QaPair, split_dev
from ragline.train.rag_passages import RefreshedPassages
from ragline.train.rag_recipe import RagRecipe
from ragline.train.rag_trainer import RagTrainer
from ragline.train.runner import LOG_FILE, RECIPE_FILE, seed_everything, staged_output

__all__ = ["RagRecipe", "train_rag"]

log = logging.getLogger(__name__)

LOG_EVERY = 10


def _epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The question order of ``epoch``: fixed by the seed, so a resumed run repeats it."""
    order = list(range(n))
    random.Random(f"{seed}:{epoch}").shuffle(order)
    return order


def _train_loop(
    trainer: RagTrainer,
    dev: Sequence[QaPair],
    *,
    start: int,
    records: list[dict[str, Any]],
    checkpoint: Path,
    fingerprint: str,
    progress: bool,
) -> None:
    """Steps from ``start`` to the end, appending to ``records``; dev F1 after each epoch,
    a checkpoint every ``checkpoint_every`` steps. Without a progress bar (not a terminal),
    every ``LOG_EVERY``-th step is logged instead."""
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    recipe = trainer.recipe
    n = len(trainer.examples)
    per_epoch = math.ceil(n / recipe.batch_size)
    total = recipe.epochs * per_epoch
    bar = tqdm(total=total, initial=start, desc="rag", unit="step", disable=not progress)
    for step in range(start, total):
        epoch, position = divmod(step, per_epoch)
        order = _epoch_order(n, recipe.seed, epoch)
        batch = order[position * recipe.batch_size : (position + 1) * recipe.batch_size]
        began = time.perf_counter()
        loss = trainer.step(batch)
        record = {"step": step + 1, "epoch": epoch + 1, "loss": loss}
        record["seconds"] = round(time.perf_counter() - began, 3)
        refreshed = isinstance(trainer.passages, RefreshedPassages)
        if refreshed:
            record["index_age"] = step - trainer.passages.snapshot.step
        records.append(record)
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}")
        if not progress and (step + 1) % LOG_EVERY == 0:
            log.info("step %d of %d: loss %.3f, %.1f s", step + 1, total, loss, record["seconds"])
        if refreshed and (step + 1) % recipe.refresh_every == 0 and step + 1 < total:
            records.append({"epoch": epoch + 1} | trainer.refresh_index(step + 1))
        if position == per_epoch - 1:
            records.append({"step": step + 1, "epoch": epoch + 1, "dev_f1": trainer.dev_f1(dev)})
        if (step + 1) % recipe.checkpoint_every == 0 and step + 1 < total:
            state = {"step": step + 1, "records": records, "fingerprint": fingerprint}
            save_checkpoint(checkpoint, state | trainer.state_dict() | {"rng": rng_state()})
    bar.close()


def _report(records: list[dict[str, Any]], resumed_from: int, started: float) -> dict[str, Any]:
    losses = [r for r in records if "loss" in r]
    here = [r["seconds"] for r in losses if r["step"] > resumed_from]
    dev = [r for r in records if "dev_f1" in r]
    return {
        "steps": losses[-1]["step"] if losses else 0,
        "resumed_from_step": resumed_from,
        "seconds": round(time.perf_counter() - started, 1),
        "seconds_per_step": round(sum(here) / len(here), 3) if here else None,
        "first_loss": losses[0]["loss"] if losses else None,
        "last_loss": losses[-1]["loss"] if losses else None,
        "dev_f1_before": next((r["dev_f1"] for r in dev if r["step"] == 0), None),
        "dev_f1_per_epoch": [r["dev_f1"] for r in dev if r["step"] > 0],
    }


def _index_report(records: list[dict[str, Any]], recipe: RagRecipe) -> dict[str, Any]:
    """How stale the training passage index was (when the passage encoder trained)."""
    if not recipe.trains_passage:
        return {}
    ages = [r["index_age"] for r in records if "index_age" in r]
    return {
        "passage_index": {
            "refresh_every": recipe.refresh_every,
            "max_index_age": max(ages, default=0),
            "mean_index_age": round(sum(ages) / len(ages), 2) if ages else 0,
            "refreshes": [r for r in records if "index_version" in r],
        }
    }


def train_rag(
    kb_path: str | Path,
    pairs: Sequence[QaPair],
    output: str | Path,
    recipe: RagRecipe | None = None,
    *,
    dev_pairs: Sequence[QaPair] | None = None,
    hidden_documents: Collection[str] = (),
    progress: bool = True,
    resume: bool = True,
) -> dict[str, Any]:
    """Train end to end on (question, answer) ``pairs`` over the knowledge base at
    ``kb_path`` and save the trained parts to ``output`` (written atomically).

    Chunks of ``hidden_documents`` (a test split's paragraphs) are never retrieved in
    training, not even as passages that fail to help: otherwise the query encoder learns
    that the test side never holds an answer and ranks it lower for test questions too.

    Dev answer F1 is measured on ``dev_pairs``, or on a held-out ``recipe.dev_fraction``
    of ``pairs``. With ``resume``, a checkpoint left by an interrupted run of the same
    recipe and data is continued; otherwise it is discarded. Returns the report that is
    also saved as ``ragline-training.json``.
    """
    from ragline.kb import KnowledgeBase

    recipe = recipe or RagRecipe()
    output = Path(output)
    started = time.perf_counter()
    train, dev = split_dev(pairs, dev_pairs, recipe.dev_fraction, recipe.seed)
    if not train:
        raise RaglineError("no training pairs left after holding out the dev split")
    fingerprint = run_fingerprint(
        asdict(recipe), train, dev, str(Path(kb_path).resolve()), sorted(hidden_documents)
    )
    checkpoint = checkpoint_dir(output)
    if not resume:
        shutil.rmtree(checkpoint, ignore_errors=True)
    saved = load_checkpoint(checkpoint, fingerprint)
    seed_everything(recipe.seed)
    with staged_output(output) as staging, KnowledgeBase.open(kb_path) as kb:
        total = recipe.epochs * math.ceil(len(train) / recipe.batch_size)
        trainer = RagTrainer(kb, train, recipe, total, hidden_documents)
        records: list[dict[str, Any]] = []
        start = 0
        if saved is not None:
            trainer.load_state_dict(saved)
            set_rng_state(saved["rng"])
            start, records = saved["step"], list(saved["records"])
            log.info("resuming from step %d of %d (%s)", start, total, checkpoint)
        else:
            records.append({"step": 0, "epoch": 0, "dev_f1": trainer.dev_f1(dev)})
        _train_loop(
            trainer,
            dev,
            start=start,
            records=records,
            checkpoint=checkpoint,
            fingerprint=fingerprint,
            progress=progress,
        )
        report: dict[str, Any] = (
            {
                "output": str(output),
                "kind": "rag",
                "recipe": asdict(recipe),
                "data": {
                    "knowledge_base": str(Path(kb_path).resolve()),
                    "chunks": len(trainer.passages),
                    "hidden_chunks": trainer.passages.hidden_chunks,
                    "train_pairs": len(train),
                    "dev_pairs": len(dev),
                },
                "device": trainer.device,
                "generator": {
                    "name": trainer.local.name,
                    "base": str(trainer.local._load()[0].name_or_path),
                },
                "trained": trainer.save(staging),
            }
            | _report(records, start, started)
            | _index_report(records, recipe)
        )
        (staging / LOG_FILE).write_text("".join(json.dumps(r) + "\n" for r in records))
        (staging / RECIPE_FILE).write_text(json.dumps(report, indent=2) + "\n")
    shutil.rmtree(checkpoint, ignore_errors=True)
    return report
