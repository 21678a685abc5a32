"""ColbertReranker: MaxSim, loading (PyLate, Stanford, bi-encoder), the passage cache, reranking.

Most tests use a tiny random BERT (2 layers, width 32) and a word-level vocabulary saved to a
temporary directory, so they load in well under a second; tests marked ``integration`` use
the packaged MiniLM.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from ragline.documents import Chunk, Hit  # noqa: E402
from ragline.errors import RaglineError  # noqa: E402
from ragline.rerank.base import Reranker  # noqa: E402
from ragline.rerank.colbert import ColbertReranker  # noqa: E402
from ragline.rerank.colbert_checkpoint import ColbertSettings, is_colbert_checkpoint  # noqa: E402
from ragline.rerank.colbert_model import ColbertModel  # noqa: E402
from ragline.rerank.maxsim import maxsim, maxsim_tensor  # noqa: E402
from tiny_models import write_tiny_bert  # noqa: E402

WORDS = [
    *("the", "a", "cat", "cats", "dog", "dogs", "sat", "sleeps", "on", "mat", "sun", "moon"),
    *("star", "stars", "river", "lake", "boat", "boats", "red", "blue", "green", "bread"),
    *("flour", "oven", "bakes", "train", "rails", "station", "why", "how", "do", "does"),
]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]", "[unused1]"]
VOCAB += [*".,!?;:", *WORDS]
PASSAGES = [
    "the cat sleeps on the mat.",
    "the train sat on rails at the station.",
    "a red boat on the blue lake.",
    "bread bakes in the oven, flour and sun!",
]


def tiny_bert(directory: Path, **options) -> Path:
    return write_tiny_bert(directory, VOCAB, **options)


def stanford_dir(directory: Path, *, metadata: dict | None = None) -> tuple[Path, torch.Tensor]:
    """A Stanford-style checkpoint: a BertModel directory whose weights also hold
    ``linear.weight`` (keys prefixed ``bert.`` as HF_ColBERT saves them)."""
    from safetensors.torch import load_file, save_file

    tiny_bert(directory, sentence_transformers=False)
    weights = {f"bert.{k}": v for k, v in load_file(str(directory / "model.safetensors")).items()}
    linear = torch.randn(8, 32, generator=torch.Generator().manual_seed(1))
    save_file({**weights, "linear.weight": linear}, str(directory / "model.safetensors"))
    if metadata is not None:
        (directory / "artifact.metadata").write_text(json.dumps(metadata))
    return directory, linear


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def bi_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_bert(tmp_path_factory.mktemp("tiny") / "bi-encoder")


@pytest.fixture(scope="module")
def pylate_dir(tmp_path_factory: pytest.TempPathFactory, bi_encoder: Path) -> Path:
    settings = ColbertSettings(query_length=8, document_length=16)
    model = ColbertModel.from_bi_encoder(bi_encoder, dim=8, settings=settings, pca_texts=PASSAGES)
    out = tmp_path_factory.mktemp("pylate") / "colbert"
    model.save(out)
    return out


def hits_for(texts: list[str]) -> list[Hit]:
    return [
        Hit(
            Chunk(f"d{i}#0", f"d{i}", text, 0, len(text), {"n": i}),
            score=1.0 - i / 10,
            rank=i + 1,
            source="hybrid",
            scores={"bm25": float(i)},
            ranks={"bm25": i + 1},
        )
        for i, text in enumerate(texts)
    ]


def test_maxsim_matches_direct_numpy_with_masked_and_empty_passages():
    rng = np.random.default_rng(0)
    query = rng.standard_normal((5, 8)).astype(np.float32)
    passages = [rng.standard_normal((n, 8)).astype(np.float32) for n in (3, 7, 1, 0)]
    expected = [
        sum(max(float(q @ p) for p in passage) for q in query) if len(passage) else 0.0
        for passage in passages
    ]
    np.testing.assert_allclose(maxsim(query, passages), expected, rtol=1e-5)

    padded = rng.standard_normal((3, 6, 8)).astype(np.float32)
    mask = np.array([[1, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 1], [0] * 6], dtype=bool)
    expected = [
        sum(max(float(q @ padded[i, j]) for j in np.flatnonzero(mask[i])) for q in query)
        if mask[i].any()
        else 0.0
        for i in range(3)
    ]
    np.testing.assert_allclose(maxsim(query, padded, mask), expected, rtol=1e-5)

    queries = rng.standard_normal((2, 5, 8)).astype(np.float32)
    batched = maxsim_tensor(
        torch.from_numpy(queries), torch.from_numpy(padded), torch.from_numpy(mask)
    )
    for b in range(2):
        np.testing.assert_allclose(batched[b].numpy(), maxsim(queries[b], padded, mask), rtol=1e-5)


def test_is_colbert_checkpoint_tells_colbert_dirs_from_others(tmp_path, bi_encoder, pylate_dir):
    assert is_colbert_checkpoint(pylate_dir)
    assert is_colbert_checkpoint(stanford_dir(tmp_path / "stanford")[0])
    assert not is_colbert_checkpoint(bi_encoder)
    assert not is_colbert_checkpoint(tiny_bert(tmp_path / "plain", sentence_transformers=False))
    classifier = tmp_path / "cross-encoder"
    config = transformers.BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=1,
    )
    transformers.BertForSequenceClassification(config).save_pretrained(str(classifier))
    assert not is_colbert_checkpoint(classifier)
    assert not is_colbert_checkpoint(tmp_path / "missing")
    assert not is_colbert_checkpoint(pylate_dir / "modules.json")


def test_saved_model_loads_back_with_identical_scores_and_settings(tmp_path, bi_encoder):
    settings = ColbertSettings(query_length=8, document_length=16, attend_to_expansion_tokens=False)
    model = ColbertModel.from_bi_encoder(bi_encoder, dim=8, settings=settings, pca_texts=PASSAGES)
    before = ColbertReranker(model).score("why does the cat sleep", PASSAGES)
    model.save(tmp_path / "saved")
    loaded = ColbertReranker(tmp_path / "saved")
    assert loaded.name == str((tmp_path / "saved").resolve())
    np.testing.assert_array_equal(loaded.score("why does the cat sleep", PASSAGES), before)
    assert loaded.model.settings == settings
    assert loaded.model.dim == 8
    config = json.loads((tmp_path / "saved" / "config_sentence_transformers.json").read_text())
    assert config["query_prefix"] == "[Q] " and config["similarity_fn_name"] == "MaxSim"
    assert json.loads((tmp_path / "saved" / "1_Dense" / "config.json").read_text())["bias"] is False


def test_query_is_padded_with_masks_and_passage_punctuation_is_skipped(pylate_dir):
    reranker = ColbertReranker(pylate_dir)
    assert reranker.encode_query("cat").shape == (8, 8)
    ids, attention, counted = reranker.model._batch(["cat"], query=True)
    tokenizer = reranker.model.tokenizer
    assert ids[0, 1] == tokenizer.convert_tokens_to_ids("[Q] ")
    assert (ids[0, 4:] == tokenizer.mask_token_id).all() and counted.all() and attention.all()
    # [CLS] [D] cat dog [SEP]: the comma and the full stop do not count in MaxSim
    (tokens,) = reranker.encode_passages(["cat , dog ."])
    assert tokens.shape == (5, 8) and tokens.dtype == np.float16
    np.testing.assert_allclose(np.linalg.norm(tokens.astype(np.float32), axis=1), 1, atol=1e-3)


def test_stanford_checkpoint_loads_its_projection_and_metadata(tmp_path):
    from safetensors.torch import load_file

    metadata = {"query_maxlen": 12, "doc_maxlen": 20, "attend_to_mask_tokens": False}
    directory, linear = stanford_dir(tmp_path / "colbertv2", metadata=metadata)
    reranker = ColbertReranker(directory)
    torch.testing.assert_close(reranker.model.projection[0].weight, linear)
    saved = load_file(str(directory / "model.safetensors"))[
        "bert.embeddings.word_embeddings.weight"
    ]
    torch.testing.assert_close(reranker.model.encoder.get_input_embeddings().weight, saved)
    settings = reranker.model.settings
    assert (settings.query_prefix, settings.document_prefix) == ("[unused0]", "[unused1]")
    assert (settings.query_length, settings.document_length) == (12, 20)
    assert len(reranker.model.tokenizer) == len(VOCAB), "Stanford markers are in the vocabulary"
    assert reranker.score("cat", PASSAGES).shape == (len(PASSAGES),)
    _, attention, _ = reranker.model._batch(["cat"], query=True)
    assert attention[0].tolist() == [1, 1, 1, 1] + [0] * 8


def test_unknown_model_is_a_one_line_error(tmp_path):
    with pytest.raises(RaglineError, match="not a ColBERT checkpoint"):
        ColbertReranker(tmp_path / "nowhere")


def count_encoded(reranker: ColbertReranker, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every passage text the reranker sends through the encoder."""
    seen: list[str] = []
    original = reranker._encode_documents

    def counting(texts):
        seen.extend(texts)
        return original(texts)

    monkeypatch.setattr(reranker, "_encode_documents", counting)
    return seen


def test_cache_skips_encoding_seen_passages_and_re_encodes_edited_ones(
    tmp_path, pylate_dir, monkeypatch
):
    cache = tmp_path / "cache" / "colbert.sqlite"
    reranker = ColbertReranker(pylate_dir, cache_path=cache)
    seen = count_encoded(reranker, monkeypatch)
    first = reranker.score("cat on the mat", PASSAGES)
    assert sorted(seen) == sorted(PASSAGES)
    with sqlite3.connect(cache) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    seen.clear()
    np.testing.assert_array_equal(reranker.score("cat on the mat", PASSAGES), first)
    assert seen == []

    edited = [*PASSAGES[:3], "bread bakes in the oven."]
    reranker.score("bread", edited)
    assert seen == ["bread bakes in the oven."]

    fresh = ColbertReranker(pylate_dir, cache_path=cache)
    fresh_seen = count_encoded(fresh, monkeypatch)
    np.testing.assert_array_equal(fresh.score("cat on the mat", PASSAGES), first)
    assert fresh_seen == [], "a second reranker reads what the first one stored"
    uncached = ColbertReranker(pylate_dir).score("cat on the mat", PASSAGES)
    np.testing.assert_array_equal(uncached, first)

    other = ColbertReranker(stanford_dir(tmp_path / "other")[0], cache_path=cache)
    other_seen = count_encoded(other, monkeypatch)
    other.score("cat on the mat", PASSAGES)
    assert sorted(other_seen) == sorted(PASSAGES), "another model never reads these entries"


def test_fill_cache_encodes_each_missing_passage_once(tmp_path, pylate_dir, monkeypatch):
    reranker = ColbertReranker(pylate_dir, cache_path=tmp_path / "colbert.sqlite")
    seen = count_encoded(reranker, monkeypatch)
    assert reranker.fill_cache([*PASSAGES, PASSAGES[0]], chunk=3) == len(PASSAGES)
    assert sorted(seen) == sorted(PASSAGES)
    assert reranker.fill_cache(PASSAGES) == 0 and reranker.cache.missing(PASSAGES) == []
    seen.clear()
    reranker.rerank("boat", hits_for(PASSAGES))
    assert seen == []
    with pytest.raises(RaglineError, match="cache_path"):
        ColbertReranker(pylate_dir).fill_cache(PASSAGES)


def test_corrupt_cache_file_is_tolerated(tmp_path, pylate_dir, caplog):
    cache = tmp_path / "colbert.sqlite"
    cache.write_bytes(b"this is not a database" * 100)
    reranker = ColbertReranker(pylate_dir, cache_path=cache)
    with caplog.at_level(logging.WARNING, logger="ragline.rerank.token_cache"):
        scores = reranker.score("cat", PASSAGES)
    assert scores.shape == (len(PASSAGES),)
    assert "unusable" in caplog.text
    np.testing.assert_array_equal(scores, ColbertReranker(pylate_dir).score("cat", PASSAGES))


def test_rerank_orders_hits_by_score_and_keeps_their_facts(pylate_dir):
    reranker = ColbertReranker(pylate_dir)
    assert isinstance(reranker, Reranker)
    hits = hits_for(PASSAGES)
    scores = reranker.score("red boat lake", PASSAGES)
    reranked = reranker.rerank("red boat lake", hits)
    assert [h.chunk.id for h in reranked] == [hits[i].chunk.id for i in np.argsort(-scores)]
    for new in reranked:
        old = hits[int(new.chunk.doc_id[1:])]
        assert new.chunk == old.chunk and new.source == "hybrid"
        assert new.ranks["bm25"] == old.ranks["bm25"] and new.ranks["first_stage"] == old.rank
        assert new.scores["first_stage"] == old.score and new.score == new.scores["rerank"]
    assert len(reranker.rerank("red boat lake", hits, top_k=2)) == 2
    assert reranker.rerank("red boat lake", []) == []


@pytest.fixture(scope="module")
def minilm() -> ColbertReranker:
    reranker = ColbertReranker("minilm")
    reranker.model  # noqa: B018 - load once for the module
    return reranker


@pytest.mark.integration
def test_minilm_start_lifts_the_paraphrased_passage(minilm):
    passages = [
        "Stock markets fell sharply after the central bank raised interest rates.",
        "The football team won the championship after extra time.",
        "Photosynthesis lets plants turn sunlight into chemical energy.",
        "The cat sat quietly on the warm windowsill, purring.",
    ]
    hits = hits_for(passages)
    query = "a feline resting by the window"
    reranked = minilm.rerank(query, hits)
    order = np.argsort(-minilm.score(query, passages), kind="stable")
    assert [h.chunk.id for h in reranked] == [hits[i].chunk.id for i in order]
    assert reranked[0].chunk.text == passages[3]
    assert reranked[0].ranks["first_stage"] == 4 and reranked[0].chunk.metadata == {"n": 3}
    assert minilm.name == "colbert:sentence-transformers/all-MiniLM-L6-v2"
    assert minilm.model.dim == 384, "the untrained start keeps MiniLM's full width"
