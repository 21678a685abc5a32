"""The catalog: SQLite as the source of truth of a knowledge base."""

from __future__ import annotations

from ragline.store.catalog import Catalog, StoredDocument

__all__ = ["Catalog", "StoredDocument"]
