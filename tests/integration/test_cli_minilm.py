"""The one test with the real packaged MiniLM embedder: semantic search on five documents.

The model is loaded once, in this process (loading it costs seconds); the CLI then reads the
knowledge base it built, which needs no model for ``info``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragline import Config, KnowledgeBase

pytestmark = pytest.mark.integration

# Paraphrases that share no content word with their document: only meaning links them.
PARAPHRASES = {
    "cats": "a feline napping in the sunshine",
    "volcanoes": "molten rock exploding out of a mountain",
    "baking": "how do I make a loaf at home",
    "chess": "strategy in a board game with pawns and a queen",
    "oceans": "marine animals living under the sea",
}


@pytest.mark.integration
def test_minilm_semantic_search_end_to_end(tmp_path: Path, corpus_docs, run_cli):
    docs = [d for d in corpus_docs if d.id in PARAPHRASES]
    assert len(docs) == 5
    folder = tmp_path / "docs"
    folder.mkdir()
    for doc in docs:
        (folder / f"{doc.id}.txt").write_text(doc.text, encoding="utf-8")
    kb_path = tmp_path / "kb"
    with KnowledgeBase.create(kb_path, Config()) as kb:  # the default: packaged MiniLM
        report = kb.add(folder)
        assert report.added == 5 and not report.errors
        for doc_id, query in PARAPHRASES.items():
            for mode in ("dense", "hybrid"):
                hits = kb.search(query, mode=mode, k=3)
                assert hits[0].chunk.doc_id == f"docs/{doc_id}.txt", (mode, query)
            dense = kb.search(query, mode="dense", k=5)
            assert 0.0 < dense[0].score <= 1.0 + 1e-5  # cosine of unit vectors
        info = kb.info()
        assert info["embedder"] == "sentence-transformers/all-MiniLM-L6-v2"
        assert info["dim"] == 384

    result = run_cli("info", "--kb", kb_path, "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["documents"] == 5
    assert payload["embedder"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert payload["dim"] == 384
