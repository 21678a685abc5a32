"""Metadata filters as Milvus expressions, property-tested with hostile values against a
real Milvus Lite collection: a filter only narrows the rows, and selects exactly the rows
the catalog's SQL selects (what FAISS and BM25 are restricted to)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragline.errors import RaglineError
from ragline.filters import to_sql
from ragline.index.milvus_collection import connect
from ragline.index.milvus_filters import quote, to_milvus_expression

HOSTILE = [
    'x" or 1==1 or "',
    "it's",
    "back\\slash",
    "ends with \\",
    '\\"',
    "line\nbreak",
    "carriage\rreturn",
    "tab\there",
    "nul\x00byte",
    "é ü 中文 🚀",
    ") or (id >= 0",
    'metadata["s"]',
    "",
    "1",
]
NUMBERS = [-3, 0, 1, 2.5, 7, 1e20, -0.5]


def rows() -> list[dict[str, Any]]:
    """Chunks whose metadata holds the hostile strings and some numbers; some lack keys."""
    made = []
    for i in range(40):
        metadata: dict[str, Any] = {}
        if i % 5:
            metadata["s"] = HOSTILE[i % len(HOSTILE)]
        if i % 3:
            metadata["n"] = NUMBERS[i % len(NUMBERS)]
        if i % 4 == 0:
            metadata["mixed"] = HOSTILE[i % len(HOSTILE)] if i % 8 else NUMBERS[i % len(NUMBERS)]
        doc_id = HOSTILE[i % len(HOSTILE)] + str(i % 3)
        made.append({"id": i + 1, "doc_id": doc_id, "metadata": metadata})
    return made


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """The rows in a Milvus Lite collection and in an SQLite ``chunks`` table."""
    from pymilvus import DataType

    client = connect(str(tmp_path_factory.mktemp("milvus") / "filters.db"))
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=2)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=1000)
    schema.add_field("metadata", DataType.JSON)
    index_params = client.prepare_index_params()
    index_params.add_index("vector", index_type="FLAT", metric_type="IP")
    client.create_collection("filters", schema=schema, index_params=index_params)
    client.insert("filters", [{**row, "vector": [1.0, 0.0]} for row in rows()])
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE chunks (id INTEGER PRIMARY KEY, doc_id TEXT, metadata TEXT)")
    db.executemany(
        "INSERT INTO chunks VALUES (?, ?, ?)",
        [(r["id"], r["doc_id"], json.dumps(r["metadata"])) for r in rows()],
    )
    yield client, db
    db.close()


def on_milvus(client: Any, filters: dict[str, Any]) -> set[int]:
    expression = to_milvus_expression(filters)
    return {r["id"] for r in client.query("filters", filter=expression, output_fields=["id"])}


def on_sql(db: sqlite3.Connection, filters: dict[str, Any]) -> set[int]:
    condition, params = to_sql(filters)
    return {r[0] for r in db.execute(f"SELECT id FROM chunks WHERE {condition}", params)}


# SQLite's JSON functions end strings at a NUL, so the catalog cannot match one holding a
# NUL (Milvus can: test_a_nul_byte_is_matched_exactly); the comparison leaves NUL out.
strings = st.sampled_from([h for h in HOSTILE if "\x00" not in h]) | st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12
)
numbers = st.sampled_from(NUMBERS) | st.integers(-(2**53), 2**53) | st.floats(-1e9, 1e9)
string_condition = st.one_of(
    strings,
    st.dictionaries(st.sampled_from(["eq", "ne"]), strings, min_size=1),
    st.dictionaries(st.sampled_from(["in", "nin"]), st.lists(strings, max_size=4), min_size=1),
)
number_condition = st.one_of(
    numbers,
    st.dictionaries(st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]), numbers, min_size=1),
    st.dictionaries(st.sampled_from(["in", "nin"]), st.lists(numbers, max_size=4), min_size=1),
)
mixed_condition = st.one_of(
    strings | numbers,
    st.dictionaries(st.sampled_from(["eq", "ne"]), strings | numbers, min_size=1),
)
CONDITIONS = {
    "s": string_condition,
    "doc_id": string_condition,
    "n": number_condition,
    "mixed": mixed_condition,
}
filters = st.one_of(
    *(st.fixed_dictionaries({key: condition}) for key, condition in CONDITIONS.items()),
    st.fixed_dictionaries({}, optional=CONDITIONS),
)
PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY
@given(filters=filters)
def test_a_filter_selects_what_the_catalog_selects(collection, filters) -> None:
    client, db = collection
    found = on_milvus(client, filters)
    assert found <= {r["id"] for r in rows()}
    assert found == on_sql(db, filters)


@PROPERTY
@given(key=strings | st.just("nul\x00"), value=strings | numbers)
def test_hostile_keys_only_narrow(collection, key, value) -> None:
    """A key no row has matches nothing, whatever its text."""
    client, _ = collection
    known = {"s", "n", "mixed", "doc_id"}
    for condition in (value, {"ne": value}, {"nin": [value]}):
        found = on_milvus(client, {key: condition})
        assert found <= {r["id"] for r in rows()}
        if key not in known:
            assert found == set()


def test_a_nul_byte_is_matched_exactly(collection) -> None:
    client, db = collection
    expected = {r["id"] for r in rows() if r["metadata"].get("s") == "nul\x00byte"}
    assert expected and on_milvus(client, {"s": "nul\x00byte"}) == expected
    assert on_milvus(client, {"s": "nul"}) == set()


def test_quote_escapes_what_ends_or_breaks_a_literal() -> None:
    assert quote('a"b\\c\nd\re') == '"a\\"b\\\\c\\nd\\re"'


@pytest.mark.parametrize(
    "bad",
    [
        {"n": {"gt": float("nan")}},
        {"n": True},
        {"n": {"eq": None}},
        {"n": {"like": "x"}},
        {"n": "lone \ud800 surrogate"},
    ],
)
def test_values_that_are_not_strings_or_numbers_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(RaglineError, match="filter on 'n'"):
        to_milvus_expression(bad)


def test_no_filter_is_an_empty_expression() -> None:
    assert to_milvus_expression({}) == ""
