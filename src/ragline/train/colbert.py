"""Train a ColBERT late-interaction re-ranker on (query, relevant passage) pairs.

The recipe: start from a bi-encoder's transformer with a PCA-initialised 128-d projection
(see ``ragline.rerank.colbert``), give each query its positive and hard negatives from BM25
and from the bi-encoder, score every query against every passage of the batch with MaxSim,
and minimise InfoNCE over each query's list (its positive in column 0, passages labelled
relevant for it masked out, the other queries' passages as extra in-batch negatives). A
hand-written torch loop: AdamW, linear warm-up and decay, gradient clipping, bf16 autocast
where the CPU has it, fixed seeds. The result is a PyLate-format directory with the recipe
and the training log beside the weights, written atomically.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ragline.errors import RaglineError
from ragline.train.pairs import TrainingData, TrainingPair
from ragline.train.runner import LOG_FILE, RECIPE_FILE, check_recipe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ColbertRecipe:
    """How to train. The defaults are sized for SciFact train (919 pairs, passages of ~300
    tokens) within 30 min on 2 idle CPU cores: full 256-token passages, one BM25 and one
    dense negative per query (the batch's other 45 passages are free in-batch negatives),
    2 epochs. ``temperature`` divides MaxSim sums (tens, not cosines), as PyLate does at 1.
    """

    base: str = "minilm"
    miner: str = "minilm"
    dim: int = 128
    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup: float = 0.1
    temperature: float = 1.0
    in_batch: bool = True
    bm25_negatives: int = 1
    dense_negatives: int = 1
    mine_margin: float | None = 0.05
    mine_length: int = 128
    query_length: int = 32
    document_length: int = 256
    max_grad_norm: float = 1.0
    precision: str = "auto"
    pca_texts: int = 128
    dev_fraction: float = 0.05
    dev_depth: int = 10
    seed: int = 42

    def __post_init__(self) -> None:
        check_recipe(self)
        if self.dim < 1:
            raise RaglineError(f"--dim {self.dim}: must be >= 1")
        if self.bm25_negatives < 0 or self.dense_negatives < 0:
            raise RaglineError("--bm25-negatives and --dense-negatives must be >= 0")
        if not 0 <= self.warmup < 1:
            raise RaglineError(f"--warmup {self.warmup}: a fraction of the steps, in [0, 1)")


def _with_negatives(
    data: TrainingData, recipe: ColbertRecipe, bf16: bool
) -> tuple[list[TrainingPair], dict[str, Any]]:
    """Each pair with BM25 and bi-encoder (``recipe.miner``) negatives, and the mining cost;
    the bi-encoder reads ``mine_length`` tokens per passage, which keeps mining cheap."""
    from ragline.train.negatives import mine_negatives

    miner = None
    if recipe.dense_negatives:
        from ragline.embed.sentence_transformers import SentenceTransformerEncoder

        miner = SentenceTransformerEncoder(recipe.miner).model
    return mine_negatives(
        data,
        bm25=recipe.bm25_negatives,
        model=miner,
        dense=recipe.dense_negatives,
        margin=recipe.mine_margin,
        bf16=bf16,
        length=recipe.mine_length,
        seed=recipe.seed,
    )


def _start_model(recipe: ColbertRecipe, data: TrainingData) -> Any:
    """``recipe.base`` as a ColbertModel with the recipe's lengths (a bi-encoder base gets
    a projection fitted to a sample of the training corpus)."""
    from ragline.rerank.colbert_checkpoint import ColbertSettings
    from ragline.rerank.colbert_model import ColbertModel

    rng = random.Random(recipe.seed)
    sample = rng.sample(data.corpus, min(recipe.pca_texts, len(data.corpus)))
    query_length, document_length = recipe.query_length, recipe.document_length
    settings = ColbertSettings(query_length=query_length, document_length=document_length)
    model = ColbertModel.load(recipe.base, dim=recipe.dim, settings=settings, pca_texts=sample)
    model.settings = replace(
        model.settings, query_length=query_length, document_length=document_length
    )
    return model


def _candidate_scores(
    scores: Any,
    batch: Sequence[TrainingPair],
    texts: Sequence[str],
    relevant: dict[str, set[str]],
    in_batch: bool,
) -> Any:
    """(queries × passages) MaxSim scores reordered so each row's positive is column 0, with
    -inf for passages that are not negatives of that query: ones labelled relevant for it
    and, without ``in_batch``, every passage of another query's list."""
    import torch

    width = len(texts) // len(batch)
    rows = []
    for i, pair in enumerate(batch):
        own = i * width
        order = [own, *(j for j in range(len(texts)) if j != own)]
        keep = [
            j == own
            or ((in_batch or own <= j < own + width) and texts[j] not in relevant[pair.query])
            for j in order
        ]
        row = scores[i, order]
        rows.append(row.masked_fill(~torch.tensor(keep, device=row.device), float("-inf")))
    return torch.stack(rows)


def batch_loss(
    model: Any,
    batch: Sequence[TrainingPair],
    relevant: dict[str, set[str]],
    *,
    temperature: float,
    in_batch: bool = True,
) -> Any:
    """InfoNCE over MaxSim scores of ``batch``: each query against its positive, its hard
    negatives and (``in_batch``) every other passage of the batch."""
    from ragline.rerank.maxsim import maxsim_tensor
    from ragline.train.loss import info_nce

    queries = model.encode_queries([pair.query for pair in batch])
    texts = [text for pair in batch for text in (pair.positive, *pair.negatives)]
    passages, mask = model.encode_documents(texts)
    scores = maxsim_tensor(queries, passages, mask).float()
    return info_nce(_candidate_scores(scores, batch, texts, relevant, in_batch), temperature)


def _dev_candidates(dev: TrainingData, depth: int) -> dict[str, list[str]]:
    """Per dev query: its positives, then its top-``depth`` BM25 passages not labelled so."""
    from ragline.train.negatives import bm25_negatives

    found = bm25_negatives(dev, depth, depth=depth)
    return {q: [*sorted(ps), *found.get(q, [])] for q, ps in dev.relevant.items()}


def dev_ndcg(model: Any, candidates: dict[str, list[str]], relevant: dict[str, set[str]]) -> float:
    """nDCG@10 of re-ranking each query's ``candidates`` with ``model``."""
    from ragline.evaluate.metrics import evaluate_run
    from ragline.rerank.colbert import ColbertReranker
    from ragline.rerank.maxsim import maxsim

    reranker = ColbertReranker(model)
    passages = list(dict.fromkeys(p for ps in candidates.values() for p in ps))
    tokens = dict(zip(passages, reranker.encode_passages(passages), strict=True))
    ids = {text: f"p{i}" for i, text in enumerate(passages)}
    run: dict[str, dict[str, float]] = {}
    qrels: dict[str, dict[str, int]] = {}
    for i, (query, texts) in enumerate(candidates.items()):
        scores = maxsim(reranker.encode_query(query), [tokens[t] for t in texts])
        run[f"q{i}"] = {ids[t]: float(s) for t, s in zip(texts, scores, strict=True)}
        qrels[f"q{i}"] = {ids[t]: 1 for t in relevant[query]}
    return evaluate_run(qrels, run, ["ndcg@10"])["ndcg@10"]


class _Log:
    """Appends one JSON line per step or evaluation, with the seconds since the start."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = time.perf_counter()

    def write(self, **record: Any) -> None:
        record["seconds"] = round(time.perf_counter() - self.started, 2)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


def _step(
    model: Any,
    optimizer: Any,
    schedule: Any,
    batch: Sequence[TrainingPair],
    relevant: dict[str, set[str]],
    recipe: ColbertRecipe,
    bf16: bool,
) -> float:
    """One optimisation step on ``batch`` (bf16 autocast for the forward pass when asked,
    gradients clipped); returns its loss."""
    import torch

    with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=bf16):
        loss = batch_loss(
            model, batch, relevant, temperature=recipe.temperature, in_batch=recipe.in_batch
        )
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.max_grad_norm)
    optimizer.step()
    schedule.step()
    return float(loss.item())


def _fit(
    model: Any,
    pairs: list[TrainingPair],
    relevant: dict[str, set[str]],
    recipe: ColbertRecipe,
    evaluate: Callable[[], float] | None,
    log_path: Path,
    *,
    bf16: bool,
    progress: bool,
) -> dict[str, Any]:
    """The training loop; ``evaluate()`` gives dev nDCG@10 before training and per epoch."""
    import torch
    from rich.console import Console
    from rich.progress import Progress
    from transformers import get_linear_schedule_with_warmup

    rng = random.Random(recipe.seed)
    total = -(-len(pairs) // recipe.batch_size) * recipe.epochs
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=recipe.learning_rate, weight_decay=recipe.weight_decay
    )
    schedule = get_linear_schedule_with_warmup(optimizer, round(total * recipe.warmup), total)
    journal = _Log(log_path)
    before = evaluate() if evaluate else None
    dev: list[float] = []
    losses: list[list[float]] = []
    step = 0
    with Progress(console=Console(stderr=True), disable=not progress) as bar:
        task = bar.add_task("colbert", total=total)
        for epoch in range(1, recipe.epochs + 1):
            order = pairs[:]
            rng.shuffle(order)
            model.train(True)
            losses.append([])
            for start in range(0, len(order), recipe.batch_size):
                batch = order[start : start + recipe.batch_size]
                loss = _step(model, optimizer, schedule, batch, relevant, recipe, bf16)
                losses[-1].append(loss)
                step += 1
                journal.write(step=step, epoch=epoch, loss=loss, lr=schedule.get_last_lr()[0])
                bar.update(task, advance=1, description=f"colbert loss {loss:.3f}")
            if evaluate:
                dev.append(evaluate())
                journal.write(step=step, epoch=epoch, **{"dev_ndcg@10": dev[-1]})
    flat = [value for epoch_losses in losses for value in epoch_losses]
    return {
        "pairs": len(pairs),
        "steps": step,
        "training_seconds": round(time.perf_counter() - journal.started, 1),
        "first_loss": flat[0],
        "last_loss": flat[-1],
        "loss_per_epoch": [sum(v) / len(v) for v in losses],
        "dev_ndcg@10_before": before,
        "dev_ndcg@10_per_epoch": dev,
    }


def train_colbert(
    data: TrainingData,
    output: str | Path,
    recipe: ColbertRecipe | None = None,
    *,
    progress: bool = True,
) -> dict[str, Any]:
    """Train a ColBERT re-ranker from ``recipe.base`` on ``data`` and save it to ``output``
    (PyLate format, written atomically: a crash leaves no half-written model there).

    Returns the report also saved in ``ragline-training.json``: data summary, recipe and,
    under ``rounds`` (one, as the other trainers report), pairs, steps, seconds, first and
    last loss, mean loss per epoch, and dev nDCG@10 before training and after each epoch
    when a dev split is held out.
    """
    from ragline.precision import use_bf16
    from ragline.train.runner import seed_everything, staged_output

    recipe = recipe or ColbertRecipe()
    output = Path(output)
    started = time.perf_counter()
    seed_everything(recipe.seed)
    bf16 = use_bf16(recipe.precision)
    train, dev = data.split(recipe.dev_fraction, recipe.seed)
    if not train.pairs:
        raise RaglineError("no training pairs left after holding out the dev split")
    with staged_output(output) as staging:
        pairs, stats = _with_negatives(train, recipe, bf16)
        log.info("%d pairs, %s", len(pairs), stats)
        model = _start_model(recipe, train)
        candidates = _dev_candidates(dev, recipe.dev_depth) if dev.pairs else {}
        result = _fit(
            model,
            pairs,
            train.relevant,
            recipe,
            (lambda: dev_ndcg(model, candidates, dev.relevant)) if candidates else None,
            staging / LOG_FILE,
            bf16=bf16,
            progress=progress,
        )
        report = {
            "output": str(output),
            "kind": "colbert",
            "data": data.summary()
            | {"train_queries": len(train.relevant), "dev_queries": len(dev.relevant)},
            "recipe": asdict(recipe),
            "rounds": [{"round": 1, **stats, **result}],
            "seconds": round(time.perf_counter() - started, 1),
        }
        model.save(staging)
        (staging / RECIPE_FILE).write_text(json.dumps(report, indent=2) + "\n")
    return report
