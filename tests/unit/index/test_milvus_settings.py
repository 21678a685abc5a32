"""Milvus settings refused in one line, and saved pointers that cannot be read refused as
ValueError (the keeper then rebuilds from the catalog)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragline.config import Config
from ragline.errors import RaglineError
from ragline.index.milvus import index_type
from ragline.index.milvus_collection import Pointer, check_collection, check_uri, with_backend


@pytest.mark.parametrize(
    ("uri", "message"),
    [("", "index uri: empty"), ("milvus", "ending .db"), ("ftp://x", "ending .db")],
)
def test_bad_uris_are_refused(uri: str, message: str) -> None:
    with pytest.raises(RaglineError, match=message):
        check_uri(uri)


@pytest.mark.parametrize("name", ["1st", "has-dash", "", "a b", 'x"'])
def test_bad_collection_names_are_refused(name: str) -> None:
    with pytest.raises(RaglineError, match="index collection"):
        check_collection(name)


def test_factories_milvus_cannot_build_are_refused() -> None:
    with pytest.raises(RaglineError, match="Milvus takes Flat"):
        index_type("IVF256,PQ16")


def test_backend_choice() -> None:
    config = with_backend(Config(), "milvus", "some/where.db")
    assert config.index.uri.startswith("/") and config.index.uri.endswith("some/where.db")
    assert with_backend(config, "faiss", None).index.sparse_backend == "bm25"
    with pytest.raises(RaglineError, match="only for --backend milvus"):
        with_backend(Config(), "faiss", "x.db")


@pytest.mark.parametrize(
    "text",
    ['{"format": "other"}', '{"format": "ragline-milvus 1", "kind": "dense"}', "not json"],
)
def test_unreadable_pointers_are_value_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "dense.milvus.json"
    path.write_text(text)
    with pytest.raises(ValueError):
        Pointer.load(path, "dense")


def test_pointers_round_trip(tmp_path: Path) -> None:
    pointer = Pointer("text", "http://db:19530", "kb", 4, 99, {"k1": 0.9})
    pointer.save(tmp_path / "p.json")
    assert Pointer.load(tmp_path / "p.json", "text") == pointer
