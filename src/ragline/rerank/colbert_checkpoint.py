"""ColBERT checkpoints on disk: their settings, their formats, and reading their weights.

Three formats are read: PyLate directories (sentence-transformers modules plus
``config_sentence_transformers.json``), Stanford ColBERT directories (colbertv2.0:
``HF_ColBERT`` with a ``linear`` projection and ``artifact.metadata``), and, as an untrained
start, any sentence-transformers bi-encoder. PyLate pins sentence-transformers==5.3 (we use
6.2), so its format is read and written by hand.
"""

from __future__ import annotations

import json
import string
import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ragline.errors import RaglineError
from ragline.packaged_models import PACKAGED_MODELS, resolve_model

DEFAULT_QUERY_LENGTH = 32
DEFAULT_DOCUMENT_LENGTH = 256
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


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RaglineError(f"{path}: unreadable JSON ({e})") from e


def safetensors_keys(path: Path) -> set[str]:
    """The tensor names in a safetensors file, read from its header (no tensor is loaded)."""
    try:
        with open(path, "rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            return set(json.loads(f.read(size))) - {"__metadata__"}
    except (OSError, ValueError, struct.error):
        return set()


def module_paths(path: Path, *, strict: bool = True) -> tuple[Path, list[Path]]:
    """The Transformer directory and the Dense directories of a sentence-transformers dir;
    ``strict`` refuses other modules (a bi-encoder's pooling is dropped when not strict)."""
    transformer: Path | None = None
    dense: list[Path] = []
    for module in read_json(path / "modules.json"):
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


def is_pylate_dir(path: Path) -> bool:
    config = path / PYLATE_CONFIG
    if not (path / "modules.json").is_file() or not config.is_file():
        return False
    try:
        if not any(key in read_json(config) for key in PYLATE_KEYS):
            return False
        return bool(module_paths(path)[1])
    except RaglineError:
        return False


def is_stanford_dir(path: Path) -> bool:
    if not (path / "config.json").is_file() or (path / "modules.json").is_file():
        return False
    try:
        architectures = read_json(path / "config.json").get("architectures") or []
    except (RaglineError, AttributeError):
        return False
    return "HF_ColBERT" in architectures or "linear.weight" in safetensors_keys(
        path / "model.safetensors"
    )


def is_colbert_checkpoint(path: str | Path) -> bool:
    """Whether ``path`` is a PyLate or a Stanford ColBERT directory (not a bi-encoder or a
    cross-encoder): a registry uses it to pick the re-ranker class for a directory."""
    path = Path(path)
    return path.is_dir() and (is_pylate_dir(path) or is_stanford_dir(path))


def tensor_file(directory: Path, key: str | None = None) -> dict[str, Any]:
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


def dense_layer(directory: Path) -> Any:
    """A PyLate/sentence-transformers Dense module as a torch Linear layer."""
    import torch

    config = read_json(directory / "config.json")
    if config.get("activation_function", IDENTITY) != IDENTITY or config.get("use_residual"):
        raise RaglineError(f"{directory}: only a plain linear Dense layer is supported")
    tensors = tensor_file(directory, "linear.weight")
    weight = tensors["linear.weight"]
    layer = torch.nn.Linear(weight.shape[1], weight.shape[0], bias="linear.bias" in tensors)
    layer.load_state_dict({k.removeprefix("linear."): v for k, v in tensors.items()})
    return layer


def resolve_colbert(model: str | Path) -> tuple[Path, str, str]:
    """The directory of ``model``, its kind (``"pylate"``, ``"stanford"`` or
    ``"bi-encoder"``, an untrained start) and the name it is recorded under."""
    if str(model) not in PACKAGED_MODELS:
        path = Path(model).expanduser().resolve()
        if is_pylate_dir(path):
            return path, "pylate", str(path)
        if is_stanford_dir(path):
            return path, "stanford", str(path)
    try:
        path, name = resolve_model(str(model))
    except RaglineError as e:
        raise RaglineError(
            f"ColBERT model {str(model)!r}: not a ColBERT checkpoint, a packaged name "
            "or a bi-encoder directory"
        ) from e
    return path, "bi-encoder", f"colbert:{name}"
