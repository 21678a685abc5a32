"""A LangChain retriever over a ragline knowledge base (``pip install 'ragline[langchain]'``).

Each hit becomes a ``Document`` whose ``id`` is the chunk id, whose ``page_content`` is the
chunk text and whose metadata says where it came from and how it scored
(:func:`~ragline.integrations.hits.hit_metadata`), so a chain's answer can cite spans.
"""

from __future__ import annotations

from typing import Any, Literal

from ragline._optional import require

require("langchain_core", "langchain")

from langchain_core.callbacks import CallbackManagerForRetrieverRun  # noqa: E402
from langchain_core.documents import Document  # noqa: E402
from langchain_core.retrievers import BaseRetriever  # noqa: E402
from pydantic import ConfigDict, Field  # noqa: E402

from ragline.integrations.hits import hit_metadata  # noqa: E402
from ragline.kb import KnowledgeBase  # noqa: E402


class RaglineRetriever(BaseRetriever):
    """Passages of ``kb`` for a query: ``k`` hits by ``mode`` (default: the knowledge
    base's), within ``filters`` (as ``KnowledgeBase.search`` takes them).

    >>> import tempfile
    >>> from ragline import Document as RaglineDocument
    >>> from ragline.embed.fake import HashEncoder
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with KnowledgeBase.create(tmp + "/kb", encoder=HashEncoder()) as kb:
    ...         _ = kb.add([RaglineDocument("b", "Dogs bark at night.")])
    ...         (doc,) = RaglineRetriever(kb=kb, k=1).invoke("why do dogs bark")
    >>> doc.id, doc.metadata["span"], doc.page_content
    ('b#0', [0, 19], 'Dogs bark at night.')
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kb: KnowledgeBase
    k: int = Field(4, ge=1)
    mode: Literal["hybrid", "dense", "bm25"] | None = None
    filters: dict[str, Any] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = self.kb.search(query, k=self.k, mode=self.mode, filters=self.filters)
        return [
            Document(id=hit.chunk.id, page_content=hit.chunk.text, metadata=hit_metadata(hit))
            for hit in hits
        ]
