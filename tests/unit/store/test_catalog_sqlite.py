"""The catalog: generations, tombstones, vector storage, metadata queries, WAL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from ragline.documents import Chunk, Document, chunk_id
from ragline.errors import RaglineError
from ragline.store.catalog import Catalog

DIM = 8


def make_item(doc_id: str, text: str, metadata: dict | None = None, *, seed: int = 0):
    """A document split on ". " into chunks that carry the document's metadata."""
    metadata = metadata or {}
    document = Document(doc_id, text, metadata)
    chunks, start = [], 0
    for ordinal, part in enumerate(text.split(". ")):
        begin = text.index(part, start)
        end = begin + len(part)
        chunks.append(Chunk(chunk_id(doc_id, ordinal), doc_id, part, begin, end, dict(metadata)))
        start = end
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((len(chunks), DIM)).astype(np.float32)
    return document, chunks, vectors


@pytest.fixture
def catalog(tmp_path: Path):
    cat = Catalog(tmp_path / "catalog.sqlite")
    yield cat
    cat.close()


def test_wal_mode_is_on(tmp_path: Path, catalog: Catalog):
    assert catalog._query("PRAGMA journal_mode")[0][0] == "wal"
    catalog.write([make_item("a", "One. Two")])
    # persistent: a plain connection sees the database in WAL mode too
    with sqlite3.connect(tmp_path / "catalog.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert (tmp_path / "catalog.sqlite-wal").exists()


def test_new_catalog_is_empty_at_generation_zero(catalog: Catalog):
    assert catalog.generation == 0
    assert catalog.counts() == (0, 0)
    assert catalog.max_rowid() == 0
    assert catalog.write([]) == 0  # writing nothing does not bump


def test_write_bumps_generation_and_stores_everything(catalog: Catalog):
    item = make_item("a", "Alpha one. Alpha two. Alpha three", {"lang": "en"}, seed=1)
    assert catalog.write([item]) == 1
    assert catalog.generation == 1
    assert catalog.counts() == (1, 3)
    document = catalog.document("a")
    assert document == item[0]
    assert catalog.document_hashes(["a", "missing"]) == {"a": item[0].hash}
    [stored] = catalog.documents()
    assert (stored.id, stored.hash, stored.metadata, stored.chunks) == (
        "a",
        item[0].hash,
        {"lang": "en"},
        3,
    )
    rowids = catalog.rowids_where({})
    assert len(rowids) == 3
    chunks = catalog.chunks(rowids.tolist())
    assert [chunks[r] for r in rowids] == item[1]
    assert catalog.tombstones_after(0).size == 0


def test_replace_tombstones_old_rows_and_never_reuses_ids(catalog: Catalog):
    catalog.write([make_item("a", "Old one. Old two"), make_item("b", "Bee")])
    old_rows = catalog.rowids_where({"doc_id": "a"})
    assert catalog.generation == 1
    generation = catalog.write([make_item("a", "New one. New two. New three")])
    assert generation == catalog.generation == 2
    new_rows = catalog.rowids_where({"doc_id": "a"})
    assert len(new_rows) == 3
    assert new_rows.min() > max(old_rows.max(), catalog.rowids_where({"doc_id": "b"}).max())
    # the replaced rows are tombstoned with the generation that removed them
    np.testing.assert_array_equal(np.sort(catalog.tombstones_after(1)), old_rows)
    assert catalog.tombstones_after(2).size == 0
    assert catalog.chunks(old_rows.tolist()) == {}
    assert [c.text for c in catalog.chunks(new_rows.tolist()).values()] == [
        "New one",
        "New two",
        "New three",
    ]
    assert catalog.counts() == (2, 4)


def test_delete_bumps_generation_and_records_tombstones(catalog: Catalog):
    catalog.write([make_item("a", "A1. A2"), make_item("b", "B1"), make_item("c", "C1. C2")])
    doomed = np.sort(
        np.concatenate(
            [catalog.rowids_where({"doc_id": "a"}), catalog.rowids_where({"doc_id": "c"})]
        )
    )
    assert catalog.delete(["a", "c", "nope"]) == 2
    assert catalog.generation == 2
    np.testing.assert_array_equal(np.sort(catalog.tombstones_after(1)), doomed)
    assert catalog.counts() == (1, 1)
    assert catalog.document("a") is None
    # deleting something missing still bumps (a no-op write), and removes nothing
    assert catalog.delete(["a"]) == 0
    assert catalog.counts() == (1, 1)


def test_prune_tombstones(catalog: Catalog):
    catalog.write([make_item("a", "A1"), make_item("b", "B1"), make_item("c", "C1")])
    catalog.delete(["a"])  # generation 2
    catalog.delete(["b"])  # generation 3
    catalog.prune_tombstones(2)
    assert len(catalog.tombstones_after(0)) == 1
    assert len(catalog.tombstones_after(2)) == 1  # what is left is generation 3's
    assert catalog.get_meta("pruned_through") == "2"  # recorded with the pruning


def test_write_is_atomic(catalog: Catalog):
    catalog.write([make_item("a", "Kept")])
    good = make_item("b", "Good")
    document, chunks, _ = make_item("c", "Bad")
    broken = (document, chunks, np.zeros((0, DIM), dtype=np.float32))  # too few vectors
    with pytest.raises(IndexError):
        catalog.write([good, broken])
    assert catalog.generation == 1
    assert catalog.counts() == (1, 1)
    assert catalog.document("b") is None


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_vectors_round_trip(tmp_path: Path, dtype: str):
    catalog = Catalog(tmp_path / "c.sqlite", vector_dtype=dtype)
    items = [make_item(f"d{i}", "One. Two. Three", seed=i) for i in range(4)]
    catalog.write(items)
    expected = np.concatenate([v for _, _, v in items])
    rowids = catalog.rowids_where({})
    ids, vectors = catalog.vectors(rowids.tolist())
    assert vectors.dtype == np.float32 and vectors.shape == (12, DIM)
    np.testing.assert_array_equal(ids, rowids)
    if dtype == "float32":
        np.testing.assert_array_equal(vectors, expected)
    else:
        np.testing.assert_array_equal(vectors, expected.astype(np.float16).astype(np.float32))
        assert not np.array_equal(vectors, expected)  # really stored at half precision
        np.testing.assert_allclose(vectors, expected, rtol=1e-3, atol=1e-3)
    # stored size reflects the dtype
    [(size,)] = catalog._query("SELECT length(vector) FROM chunks LIMIT 1")
    assert size == DIM * np.dtype(dtype).itemsize
    # iter_rows gives the same vectors, in row order, batch by batch, after a given row
    batches = list(catalog.iter_rows(columns="vector", batch=5))
    assert [len(b[0]) for b in batches] == [5, 5, 2]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), vectors)
    after = list(catalog.iter_rows(after=int(rowids[8]), columns="vector"))
    np.testing.assert_array_equal(after[0][0], rowids[9:])
    texts = [t for _, batch in catalog.iter_rows(columns="text") for t in batch]
    assert texts == ["One", "Two", "Three"] * 4
    # vectors of ids that do not exist are absent
    ids, vectors = catalog.vectors([int(rowids[0]), 10_000])
    assert ids.tolist() == [int(rowids[0])] and vectors.shape == (1, DIM)
    catalog.close()


def test_rowids_where_filters(catalog: Catalog):
    catalog.write(
        [
            make_item("a", "A1. A2", {"lang": "en", "year": 2019, "score": 0.5}),
            make_item("b", "B1", {"lang": "de", "year": 2020, "score": 1.5}),
            make_item("c", "C1. C2. C3", {"lang": "fr", "year": 2021}),
            make_item("d", "D1", {"lang": "en", "year": 2022, "tag": "x"}),
        ]
    )

    def docs(filters) -> list[str]:
        rows = catalog.rowids_where(filters)
        assert rows.dtype == np.int64
        assert (np.diff(rows) > 0).all()  # sorted
        return sorted({c.doc_id for c in catalog.chunks(rows.tolist()).values()})

    assert len(catalog.rowids_where({})) == 7
    assert len(catalog.rowids_where({"doc_id": "c"})) == 3
    assert docs({"lang": "en"}) == ["a", "d"]
    assert docs({"lang": {"eq": "de"}}) == ["b"]
    assert docs({"lang": {"ne": "en"}}) == ["b", "c"]
    assert docs({"lang": {"in": ["de", "fr"]}}) == ["b", "c"]
    assert docs({"lang": {"in": []}}) == []
    assert docs({"year": {"gte": 2020}}) == ["b", "c", "d"]
    assert docs({"year": {"gt": 2020, "lt": 2022}}) == ["c"]
    assert docs({"year": {"gte": 2019, "lte": 2020}}) == ["a", "b"]
    assert docs({"score": {"gt": 1.0}}) == ["b"]
    assert docs({"year": 2021, "lang": "fr"}) == ["c"]
    assert docs({"year": 2021, "lang": "en"}) == []
    assert docs({"tag": "x"}) == ["d"]
    assert docs({"doc_id": {"in": ["a", "d", "zz"]}}) == ["a", "d"]
    assert docs({"doc_id": "b", "lang": "de"}) == ["b"]
    assert docs({"missing_key": "v"}) == []
    assert sorted(catalog.doc_ids_where({"lang": "en"})) == ["a", "d"]
    with pytest.raises(RaglineError, match="unknown operator"):
        catalog.rowids_where({"year": {"between": [1, 2]}})


def test_filter_values_cannot_inject_sql(catalog: Catalog):
    catalog.write([make_item("a", "A1", {"lang": "en"})])
    assert len(catalog.rowids_where({"lang": "en' OR '1'='1"})) == 0
    assert len(catalog.rowids_where({'la"ng': "en"})) == 0
    assert catalog.counts() == (1, 1)


def test_meta_and_reopen(tmp_path: Path):
    path = tmp_path / "c.sqlite"
    catalog = Catalog(path)
    catalog.set_meta("embedder", "hash-64")
    catalog.write([make_item("a", "A1. A2")])
    catalog.close()
    reopened = Catalog(path)
    assert reopened.get_meta("embedder") == "hash-64"
    assert reopened.get_meta("nothing") is None
    assert reopened.generation == 1
    assert reopened.counts() == (1, 2)
    reopened.close()


def test_newer_schema_is_refused(tmp_path: Path):
    path = tmp_path / "c.sqlite"
    Catalog(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(RaglineError, match="newer"):
        Catalog(path)


def test_two_connections_see_each_others_commits(tmp_path: Path):
    path = tmp_path / "c.sqlite"
    writer, reader = Catalog(path), Catalog(path)
    assert reader.generation == 0
    writer.write([make_item("a", "A1")])
    assert reader.generation == 1
    assert reader.counts() == (1, 1)
    writer.close()
    reader.close()
