"""Markdown and HTML loaders."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load import HtmlLoader, MarkdownLoader
from ragline.load.markdown import markdown_title

PAGE = """<!DOCTYPE html>
<html>
<head><title> Tide tables </title><style>p { color: red }</style>
<script>var secret = "script text";</script></head>
<body>
<header>Site header</header>
<nav><a href="/">Home navigation</a></nav>
<main>
  <h1>High tide</h1>
  <p>The tide rises   twice
     a day.<!-- a comment --></p>
  <ul><li>Spring tides</li><li>Neap <em>tides</em></li></ul>
  <p>Line one<br>Line two</p>
  <form><input name="q"><button>Search form</button></form>
  <div hidden>Hidden text</div>
</main>
<aside>Aside text</aside>
<noscript>Enable JS</noscript>
<template><p>Template text</p></template>
<footer>Footer text</footer>
<script>console.log("more script text")</script>
</body>
</html>
"""


def test_html_keeps_visible_text_as_blocks(tmp_path: Path) -> None:
    path = tmp_path / "tides.html"
    path.write_text(PAGE, encoding="utf-8")
    [doc] = HtmlLoader().load(str(path))
    assert isinstance(doc, Document)
    assert doc.text == (
        "High tide\n\nThe tide rises twice a day.\n\nSpring tides\n\nNeap tides\n\n"
        "Line one\nLine two"
    )
    assert doc.metadata["title"] == "Tide tables"
    assert doc.id == "tides.html"


@pytest.mark.parametrize(
    "dropped",
    ["script text", "Home navigation", "Site header", "Footer text", "Aside text", "Enable JS",
     "Template text", "Search form", "color: red", "Hidden text", "a comment"],
)  # fmt: skip
def test_html_drops_non_content(tmp_path: Path, dropped: str) -> None:
    path = tmp_path / "tides.htm"
    path.write_text(PAGE, encoding="utf-8")
    [doc] = HtmlLoader().load(str(path))
    assert isinstance(doc, Document)
    assert dropped not in doc.text


def test_html_without_title_uses_stem_and_decodes_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes("<p>Café crème “quoted” — 5 €</p>".encode("cp1252"))
    [doc] = HtmlLoader().load(str(path))
    assert isinstance(doc, Document)
    assert doc.text == "Café crème “quoted” — 5 €"
    assert doc.metadata["title"] == "page"


def test_html_with_no_visible_text_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "shell.html"
    path.write_text("<html><head><script>app()</script></head><body><nav>x</nav></body></html>")
    [error] = HtmlLoader().load(str(path))
    assert isinstance(error, LoadError)
    assert (error.source, error.reason) == (str(path), "no visible text")


def test_markdown_kept_as_is_with_heading_title(tmp_path: Path) -> None:
    text = "Intro line.\n\n```bash\n# not a title\n```\n\n# Getting Started\n\n- one\n- *two*\n"
    path = tmp_path / "guide.md"
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    [doc] = MarkdownLoader(metadata={"team": "docs"}).load(str(path))
    assert isinstance(doc, Document)
    assert doc.text == text
    assert doc.metadata["title"] == "Getting Started"
    assert doc.metadata["team"] == "docs"


def test_markdown_without_heading_uses_stem(tmp_path: Path) -> None:
    path = tmp_path / "readme.markdown"
    path.write_text("## Sub heading only\n\nBody.\n")
    [doc] = MarkdownLoader().load(str(path))
    assert isinstance(doc, Document)
    assert doc.metadata["title"] == "readme"


@pytest.mark.parametrize(
    ("text", "title"),
    [("# A\n# B", "A"), ("#NoSpace\n# Real", "Real"), ("   # Indented #", "Indented"),
     ("~~~\n# code\n~~~", None), ("#", None)],
)  # fmt: skip
def test_markdown_title(text: str, title: str | None) -> None:
    assert markdown_title(text) == title
