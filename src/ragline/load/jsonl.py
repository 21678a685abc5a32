"""JSON Lines files: one document per record, streamed line by line.

A JSONL file is a corpus rather than a document, so it is never read whole: the size limit
(``LoadConfig.max_file_bytes``) applies to each record, and a bad line yields a LoadError
named ``file:line`` while the other lines still load.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load.files import FileLoaderBase, document_metadata, os_reason, stat_file
from ragline.load.text import normalize_newlines

Record = tuple[int, dict[str, Any]]


def iter_records(path: Path, source: str, max_record_bytes: int) -> Iterator[Record | LoadError]:
    """Each JSON object in ``path`` as ``(line number, record)``, or a LoadError for its line.

    Blank lines are skipped; a file with none but blank lines gives one "empty file" error.
    """
    seen = False
    try:
        with path.open("rb") as f:
            for lineno, line in _lines(f, max_record_bytes):
                where = f"{source}:{lineno}"
                if line is None:
                    seen = True
                    yield LoadError(where, f"record is over the limit of {max_record_bytes} bytes")
                elif line.strip():
                    seen = True
                    record = _parse(line, where, first=lineno == 1)
                    yield record if isinstance(record, LoadError) else (lineno, record)
    except OSError as e:
        yield LoadError(source, os_reason(e))
        return
    if not seen:
        yield LoadError(source, "empty file")


def _lines(f: Any, limit: int) -> Iterator[tuple[int, bytes | None]]:
    # readline with a cap, so one huge line is skipped piecewise instead of held in memory.
    lineno = 0
    while line := f.readline(limit + 1):
        lineno += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = f.readline(limit + 1)
            yield lineno, None
        else:
            yield lineno, line


def _parse(line: bytes, where: str, *, first: bool) -> dict[str, Any] | LoadError:
    try:
        text = line.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError:
        return LoadError(where, "not valid UTF-8")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as e:
        return LoadError(where, f"invalid JSON: {e.msg} (column {e.colno})")
    except (ValueError, RecursionError) as e:
        return LoadError(where, f"invalid JSON: {e}")
    if not isinstance(record, dict):
        return LoadError(where, f"not a JSON object but {type(record).__name__}")
    return record


def record_text(record: dict[str, Any], field: str, where: str) -> str:
    """The text field of a record, with ``\\n`` line ends; LoadError if missing or blank."""
    if field not in record:
        raise LoadError(where, f"no {field!r} field")
    text = record[field]
    if not isinstance(text, str):
        raise LoadError(where, f"{field!r} is not a string")
    if not text.strip():
        raise LoadError(where, f"empty {field!r} field")
    return normalize_newlines(text)


def record_metadata(record: dict[str, Any]) -> dict[str, Any]:
    """The record's own ``metadata`` object, if it has one."""
    meta = record.get("metadata")
    return dict(meta) if isinstance(meta, dict) else {}


class JsonlLoader(FileLoaderBase):
    """Loads each record of a ``.jsonl`` file as a document.

    Field names come from LoadConfig (``id``, ``text``, ``title``); ``_id`` is accepted when
    the id field is missing, and a record without either gets the id ``"{file id}:{line}"``.

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp, "faq.jsonl")
    ...     _ = path.write_text('{"id": "q1", "text": "Yes."}\\n{"text": "No."}\\n')
    ...     docs = list(JsonlLoader().load(str(path)))
    >>> [(doc.id, doc.text) for doc in docs]
    [('q1', 'Yes.'), ('faq.jsonl:2', 'No.')]
    """

    def documents(
        self, file: Path, source: str, doc_id: str | None
    ) -> Iterator[Document | LoadError]:
        """One document or LoadError per record; ``doc_id`` is the file's own id."""
        mtime = stat_file(file, source).st_mtime
        for item in iter_records(file, source, self.config.max_file_bytes):
            if isinstance(item, LoadError):
                yield item
                continue
            lineno, record = item
            try:
                yield self.record_document(file, doc_id or file.name, mtime, lineno, record)
            except LoadError as e:
                yield e

    def record_document(
        self, file: Path, file_id: str, mtime: float, lineno: int, record: dict[str, Any]
    ) -> Document:
        """The document of one record (the hook BEIR's loader fills differently)."""
        path = str(file)
        cfg, where = self.config, f"{path}:{lineno}"
        text = record_text(record, cfg.jsonl_text_field, where)
        raw_id = record.get(cfg.jsonl_id_field)
        if raw_id is None:
            raw_id = record.get("_id")
        if raw_id is None or raw_id == "":
            doc_id = f"{file_id}:{lineno}"
        elif isinstance(raw_id, str | int) and not isinstance(raw_id, bool):
            doc_id = str(raw_id)
        else:
            raise LoadError(where, f"id {raw_id!r} is not a string or integer")
        title = record.get(cfg.jsonl_title_field)
        if not isinstance(title, str) or not title.strip():
            title = Path(path).stem
        user = {**(self.metadata or {}), **record_metadata(record)}
        return Document(doc_id, text, document_metadata(Path(path), title.strip(), mtime, user))
