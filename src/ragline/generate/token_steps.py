"""Token-by-token decoding of several prompts side by side on a Hugging Face model: the
``TokenSteps`` that RAG-Token scores with (one batched forward per step, on the key/value
cache of the previous ones)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ragline._optional import require
from ragline.generate.hf_tensors import (
    decoder_start_id,
    last_logprobs,
    left_pad,
    output_cache,
    pad_rows,
)

if TYPE_CHECKING:
    import torch


class HFTokenSteps:
    """``TokenSteps`` for a causal LM: k left-padded rows and their key/value cache."""

    def __init__(
        self,
        model: Any,
        prompt_ids: Sequence[list[int]],
        *,
        pad_id: int,
        device: str,
        keeps_logits: bool,
        cache_arg: str,
    ) -> None:
        self._torch = require("torch", "generate")
        self._model = model
        self._pad_id = pad_id
        self._device = device
        self._keeps_logits = keeps_logits
        self._cache_arg = cache_arg
        self._cache: Any = None
        self.logprobs = self._forward(self._first_inputs([list(p) for p in prompt_ids]))

    def feed(self, token_ids: int | Sequence[int]) -> NDArray[np.float64]:
        torch = self._torch
        k = self._mask.shape[0]
        column = (
            [int(token_ids)] * k if isinstance(token_ids, int | np.integer) else list(token_ids)
        )
        if len(column) != k:
            raise ValueError(f"feed() needs one token per row ({k}), got {len(column)}")
        ids = torch.tensor(column, dtype=torch.long, device=self._mask.device).unsqueeze(1)
        self.logprobs = self._forward(self._step_inputs(ids))
        return self.logprobs

    def _first_inputs(self, prompts: list[list[int]]) -> dict[str, Any]:
        """The first forward: the left-padded prompts, logits kept for the last column only."""
        ids, mask, pos = left_pad(prompts, self._pad_id, self._device)
        self._mask = mask
        self._pos = pos[:, -1:]
        extra = {"logits_to_keep": 1} if self._keeps_logits else {}
        return {"input_ids": ids, "attention_mask": mask, "position_ids": pos, **extra}

    def _step_inputs(self, ids: torch.Tensor) -> dict[str, Any]:
        """A later forward: one new ``(k, 1)`` token per row, at each row's next position."""
        self._mask = self._torch.cat([self._mask, self._torch.ones_like(ids)], dim=1)
        self._pos = self._pos + 1
        return {"input_ids": ids, "attention_mask": self._mask, "position_ids": self._pos}

    def _forward(self, inputs: dict[str, Any]) -> NDArray[np.float64]:
        """Run ``inputs`` on top of the cache; keep the new cache, return next-token logprobs."""
        if self._cache is not None:
            inputs[self._cache_arg] = self._cache
        with self._torch.inference_mode():
            out = self._model(use_cache=True, **inputs)
        self._cache = output_cache(out)
        return last_logprobs(self._torch, out.logits)


class Seq2SeqTokenSteps(HFTokenSteps):
    """``TokenSteps`` for an encoder-decoder: the k prompts are encoded once (right-padded),
    then every row's decoder advances one token per step on its key/value cache.

    All rows' decoders start together from the decoder start token, so they need no padding.
    """

    def _first_inputs(self, prompts: list[list[int]]) -> dict[str, Any]:
        torch = self._torch
        ids, mask = pad_rows(prompts, self._pad_id, self._device)
        with torch.inference_mode():
            self._encoded = self._model.get_encoder()(input_ids=ids, attention_mask=mask)
        self._mask = mask
        start = decoder_start_id(self._model)
        first = torch.full((len(prompts), 1), start, dtype=torch.long, device=ids.device)
        return self._step_inputs(first)

    def _step_inputs(self, ids: torch.Tensor) -> dict[str, Any]:
        return {
            "encoder_outputs": self._encoded,
            "attention_mask": self._mask,
            "decoder_input_ids": ids,
        }
