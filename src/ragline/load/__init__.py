"""Stage 1: documents from files. Loaders per format, and ``load_paths`` to stream a whole tree.

Heavy or optional parsers (BeautifulSoup, pypdf, docutils, python-docx) are imported only
when a file needs them.
"""

from __future__ import annotations

from ragline.load.base import FileLoader, Loader, LoadResult
from ragline.load.beir import BeirLoader
from ragline.load.docx import DocxLoader
from ragline.load.html import HtmlLoader
from ragline.load.jsonl import JsonlLoader
from ragline.load.markdown import MarkdownLoader
from ragline.load.paths import PathScan, load_paths, scan_paths
from ragline.load.pdf import PdfLoader
from ragline.load.registry import LOADERS
from ragline.load.rst import RstLoader
from ragline.load.text import TextLoader, decode_bytes

__all__ = [
    "LOADERS",
    "BeirLoader",
    "DocxLoader",
    "FileLoader",
    "HtmlLoader",
    "JsonlLoader",
    "LoadResult",
    "Loader",
    "MarkdownLoader",
    "PathScan",
    "PdfLoader",
    "RstLoader",
    "TextLoader",
    "decode_bytes",
    "load_paths",
    "scan_paths",
]
