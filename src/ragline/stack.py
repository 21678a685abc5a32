"""A retrieval stack: a trained retriever and a trained re-ranker saved as one directory,
with how to use them together (first-stage search mode, re-rank depth and fusion).

``ragline train stack`` writes one; ``eval beir``, ``search`` and ``ask`` take ``--stack DIR``
instead of ``--embedder``/``--rerank``, so the two models always travel as a pair.

A stack directory holds ``stack.json`` and the two model directories named in it (relative
paths, so the directory can be moved or copied whole).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ragline.config import RERANK_FUSIONS
from ragline.errors import RaglineError
from ragline.files import atomic_write

STACK_FILE = "stack.json"
RETRIEVER_DIR = "retriever"
RERANKER_DIR = "reranker"
SEARCH_MODES = ("dense", "hybrid")


def check_settings(search_mode: str, rerank_fusion: str, where: str) -> None:
    """Refuse, in one line naming ``where``, a stack setting no search can run."""
    if search_mode not in SEARCH_MODES:
        raise RaglineError(f"{where}: search mode {search_mode!r} (use dense or hybrid)")
    if rerank_fusion not in RERANK_FUSIONS:
        choices = ", ".join(RERANK_FUSIONS)
        raise RaglineError(f"{where}: re-rank fusion {rerank_fusion!r} (use {choices})")


@dataclass(frozen=True)
class Stack:
    """A stack directory as read: where its two models are and how they are used.

    >>> stack = Stack(Path("/s"), rerank_depth=50)
    >>> stack.retriever, stack.reranker, stack.search_mode, stack.rerank_fusion
    (PosixPath('/s/retriever'), PosixPath('/s/reranker'), 'hybrid', 'rrf')
    """

    path: Path
    search_mode: str = "hybrid"
    rerank_depth: int | None = None
    rerank_fusion: str = "rrf"
    report: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        check_settings(self.search_mode, self.rerank_fusion, f"stack {self.path}")

    @property
    def retriever(self) -> Path:
        """The bi-encoder directory: what the knowledge base is embedded with."""
        return self.path / RETRIEVER_DIR

    @property
    def reranker(self) -> Path:
        """The re-ranker directory (ColBERT or cross-encoder)."""
        return self.path / RERANKER_DIR

    @classmethod
    def load(cls, path: str | Path) -> Stack:
        """The stack saved at ``path``; a one-line error naming what is missing otherwise."""
        path = Path(path).expanduser().resolve()
        manifest = path / STACK_FILE
        if not manifest.is_file():
            raise RaglineError(
                f"--stack {path}: no {STACK_FILE} (make one with `ragline train stack`)"
            )
        try:
            settings = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise RaglineError(f"--stack {path}: {STACK_FILE} is unreadable ({e})") from e
        known = {"search_mode", "rerank_depth", "rerank_fusion", "report"}
        stack = cls(path, **{key: settings[key] for key in known & settings.keys()})
        for part in (stack.retriever, stack.reranker):
            if not part.is_dir():
                raise RaglineError(f"--stack {path}: {part.name}/ is missing")
        return stack

    def save(self) -> None:
        """Write ``stack.json`` (atomically) beside the two model directories."""
        settings = {key: value for key, value in asdict(self).items() if key != "path"}
        text = json.dumps(settings, indent=2, ensure_ascii=False) + "\n"
        atomic_write(self.path / STACK_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def search_options(self) -> dict[str, Any]:
        """The search options (fields of ``SearchOptions``) that run this stack: its first
        stage's mode and its re-ranker."""
        options: dict[str, Any] = {
            "mode": self.search_mode,
            "rerank": str(self.reranker),
            "rerank_fusion": self.rerank_fusion,
        }
        if self.rerank_depth is not None:
            options["rerank_depth"] = self.rerank_depth
        return options
