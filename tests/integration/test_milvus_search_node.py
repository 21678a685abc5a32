"""A stateless search node: only ``ragline.toml`` and the Milvus collections, no catalog;
its hits equal the writer's, with and without filters, in every mode."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import CORPUS, QUERIES, hash_config
from ragline import Document, KnowledgeBase
from ragline.errors import RaglineError
from ragline.serve.search_node import SearchNode
from ragline.store.layout import CONFIG_FILE

FILTERS = [None, {"lang": "en"}, {"year": {"gte": 2020}, "topic": {"nin": ["food"]}}]


@pytest.fixture
def writer_and_node(tmp_path: Path):
    config = hash_config(
        backend="milvus", sparse_backend="milvus", uri=str(tmp_path / "m.db"), factory="Flat"
    )
    writer = KnowledgeBase.create(tmp_path / "kb", config)
    writer.add(CORPUS)
    writer.save()  # publishes the search-result fields
    node_dir = tmp_path / "node"
    node_dir.mkdir()
    shutil.copy(writer.path / CONFIG_FILE, node_dir / CONFIG_FILE)
    yield writer, SearchNode.open(node_dir)
    writer.close()


def test_a_node_without_catalog_returns_the_writers_hits(writer_and_node) -> None:
    writer, node = writer_and_node
    assert not list(node.path.glob("catalog*"))
    for mode in ("dense", "bm25", "hybrid"):
        for filters in FILTERS:
            for query in QUERIES.values():
                expected = [h.to_dict() for h in writer.search(query, mode=mode, filters=filters)]
                found = [h.to_dict() for h in node.search(query, mode=mode, filters=filters)]
                assert found == expected, (mode, filters, query)
    assert node.info()["chunks"] == writer.info()["chunks"]


def test_a_node_answers_questions_from_the_collections(writer_and_node) -> None:
    writer, node = writer_and_node
    question = "What do sourdough bakers knead?"
    answers = [source.ask(question).to_dict() for source in (node, writer)]
    for answer in answers:  # how long each part took differs from run to run
        assert answer.pop("timings")["retrieval_s"] > 0
    assert answers[0] == answers[1]


def test_a_node_sees_deletions_at_once_and_additions_once_saved(writer_and_node) -> None:
    writer, node = writer_and_node
    writer.delete(["baking"])
    assert "baking" not in {h.chunk.doc_id for h in node.search(QUERIES["baking"])}
    writer.add([Document("owls", "Owls hunt voles silently at dusk.", {"lang": "en"})])
    assert "owls" not in {h.chunk.doc_id for h in node.search("owls voles dusk")}
    writer.save()
    assert node.search("owls voles dusk")[0].chunk.doc_id == "owls"


def test_only_milvus_knowledge_bases_have_nodes(tmp_path: Path) -> None:
    KnowledgeBase.create(tmp_path / "kb", hash_config()).close()
    with pytest.raises(RaglineError, match="--backend milvus"):
        SearchNode.open(tmp_path / "kb")


def test_ragline_serve_read_only_answers_as_ragline_search(
    tmp_path: Path, run_cli, write_corpus
) -> None:
    """Writer and node in their own processes, one after the other (Milvus Lite serves a
    data path from one process at a time): a real uvicorn node over a directory holding
    only ragline.toml returns the hits ``ragline search --json`` printed."""
    write_corpus(tmp_path / "corpus")
    kb, node = tmp_path / "kb", tmp_path / "node"
    indexed = run_cli(
        "index", tmp_path / "corpus", "--kb", kb, "--embedder", "hash-64",
        "--backend", "milvus", "--uri", tmp_path / "m.db", "--json",
    )  # fmt: skip
    assert indexed.returncode == 0, indexed.stderr
    queries = {"magma lava basalt": None, "kitten purr": ["lang!=de"]}
    expected = {}
    for query, filters in queries.items():
        flags = [arg for f in filters or [] for arg in ("--filter", f)]
        done = run_cli("search", query, "--kb", kb, "--json", *flags)
        expected[query] = json.loads(done.stdout)["hits"]
    node.mkdir()
    shutil.copy(kb / CONFIG_FILE, node / CONFIG_FILE)
    port = free_port()
    command = [sys.executable, "-m", "ragline.cli", "serve", "--kb", str(node), "--read-only"]
    command += ["--port", str(port), "--no-auth"]
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = wait_for(process, f"http://127.0.0.1:{port}", log_path)
        for query, filters in queries.items():
            body = {"query": query, "filters": filters}
            response = httpx.post(f"{url}/search", json=body, timeout=60)
            assert response.status_code == 200, response.text
            assert response.json()["hits"] == expected[query]
        assert httpx.get(f"{url}/info", timeout=60).json()["read_only"] is True
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert not list(node.glob("catalog*"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(process: subprocess.Popen, url: str, log_path: Path, seconds: float = 90) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"ragline serve exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"ragline serve not up in {seconds} s:\n{log_path.read_text()}")
