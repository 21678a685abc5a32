"""What a framework's document carries of a ragline hit: ids, span and scores, as metadata."""

from __future__ import annotations

from typing import Any

from ragline.documents import Hit


def hit_metadata(hit: Hit) -> dict[str, Any]:
    """The chunk's own metadata, then where it came from and how it scored: ``doc_id``,
    ``chunk_id``, ``span`` (start, end in the document), ``score``, ``rank``, ``source``
    and each retriever's ``scores`` and ``ranks``."""
    return {
        **hit.chunk.metadata,
        "doc_id": hit.chunk.doc_id,
        "chunk_id": hit.chunk.id,
        "span": [hit.chunk.start, hit.chunk.end],
        "score": hit.score,
        "rank": hit.rank,
        "source": hit.source,
        "scores": dict(hit.scores),
        "ranks": dict(hit.ranks),
    }
