"""Re-rankers by name: ``cross-encoder`` and ``colbert`` (the models ``ragline train reranker``
saved in the user's model directory) or a model directory of either kind."""

from __future__ import annotations

from pathlib import Path

from ragline.errors import RaglineError
from ragline.rerank.base import Reranker

KINDS = ("cross-encoder", "colbert")


def default_reranker_dir(kind: str) -> Path:
    """Where ``ragline train reranker --kind KIND`` saves by default, and ``--rerank KIND``
    looks: ``<cache>/models/reranker-KIND`` (see ``ragline.evaluate.beir.default_cache_dir``)."""
    from ragline.evaluate.beir import default_cache_dir

    if kind not in KINDS:
        raise RaglineError(f"re-ranker kind {kind!r}: use {' or '.join(KINDS)}")
    return default_cache_dir() / "models" / f"reranker-{kind}"


def make_reranker(spec: str, *, cache_dir: Path | None = None) -> Reranker:
    """The re-ranker ``spec`` names; ``cache_dir`` holds ColBERT's passage token cache."""
    from ragline.rerank.colbert import ColbertReranker, is_colbert_checkpoint
    from ragline.rerank.cross_encoder import CrossEncoderReranker, is_cross_encoder_dir

    if spec in KINDS:
        path = default_reranker_dir(spec)
        if not path.is_dir():
            raise RaglineError(
                f"--rerank {spec}: no trained {spec} at {path}; train one with "
                f"`ragline train reranker --kind {spec} --beir DIR` or give a model directory"
            )
    else:
        path = Path(spec).expanduser()
    if is_colbert_checkpoint(path):
        name = _short_hash(str(path.resolve()))
        cache = cache_dir / f"colbert-cache-{name}.sqlite" if cache_dir is not None else None
        return ColbertReranker(path, cache_path=cache)
    if is_cross_encoder_dir(path):
        return CrossEncoderReranker(path)
    raise RaglineError(
        f"--rerank {spec}: not {' or '.join(KINDS)} nor a cross-encoder or ColBERT model directory"
    )


def _short_hash(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:12]
