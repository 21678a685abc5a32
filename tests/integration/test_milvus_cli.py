"""``ragline index --backend milvus --uri`` in a subprocess: the knowledge base keeps its
catalog, the indexes live in Milvus Lite, and search, filters and delete work through them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def parse(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_index_search_delete_on_milvus(tmp_path: Path, run_cli, write_corpus) -> None:
    write_corpus(tmp_path / "corpus")
    kb, uri = tmp_path / "kb", tmp_path / "milvus.db"
    common = ("--kb", kb, "--json")
    indexed = parse(
        run_cli(
            "index", tmp_path / "corpus", *common, "--embedder", "hash-64",
            "--backend", "milvus", "--uri", uri, "--meta", "team=blue",
        )
    )  # fmt: skip
    assert indexed["added"] == 8
    assert sorted(p.name for p in kb.glob("*.milvus.json")) == [
        "dense.milvus.json",
        "sparse.milvus.json",
    ]
    assert not list(kb.glob("*.faiss")) and not list(kb.glob("*.npz"))
    searched = run_cli("search", "magma lava basalt", *common, "--filter", "team=blue")
    assert "Traceback" not in searched.stderr  # Milvus Lite's probe noise is filtered
    found = parse(searched)
    assert found["hits"][0]["doc_id"] == "corpus/volcanoes.md"
    assert (
        parse(run_cli("search", "magma lava basalt", *common, "--filter", "team=red"))["hits"] == []
    )
    parse(run_cli("delete", "corpus/volcanoes.md", *common))
    after = parse(run_cli("search", "magma lava basalt", *common))
    assert "corpus/volcanoes.md" not in {h["doc_id"] for h in after["hits"]}


def test_backend_options_are_checked(tmp_path: Path, run_cli, write_corpus) -> None:
    write_corpus(tmp_path / "corpus")
    kb = tmp_path / "kb"
    no_uri = run_cli("index", tmp_path / "corpus", "--kb", kb, "--backend", "milvus")
    assert no_uri.returncode != 0 and "index uri: empty" in no_uri.stderr
    bad = run_cli("index", tmp_path / "corpus", "--kb", kb, "--backend", "milvus", "--uri", "x")
    assert bad.returncode != 0 and "ending .db" in bad.stderr
    unknown = run_cli("index", tmp_path / "corpus", "--kb", kb, "--backend", "qdrant")
    assert unknown.returncode != 0 and "use faiss or milvus" in unknown.stderr
