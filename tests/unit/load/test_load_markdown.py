"""Markdown front matter: parsed into document metadata, not indexed as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load import MarkdownLoader
from ragline.load.front_matter import split_front_matter

SAVED = Path(__file__).parents[2] / "data" / "markdown" / "spring-tides.md"


def test_front_matter_becomes_metadata_not_text() -> None:
    [doc] = MarkdownLoader(metadata={"kind": "notes"}).load(str(SAVED))
    assert isinstance(doc, Document)
    assert doc.text.startswith("# Why tides change size\n\nTwice a month")
    assert "authors" not in doc.text and "2024-03-18" not in doc.text
    assert doc.metadata["title"] == "Spring and neap tides"
    assert doc.metadata["date"] == "2024-03-18"  # a YAML date, stored as JSON-safe text
    assert doc.metadata["tags"] == ["tides", "moon"]
    assert doc.metadata["authors"] == [{"name": "Ana Ferreira"}]
    assert doc.metadata["draft"] is False
    assert doc.metadata["kind"] == "notes"


def test_a_rule_later_in_the_text_is_kept() -> None:
    [doc] = MarkdownLoader().load(str(SAVED))
    assert isinstance(doc, Document)
    assert "\n---\n\nThe word *spring*" in doc.text


def test_front_matter_cannot_replace_source_keys(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("---\npath: /elsewhere\nmtime: 0\n---\nBody.\n", encoding="utf-8")
    [doc] = MarkdownLoader().load(str(path))
    assert isinstance(doc, Document)
    assert doc.metadata["path"] == str(path.resolve())
    assert doc.metadata["mtime"] > 0
    assert doc.metadata["title"] == "a"


@pytest.mark.parametrize(
    "text",
    [
        "---\n\nA document that opens with a rule.\n\n---\n\nAnd has another.\n",
        "---\n- a list\n- not a mapping\n---\nBody\n",
        "---\ntitle: [unclosed\n---\nBody\n",
        "---\ntitle: no closing line\nBody\n",
        "Text first\n---\ntitle: x\n---\n",
    ],
    ids=["prose", "list", "invalid-yaml", "unclosed", "not-at-top"],
)
def test_text_without_a_front_matter_mapping_is_unchanged(text: str) -> None:
    assert split_front_matter(text) == ({}, text)


def test_crlf_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "win.md"
    path.write_bytes(b"---\r\ntitle: Windows\r\n---\r\nBody.\r\n")
    [doc] = MarkdownLoader().load(str(path))
    assert isinstance(doc, Document)
    assert (doc.text, doc.metadata["title"]) == ("Body.\n", "Windows")


def test_empty_front_matter_and_title_from_heading() -> None:
    assert split_front_matter("---\n---\n# Head\n") == ({}, "# Head\n")


def test_front_matter_only_is_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "meta.md"
    path.write_text("---\ntitle: Nothing else\n---\n\n", encoding="utf-8")
    [error] = MarkdownLoader().load(str(path))
    assert isinstance(error, LoadError)
    assert error.reason.startswith("empty file")
