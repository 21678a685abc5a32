"""Texts as padded token arrays for a graph runtime, in batches of similar length.

The texts of one call are tokenized together, ordered by token count and cut into batches
padded only to their own longest text: a batch of short chunks does not pay for the one long
one. The tokenizer is the model's own ``tokenizer.json``, truncating at the model's
``max_seq_length`` as sentence-transformers does. A text may be a (query, passage) pair, as
a cross-encoder reads them: the longer of the two is cut first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ragline.errors import RaglineError

if TYPE_CHECKING:
    from tokenizers import Encoding, Tokenizer


def max_seq_length(model_dir: Path, default: int = 512) -> int:
    """The token limit sentence-transformers applies to ``model_dir`` (its
    ``sentence_bert_config.json``), else the transformer's position limit."""
    for name, key in (
        ("sentence_bert_config.json", "max_seq_length"),
        ("config.json", "max_position_embeddings"),
    ):
        file = model_dir / name
        if file.is_file():
            value = json.loads(file.read_text(encoding="utf-8")).get(key)
            if value:
                return int(value)
    return default


Text = str | tuple[str, str]
"""One text, or a (query, passage) pair encoded as one sequence."""


class TokenBatches:
    """Length-sorted, per-batch padded token arrays for the model in ``model_dir``,
    truncated at ``max_length`` (default: the model's ``max_seq_length``)."""

    def __init__(self, model_dir: Path, max_length: int | None = None) -> None:
        self.model_dir = model_dir
        self.max_length = max_length or max_seq_length(model_dir)

    @cached_property
    def tokenizer(self) -> Tokenizer:
        from tokenizers import Tokenizer

        file = self.model_dir / "tokenizer.json"
        if not file.is_file():
            raise RaglineError(f"{self.model_dir}: no tokenizer.json (a fast tokenizer is needed)")
        tokenizer = Tokenizer.from_file(str(file))
        tokenizer.no_padding()
        tokenizer.enable_truncation(self.max_length)
        return tokenizer

    def encode(self, texts: Sequence[Text]) -> list[Encoding]:
        """Each text's tokens with the model's special tokens, truncated to the limit."""
        return self.tokenizer.encode_batch(list(texts))

    def batches(
        self, texts: Sequence[Text], batch_size: int
    ) -> Iterator[tuple[NDArray[np.int64], dict[str, NDArray[np.int64]]]]:
        """``(positions, arrays)`` per batch: which of ``texts`` the rows are, and their
        ``input_ids``, ``attention_mask`` and ``token_type_ids``, padded with zeros."""
        encodings = self.encode(texts)
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(-lengths, kind="stable")
        for start in range(0, len(order), batch_size):
            positions = order[start : start + batch_size]
            yield positions, _padded([encodings[i] for i in positions])


def _padded(encodings: list[Encoding]) -> dict[str, NDArray[np.int64]]:
    width = max(len(e.ids) for e in encodings)
    arrays = {
        name: np.zeros((len(encodings), width), dtype=np.int64)
        for name in ("input_ids", "attention_mask", "token_type_ids")
    }
    for row, encoding in enumerate(encodings):
        n = len(encoding.ids)
        arrays["input_ids"][row, :n] = encoding.ids
        arrays["attention_mask"][row, :n] = encoding.attention_mask
        arrays["token_type_ids"][row, :n] = encoding.type_ids
    return arrays
