"""JSONL and BEIR loaders: one document per record, bad lines reported by line number."""

from __future__ import annotations

import json
from pathlib import Path

from beir_folders import write_beir_folder
from ragline.config import LoadConfig
from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load import BeirLoader, JsonlLoader, load_paths


def write_jsonl(path: Path, lines: list[object]) -> Path:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def test_jsonl_records(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "faq.jsonl",
        [
            {"id": "q1", "text": "Yes.", "title": "Can I?", "metadata": {"topic": "a"}},
            {"_id": 7, "text": "Seven."},
            {"text": "No id.\r\nTwo lines."},
        ],
    )
    docs = list(JsonlLoader(metadata={"source": "faq", "topic": "user"}).load(str(path)))
    assert all(isinstance(doc, Document) for doc in docs)
    assert [(d.id, d.text) for d in docs if isinstance(d, Document)] == [
        ("q1", "Yes."),
        ("7", "Seven."),
        ("faq.jsonl:3", "No id.\nTwo lines."),
    ]
    first = docs[0]
    assert isinstance(first, Document)
    assert first.metadata["title"] == "Can I?"
    assert first.metadata["topic"] == "a"  # the record's metadata over the user's
    assert first.metadata["source"] == "faq"
    assert first.metadata["path"] == str(path.resolve())
    assert isinstance(docs[1], Document) and docs[1].metadata["title"] == "faq"


def test_jsonl_field_names_from_config(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "c.jsonl", [{"key": "k1", "body": "Text.", "name": "N"}])
    config = LoadConfig(jsonl_id_field="key", jsonl_text_field="body", jsonl_title_field="name")
    [doc] = JsonlLoader(config).load(str(path))
    assert isinstance(doc, Document)
    assert (doc.id, doc.text, doc.metadata["title"]) == ("k1", "Text.", "N")


def test_jsonl_bad_lines_do_not_stop_the_file(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            {"id": "ok1", "text": "One."},
            "{not json",
            {"id": "no-text"},
            "",
            "[1, 2]",
            {"id": "blank", "text": "  "},
            {"id": "ok2", "text": "Two."},
        ],
    )
    results = list(JsonlLoader().load(str(path)))
    assert [r.id for r in results if isinstance(r, Document)] == ["ok1", "ok2"]
    errors = {e.source: e.reason for e in results if isinstance(e, LoadError)}
    assert set(errors) == {f"{path}:2", f"{path}:3", f"{path}:5", f"{path}:6"}
    assert errors[f"{path}:2"].startswith("invalid JSON")
    assert errors[f"{path}:3"] == "no 'text' field"
    assert errors[f"{path}:5"] == "not a JSON object but list"


def test_jsonl_record_over_limit_is_skipped(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "big.jsonl",
        [{"id": "a", "text": "short"}, {"id": "b", "text": "x" * 500}, {"id": "c", "text": "ok"}],
    )
    results = list(JsonlLoader(LoadConfig(max_file_bytes=100)).load(str(path)))
    assert [r.id for r in results if isinstance(r, Document)] == ["a", "c"]
    [error] = [r for r in results if isinstance(r, LoadError)]
    assert error.source == f"{path}:2"
    assert "over the limit of 100" in error.reason


def test_empty_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n  \n")
    [error] = JsonlLoader().load(str(path))
    assert isinstance(error, LoadError)
    assert (error.source, error.reason) == (str(path), "empty file")


def make_beir(folder: Path) -> Path:
    corpus = [
        {"_id": "d1", "title": "Aspirin", "text": "It thins blood.", "metadata": {"y": 1}},
        {"_id": "d2", "title": "", "text": "No title here."},
        {"_id": "d3", "title": "Only title", "text": ""},
        {"title": "no id", "text": "x"},
    ]
    queries = [{"_id": "q1", "text": "what thins blood"}]
    return write_beir_folder(folder, corpus, queries, {"test": [("q1", "d1", 1)]})


def test_beir_folder(tmp_path: Path) -> None:
    folder = make_beir(tmp_path / "scifact")
    results = list(BeirLoader().load(str(folder)))
    docs = [r for r in results if isinstance(r, Document)]
    assert [(d.id, d.text) for d in docs] == [
        ("d1", "Aspirin\n\nIt thins blood."),
        ("d2", "No title here."),
        ("d3", "Only title"),
    ]
    assert docs[0].metadata["title"] == "Aspirin"
    assert docs[0].metadata["y"] == 1
    assert docs[0].metadata["path"] == str((folder / "corpus.jsonl").resolve())
    assert docs[1].metadata["title"] == ""
    [error] = [r for r in results if isinstance(r, LoadError)]
    assert error.source == f"{folder / 'corpus.jsonl'}:4"


def test_load_paths_recognises_beir_folders(tmp_path: Path) -> None:
    folder = make_beir(tmp_path / "scifact")
    direct = [r.id for r in load_paths(folder) if isinstance(r, Document)]
    assert direct == ["d1", "d2", "d3"]  # queries.jsonl and qrels are not documents
    (tmp_path / "notes.txt").write_text("A note.")
    walked = [r.id for r in load_paths(tmp_path) if isinstance(r, Document)]
    assert walked == [f"{tmp_path.name}/notes.txt", "d1", "d2", "d3"]
