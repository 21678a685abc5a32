"""Conformance suites for the backend protocols, as pytest test classes (needs pytest).

A backend passes by subclassing the suite and providing the fixture that makes it (see
``tests/contract/``): the same tests then run for every registered implementation, and a
new backend is one more parameter there.
"""

from __future__ import annotations

from ragline.testing.dense_index import DenseIndexContract
from ragline.testing.encoder import EncoderContract
from ragline.testing.memory_index import MemoryDenseIndex
from ragline.testing.sparse_index import SparseIndexContract

__all__ = ["DenseIndexContract", "EncoderContract", "MemoryDenseIndex", "SparseIndexContract"]
