"""FaissIndex on seeded synthetic unit vectors, checked against exact numpy ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ragline.index.base import DenseIndex, SearchParams
from ragline.index.faiss import EXACT_FACTORY, FaissIndex, resolve_factory

N, DIM, NQ, K = 500, 32, 40, 10
FACTORIES = ["Flat", "SQfp16", "HNSW32", "IVF4,Flat"]


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, base vectors, query vectors); ids are not 0..n-1, to catch position/id mix-ups."""
    rng = np.random.default_rng(1234)
    base = unit(rng.standard_normal((N, DIM)))
    queries = unit(rng.standard_normal((NQ, DIM)))
    ids = np.arange(N, dtype=np.int64) * 3 + 100
    return ids, base, queries


def exact(ids: np.ndarray, base: np.ndarray, queries: np.ndarray, k: int):
    scores = queries @ base.T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, axis=1), ids[order]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f[f >= 0]) & set(t)) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


def params() -> SearchParams:
    return SearchParams(nprobe=4, ef_search=64)


def built(factory: str, ids: np.ndarray, base: np.ndarray) -> FaissIndex:
    index = FaissIndex(DIM, factory)
    if index.needs_training:
        assert index.train(base)
    index.add(ids, base)
    return index


def test_flat_search_equals_exact_ground_truth(data):
    ids, base, queries = data
    index = built("Flat", ids, base)
    scores, found = index.search(queries, K)
    truth_scores, truth_ids = exact(ids, base, queries, K)
    assert scores.shape == found.shape == (NQ, K)
    assert scores.dtype == np.float32 and found.dtype == np.int64
    np.testing.assert_array_equal(found, truth_ids)
    np.testing.assert_allclose(scores, truth_scores, rtol=1e-5, atol=1e-5)
    assert index.exact


def test_auto_is_an_exhaustive_float16_scan_with_near_exact_scores(data):
    ids, base, queries = data
    assert resolve_factory("auto", len(ids), EXACT_FACTORY) == "SQfp16"
    index = built("SQfp16", ids, base)
    scores, found = index.search(queries, K)
    truth_scores, truth_ids = exact(ids, base, queries, K)
    assert index.exact and scores.dtype == np.float32
    np.testing.assert_allclose(scores, truth_scores, atol=2e-3)
    assert recall(found, truth_ids) >= 0.98
    assert index._index.sa_code_size() == 2 * DIM  # two bytes per component


@pytest.mark.parametrize("factory", ["HNSW32", "IVF4,Flat"])
def test_approximate_recall_at_10(data, factory):
    ids, base, queries = data
    index = built(factory, ids, base)
    assert index.effective_factory == factory
    assert not index.exact
    _, found = index.search(queries, K, params=params())
    _, truth = exact(ids, base, queries, K)
    assert recall(found, truth) >= 0.9


@pytest.mark.parametrize("factory", FACTORIES)
def test_protocol_len_and_padding(data, factory):
    ids, base, queries = data
    index = built(factory, ids[:5], base[:5])
    assert isinstance(index, DenseIndex)
    assert len(index) == 5
    assert index.max_rowid == int(ids[4])
    scores, found = index.search(queries[:3], 8, params=SearchParams(nprobe=4))
    assert found.shape == (3, 8)
    assert (found[:, 5:] == -1).all()  # fewer results than k: padded with -1
    assert set(found[:, :5].ravel()) == set(ids[:5].tolist())


def test_empty_index_search_pads(data):
    _, _, queries = data
    index = FaissIndex(DIM, "HNSW32")
    scores, found = index.search(queries[:2], 4)
    assert (found == -1).all() and np.isneginf(scores).all()


def test_dimension_mismatch_is_refused(data):
    from ragline.errors import RaglineError

    index = FaissIndex(DIM, "Flat")
    with pytest.raises(RaglineError, match="dimension"):
        index.add(np.array([1]), np.ones((1, DIM + 1), dtype=np.float32))


def test_bad_factory_string_is_a_clear_error():
    from ragline.errors import RaglineError

    with pytest.raises(RaglineError, match="factory"):
        FaissIndex(DIM, "NotAnIndex99")


@pytest.mark.parametrize("factory", FACTORIES)
def test_removed_ids_are_never_returned(data, factory):
    ids, base, queries = data
    index = built(factory, ids, base)
    # remove the exact top-3 of every query, so removal must change the answers
    _, truth = exact(ids, base, queries, 3)
    removed = np.unique(truth)
    index.remove(removed)
    assert len(index) == N - len(removed)
    scores, found = index.search(queries, K, params=SearchParams(nprobe=4, ef_search=128))
    assert not np.isin(found, removed).any()
    assert (found >= 0).all()
    # the remaining answers are still the nearest among what is left
    keep = ~np.isin(ids, removed)
    _, truth_left = exact(ids[keep], base[keep], queries, K)
    if factory == "Flat":
        np.testing.assert_array_equal(found, truth_left)
    else:
        assert recall(found, truth_left) >= 0.85
    # searching for a removed vector itself never brings it back
    probe = base[np.isin(ids, removed)][:5]
    _, found_self = index.search(probe, K, params=SearchParams(nprobe=4))
    assert not np.isin(found_self, removed).any()


@pytest.mark.parametrize("factory", FACTORIES)
def test_add_after_remove_and_re_add(data, factory):
    ids, base, queries = data
    index = built(factory, ids[:400], base[:400])
    index.remove(ids[:100])
    index.add(ids[400:], base[400:])
    assert len(index) == 400
    assert index.max_rowid == int(ids[-1])
    # querying with the exact new vectors finds them first
    scores, found = index.search(base[400:410], 1, params=SearchParams(nprobe=4))
    np.testing.assert_array_equal(found[:, 0], ids[400:410])
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-3 if factory == "SQfp16" else 1e-5)


@pytest.mark.parametrize("factory", FACTORIES)
def test_allowed_selector_restricts_results(data, factory):
    ids, base, queries = data
    index = built(factory, ids, base)
    allowed = np.sort(ids[::7])  # about 72 allowed ids
    scores, found = index.search(
        queries, K, params=SearchParams(nprobe=4, ef_search=128, allowed=allowed)
    )
    valid = found[found >= 0]
    assert len(valid) > 0
    assert np.isin(valid, allowed).all()
    keep = np.isin(ids, allowed)
    _, truth = exact(ids[keep], base[keep], queries, K)
    if factory == "Flat":
        np.testing.assert_array_equal(found, truth)
    else:
        assert recall(found, truth) >= 0.8


@pytest.mark.parametrize("factory", FACTORIES)
def test_allowed_selector_combined_with_removals(data, factory):
    ids, base, queries = data
    index = built(factory, ids, base)
    allowed = np.sort(ids[:50])
    index.remove(ids[:25])
    _, found = index.search(queries, K, params=SearchParams(nprobe=4, allowed=allowed))
    valid = found[found >= 0]
    assert len(valid) > 0
    assert np.isin(valid, ids[25:50]).all()


def test_allowed_empty_or_all_removed_gives_nothing(data):
    ids, base, queries = data
    index = built("HNSW32", ids, base)
    index.remove(ids[:3])
    _, found = index.search(queries[:2], K, params=SearchParams(allowed=ids[:3]))
    assert (found == -1).all()
    _, found = index.search(
        queries[:2], K, params=SearchParams(allowed=np.zeros(0, dtype=np.int64))
    )
    assert (found == -1).all()


@pytest.mark.parametrize("factory", FACTORIES)
def test_save_load_round_trip(data, factory, tmp_path: Path):
    ids, base, queries = data
    index = built(factory, ids, base)
    index.remove(ids[:10])
    index.generation = 17
    before = index.search(queries, K, params=params())
    path = tmp_path / "dense.faiss"
    index.save(path)
    loaded = FaissIndex.load(path)
    assert (loaded.dim, loaded.factory, loaded.generation, loaded.max_rowid) == (
        DIM,
        factory,
        17,
        index.max_rowid,
    )
    assert len(loaded) == len(index)
    assert loaded.effective_factory == index.effective_factory
    after = loaded.search(queries, K, params=params())
    np.testing.assert_array_equal(after[1], before[1])
    np.testing.assert_allclose(after[0], before[0], rtol=1e-6)
    assert not np.isin(after[1], ids[:10]).any()
    # the loaded index keeps working incrementally
    loaded.remove(ids[10:20])
    loaded.add(np.array([10_000]), base[:1])
    _, found = loaded.search(base[:1], 1, params=params())
    assert found[0, 0] == 10_000
    # no temporary file is left behind by the atomic write
    assert [p.name for p in tmp_path.iterdir()] == ["dense.faiss"]


def test_ivf_before_training_is_exact_then_train_switches(data, tmp_path: Path):
    ids, base, queries = data
    index = FaissIndex(DIM, "IVF4,Flat")
    assert index.needs_training
    assert index.effective_factory == "Flat"
    assert index.exact
    index.add(ids, base)
    scores, found = index.search(queries, K, params=SearchParams(nprobe=1))
    truth_scores, truth_ids = exact(ids, base, queries, K)
    np.testing.assert_array_equal(found, truth_ids)  # exact despite nprobe=1

    # an untrained index survives a save/load round trip still untrained
    index.save(tmp_path / "pending.npz")
    assert FaissIndex.load(tmp_path / "pending.npz").needs_training

    assert index.train(base)
    assert not index.needs_training
    assert index.effective_factory == "IVF4,Flat"
    assert not index.exact
    # vectors added before training are still there after it
    assert len(index) == N
    _, found = index.search(queries, K, params=SearchParams(nprobe=4))
    assert recall(found, truth_ids) >= 0.999  # nprobe = nlist visits every cell
    _, found_one = index.search(queries, K, params=SearchParams(nprobe=1))
    assert recall(found_one, truth_ids) < 1.0  # one cell of four: really IVF now
    # training again is a no-op
    assert index.train(base)


def test_ivf_train_with_too_few_vectors_keeps_exact(data):
    ids, base, queries = data
    index = FaissIndex(DIM, "IVF4,Flat")
    index.add(ids[:10], base[:10])
    assert index.train(base[:2]) is False
    assert index.needs_training
    _, found = index.search(queries[:1], 3)
    _, truth = exact(ids[:10], base[:10], queries[:1], 3)
    np.testing.assert_array_equal(found, truth)


def test_a_single_query_runs_serially_and_leaves_the_thread_setting_as_it_was(data) -> None:
    import faiss

    ids, base, queries = data
    index = FaissIndex(DIM, "Flat")
    index.add(ids, base)
    before = faiss.omp_get_max_threads()
    one = [index.search(queries[i : i + 1], K) for i in range(3)]
    assert faiss.omp_get_max_threads() == before
    scores, found = index.search(queries[:3], K)
    assert np.array_equal(np.vstack([f for _, f in one]), found)
    assert np.allclose(np.vstack([s for s, _ in one]), scores)
