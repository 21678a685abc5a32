"""Loaders by file suffix: a new format is one loader module plus one line here.

Each registered class is a :class:`~ragline.load.base.FileLoader` made with
``(LoadConfig, metadata)``. A directory holding ``corpus.jsonl`` is read as a BEIR data set
whatever the suffixes in it (:mod:`ragline.load.beir`).
"""

from __future__ import annotations

from ragline.registry import Registry

LOADERS = Registry(
    "loader",
    {
        ".txt": "ragline.load.text:TextLoader",
        ".md": "ragline.load.markdown:MarkdownLoader",
        ".markdown": "ragline.load.markdown:MarkdownLoader",
        ".html": "ragline.load.html:HtmlLoader",
        ".htm": "ragline.load.html:HtmlLoader",
        ".pdf": "ragline.load.pdf:PdfLoader",
        ".jsonl": "ragline.load.jsonl:JsonlLoader",
        ".rst": "ragline.load.rst:RstLoader",
        ".docx": "ragline.load.docx:DocxLoader",
    },
)
