"""Results go to stdout: every command that is cheap on a tiny corpus, run as a user runs it
with stdout redirected (``ragline search … > hits.txt``), writes its result there, in words
(the ``--json`` shapes are checked in the other CLI tests). Model-free: hash embedder,
extractive generator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "Tides",
            "paragraphs": [
                {
                    "context": "Tides are caused by the Moon. Spring tides follow full moons.",
                    "qas": [
                        {
                            "id": "a1",
                            "question": "What causes tides?",
                            "answers": [{"text": "the Moon", "answer_start": 20}],
                            "is_impossible": False,
                        }
                    ],
                }
            ],
        }
    ],
}


def _write_beir(folder: Path) -> Path:
    """A three-document BEIR folder with one query per document."""
    (folder / "qrels").mkdir(parents=True)
    docs = {"d1": "Magma erupts as lava.", "d2": "Kittens purr.", "d3": "Sourdough needs flour."}
    queries = {"q1": "magma lava", "q2": "kittens purr", "q3": "sourdough flour"}
    with open(folder / "corpus.jsonl", "w") as f:
        for doc_id, text in docs.items():
            f.write(json.dumps({"_id": doc_id, "title": "", "text": text}) + "\n")
    with open(folder / "queries.jsonl", "w") as f:
        for query_id, text in queries.items():
            f.write(json.dumps({"_id": query_id, "text": text}) + "\n")
    rows = "".join(f"q{n}\td{n}\t1\n" for n in (1, 2, 3))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + rows)
    return folder


@pytest.fixture(scope="module")
def world(tmp_path_factory, run_cli, write_corpus) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A knowledge base built by the CLI (hash embedder), a BEIR folder, a SQuAD file and two
    TREC runs to compare."""
    root = tmp_path_factory.mktemp("stdout")
    ids = write_corpus(root / "corpus")
    kb = root / "kb"
    built = run_cli("index", root / "corpus", "--kb", kb, "--embedder", "hash-64")
    assert built.returncode == 0, built.stderr
    beir = _write_beir(root / "beir")
    (root / "squad.json").write_text(json.dumps(SQUAD))
    env = {"RAGLINE_CACHE": str(root / "cache")}
    evaluated = run_cli("eval", "beir", beir, "--embedder", "hash-64", "--search-mode",
                        "bm25,dense", "--run-file", root / "run", "--json", env=env)  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    return {"root": root, "kb": kb, "ids": ids, "beir": beir, "env": env, "built": built}


def _commands(w: dict[str, Any], copy: Path) -> dict[str, list[Any]]:
    """Each command's arguments; ``copy`` is a copy of the knowledge base for the commands
    that change it."""
    kb, root, beir = w["kb"], w["root"], w["beir"]
    return {
        "search": ["search", "magma lava basalt", "--kb", kb, "-k", "3"],
        "ask": ["ask", "What do kittens do when content?", "--kb", kb],
        "info": ["info", "--kb", kb],
        "delete": ["delete", w["ids"]["cats"], "--kb", copy],
        "reindex": ["reindex", "--kb", copy, "--embedder", "hash-32"],
        "eval beir": ["eval", "beir", beir, "--embedder", "hash-64", "--search-mode", "bm25"],
        "eval qa": [
            "eval",
            "qa",
            root / "squad.json",
            "--embedder",
            "hash-64",
            "--answerable",
            "1",
            "--unanswerable",
            "0",
        ],  # fmt: skip
        "eval support": ["eval", "support", root / "squad.json"],
        "eval compare": [
            "eval",
            "compare",
            root / "run.bm25.trec",
            root / "run.dense.trec",
            "--qrels",
            beir / "qrels" / "test.tsv",
        ],  # fmt: skip
        "bench ingest": ["bench", "ingest", beir, "--embedder", "hash-64", "--no-raw"],
        "bench query": ["bench", "query", "--kb", kb, "--queries", beir, "--threads", "1"],
        "bench answer": [
            "bench",
            "answer",
            "--kb",
            kb,
            "--queries",
            beir,
            "--generator",
            "extractive",
            "--limit",
            "2",
        ],  # fmt: skip
        "bench update": ["bench", "update", "--chunks", "200", "--repeats", "1"],
        "bench ann": [
            "bench",
            "ann",
            "--source",
            "synthetic",
            "--limit",
            "500",
            "--queries",
            "10",
            "--repeats",
            "1",
        ],  # fmt: skip
    }


COMMANDS = ["search", "ask", "info", "delete", "reindex", "eval beir", "eval qa", "eval support",
            "eval compare", "bench ingest", "bench query", "bench answer", "bench update",
            "bench ann"]  # fmt: skip


def test_index_writes_its_summary_to_stdout(world: dict[str, Any]) -> None:
    built = world["built"]
    assert built.stdout.startswith("indexed 8 new and 0 changed documents")
    assert built.stderr == ""


@pytest.mark.parametrize("name", COMMANDS)
def test_result_goes_to_stdout(name: str, world: dict[str, Any], run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "kb"
    shutil.copytree(world["kb"], copy)
    (copy / "write.lock").unlink(missing_ok=True)
    done = run_cli(*_commands(world, copy)[name], env=world["env"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), f"{name}: nothing on stdout; stderr: {done.stderr}"
    assert "{" not in done.stdout.splitlines()[0]  # words, not the --json object


def test_quiet_keeps_results_and_drops_notes(world: dict[str, Any], run_cli) -> None:  # type: ignore[no-untyped-def]
    kb = world["kb"]
    noted = run_cli("search", "kitten", "--kb", kb, "--mode", "bm25")
    quiet = run_cli("search", "kitten", "--kb", kb, "--search-mode", "bm25", "-q")
    assert "deprecated" in noted.stderr
    assert quiet.returncode == 0 and quiet.stderr == "" and quiet.stdout == noted.stdout
    assert run_cli("-q", "info", "--kb", kb).stdout == run_cli("info", "--kb", kb).stdout
    both = run_cli("info", "--kb", kb, "--quiet", "--verbose")
    assert both.returncode == 1 and both.stderr.startswith("ragline: error: --quiet and")
