"""Tensors in and out of Hugging Face models: padding, teacher forcing on an encoder-decoder's
decoder, the key/value cache of an output and its next-token log-probabilities.

Shared by the local generator, its token steps and the end-to-end RAG loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ragline.errors import RaglineError

if TYPE_CHECKING:
    import torch


def is_encoder_decoder(model: Any) -> bool:
    """Whether ``model`` (or the model inside a peft wrapper) is an encoder-decoder, as T5 and
    BART are: its prompt goes to the encoder and its answer is teacher-forced on the decoder."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return bool(getattr(base.config, "is_encoder_decoder", False))


def decoder_start_id(model: Any) -> int:
    """The token an encoder-decoder's decoder starts from (T5: pad, BART: ``</s>``)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    for source in (getattr(base, "generation_config", None), base.config):
        start = getattr(source, "decoder_start_token_id", None)
        if start is not None:
            return int(start)
    raise RaglineError(f"{type(base).__name__}: an encoder-decoder without decoder_start_token_id")


def shift_right(model: Any, labels: torch.Tensor) -> torch.Tensor:
    """Teacher-forcing decoder inputs for ``labels`` ``(N, T)``: the decoder start token, then
    ``labels[:, :-1]``, so that decoder position ``i`` predicts ``labels[:, i]``."""
    import torch

    start = torch.full_like(labels[:, :1], decoder_start_id(model))
    return torch.cat([start, labels[:, :-1]], dim=1)


def pad_rows(
    rows: Sequence[Sequence[int]],
    pad_id: int,
    device: str | torch.device = "cpu",
    *,
    left: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``rows`` padded to a common width with ``pad_id`` and their attention mask.

    Right padding (the default) is what an encoder expects: positions count from column 0.
    """
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            span = slice(width - len(r), width) if left else slice(0, len(r))
            ids[i, span] = torch.tensor(list(r), dtype=torch.long)
            mask[i, span] = 1
    return ids.to(device), mask.to(device)


def left_pad(
    rows: list[list[int]], pad_id: int, device: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Left-padded ids, the attention mask, and position ids counted from each row's first token."""
    ids, mask = pad_rows(rows, pad_id, device, left=True)
    pos = (mask.cumsum(dim=1) - 1).clamp(min=0)
    return ids, mask, pos


def output_cache(out: Any) -> Any:
    """The key/value cache of a forward's output (its name differs between versions)."""
    cache = getattr(out, "cache", None)
    if cache is None:
        cache = getattr(out, "past_key_values", None)
    return cache


def last_logprobs(torch: Any, logits: Any) -> NDArray[np.float64]:
    """Next-token log-probabilities from the last position of ``logits`` (rows, vocab)."""
    last = logits[:, -1, :].float()
    return torch.log_softmax(last, dim=-1).double().cpu().numpy()
