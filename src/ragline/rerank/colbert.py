"""ColBERT late interaction: re-rank by MaxSim over per-token embeddings.

A query and a passage are encoded apart, into one L2-normalised vector per token (a
BERT-family encoder, then a linear projection to ``dim``). Their score sums, over the query's
tokens, each token's best dot product with any passage token (MaxSim). Queries get a marker
token and are padded with [MASK] tokens to ``query_length``: the model turns those into soft
expansion terms. Passages get their own marker, are cut at ``document_length`` and their
punctuation tokens are left out of MaxSim. A passage's matrix does not depend on the query,
so an optional SQLite file keeps it for the next query that retrieves the same passage.

Reads PyLate directories, Stanford ColBERT directories (colbertv2.0) and, as an untrained
start, any sentence-transformers bi-encoder; writes the PyLate format.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import sqlite3
import string
import struct
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ragline._optional import quiet_transformers
from ragline.errors import RaglineError
from ragline.rerank.base import PairScoringReranker

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

DEFAULT_QUERY_LENGTH = 32
DEFAULT_DOCUMENT_LENGTH = 256
# PyLate pins sentence-transformers==5.3 (we use 6.2), so its format is read and written by hand.
PYLATE_KEYS = ("query_prefix", "document_prefix", "query_length", "document_length")
PYLATE_CONFIG = "config_sentence_transformers.json"
STANFORD_METADATA = "artifact.metadata"
IDENTITY = "torch.nn.modules.linear.Identity"


@dataclass(frozen=True)
class ColbertSettings:
    """How texts become token sequences; saved in ``config_sentence_transformers.json``.

    ``attend_to_expansion_tokens`` lets the query's real tokens attend to its [MASK]
    padding (ColBERT v1; ragline's own models), off in ColBERTv2 and PyLate by default.
    """

    query_prefix: str = "[Q] "
    document_prefix: str = "[D] "
    query_length: int = DEFAULT_QUERY_LENGTH
    document_length: int = DEFAULT_DOCUMENT_LENGTH
    do_query_expansion: bool = True
    attend_to_expansion_tokens: bool = True
    skiplist_words: tuple[str, ...] = tuple(string.punctuation)

    def __post_init__(self) -> None:
        if self.query_length < 4 or self.document_length < 4:
            raise RaglineError(
                f"query_length {self.query_length} / document_length {self.document_length}: "
                "both must be >= 4 tokens"
            )

    @classmethod
    def from_pylate(cls, config: dict[str, Any]) -> ColbertSettings:
        """Settings from a PyLate config, with PyLate's defaults for missing keys."""
        return cls(
            query_prefix=str(config.get("query_prefix", "[Q] ")),
            document_prefix=str(config.get("document_prefix", "[D] ")),
            query_length=int(config.get("query_length") or DEFAULT_QUERY_LENGTH),
            document_length=int(config.get("document_length") or DEFAULT_DOCUMENT_LENGTH),
            do_query_expansion=bool(config.get("do_query_expansion", True)),
            attend_to_expansion_tokens=bool(config.get("attend_to_expansion_tokens", False)),
            skiplist_words=tuple(config.get("skiplist_words", string.punctuation)),
        )

    @classmethod
    def from_stanford(cls, metadata: dict[str, Any]) -> ColbertSettings:
        """Settings from a Stanford checkpoint's ``artifact.metadata`` (ColBERT's defaults)."""
        punctuation = metadata.get("mask_punctuation", True)
        return cls(
            query_prefix=str(metadata.get("query_token_id", "[unused0]")),
            document_prefix=str(metadata.get("doc_token_id", "[unused1]")),
            query_length=int(metadata.get("query_maxlen") or DEFAULT_QUERY_LENGTH),
            document_length=int(metadata.get("doc_maxlen") or DEFAULT_DOCUMENT_LENGTH),
            attend_to_expansion_tokens=bool(metadata.get("attend_to_mask_tokens", False)),
            skiplist_words=tuple(string.punctuation) if punctuation else (),
        )

    def to_pylate(self) -> dict[str, Any]:
        return asdict(self) | {"skiplist_words": list(self.skiplist_words)}


def maxsim(
    query_tokens: NDArray[np.floating],
    passage_tokens: Sequence[NDArray[np.floating]] | NDArray[np.floating],
    passage_mask: NDArray[np.bool_] | None = None,
) -> NDArray[np.float32]:
    """Late-interaction scores of one query against passages: Σ over query tokens of the
    best dot product with any counted passage token.

    ``query_tokens`` is (q, dim); ``passage_tokens`` a list of (n_i, dim) matrices or a
    padded (p, n, dim) array whose ``passage_mask`` (p, n) says which tokens count (False:
    padding or skipped punctuation). A passage with no counted token scores 0.

    >>> q = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    >>> maxsim(q, [np.array([[1.0, 0.0], [0.6, 0.8]]), np.array([[0.0, 1.0]])])
    array([1.8, 1. ], dtype=float32)
    """
    if not isinstance(passage_tokens, np.ndarray):
        passage_tokens, passage_mask = pad_tokens(passage_tokens, query_tokens.shape[-1])
    tokens = np.asarray(passage_tokens, dtype=np.float32)
    mask = np.ones(tokens.shape[:2], dtype=bool) if passage_mask is None else passage_mask
    sims = tokens @ np.asarray(query_tokens, dtype=np.float32).T
    best = np.where(mask[:, :, None], sims, -np.inf).max(axis=1, initial=-np.inf)
    return np.where(np.isfinite(best), best, 0.0).sum(axis=1).astype(np.float32)


def pad_tokens(
    matrices: Sequence[NDArray[np.floating]], dim: int
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Stack (n_i, dim) matrices into a zero-padded (p, max n, dim) array and its mask."""
    width = max((len(m) for m in matrices), default=0)
    tokens = np.zeros((len(matrices), width, dim), dtype=np.float32)
    mask = np.zeros((len(matrices), width), dtype=bool)
    for i, matrix in enumerate(matrices):
        tokens[i, : len(matrix)] = matrix
        mask[i, : len(matrix)] = True
    return tokens, mask


def maxsim_tensor(queries: torch.Tensor, passages: torch.Tensor, mask: torch.Tensor) -> Any:
    """``maxsim`` for torch, every query against every passage: (b, q, d) queries and
    (p, n, d) passages with their (p, n) mask give (b, p) scores (differentiable)."""
    import torch

    sims = torch.einsum("bqd,pnd->bpqn", queries, passages)
    sims = sims.masked_fill(~mask.bool()[None, :, None, :], float("-inf"))
    best = sims.max(dim=3).values
    return torch.where(torch.isfinite(best), best, torch.zeros_like(best)).sum(dim=2)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RaglineError(f"{path}: unreadable JSON ({e})") from e


def _safetensors_keys(path: Path) -> set[str]:
    """The tensor names in a safetensors file, read from its header (no tensor is loaded)."""
    try:
        with open(path, "rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            return set(json.loads(f.read(size))) - {"__metadata__"}
    except (OSError, ValueError, struct.error):
        return set()


def _module_paths(path: Path, *, strict: bool = True) -> tuple[Path, list[Path]]:
    """The Transformer directory and the Dense directories of a sentence-transformers dir;
    ``strict`` refuses other modules (a bi-encoder's pooling is dropped when not strict)."""
    transformer: Path | None = None
    dense: list[Path] = []
    for module in _read_json(path / "modules.json"):
        kind = str(module.get("type", "")).rsplit(".", 1)[-1]
        where = path / str(module.get("path", ""))
        if kind == "Transformer":
            transformer = where
        elif kind == "Dense":
            dense.append(where)
        elif strict and kind != "Normalize":
            raise RaglineError(
                f"{path}: module {module.get('type')!r} is not supported for ColBERT"
            )
    if transformer is None:
        raise RaglineError(f"{path}: modules.json has no Transformer module")
    return transformer, dense


def _is_pylate_dir(path: Path) -> bool:
    config = path / PYLATE_CONFIG
    if not (path / "modules.json").is_file() or not config.is_file():
        return False
    try:
        if not any(key in _read_json(config) for key in PYLATE_KEYS):
            return False
        return bool(_module_paths(path)[1])
    except RaglineError:
        return False


def _is_stanford_dir(path: Path) -> bool:
    if not (path / "config.json").is_file() or (path / "modules.json").is_file():
        return False
    try:
        architectures = _read_json(path / "config.json").get("architectures") or []
    except (RaglineError, AttributeError):
        return False
    return "HF_ColBERT" in architectures or "linear.weight" in _safetensors_keys(
        path / "model.safetensors"
    )


def is_colbert_checkpoint(path: str | Path) -> bool:
    """Whether ``path`` is a PyLate or a Stanford ColBERT directory (not a bi-encoder or a
    cross-encoder): a registry uses it to pick the re-ranker class for a directory."""
    path = Path(path)
    return path.is_dir() and (_is_pylate_dir(path) or _is_stanford_dir(path))


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


def _tensor_file(directory: Path, key: str | None = None) -> dict[str, Any]:
    """The tensors of ``model.safetensors`` (or ``pytorch_model.bin``, weights only)."""
    import torch
    from safetensors.torch import load_file

    if (directory / "model.safetensors").is_file():
        tensors = load_file(str(directory / "model.safetensors"))
    elif (directory / "pytorch_model.bin").is_file():
        tensors = torch.load(directory / "pytorch_model.bin", map_location="cpu", weights_only=True)
    else:
        raise RaglineError(f"{directory}: no model.safetensors or pytorch_model.bin")
    if key is not None and key not in tensors:
        raise RaglineError(f"{directory}: the weights hold no {key!r}")
    return tensors


def _dense_layer(directory: Path) -> Any:
    """A PyLate/sentence-transformers Dense module as a torch Linear layer."""
    import torch

    config = _read_json(directory / "config.json")
    if config.get("activation_function", IDENTITY) != IDENTITY or config.get("use_residual"):
        raise RaglineError(f"{directory}: only a plain linear Dense layer is supported")
    tensors = _tensor_file(directory, "linear.weight")
    weight = tensors["linear.weight"]
    layer = torch.nn.Linear(weight.shape[1], weight.shape[0], bias="linear.bias" in tensors)
    layer.load_state_dict({k.removeprefix("linear."): v for k, v in tensors.items()})
    return layer


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

        transformer, dense = _module_paths(path)
        encoder, tokenizer = _load_encoder(transformer, device)
        projection = torch.nn.Sequential(*(_dense_layer(d) for d in dense)).to(device)
        settings = ColbertSettings.from_pylate(_read_json(path / PYLATE_CONFIG))
        return cls(encoder, projection, tokenizer, settings, str(path))

    @classmethod
    def _load_stanford(cls, path: Path, device: str) -> ColbertModel:
        import torch

        encoder, tokenizer = _load_encoder(path, device)
        weight = _tensor_file(path, "linear.weight")["linear.weight"]
        projection = torch.nn.Sequential(_linear(weight.float().numpy())).to(device)
        metadata = path / STANFORD_METADATA
        settings = ColbertSettings.from_stanford(_read_json(metadata) if metadata.is_file() else {})
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
        transformer = _module_paths(path, strict=False)[0] if has_modules else path
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


def resolve_colbert(model: str | Path) -> tuple[Path, str, str]:
    """The directory of ``model``, its kind (``"pylate"``, ``"stanford"`` or
    ``"bi-encoder"``, an untrained start) and the name it is recorded under."""
    from ragline.packaged_models import PACKAGED_MODELS, resolve_model

    if str(model) not in PACKAGED_MODELS:
        path = Path(model).expanduser().resolve()
        if _is_pylate_dir(path):
            return path, "pylate", str(path)
        if _is_stanford_dir(path):
            return path, "stanford", str(path)
    try:
        path, name = resolve_model(str(model))
    except RaglineError as e:
        raise RaglineError(
            f"ColBERT model {str(model)!r}: not a ColBERT checkpoint, a packaged name "
            "or a bi-encoder directory"
        ) from e
    return path, "bi-encoder", f"colbert:{name}"


class TokenCache:
    """Passage token matrices in a SQLite file (float16 blobs), keyed by a hash of the model
    fingerprint and the passage text: an edited passage or another model never hits a stale
    entry. WAL mode lets readers in other processes share it; a file that cannot be opened
    or read turns the cache off with a warning instead of failing the search."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=10, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, rows INTEGER NOT NULL, "
                "dim INTEGER NOT NULL, data BLOB NOT NULL) WITHOUT ROWID"
            )
            self._db.commit()
        except (sqlite3.Error, OSError) as e:
            self._disable(e)

    def _disable(self, error: Exception) -> None:
        log.warning("ColBERT cache %s is unusable (%s); re-ranking without it", self.path, error)
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def key(self, text: str) -> str:
        return hashlib.sha256(
            f"{self.fingerprint}\0{text}".encode("utf-8", "surrogatepass")
        ).hexdigest()

    def _select(self, columns: str, keys: list[str]) -> list[tuple[Any, ...]]:
        """``columns`` of the entries whose key is in ``keys`` (in chunks of SQLite's
        parameter limit)."""
        rows: list[tuple[Any, ...]] = []
        if self._db is None:
            return rows
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                marks = ",".join("?" * len(part))
                query = f"SELECT {columns} FROM tokens WHERE key IN ({marks})"
                rows += self._db.execute(query, part).fetchall()
        return rows

    def missing(self, texts: Sequence[str]) -> list[str]:
        """The distinct ``texts`` that have no entry (all of them when the cache is off)."""
        keys = {self.key(t): t for t in dict.fromkeys(texts)}
        try:
            present = {key for (key,) in self._select("key", list(keys))}
        except sqlite3.Error as e:
            self._disable(e)
            present = set()
        return [text for key, text in keys.items() if key not in present]

    def get(self, texts: Sequence[str]) -> dict[str, NDArray[np.float16]]:
        """The cached matrices of ``texts`` (those found), by text."""
        keys = {self.key(t): t for t in texts}
        found: dict[str, NDArray[np.float16]] = {}
        try:
            for key, count, dim, data in self._select("key, rows, dim, data", list(keys)):
                if len(data) == count * dim * 2:
                    found[keys[key]] = np.frombuffer(data, dtype=np.float16).reshape(count, dim)
        except sqlite3.Error as e:
            self._disable(e)
        return found

    def put(self, items: dict[str, NDArray[np.float16]]) -> None:
        """Store ``items`` (text -> token matrix), replacing entries with the same key."""
        if self._db is None or not items:
            return
        rows = [
            (self.key(text), m.shape[0], m.shape[1], np.ascontiguousarray(m, np.float16).tobytes())
            for text, m in items.items()
        ]
        try:
            with self._lock, self._db:
                self._db.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, ?)", rows)
        except sqlite3.Error as e:
            self._disable(e)


class ColbertReranker(PairScoringReranker):
    """Re-rank with a ColBERT model: MaxSim between query and passage token embeddings.

    ``model`` is a PyLate or Stanford ColBERT directory, a bi-encoder (``"minilm"`` or a
    sentence-transformers directory) as an untrained start, or a ColbertModel already in
    memory (the trainer's). A model given by name or path loads on first use.
    With ``cache_path``, passage token matrices persist in a SQLite file, so passages seen
    before are not encoded again.

    >>> reranker = ColbertReranker("minilm")
    >>> reranker.name
    'colbert:sentence-transformers/all-MiniLM-L6-v2'
    """

    def __init__(
        self,
        model: str | Path | ColbertModel = "minilm",
        *,
        cache_path: Path | None = None,
        batch_size: int = 32,
        device: str = "cpu",
    ) -> None:
        self._model: ColbertModel | None = None
        if isinstance(model, ColbertModel):
            self.path, self.name, self._model = Path(model.name), model.name, model
        else:
            self.path, _, self.name = resolve_colbert(model)
        self.cache_path = Path(cache_path) if cache_path is not None else None
        self.batch_size = batch_size
        self.device = device
        self._cache: TokenCache | None = None

    @staticmethod
    def reads(path: Path) -> bool:
        """Whether ``path`` is a model directory this class runs (for the registry)."""
        return is_colbert_checkpoint(path)

    @classmethod
    def from_dir(cls, path: Path, cache_dir: Path | None = None) -> ColbertReranker:
        """The re-ranker for checkpoint ``path``, its passage token cache in ``cache_dir``
        (one file per checkpoint location)."""
        key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        cache = cache_dir / f"colbert-cache-{key}.sqlite" if cache_dir is not None else None
        return cls(path, cache_path=cache)

    @property
    def model(self) -> ColbertModel:
        if self._model is None:
            log.info("loading ColBERT model %s", self.path)
            self._model = ColbertModel.load(self.path, device=self.device)
        return self._model

    @property
    def cache(self) -> TokenCache | None:
        if self._cache is None and self.cache_path is not None:
            self._cache = TokenCache(self.cache_path, self.model.fingerprint())
        return self._cache

    def encode_query(self, query: str) -> NDArray[np.float32]:
        """(query_length, dim) token embeddings of ``query``."""
        import torch

        model = self.model
        model.train(False)
        with torch.inference_mode():
            return model.encode_queries([query])[0].float().cpu().numpy()

    def _encode_documents(self, texts: Sequence[str]) -> list[NDArray[np.float16]]:
        """Counted-token matrices of ``texts``, encoded in batches of similar length."""
        import torch

        model = self.model
        model.train(False)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[NDArray[np.float16]] = [np.empty((0, 0), np.float16)] * len(texts)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                part = order[start : start + self.batch_size]
                tokens, counted = model.encode_documents([texts[i] for i in part])
                for i, matrix, mask in zip(part, tokens, counted, strict=True):
                    out[i] = matrix[mask].to("cpu", torch.float16).numpy()
        return out

    def encode_passages(self, texts: Sequence[str]) -> list[NDArray[np.float16]]:
        """Token matrices of ``texts`` (float16, punctuation left out), from the cache when
        there is one; only the passages it lacks are encoded (and then stored)."""
        cache = self.cache
        found = cache.get(texts) if cache is not None else {}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            fresh = dict(zip(missing, self._encode_documents(missing), strict=True))
            if cache is not None:
                cache.put(fresh)
            found |= fresh
        return [found[t] for t in texts]

    def fill_cache(self, texts: Sequence[str], *, chunk: int = 1024) -> int:
        """Encode and store the passages of ``texts`` the cache lacks, ``chunk`` at a time
        (bounded memory, progress kept if interrupted): a knowledge base calls this for all
        its chunks ahead of queries. Returns how many passages were encoded."""
        cache = self.cache
        if cache is None:
            raise RaglineError("fill_cache needs a ColbertReranker made with a cache_path")
        missing = cache.missing(texts)
        for start in range(0, len(missing), chunk):
            part = missing[start : start + chunk]
            cache.put(dict(zip(part, self._encode_documents(part), strict=True)))
            log.info("ColBERT cache: %d/%d passages encoded", start + len(part), len(missing))
        return len(missing)

    def score(self, query: str, passages: Sequence[str]) -> NDArray[np.float32]:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        return maxsim(self.encode_query(query), self.encode_passages(passages))
