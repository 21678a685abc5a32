"""BM25Index against a fresh bm25s index (Lucene variant) over the live texts."""

from __future__ import annotations

import random
from pathlib import Path

import bm25s
import numpy as np
import pytest
import Stemmer
from bm25s.tokenization import Tokenized, Tokenizer

import ragline.index.bm25 as bm25_module
from ragline.index.base import SearchParams, SparseIndex
from ragline.index.bm25 import BM25Index

_WORDS_TEXT = (
    "running runner runs river rivers bank banks money lending loan loans fishing fish "
    "boat boats water flows flowing bridge bridges city cities night nights light lights "
    "garden gardens growing grows tree trees forest forests mountain mountains snow"
)
WORDS = _WORDS_TEXT.split()
STOPWORDS = ["the", "and", "of", "a", "in", "is"]
QUERIES = [
    "river bank",
    "running fish in the rivers",
    "loans and money lending",
    "snow on mountains at night",
    "growing trees in gardens",
    "bridge",
    "zebra unicorn",  # no known word: no hits
]


def make_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        words = [rng.choice(WORDS + STOPWORDS) for _ in range(rng.randint(3, 30))]
        texts.append(" ".join(words))
    return texts


def reference_scores(texts: dict[int, str], query: str) -> dict[int, float]:
    """id -> score from a fresh ``bm25s.BM25(k1=0.9, b=0.4)`` over ``texts`` (positive only)."""
    ids = sorted(texts)
    tokenizer = Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english"))
    token_ids = tokenizer.tokenize([texts[i] for i in ids], return_as="ids", show_progress=False)
    vocab = tokenizer.get_vocab_dict()
    retriever = bm25s.BM25(k1=0.9, b=0.4)
    assert retriever.method == "lucene"
    retriever.index(Tokenized(ids=token_ids, vocab=vocab), show_progress=False)
    words = {v: k for k, v in vocab.items()}
    query_ids = tokenizer.tokenize(
        [query], update_vocab=False, return_as="ids", show_progress=False
    )[0]
    tokens = [words[t] for t in query_ids if words[t] != ""]
    scores = retriever.get_scores(tokens) if tokens else np.zeros(len(ids))
    return {i: float(s) for i, s in zip(ids, scores, strict=True) if s > 0}


def index_scores(index: BM25Index, query: str, k: int) -> dict[int, float]:
    scores, ids = index.search([query], k)
    return {int(i): float(s) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0}


def assert_matches_reference(index: BM25Index, live: dict[int, str]) -> None:
    assert len(index) == len(live)
    for query in QUERIES:
        expected = reference_scores(live, query)
        # every positive-scoring live row, with the reference score
        got = index_scores(index, query, len(live) + 5)
        assert got.keys() == expected.keys(), query
        for i, score in expected.items():
            assert got[i] == pytest.approx(score, rel=1e-4, abs=1e-5), (query, i)
        # top-k: the k best reference scores, in order
        scores, ids = index.search([query], 10)
        top = sorted(expected.values(), reverse=True)[:10]
        np.testing.assert_allclose(scores[0, : len(top)], top, rtol=1e-4, atol=1e-5)
        assert (ids[0, len(top) :] == -1).all()


@pytest.fixture(params=["delta-only", "merging"])
def merge_mode(request, monkeypatch):
    """Run each scenario without merges and with a tiny merge threshold (many merges)."""
    if request.param == "merging":
        monkeypatch.setattr(bm25_module, "MERGE_MIN_ROWS", 16)
    return request.param


def test_scores_equal_fresh_bm25s_after_adds_and_removes(merge_mode):
    texts = make_texts(400, seed=7)
    index = BM25Index()
    assert isinstance(index, SparseIndex)
    live: dict[int, str] = {}
    rng = random.Random(3)
    next_id = 5
    for step in range(6):
        batch = texts[step * 60 : (step + 1) * 60]
        ids = np.arange(next_id, next_id + 2 * len(batch), 2, dtype=np.int64)  # gaps
        next_id = int(ids[-1]) + 3
        index.add(ids, batch)
        live.update(zip(ids.tolist(), batch, strict=True))
        doomed = rng.sample(sorted(live), 15)
        index.remove(np.array(doomed, dtype=np.int64))
        for i in doomed:
            del live[i]
        assert_matches_reference(index, live)
    assert index.max_rowid == next_id - 3
    index.compact()
    assert index.dead_fraction == 0.0
    assert_matches_reference(index, live)


def test_removing_unknown_or_already_removed_ids_is_harmless():
    index = BM25Index()
    texts = make_texts(20, seed=1)
    index.add(np.arange(10, 30), texts)
    index.remove(np.array([10, 10, 5, 999]))
    index.remove(np.array([10]))
    live = {i: t for i, t in zip(range(10, 30), texts, strict=True) if i != 10}
    assert_matches_reference(index, live)


def test_ids_must_be_added_in_ascending_order():
    index = BM25Index()
    index.add(np.array([5, 6]), ["river bank", "money bank"])
    with pytest.raises(ValueError, match="ascending"):
        index.add(np.array([4]), ["fish"])
    with pytest.raises(ValueError, match="ascending"):
        index.add(np.array([6]), ["fish"])
    index.add(np.array([7]), ["fish"])  # still usable after a refused add
    assert len(index) == 3


def test_ties_are_ordered_by_ascending_id():
    index = BM25Index()
    index.add(np.array([3, 8, 11, 20]), ["river bank", "snow", "river bank", "river bank"])
    scores, ids = index.search(["river"], 4)
    assert ids[0].tolist() == [3, 11, 20, -1]
    assert scores[0, 0] == scores[0, 1] == scores[0, 2] > 0


def test_search_shapes_and_empty_index():
    index = BM25Index()
    scores, ids = index.search(["river", "bank"], 3)
    assert scores.shape == ids.shape == (2, 3)
    assert (ids == -1).all()
    index.add(np.array([1]), ["river"])
    scores, ids = index.search(["river", "mountain"], 3)
    assert ids.tolist() == [[1, -1, -1], [-1, -1, -1]]
    assert scores.dtype == np.float32 and ids.dtype == np.int64


def test_filter_mask_restricts_without_changing_scores():
    texts = make_texts(100, seed=11)
    index = BM25Index()
    ids = np.arange(1, 101, dtype=np.int64)
    index.add(ids, texts)
    allowed = ids[ids % 3 == 0]
    for query in QUERIES[:5]:
        unfiltered = index_scores(index, query, 200)
        scores, found = index.search([query], 200, params=SearchParams(allowed=allowed))
        got = {int(i): float(s) for s, i in zip(scores[0], found[0], strict=True) if i >= 0}
        assert got, query
        assert set(got) <= set(allowed.tolist())
        # same scores as unfiltered (IDF over the whole live set), only the allowed ones
        assert got == {i: s for i, s in unfiltered.items() if i in set(allowed.tolist())}
    _, found = index.search(["river"], 5, params=SearchParams(allowed=np.zeros(0, np.int64)))
    assert (found == -1).all()


@pytest.mark.parametrize("merge_first", [False, True])
def test_save_load_round_trip(tmp_path: Path, merge_first: bool):
    texts = make_texts(150, seed=5)
    index = BM25Index(k1=1.2, b=0.6)
    index.add(np.arange(1, 101), texts[:100])
    if merge_first:
        index.compact()
    index.add(np.arange(101, 151), texts[100:])
    index.remove(np.arange(1, 150, 4))
    index.generation = 9
    before = [index.search([q], 10) for q in QUERIES]
    path = tmp_path / "bm25.npz"
    index.save(path)
    loaded = BM25Index.load(path)
    assert (loaded.k1, loaded.b, loaded.stemmer, loaded.stopwords) == (1.2, 0.6, "english", "en")
    assert (loaded.generation, loaded.max_rowid) == (9, 150)
    assert len(loaded) == len(index)
    for query, (scores, ids) in zip(QUERIES, before, strict=True):
        got_scores, got_ids = loaded.search([query], 10)
        np.testing.assert_array_equal(got_ids, ids)
        np.testing.assert_allclose(got_scores, scores, rtol=1e-6)
    # a loaded index keeps growing with a consistent vocabulary, including new words
    loaded.add(np.array([200, 201]), ["zebra river crossing", "zebra zebra"])
    assert index_scores(loaded, "zebra", 5).keys() == {200, 201}
    assert [p.name for p in tmp_path.iterdir()] == ["bm25.npz"]


def test_save_load_matches_reference_after_more_changes(tmp_path: Path):
    texts = make_texts(120, seed=21)
    index = BM25Index()
    index.add(np.arange(1, 81), texts[:80])
    index.remove(np.array([2, 4, 6]))
    index.save(tmp_path / "bm25.npz")
    loaded = BM25Index.load(tmp_path / "bm25.npz")
    loaded.add(np.arange(81, 121), texts[80:])
    loaded.remove(np.array([90, 100]))
    live = {i: t for i, t in zip(range(1, 121), texts, strict=True) if i not in {2, 4, 6, 90, 100}}
    assert_matches_reference(loaded, live)
