"""A LlamaIndex retriever over a ragline knowledge base (``pip install 'ragline[llamaindex]'``).

Each hit becomes a ``NodeWithScore``: a ``TextNode`` whose id is the chunk id, whose
character span is the chunk's span in its document (``start_char_idx``, ``end_char_idx``),
whose source is the document, and whose metadata says where it came from and how it scored
(:func:`~ragline.integrations.hits.hit_metadata`).
"""

from __future__ import annotations

from typing import Any

from ragline._optional import require

require("llama_index.core", "llamaindex")

from llama_index.core.retrievers import BaseRetriever  # noqa: E402
from llama_index.core.schema import (  # noqa: E402
    NodeRelationship,
    NodeWithScore,
    QueryBundle,
    RelatedNodeInfo,
    TextNode,
)

from ragline.documents import Hit  # noqa: E402
from ragline.errors import RaglineError  # noqa: E402
from ragline.integrations.hits import hit_metadata  # noqa: E402
from ragline.kb import KnowledgeBase  # noqa: E402


def _node(hit: Hit) -> NodeWithScore:
    chunk = hit.chunk
    node = TextNode(
        id_=chunk.id,
        text=chunk.text,
        metadata=hit_metadata(hit),
        start_char_idx=chunk.start,
        end_char_idx=chunk.end,
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=chunk.doc_id)},
    )
    return NodeWithScore(node=node, score=hit.score)


class RaglineRetriever(BaseRetriever):
    """Passages of ``kb`` for a query: ``k`` hits by ``mode`` (default: the knowledge
    base's), within ``filters`` (as ``KnowledgeBase.search`` takes them).

    >>> import tempfile
    >>> from ragline import Document
    >>> from ragline.embed.fake import HashEncoder
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with KnowledgeBase.create(tmp + "/kb", encoder=HashEncoder()) as kb:
    ...         _ = kb.add([Document("b", "Dogs bark at night.")])
    ...         (found,) = RaglineRetriever(kb, k=1).retrieve("why do dogs bark")
    >>> found.node.node_id, found.node.start_char_idx, found.node.ref_doc_id
    ('b#0', 0, 'b')
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        k: int = 4,
        mode: str | None = None,
        filters: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        if k < 1:
            raise RaglineError(f"k must be 1 or more, got {k}")
        super().__init__(**options)
        self.kb, self.k, self.mode, self.filters = kb, k, mode, filters

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.kb.search(
            query_bundle.query_str, k=self.k, mode=self.mode, filters=self.filters
        )
        return [_node(hit) for hit in hits]
