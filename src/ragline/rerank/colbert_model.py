"""The ColBERT model: a BERT-family encoder and a linear projection to ``dim``, giving one
normalised vector per token; loaded from any checkpoint format, saved as PyLate.

Queries get a marker token and are padded with [MASK] tokens to ``query_length``: the model
turns those into soft expansion terms. Passages get their own marker, are cut at
``document_length`` and their punctuation tokens are left out of MaxSim.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ragline._optional import quiet_transformers
from ragline.errors import RaglineError
from ragline.rerank.colbert_checkpoint import (
    IDENTITY,
    PYLATE_CONFIG,
    STANFORD_METADATA,
    ColbertSettings,
    dense_layer,
    module_paths,
    read_json,
    resolve_colbert,
    tensor_file,
)


def _load_encoder(path: Path, device: str) -> tuple[Any, Any]:
    """The encoder (a transformers AutoModel) and tokenizer stored in ``path``."""
    quiet_transformers()
    from transformers import AutoModel, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        encoder = AutoModel.from_pretrained(str(path)).to(device)
    except (OSError, ValueError) as e:
        raise RaglineError(f"{path}: cannot load the encoder ({e})") from e
    if tokenizer.mask_token_id is None:
        raise RaglineError(f"{path}: the tokenizer has no [MASK] token for query expansion")
    encoder.eval()
    return encoder, tokenizer


def _linear(weight: NDArray[np.floating] | Any) -> Any:
    import torch

    weight = torch.as_tensor(np.ascontiguousarray(weight), dtype=torch.float32)
    layer = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=False)
    with torch.no_grad():
        layer.weight.copy_(weight)
    return layer


def _add_prefix_tokens(encoder: Any, tokenizer: Any, settings: ColbertSettings) -> None:
    """Add marker tokens missing from the vocabulary (as PyLate does), each embedded as the
    mean of the existing token embeddings: a neutral, deterministic start."""
    import torch

    prefixes = [p for p in (settings.query_prefix, settings.document_prefix) if p]
    missing = [p for p in prefixes if p not in tokenizer.get_vocab()]
    if not missing:
        return
    known = len(tokenizer)
    tokenizer.add_tokens(missing)
    if len(tokenizer) > encoder.get_input_embeddings().weight.shape[0]:
        encoder.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    with torch.no_grad():
        table = encoder.get_input_embeddings().weight
        table[tokenizer.convert_tokens_to_ids(missing)] = table[:known].mean(dim=0)


def sample_texts(count: int = 128) -> list[str]:
    """English prose found on every machine: paragraphs of standard-library docstrings, to
    fit a projection's PCA start when no corpus is given."""
    import builtins
    import collections
    import itertools
    import pathlib
    import textwrap

    paragraphs: list[str] = []
    for module in (builtins, collections, itertools, pathlib, textwrap, json, string):
        for name in sorted(vars(module)):
            doc = inspect.getdoc(getattr(module, name)) or ""
            paragraphs += [" ".join(p.split()) for p in doc.split("\n\n") if len(p.split()) > 8]
    return list(dict.fromkeys(paragraphs))[:count]


class ColbertModel:
    """Encoder, projection, tokenizer and settings of one ColBERT model (torch, CPU or GPU).

    ``encode_queries`` / ``encode_documents`` return normalised token embeddings with
    gradients when the caller allows them, so the trainer and the re-ranker share them.
    """

    def __init__(
        self, encoder: Any, projection: Any, tokenizer: Any, settings: ColbertSettings, name: str
    ) -> None:
        self.encoder = encoder
        self.projection = projection
        self.tokenizer = tokenizer
        self.settings = settings
        self.name = name
        _add_prefix_tokens(encoder, tokenizer, settings)

    @classmethod
    def load(
        cls,
        model: str | Path,
        *,
        dim: int | None = None,
        settings: ColbertSettings | None = None,
        pca_texts: Sequence[str] = (),
        device: str = "cpu",
    ) -> ColbertModel:
        """A PyLate or Stanford checkpoint, or an untrained start from a bi-encoder (a
        packaged name such as ``"minilm"`` or a directory); ``dim``, ``settings`` and
        ``pca_texts`` apply to the untrained start only."""
        path, kind, _ = resolve_colbert(model)
        if kind == "pylate":
            return cls._load_pylate(path, device)
        if kind == "stanford":
            return cls._load_stanford(path, device)
        return cls.from_bi_encoder(
            path, dim=dim, settings=settings, pca_texts=pca_texts, device=device
        )

    @classmethod
    def _load_pylate(cls, path: Path, device: str) -> ColbertModel:
        import torch

        transformer, dense = module_paths(path)
        encoder, tokenizer = _load_encoder(transformer, device)
        projection = torch.nn.Sequential(*(dense_layer(d) for d in dense)).to(device)
        settings = ColbertSettings.from_pylate(read_json(path / PYLATE_CONFIG))
        return cls(encoder, projection, tokenizer, settings, str(path))

    @classmethod
    def _load_stanford(cls, path: Path, device: str) -> ColbertModel:
        import torch

        encoder, tokenizer = _load_encoder(path, device)
        weight = tensor_file(path, "linear.weight")["linear.weight"]
        projection = torch.nn.Sequential(_linear(weight.float().numpy())).to(device)
        metadata = path / STANFORD_METADATA
        settings = ColbertSettings.from_stanford(read_json(metadata) if metadata.is_file() else {})
        return cls(encoder, projection, tokenizer, settings, str(path))

    @classmethod
    def from_bi_encoder(
        cls,
        path: Path,
        *,
        dim: int | None = None,
        settings: ColbertSettings | None = None,
        pca_texts: Sequence[str] = (),
        device: str = "cpu",
    ) -> ColbertModel:
        """An untrained ColBERT: the bi-encoder's transformer and a projection that keeps
        its token geometry (identity at full width, else PCA of ``pca_texts``' tokens)."""
        import torch

        has_modules = (path / "modules.json").is_file()
        transformer = module_paths(path, strict=False)[0] if has_modules else path
        encoder, tokenizer = _load_encoder(transformer, device)
        hidden = int(encoder.config.hidden_size)
        dim = hidden if dim is None else dim
        if not 0 < dim <= hidden:
            raise RaglineError(f"dim {dim}: must be between 1 and the encoder's width {hidden}")
        model = cls(
            encoder, torch.nn.Identity(), tokenizer, settings or ColbertSettings(), str(path)
        )
        # Full width with the identity is exactly the bi-encoder's token cosine geometry, so
        # an untrained re-ranker loses nothing and loads instantly; a smaller dim (training
        # makes 128-d, 3x smaller cached matrices) starts from the top principal axes of the
        # normalised token embeddings (uncentred, as the layer has no bias): the rank-dim map
        # whose projected dot products stay closest to those cosines.
        axes = np.eye(hidden) if dim == hidden else model.principal_axes(pca_texts, dim)
        model.projection = torch.nn.Sequential(_linear(axes)).to(device)
        return model

    def principal_axes(self, texts: Sequence[str], dim: int) -> NDArray[np.float64]:
        """(dim, hidden): the top eigenvectors of the second-moment matrix of the encoder's
        normalised token embeddings over ``texts`` (stdlib prose when empty)."""
        import torch

        texts = sorted(texts or sample_texts(), key=len)
        hidden = int(self.encoder.config.hidden_size)
        moments = np.zeros((hidden, hidden))
        with torch.inference_mode():
            for start in range(0, len(texts), 32):
                ids, attention, _ = self._batch(texts[start : start + 32], query=False)
                states = self.encoder(input_ids=ids, attention_mask=attention).last_hidden_state
                tokens = torch.nn.functional.normalize(states[attention.bool()], dim=-1)
                moments += (tokens.T @ tokens).double().cpu().numpy()
        _, vectors = np.linalg.eigh(moments)
        return vectors[:, ::-1][:, :dim].T

    @property
    def device(self) -> Any:
        return next(self.encoder.parameters()).device

    @property
    def dim(self) -> int:
        return int(self.projection[-1].out_features)

    def parameters(self) -> list[Any]:
        return [*self.encoder.parameters(), *self.projection.parameters()]

    def train(self, mode: bool = True) -> None:
        self.encoder.train(mode)
        self.projection.train(mode)

    def fingerprint(self) -> str:
        """A hash of everything a passage's token matrix depends on: the passage settings,
        the vocabulary size and every weight (so a retrained or edited model never matches)."""
        import torch

        s = self.settings
        passage = [
            s.document_prefix,
            s.document_length,
            list(s.skiplist_words),
            len(self.tokenizer),
        ]
        digest = hashlib.sha256(json.dumps(passage).encode())
        for module in (self.encoder, self.projection):
            for name, tensor in module.state_dict().items():
                digest.update(name.encode())
                digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
        return digest.hexdigest()[:24]

    def _skip_ids(self) -> list[int]:
        vocab = self.tokenizer.get_vocab()
        return [vocab[w] for w in self.settings.skiplist_words if w in vocab]

    def _batch(self, texts: Sequence[str], *, query: bool) -> tuple[Any, Any, Any]:
        """Token ids, attention mask and scoring mask of a batch, as ColBERT builds them."""
        import torch

        s = self.settings
        prefix, length = (
            (s.query_prefix, s.query_length) if query else (s.document_prefix, s.document_length)
        )
        ids = self.tokenizer(
            list(texts), truncation=True, max_length=length - 1 if prefix else length
        )["input_ids"]
        if prefix:
            marker = self.tokenizer.convert_tokens_to_ids(prefix)
            ids = [row[:1] + [marker] + row[1:] for row in ids]
        expand = query and s.do_query_expansion
        width = length if expand else max(map(len, ids))
        pad = self.tokenizer.mask_token_id if expand else (self.tokenizer.pad_token_id or 0)
        real = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in ids], dtype=torch.bool)
        tokens = torch.tensor([r + [pad] * (width - len(r)) for r in ids], dtype=torch.long)
        if query:
            attention = torch.ones_like(real) if expand and s.attend_to_expansion_tokens else real
            counted = torch.ones_like(real) if expand else real
        else:
            attention = real
            counted = real & ~torch.isin(tokens, torch.tensor(self._skip_ids(), dtype=torch.long))
        device = self.device
        return tokens.to(device), attention.long().to(device), counted.to(device)

    def _embed(self, ids: Any, attention: Any) -> Any:
        import torch

        states = self.encoder(input_ids=ids, attention_mask=attention).last_hidden_state
        return torch.nn.functional.normalize(self.projection(states), dim=-1)

    def encode_queries(self, texts: Sequence[str]) -> Any:
        """(b, query_length, dim) token embeddings; positions that do not count are zero."""
        ids, attention, counted = self._batch(texts, query=True)
        return self._embed(ids, attention) * counted[..., None]

    def encode_documents(self, texts: Sequence[str]) -> tuple[Any, Any]:
        """(b, n, dim) token embeddings and the (b, n) mask of the tokens MaxSim counts."""
        ids, attention, counted = self._batch(texts, query=False)
        return self._embed(ids, attention), counted

    def save(self, path: str | Path) -> None:
        """Write a PyLate-format directory (PyLate and ``ColbertModel.load`` read it)."""
        import sentence_transformers
        import torch
        import transformers
        from safetensors.torch import save_file

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.encoder.save_pretrained(str(path))
        self.tokenizer.save_pretrained(str(path))
        modules = [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}
        ]
        for i, layer in enumerate(self.projection, start=1):
            folder = path / f"{i}_Dense"
            folder.mkdir(exist_ok=True)
            config = {
                "in_features": layer.in_features,
                "out_features": layer.out_features,
                "bias": layer.bias is not None,
                "activation_function": IDENTITY,
                "use_residual": False,
            }
            (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
            weights = {
                f"linear.{k}": v.detach().cpu().contiguous() for k, v in layer.state_dict().items()
            }
            save_file(weights, str(folder / "model.safetensors"))
            modules.append(
                {"idx": i, "name": str(i), "path": folder.name, "type": "pylate.models.Dense.Dense"}
            )
        (path / "modules.json").write_text(json.dumps(modules, indent=2) + "\n")
        bert_config = {"max_seq_length": self.settings.document_length, "do_lower_case": False}
        (path / "sentence_bert_config.json").write_text(json.dumps(bert_config, indent=2) + "\n")
        versions = {
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "pytorch": torch.__version__,
        }
        config = {
            "__version__": versions,
            "model_type": "ColBERT",
            "prompts": {},
            "default_prompt_name": None,
            "similarity_fn_name": "MaxSim",
            **self.settings.to_pylate(),
        }
        (path / PYLATE_CONFIG).write_text(json.dumps(config, indent=2) + "\n")
