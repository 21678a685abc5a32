"""The catalog (source of truth) and atomic file helpers."""

from __future__ import annotations

from ragline.store.catalog import Catalog, StoredDocument

__all__ = ["Catalog", "StoredDocument"]
