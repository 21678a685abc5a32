"""Stage 1: documents from files. Loaders per format, and ``load_paths`` to stream a whole tree.

Heavy or optional parsers (BeautifulSoup, pypdf) are imported only when a file needs them.
"""

from __future__ import annotations

from ragline.load.base import FileLoader, Loader, LoadResult
from ragline.load.beir import BeirLoader
from ragline.load.html import HtmlLoader
from ragline.load.jsonl import JsonlLoader
from ragline.load.markdown import MarkdownLoader
from ragline.load.paths import load_paths
from ragline.load.pdf import PdfLoader
from ragline.load.registry import LOADERS
from ragline.load.text import TextLoader, decode_bytes

__all__ = [
    "LOADERS",
    "BeirLoader",
    "FileLoader",
    "HtmlLoader",
    "JsonlLoader",
    "LoadResult",
    "Loader",
    "MarkdownLoader",
    "PdfLoader",
    "TextLoader",
    "decode_bytes",
    "load_paths",
]
