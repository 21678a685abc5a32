"""A sentence-transformers model as an OpenVINO graph: converted from the Hugging Face module
directly (transformer, pooling and normalisation in one graph), its int8 variant made by
NNCF post-training quantization, calibrated on real texts, and a variant with int8 weights
only (for queries). ``save_graph``, ``graph_entry``
and ``compile_graph`` serve every converted model (the re-rankers' too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ragline._optional import quiet_transformers, require
from ragline.embed.conversion_cache import cached_entry, entry_dir
from ragline.embed.pooling import Pooling

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
MODEL_FILE = "model.xml"
REVISION = 1
"""Bumped when the conversion or quantization here changes, so cached graphs are remade."""


def graph_entry(
    model_dir: Path, variant: str, build: Callable[[Path], None], cache_dir: Path | None = None
) -> Path:
    """The conversion-cache folder of ``variant`` of ``model_dir`` for this OpenVINO version,
    made by ``build(folder)`` if not cached."""
    ov = require("openvino", "openvino")
    return cached_entry(entry_dir(model_dir, "openvino", ov.__version__, variant, cache_dir), build)


def compile_graph(directory: Path, hint: str) -> Any:
    """The graph in ``directory`` compiled for the CPU at precision ``hint`` (bf16 or f32),
    tuned for latency."""
    ov = require("openvino", "openvino")
    return ov.Core().compile_model(
        str(directory / MODEL_FILE),
        "CPU",
        {"INFERENCE_PRECISION_HINT": hint, "PERFORMANCE_HINT": "LATENCY"},
    )


def save_graph(module: Any, out_dir: Path, inputs: Sequence[str] = INPUTS) -> None:
    """Write the torch ``module`` (called with ``inputs``, a subset of ``INPUTS``, as
    keywords) as a float32 OpenVINO graph into ``out_dir``: inputs int64 of any batch and
    length."""
    ov = require("openvino", "openvino")
    import torch

    mask = torch.ones((2, 8), dtype=torch.int64)
    mask[1, 5:] = 0  # a padded row, so the traced graph keeps the attention mask's path
    example = {
        "input_ids": torch.ones((2, 8), dtype=torch.int64),
        "attention_mask": mask,
        "token_type_ids": torch.zeros((2, 8), dtype=torch.int64),
    }
    with torch.no_grad():
        graph = ov.convert_model(
            module,
            example_input={name: example[name] for name in inputs},
            input=[(name, [-1, -1], ov.Type.i64) for name in inputs],
        )
    ov.save_model(graph, str(out_dir / MODEL_FILE), compress_to_fp16=False)


def convert_f32(model_dir: Path, out_dir: Path) -> None:
    """Write ``model_dir``'s transformer and pooling as one float32 OpenVINO graph into
    ``out_dir``, its output the text vectors."""
    quiet_transformers()
    from transformers import AutoModel

    transformer = AutoModel.from_pretrained(str(model_dir)).eval()
    save_graph(Pooling.read(model_dir).module(transformer), out_dir)


FLOAT_SCOPE = (r".*layer\.\d+\.output\.dense.*",)
"""Products kept in float32 in the int8 graph: the second matrix product of each
feed-forward block (BERT naming), whose input after GELU has the widest range. Quantizing it
took the lowest probe cosine to 0.89; keeping it float gives 0.98 (README, Speed)."""


def quantize_int8(
    f32_dir: Path, calibration: Iterable[dict[str, np.ndarray]], out_dir: Path
) -> None:
    """Write the int8 variant of the graph in ``f32_dir`` into ``out_dir``: weights and
    activations of the matrix products in int8, their ranges taken from ``calibration``
    (tokenized batches of real texts), except those ``FLOAT_SCOPE`` names. The transformer
    preset keeps softmax, layer norms and the pooling in float and applies smooth-quant."""
    ov = require("openvino", "openvino")
    nncf = require("nncf", "openvino")

    graph = ov.Core().read_model(str(f32_dir / MODEL_FILE))
    batches = list(calibration)
    quantized = nncf.quantize(
        graph,
        nncf.Dataset(batches),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=sum(len(b["input_ids"]) for b in batches),
        ignored_scope=nncf.IgnoredScope(patterns=list(FLOAT_SCOPE), validate=False),
    )
    ov.save_model(quantized, str(out_dir / MODEL_FILE), compress_to_fp16=False)


def compress_weights(f32_dir: Path, out_dir: Path) -> None:
    """Write the graph in ``f32_dir`` into ``out_dir`` with its matrix-product weights stored
    as int8 (a scale and zero point per output channel); activations and arithmetic stay
    float32. One query is a few tokens, for which reading the weights is most of the work:
    a SciFact query took 5.8 ms here against 6.6 ms in float32, at cosine 0.9994 or more."""
    ov = require("openvino", "openvino")
    nncf = require("nncf", "openvino")

    graph = ov.Core().read_model(str(f32_dir / MODEL_FILE))
    compressed = nncf.compress_weights(graph, mode=nncf.CompressWeightsMode.INT8_ASYM)
    ov.save_model(compressed, str(out_dir / MODEL_FILE), compress_to_fp16=False)
