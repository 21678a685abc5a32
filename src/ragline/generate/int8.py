"""Int8 weights for a local language model on the CPU: faster, but not as good.

Decoding a small model in float32 reads every weight once per token, so memory traffic and
float32 matrix products bound its speed. torch's dynamic quantization (int8 weights per
output channel, activations quantized per call) cuts both. Measured on the packaged
SmolLM2-135M (2-core AVX2 CPU under load, README "Generation speed"): decoding 1.6× as
fast and reading the prompt 1.2× as fast, but F1 on 40 SQuAD questions with their gold
paragraph falls from 0.178 to 0.099 — activation outliers (the MLP's down projection
above all) do not survive per-tensor int8 — so float32 stays the default and int8 is a
choice (``[generate] weights = "int8"``, ``bench generate --weights int8``).

Quantizing takes a few seconds at load (about 3.5 s here under load, on top of 7 s); it is
redone at each load rather than cached, since a cached quantized module would need pickle.
"""

from __future__ import annotations

import warnings
from typing import Any

from ragline._optional import require
from ragline.errors import RaglineError

WEIGHTS = ("fp32", "int8", "gguf", "gguf-f16")
"""How a local model's weights are held: ``fp32`` (as loaded), ``int8`` (CPU only), or on
llama.cpp (``generate/llama_cpp.py``): ``gguf`` (the GGUF file's own weights) or
``gguf-f16`` (a float16 copy of them)."""


def use_int8(weights: str, device: str) -> bool:
    """Whether a model on ``device`` gets int8 weights; a one-line error for an unknown
    ``weights`` or int8 off the CPU.

    >>> use_int8("int8", "cpu"), use_int8("fp32", "cpu")
    (True, False)
    """
    if weights not in WEIGHTS:
        raise RaglineError(f"generator weights {weights!r}: use {', '.join(WEIGHTS)}")
    if weights.startswith("gguf"):
        raise RaglineError(
            f"{weights} weights run on llama.cpp, not transformers: use make_generator"
        )
    if weights == "int8" and device != "cpu":
        raise RaglineError(f"int8 generator weights run on the CPU only, not {device!r}")
    return weights == "int8"


def quantize_int8(model: Any) -> Any:
    """``model`` with every ``nn.Linear`` (the tied output head included) replaced in place by
    a dynamically quantized int8 one; embeddings and norms stay float32."""
    torch = require("torch", "generate")
    # torch.ao's eager dynamic quantization is deprecated in favour of torchao, which is not
    # a dependency; it still runs the fbgemm int8 kernels, so its notices are silenced.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, inplace=True)
