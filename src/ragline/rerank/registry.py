"""Re-rankers by name: ``cross-encoder`` and ``colbert`` (the models ``ragline train reranker``
saved in the user's model directory) or a model directory of either kind.

Each registered class reads model directories of its kind: ``reads(path)`` recognises one,
``from_dir(path, cache_dir)`` makes the re-ranker (``cache_dir`` holds caches it keeps on
disk, such as ColBERT's passage tokens). A backend other than ``torch`` swaps in the class
that runs the same model on that runtime, where one exists.
"""

from __future__ import annotations

from pathlib import Path

from ragline.cache import default_cache_dir
from ragline.errors import RaglineError
from ragline.registry import Registry
from ragline.rerank.base import Reranker

RERANKERS = Registry(
    "re-ranker",
    {
        "cross-encoder": "ragline.rerank.cross_encoder:CrossEncoderReranker",
        "colbert": "ragline.rerank.colbert:ColbertReranker",
    },
)
KINDS = RERANKERS.names()
BACKENDS = {
    "torch": RERANKERS,
    "openvino": Registry(
        "OpenVINO re-ranker",
        {
            "cross-encoder": "ragline.rerank.openvino:OpenVinoCrossEncoderReranker",
            "colbert": "ragline.rerank.openvino:OpenVinoColbertReranker",
        },
    ),
}
"""The classes that run each kind, by backend (``--rerank-backend``)."""


def default_reranker_dir(kind: str) -> Path:
    """Where ``ragline train reranker --kind KIND`` saves by default, and ``--rerank KIND``
    looks: ``<cache>/models/reranker-KIND`` (see ``ragline.cache.default_cache_dir``)."""
    if kind not in KINDS:
        raise RaglineError(f"re-ranker kind {kind!r}: use {' or '.join(KINDS)}")
    return default_cache_dir() / "models" / f"reranker-{kind}"


def make_reranker(spec: str, *, backend: str = "torch", cache_dir: Path | None = None) -> Reranker:
    """The re-ranker ``spec`` names, run on ``backend``; ``cache_dir`` holds what it caches
    on disk."""
    if backend not in BACKENDS:
        raise RaglineError(f"--rerank-backend {backend}: use {' or '.join(BACKENDS)}")
    if spec in KINDS:
        path = default_reranker_dir(spec)
        if not path.is_dir():
            raise RaglineError(
                f"--rerank {spec}: no trained {spec} at {path}; train one with "
                f"`ragline train reranker --kind {spec} --beir DIR` or give a model directory"
            )
    else:
        path = Path(spec).expanduser()
    for kind in KINDS:
        if RERANKERS.load(kind).reads(path):
            if kind not in BACKENDS[backend]:
                raise RaglineError(f"--rerank-backend {backend}: runs no {kind}; use torch")
            reranker: Reranker = BACKENDS[backend].load(kind).from_dir(path, cache_dir)
            return reranker
    raise RaglineError(
        f"--rerank {spec}: not {' or '.join(KINDS)} nor a cross-encoder or ColBERT model directory"
    )
