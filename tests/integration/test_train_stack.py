"""``ragline train stack`` and ``--stack``: a tiny retriever and ColBERT trained as one stack
on a BEIR folder made here, taken whole into a second stack, and used by ``eval beir``,
``search`` and ``ask`` (a knowledge base built with another embedder is moved onto the
stack's retriever first).

The models are tiny random BERTs (2 layers, width 32) so that training takes seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from beir_folders import write_beir_folder
from cli_runs import run_cli
from tiny_models import TOPIC_VOCAB, TOPICS, write_tiny_bert

pytest.importorskip("torch")

from ragline.errors import RaglineError  # noqa: E402
from ragline.stack import STACK_FILE, Stack  # noqa: E402
from ragline.train.colbert import ColbertRecipe  # noqa: E402
from ragline.train.pairs import read_beir  # noqa: E402
from ragline.train.retriever import RetrieverRecipe  # noqa: E402
from ragline.train.stack import StackRecipe, train_stack  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("one_torch_thread")]


def write_beir(root: Path) -> Path:
    """The topics as a BEIR folder: every topic judged in train, the first four in test."""
    return write_beir_folder(
        root,
        [{"_id": word, "title": "", "text": text} for word, text in TOPICS.items()],
        [{"_id": f"q-{word}", "text": f"where the {word}"} for word in TOPICS],
        {
            split: [(f"q-{word}", word, 1) for word in words]
            for split, words in (("train", list(TOPICS)), ("test", list(TOPICS)[:4]))
        },
    )


def tiny_recipe(base: Path) -> StackRecipe:
    retriever = RetrieverRecipe(
        base=str(base),
        negatives=("in-batch",),
        epochs=2,
        batch_size=4,
        learning_rate=1e-3,
        max_seq_length=16,
        mine_length=16,
        precision="fp32",
        dev_fraction=0.0,
    )
    reranker = ColbertRecipe(
        base=str(base),
        miner=str(base),
        dim=16,
        epochs=2,
        batch_size=4,
        learning_rate=2e-3,
        warmup=0.0,
        mine_margin=None,
        query_length=8,
        document_length=16,
        pca_texts=8,
        precision="fp32",
        dev_fraction=0.0,
    )
    return StackRecipe(retriever=retriever, reranker=reranker, rerank_depth=5)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, Path]:
    """A BEIR folder, and the stack trained on its train split with its report."""
    root = tmp_path_factory.mktemp("stack")
    beir = write_beir(root / "beir")
    base = write_tiny_bert(root / "base", TOPIC_VOCAB)
    report = train_stack(read_beir(beir, "train"), root / "stack", tiny_recipe(base))
    return root / "stack", report, beir


def test_the_recipe_trains_both_parts_into_one_stack_directory(trained):
    stack_dir, report, _ = trained
    stack = Stack.load(stack_dir)
    assert (stack.retriever / "modules.json").is_file()  # a sentence-transformers bi-encoder
    assert report["reranker_kind"] == "colbert" and stack.rerank_depth == 5
    assert stack.rerank_fusion == "doc-rrf"
    # ColBERT started from the retriever trained for the stack, not from its recipe's base
    assert Path(report["parts"]["reranker"]["recipe"]["base"]).name == "retriever"
    parts = report["parts"]
    assert parts["retriever"]["kind"] == "retriever" and parts["retriever"]["data"]["pairs"] == 8
    assert parts["reranker"]["rounds"][0]["steps"] > 0
    seconds = parts["retriever"]["seconds"] + parts["reranker"]["seconds"]
    assert report["training_seconds"] == pytest.approx(seconds, abs=0.1)
    assert stack.report["training_seconds"] == report["training_seconds"]  # kept in stack.json
    assert not list(stack_dir.parent.glob(".stack.partial"))


def test_a_stack_made_of_trained_parts_keeps_their_training_reports(trained, tmp_path):
    stack_dir, report, _ = trained
    done = run_cli(
        "train", "stack", "--retriever", stack_dir / "retriever", "--reranker",
        stack_dir / "reranker", "--rerank-fusion", "none", "--out", tmp_path / "copy", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    copied = json.loads(done.stdout)
    assert {part["from"] for part in copied["parts"].values()} == {
        str(stack_dir / "retriever"),
        str(stack_dir / "reranker"),
    }
    assert copied["training_seconds"] == report["training_seconds"]
    assert Stack.load(tmp_path / "copy").rerank_fusion == "none"


def test_eval_beir_scores_each_stage_of_the_stack(trained, tmp_path):
    stack_dir, _, beir = trained
    done = run_cli(
        "eval", "beir", beir, "--stack", stack_dir, "--search-mode", "dense,hybrid", "--json",
        env={"RAGLINE_CACHE": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["results"]
    assert set(results) == {"dense", "hybrid", "dense+rerank-doc-rrf", "hybrid+rerank-doc-rrf"}
    assert all(0 <= scores["ndcg@10"] <= 1 for scores in results.values())
    # the cached knowledge base was embedded with the stack's retriever
    (kb,) = (tmp_path / "kb").glob("beir-*")
    info = json.loads(run_cli("info", "--kb", kb, "--json").stdout)
    assert info["embedder"] == str(stack_dir / "retriever")


def test_search_and_ask_move_a_knowledge_base_onto_the_stack_once(trained, tmp_path):
    stack_dir, _, _ = trained
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": w, "text": t}) + "\n" for w, t in TOPICS.items()))
    kb = tmp_path / "kb"
    assert run_cli("index", docs, "--kb", kb, "--embedder", "hash-64").returncode == 0
    first = run_cli("search", "where the boat", "--kb", kb, "--stack", stack_dir, "--json")
    assert first.returncode == 0, first.stderr
    assert "re-embedded 8 chunks" in first.stderr
    assert len(json.loads(first.stdout)["hits"]) > 0
    info = json.loads(run_cli("info", "--kb", kb, "--json").stdout)
    assert info["embedder"] == str(stack_dir / "retriever")
    answer = run_cli(
        "ask", "where the boat", "--kb", kb, "--stack", stack_dir, "--generator", "extractive",
        "--json",
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr
    assert "re-embedded" not in answer.stderr  # already on the stack's retriever
    assert "question" in json.loads(answer.stdout)


def test_bad_stacks_and_clashing_flags_get_one_line_errors(trained, tmp_path):
    stack_dir, _, beir = trained
    with pytest.raises(RaglineError, match="no stack.json"):
        Stack.load(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / STACK_FILE).write_text('{"search_mode": "bm25"}')
    with pytest.raises(RaglineError, match="search mode 'bm25'"):
        Stack.load(broken)
    (broken / STACK_FILE).write_text("{}")
    with pytest.raises(RaglineError, match="retriever/ is missing"):
        Stack.load(broken)
    with pytest.raises(RaglineError, match="give training data"):
        train_stack(None, tmp_path / "nothing", retriever=stack_dir / "retriever")
    with pytest.raises(RaglineError, match="re-rank fusion 'max'"):
        StackRecipe(rerank_fusion="max")
    clash = run_cli("eval", "beir", beir, "--stack", stack_dir, "--rerank", "colbert")
    assert clash.returncode != 0
    assert "leave out --embedder and --rerank" in clash.stderr
    assert len(clash.stderr.strip().splitlines()) == 1
