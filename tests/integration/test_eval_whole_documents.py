"""``ragline eval beir --whole-documents``: the raw-library reference (one vector per whole
document, bm25s, RRF) scored beside the chunked knowledge base, on a BEIR folder and on a
SQuAD file read as a retrieval set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragline.config import ChunkConfig, Config
from ragline.evaluate.beir import load_beir
from ragline.evaluate.runner import evaluate_beir

pytestmark = pytest.mark.integration

FACTS = {
    "quellport": ("Quellport", "Quellport is the capital of the island nation of Zorbia."),
    "eldra": ("Eldra", "Eldra is a mountain of 3,120 metres in the north of Rufen."),
    "dovul": ("Dovul", "The Dovul river rises in the Ketta hills and flows into Lake Kafen."),
}
QUERIES = {
    "q1": ("Which city is the capital of Zorbia?", "quellport"),
    "q2": ("How high is the mountain Eldra?", "eldra"),
    "q3": ("Where does the Dovul river rise?", "dovul"),
}


def _beir(root: Path) -> Path:
    (root / "qrels").mkdir(parents=True)
    with open(root / "corpus.jsonl", "w") as f:
        for doc_id, (title, text) in FACTS.items():
            f.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with open(root / "queries.jsonl", "w") as f:
        for qid, (text, _) in QUERIES.items():
            f.write(json.dumps({"_id": qid, "text": text}) + "\n")
    lines = ["query-id\tcorpus-id\tscore"] + [f"{q}\t{d}\t1" for q, (_, d) in QUERIES.items()]
    (root / "qrels" / "test.tsv").write_text("\n".join(lines) + "\n")
    return root


def _squad(path: Path) -> Path:
    paragraphs = []
    for doc_id, (title, text) in FACTS.items():
        qas = [
            {"id": q, "question": question, "answers": [{"text": title, "answer_start": 0}]}
            for q, (question, gold) in QUERIES.items()
            if gold == doc_id
        ]
        qas.append({"id": f"x-{doc_id}", "question": "Who?", "answers": [], "is_impossible": True})
        paragraphs.append({"title": title, "paragraphs": [{"context": text, "qas": qas}]})
    path.write_text(json.dumps({"version": "v2.0", "data": paragraphs}))
    return path


def test_whole_documents_are_scored_beside_the_chunked_knowledge_base(tmp_path: Path) -> None:
    config = Config().with_overrides("chunk", keep_whole="window")
    payload = evaluate_beir(
        _beir(tmp_path / "facts"),
        ["bm25", "dense", "hybrid"],
        config=config,
        use_cache=False,
        whole_documents=True,
    )
    results = payload["results"]
    assert set(results) == {
        "bm25",
        "dense",
        "hybrid",
        "bm25 (whole documents)",
        "dense (whole documents)",
        "hybrid (whole documents)",
    }
    # three distinct facts, one document each: every method finds each at rank 1
    for name, values in results.items():
        assert values["ndcg@10"] == pytest.approx(1.0), name
    assert config.chunk == ChunkConfig(keep_whole="window")


def test_a_squad_file_is_a_retrieval_set_of_its_answerable_questions(tmp_path: Path) -> None:
    data = load_beir(_squad(tmp_path / "dev.json"))
    assert set(data.queries) == set(QUERIES)  # the unanswerable ones are left out
    texts = {d.id: d.text for d in data.documents or []}
    for qid, (_, gold) in QUERIES.items():
        [doc_id] = data.qrels[qid]
        assert texts[doc_id] == FACTS[gold][1]
    assert len(data.documents or []) == len(FACTS)
