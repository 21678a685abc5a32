"""How a sentence-transformers model turns token vectors into one text vector, read from its
directory, and the same steps as a torch module, so a converted graph ends with them.

A model directory lists its modules in ``modules.json``: the transformer and a pooling module
(``1_Pooling/config.json`` says mean, CLS or max). A faster runtime must pool exactly as
sentence-transformers does, or its vectors are not the ones the knowledge base holds; then it
L2-normalises, as every ragline encoder does (``normalize_embeddings=True``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragline.errors import RaglineError

MODES = ("mean", "cls", "max")
_MODE_KEYS = {
    "mean": "pooling_mode_mean_tokens",
    "cls": "pooling_mode_cls_token",
    "max": "pooling_mode_max_tokens",
}


@dataclass(frozen=True)
class Pooling:
    """One pooling mode: mean over the real tokens, the CLS token, or max."""

    mode: str = "mean"

    @classmethod
    def read(cls, model_dir: Path) -> Pooling:
        """The pooling ``model_dir``'s modules ask for (mean when a plain transformer
        directory names none); a mode other than mean, CLS or max is refused."""
        modules_file = model_dir / "modules.json"
        if not modules_file.is_file():
            return cls()
        modules = json.loads(modules_file.read_text(encoding="utf-8"))
        pooling_dirs = [
            m.get("path", "") for m in modules if str(m.get("type", "")).endswith("Pooling")
        ]
        if not pooling_dirs:
            return cls("mean")
        config = json.loads((model_dir / pooling_dirs[0] / "config.json").read_text("utf-8"))
        chosen = [mode for mode, key in _MODE_KEYS.items() if config.get(key)]
        other = [key for key, value in config.items() if key.startswith("pooling_mode_") and value]
        if len(chosen) != 1 or len(other) != 1:
            raise RaglineError(
                f"{model_dir}: pooling {other or 'none'} is not supported here "
                f"(one of {', '.join(MODES)})"
            )
        return cls(chosen[0])

    def module(self, transformer: Any) -> Any:
        """``transformer`` (a Hugging Face encoder) followed by this pooling and L2
        normalisation, as one torch module taking ``input_ids``, ``attention_mask`` and
        ``token_type_ids``."""
        import torch

        pooling = self

        class PooledEncoder(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.transformer = transformer

            def forward(
                self,
                input_ids: torch.Tensor,
                attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor,
            ) -> torch.Tensor:
                hidden = self.transformer(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                ).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                if pooling.mode == "cls":
                    vectors = hidden[:, 0]
                elif pooling.mode == "max":
                    vectors = (hidden - (1 - mask) * 1e9).amax(dim=1)
                else:
                    vectors = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(vectors, dim=-1)

        return PooledEncoder().eval()
