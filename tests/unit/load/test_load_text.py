"""Encoding detection and the plain-text loader."""

from __future__ import annotations

import codecs
import time
from pathlib import Path

import pytest

from ragline.config import LoadConfig
from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load import TextLoader, decode_bytes

FRENCH = "Le café de la gare: crème brûlée, naïve façade, où êtes-vous?\nÀ bientôt."
GERMAN = "Der Bär läuft über die Straße und grüßt die Möwe.\n"
QUOTES = "She said “hello” — it cost 5 € … and that’s all.\n"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (FRENCH, "utf-8"),
        (FRENCH, "utf-8-sig"),
        (FRENCH, "latin-1"),
        (GERMAN, "latin-1"),
        (QUOTES, "cp1252"),
        (FRENCH, "cp1252"),
        (QUOTES, "utf-16"),
        (QUOTES, "utf-16-be"),
        (GERMAN, "utf-32"),
    ],
)
def test_decode_bytes_recovers_text(text: str, encoding: str) -> None:
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    assert decode_bytes(data, "f.txt") == text


def test_decode_bytes_normalises_newlines() -> None:
    assert decode_bytes(b"a\r\nb\rc\n", "f.txt") == "a\nb\nc\n"


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"plain text with a NUL\x00 inside",
        bytes(range(256)) * 8,
    ],
)
def test_decode_bytes_rejects_binary(data: bytes) -> None:
    with pytest.raises(LoadError) as info:
        decode_bytes(data, "blob.txt")
    assert info.value.source == "blob.txt"
    assert info.value.reason == "binary file, not text"


def test_text_loader_document(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(GERMAN.encode("latin-1"))
    before = time.time()
    [doc] = TextLoader(metadata={"lang": "de", "path": "ignored"}).load(str(path))
    assert isinstance(doc, Document)
    assert doc.id == "notes.txt"
    assert doc.text == GERMAN
    assert doc.metadata["title"] == "notes"
    assert doc.metadata["path"] == str(path.resolve())
    assert doc.metadata["lang"] == "de"
    assert doc.metadata["mtime"] == pytest.approx(path.stat().st_mtime)
    assert doc.metadata["mtime"] <= before + 1
    assert doc.page_starts == ()


def test_text_loader_uses_given_id(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Alpha.")
    [doc] = TextLoader().load(str(path), doc_id="root/a.txt")
    assert isinstance(doc, Document) and doc.id == "root/a.txt"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"  \n\t\r\n ", "empty file"),
        (b"\x00\x01\x02\x03binary", "binary file, not text"),
        (b"x" * 101, "file is 101 bytes, over the limit of 100"),
    ],
)
def test_text_loader_errors(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    [error] = TextLoader(LoadConfig(max_file_bytes=100)).load(str(path))
    assert isinstance(error, LoadError)
    assert (error.source, error.reason) == (str(path), reason)
    assert str(path) in str(error)


def test_text_loader_missing_file(tmp_path: Path) -> None:
    [error] = TextLoader().load(str(tmp_path / "gone.txt"))
    assert isinstance(error, LoadError)
    assert error.reason == "no such file or directory"
