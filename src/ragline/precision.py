"""Numeric precision for model work on CPU: bf16 autocast where the hardware has it."""

from __future__ import annotations

from contextlib import AbstractContextManager

from ragline.errors import RaglineError

PRECISIONS = ("auto", "bf16", "fp32")


def use_bf16(precision: str) -> bool:
    """bf16 autocast for "auto" when the CPU computes bf16 natively (about 1.8× faster
    training and inference here; weights and optimizer state stay float32)."""
    import torch

    if precision not in PRECISIONS:
        raise RaglineError(f"--precision {precision}: use {', '.join(PRECISIONS)}")
    if precision == "auto":
        return bool(torch.cuda.is_available() or torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return precision == "bf16"


def autocast(precision: str) -> AbstractContextManager[object]:
    """A CPU autocast context: bf16 when ``use_bf16(precision)``, else a no-op."""
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16(precision))
