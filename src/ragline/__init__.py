"""ragline: local-first retrieval-augmented generation."""

from __future__ import annotations

from ragline.config import Config
from ragline.documents import Chunk, Document, Hit
from ragline.ingest import IngestReport
from ragline.kb import KnowledgeBase

__version__ = "0.1.0"

__all__ = ["Chunk", "Config", "Document", "Hit", "IngestReport", "KnowledgeBase", "__version__"]
