"""Train a re-ranker of either kind: the recipe a kind's options make, and that kind's trainer.

``ragline train reranker --kind KIND`` takes one set of options for both kinds; this module
says which of them each kind uses and under what name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ragline.errors import RaglineError
from ragline.rerank.registry import KINDS
from ragline.train.colbert import ColbertRecipe, train_colbert
from ragline.train.cross_encoder import CrossEncoderRecipe, train_cross_encoder

Trainer = Callable[..., dict[str, Any]]
"""``train(data, output, recipe, *, progress)``, returning the training report."""

CROSS_ENCODER_ONLY = ("loss", "head")


def reranker_training(
    kind: str, **options: Any
) -> tuple[CrossEncoderRecipe | ColbertRecipe, Trainer]:
    """The recipe and the trainer for a re-ranker of ``kind`` (``cross-encoder`` or
    ``colbert``).

    ``options`` are recipe fields; those that are None keep the recipe's default. ``loss``
    and ``head`` apply to cross-encoders only, and are refused for ColBERT; ``max_length``
    is the cross-encoder's query-and-passage length and ColBERT's ``document_length``.

    >>> recipe, train = reranker_training("colbert", epochs=2, max_length=128, loss=None)
    >>> recipe.epochs, recipe.document_length, train.__name__
    (2, 128, 'train_colbert')
    """
    if kind not in KINDS:
        raise RaglineError(f"--kind {kind}: use {' or '.join(KINDS)}")
    given = {name: value for name, value in options.items() if value is not None}
    if kind == "cross-encoder":
        return CrossEncoderRecipe(**given), train_cross_encoder
    for name in CROSS_ENCODER_ONLY:
        if name in given:
            raise RaglineError(f"--{name} applies to cross-encoders only")
    if "max_length" in given:
        given["document_length"] = given.pop("max_length")
    return ColbertRecipe(**given), train_colbert
