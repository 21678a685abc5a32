"""Key/value caches of prompt beginnings that repeat across requests, so a generator kept
loaded (``ragline serve``, a long ``eval qa``) reads them once.

Every prompt ragline builds starts with the same system message; only the passages and the
question after it change. Its 94 tokens were 16 % of SmolLM2's time to first token with five
passages here (1.02 → 0.86 s), with greedy answers unchanged. The cache a request gets is a
copy, so concurrent requests never write into a shared one.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from ragline.generate.hf_tensors import output_cache

MIN_PREFIX = 16
"""Shorter shared beginnings are read with the rest of the prompt: a copy would not pay."""


def shared_prefix(prompt: Sequence[int], beginning: Sequence[int]) -> int:
    """How many leading ids ``prompt`` shares with ``beginning``, leaving ``prompt``'s last id
    unshared (generation needs at least one new position to read).

    >>> shared_prefix([1, 2, 3, 4], [1, 2, 9]), shared_prefix([1, 2], [1, 2])
    (2, 1)
    """
    n = 0
    limit = min(len(beginning), len(prompt) - 1)
    while n < limit and prompt[n] == beginning[n]:
        n += 1
    return n


class PrefixCache:
    """The key/value caches of the last ``size`` distinct prompt beginnings of one model."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._caches: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def copy_for(self, model: Any, prefix: Sequence[int]) -> Any:
        """A fresh copy of the cache holding ``prefix`` as ``model`` reads it (read now if
        new), for ``model.generate`` on a prompt that starts with ``prefix``."""
        key = tuple(prefix)
        with self._lock:
            cache = self._caches.get(key)
            if cache is None:
                cache = _read(model, key)
                self._caches[key] = cache
                while len(self._caches) > self.size:
                    self._caches.popitem(last=False)
            self._caches.move_to_end(key)
            return copy.deepcopy(cache)


def _read(model: Any, prefix: tuple[int, ...]) -> Any:
    import torch

    ids = torch.tensor([prefix], dtype=torch.long, device=model.device)
    with torch.inference_mode():
        out = model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=True)
    return output_cache(out)
