"""Train the strongest retrieval stack in one recipe: the retriever recipe, then a re-ranker
recipe (ColBERT by default) on the same pairs, saved together as one stack directory
(:mod:`ragline.stack`) that ``--stack DIR`` uses.

Either part can instead be taken from a model trained before (``retriever=``/``reranker=``):
it is copied into the stack with its training report, so the stack's report still says what
each part cost to train.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ragline.errors import RaglineError
from ragline.stack import RERANKER_DIR, RETRIEVER_DIR, Stack, check_settings
from ragline.train.colbert import ColbertRecipe
from ragline.train.cross_encoder import CrossEncoderRecipe
from ragline.train.pairs import TrainingData
from ragline.train.reranker import reranker_training
from ragline.train.retriever import RetrieverRecipe, train_retriever
from ragline.train.runner import RECIPE_FILE, staged_output


@dataclass(frozen=True)
class StackRecipe:
    """The two recipes (each part's measured defaults) and how the stack searches. With
    ``reranker_from_retriever`` the re-ranker starts from the weights of the retriever
    trained (or taken) for the stack, not from its own recipe's base (SciFact test
    nDCG@10 of ColBERT's score alone: 0.769 from the retriever, 0.754 from MiniLM).
    ``rerank_fusion`` is ``doc-rrf``: the two stages vote for documents (0.775 against
    0.770 for chunk ranks, with the same models)."""

    retriever: RetrieverRecipe = field(default_factory=RetrieverRecipe)
    reranker: ColbertRecipe | CrossEncoderRecipe = field(default_factory=ColbertRecipe)
    search_mode: str = "hybrid"
    rerank_depth: int | None = None
    rerank_fusion: str = "doc-rrf"
    reranker_from_retriever: bool = True

    def __post_init__(self) -> None:
        check_settings(self.search_mode, self.rerank_fusion, "train stack")

    @property
    def reranker_kind(self) -> str:
        return "colbert" if isinstance(self.reranker, ColbertRecipe) else "cross-encoder"


def stack_recipe(reranker_kind: str = "colbert", **settings: Any) -> StackRecipe:
    """The default stack recipe with a re-ranker of ``reranker_kind`` and ``settings`` (the
    stack's own fields) given.

    >>> stack_recipe("cross-encoder", rerank_depth=50).reranker_kind
    'cross-encoder'
    """
    reranker, _ = reranker_training(reranker_kind)
    return StackRecipe(reranker=reranker, **settings)


def train_stack(
    data: TrainingData | None,
    output: str | Path,
    recipe: StackRecipe | None = None,
    *,
    retriever: str | Path | None = None,
    reranker: str | Path | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train (or take) the retriever, then the re-ranker, and save both as the stack at
    ``output`` (written atomically). ``data`` may be None only when both parts are given.

    Returns the report also saved in ``stack.json``: each part's training report (``from``
    names a part taken from elsewhere), the stack's settings, ``training_seconds`` (what
    the two parts took to train, wherever that was) and ``seconds`` (this run).
    """
    recipe = recipe or StackRecipe()
    output = Path(output).expanduser().resolve()
    if data is None and (retriever is None or reranker is None):
        raise RaglineError("train stack: give training data (--beir, --squad, --jsonl or --qa)")
    started = time.perf_counter()
    _, train_reranker = reranker_training(recipe.reranker_kind)
    trainers: dict[str, Callable[[Path], dict[str, Any]]] = {
        RETRIEVER_DIR: lambda out: train_retriever(data, out, recipe.retriever, progress=progress),
        RERANKER_DIR: lambda out: train_reranker(
            data, out, _reranker_recipe(recipe, staging / RETRIEVER_DIR), progress=progress
        ),
    }
    given = {RETRIEVER_DIR: retriever, RERANKER_DIR: reranker}
    with staged_output(output) as staging:
        parts = {
            name: _part(staging / name, given[name], train) for name, train in trainers.items()
        }
        report = {
            "output": str(output),
            "kind": "stack",
            "reranker_kind": recipe.reranker_kind,
            "parts": parts,
            "training_seconds": round(sum(p.get("seconds", 0.0) for p in parts.values()), 1),
            "seconds": round(time.perf_counter() - started, 1),
        }
        settings = {
            "search_mode": recipe.search_mode,
            "rerank_depth": recipe.rerank_depth,
            "rerank_fusion": recipe.rerank_fusion,
        }
        Stack(staging, **settings, report=report).save()
    return report | {"settings": settings}


def _reranker_recipe(recipe: StackRecipe, retriever: Path) -> ColbertRecipe | CrossEncoderRecipe:
    """The re-ranker's recipe, starting from the stack's ``retriever`` when asked to."""
    if recipe.reranker_from_retriever:
        return replace(recipe.reranker, base=str(retriever))
    return recipe.reranker


def _part(
    target: Path, given: str | Path | None, train: Callable[[Path], dict[str, Any]]
) -> dict[str, Any]:
    """Train one part into ``target``, or copy the model ``given`` there; its report."""
    if given is None:
        return train(target)
    source = Path(given).expanduser().resolve()
    if not source.is_dir():
        raise RaglineError(f"{given}: not a model directory")
    shutil.copytree(source, target)
    recorded = source / RECIPE_FILE
    report = json.loads(recorded.read_text(encoding="utf-8")) if recorded.is_file() else {}
    return report | {"from": str(source)}
