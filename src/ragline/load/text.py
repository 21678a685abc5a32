"""Plain text files, and the encoding detection every text-based loader shares."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragline.config import LoadConfig
from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load.files import FileLoaderBase, document_metadata, read_file

# Longest first: the UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

BINARY = "binary file, not text"

# Text with a UTF-16/32 byte-order mark is decoded before guessing, and such text without a
# mark nearly always holds NUL bytes (so it is taken as binary). Letting the guesser pick
# these wide encodings only turns short single-byte text into CJK noise.
_NOT_GUESSED = ["utf_16", "utf_16_le", "utf_16_be", "utf_32", "utf_32_le", "utf_32_be"]


def normalize_newlines(text: str) -> str:
    r"""``text`` with Windows and old Mac line ends turned into ``\n``.

    >>> normalize_newlines("a\r\nb\rc\n")
    'a\nb\nc\n'
    """
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_bytes(data: bytes, source: str) -> str:
    r"""Decode file content to text with ``\n`` line ends; raise LoadError if it is binary.

    A byte-order mark decides first; then strict UTF-8; then charset-normalizer's best
    guess. Content with NUL bytes (and no UTF-16/32 mark) is binary.

    >>> decode_bytes("café\r\n".encode("utf-8-sig"), "a.txt")
    'café\n'
    >>> decode_bytes("Café crème, naïve résumé.".encode("latin-1"), "a.txt")
    'Café crème, naïve résumé.'
    >>> decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00", "a.txt")
    Traceback (most recent call last):
    ...
    ragline.errors.LoadError: a.txt: binary file, not text
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                break
            return _checked(text, source)
    if b"\x00" in data:
        raise LoadError(source, BINARY)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _guess(data, source)
    return _checked(text, source)


def _checked(text: str, source: str) -> str:
    if "\x00" in text:
        raise LoadError(source, BINARY)
    return normalize_newlines(text)


def _guess(data: bytes, source: str) -> str:
    from charset_normalizer import from_bytes

    matches = from_bytes(data, cp_exclusion=_NOT_GUESSED)
    best = matches.best()
    if best is None:
        raise LoadError(source, BINARY)
    # On short Western text several code pages read the bytes with no chaos at all, and
    # charset-normalizer then ranks them by weak language evidence from a handful of
    # accented letters, often picking cp1250 or DOS cp852, which garble French quotes and
    # accents. Among the least chaotic readings prefer one that cp1252 also explains: the
    # common Windows/web default, and a superset of Latin-1's printable characters.
    for match in matches:
        if match.percent_chaos == best.percent_chaos and "cp1252" in match.could_be_from_charset:
            best = match
            break
    return str(best)


def read_text(path: Path, source: str, config: LoadConfig) -> tuple[str, float]:
    """The decoded text of a file and its mtime; LoadError if unusable or blank."""
    file = read_file(path, source, config.max_file_bytes)
    text = decode_bytes(file.data, source)
    if not text.strip():
        raise LoadError(source, "empty file")
    return text, file.mtime


@dataclass(frozen=True)
class Parsed:
    """What a text-based format gives: the text to index, its title (None: the file stem), and
    metadata the file declares about itself (Markdown front matter)."""

    text: str
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


class TextLoader(FileLoaderBase):
    r"""Loads a ``.txt`` file as one document titled by its file stem.

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp, "notes.txt")
    ...     _ = path.write_bytes(b"Hello\r\nworld\n")
    ...     [doc] = TextLoader().load(str(path))
    >>> doc.id, doc.text, doc.metadata["title"]
    ('notes.txt', 'Hello\nworld\n', 'notes')
    """

    def documents(self, file: Path, source: str, doc_id: str | None) -> Iterator[Document]:
        text, mtime = read_text(file, source, self.config)
        parsed = self.parse(text, source)
        user = {**(self.metadata or {}), **parsed.metadata}
        meta = document_metadata(file, parsed.title or file.stem, mtime, user)
        yield Document(doc_id or file.name, parsed.text, meta)

    def parse(self, text: str, source: str) -> Parsed:
        """The text to index, title and metadata of a decoded file (the hook formats fill)."""
        return Parsed(text)
