"""What the QA format readers share: reading a file's records, checking their fields with
one-line errors that name the file and the record, and turning paragraphs into documents."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragline.documents import Document
from ragline.errors import RaglineError

Record = tuple[str, dict[str, Any]]
"""A record and where it is (``file:line`` or ``file: record N``), for error messages."""


@dataclass(frozen=True)
class QaFormat:
    """One published format: whether a record is one of its records, and its reader
    (``read(path, limit=N)`` -> QaDataset)."""

    matches: Callable[[dict[str, Any]], bool]
    read: Callable[..., Any]


def read_records(path: Path) -> list[Record]:
    """The JSON objects of ``path``: a JSON list (``.json``) or one object per line (any
    other suffix, or a ``.json`` file that is not one JSON value)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise RaglineError(f"{path}: cannot be read: {e}") from e
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise RaglineError(f"{path}: invalid JSON: {e.msg} (line {e.lineno})") from e
        if not isinstance(data, list):
            raise RaglineError(f"{path}: not a list of records but {type(data).__name__}")
        return [_object(record, f"{path}: record {n}") for n, record in enumerate(data, 1)]
    records = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            where = f"{path}:{lineno}"
            try:
                records.append(_object(json.loads(line), where))
            except json.JSONDecodeError as e:
                raise RaglineError(f"{where}: invalid JSON: {e.msg} (column {e.colno})") from e
    return records


def _object(record: Any, where: str) -> Record:
    if not isinstance(record, dict):
        raise RaglineError(f"{where}: not a JSON object but {type(record).__name__}")
    return where, record


def first_record(path: Path) -> dict[str, Any] | None:
    """The first record of ``path`` (of a JSON lines file: its first line alone), or None
    when it has none or is not records."""
    try:
        if path.suffix == ".json":
            records = read_records(path)
            return records[0][1] if records else None
        with path.open(encoding="utf-8-sig") as f:
            line = next((line for line in f if line.strip()), "")
        record = json.loads(line) if line else None
    except (OSError, UnicodeDecodeError, ValueError, RaglineError):
        return None
    return record if isinstance(record, dict) else None


def need(record: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``record[key]``, which must be of ``kind``; else an error naming ``where`` and why."""
    if key not in record:
        raise RaglineError(f"{where}: no {key!r} field")
    value = record[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise RaglineError(f"{where}: {key!r} must be {names}, not {type(value).__name__}")
    return value


def record_id(record: dict[str, Any], where: str) -> str:
    """A record's id: ``_id`` (HotpotQA, 2WikiMultiHopQA) or ``id``."""
    raw = record.get("_id", record.get("id"))
    if not isinstance(raw, str | int) or isinstance(raw, bool) or raw == "":
        raise RaglineError(f"{where}: no '_id' or 'id' field (a string)")
    return str(raw)


@dataclass
class Paragraphs:
    """The documents of a data set made of per-question paragraphs: one document per
    distinct (title, text), named by its title; a second text under the same title is
    ``"title (2)"``, and so on."""

    documents: list[Document] = field(default_factory=list)
    _ids: dict[tuple[str, str], str] = field(default_factory=dict)
    _titles: dict[str, int] = field(default_factory=dict)

    def add(self, title: str, text: str) -> str:
        """The id of the document holding ``text`` under ``title`` (added if new)."""
        key = (title, text)
        found = self._ids.get(key)
        if found is None:
            count = self._titles[title] = self._titles.get(title, 0) + 1
            found = self._ids[key] = title if count == 1 else f"{title} ({count})"
            self.documents.append(Document(found, text, {"title": title}))
        return found


def fingerprint(path: Path, kind: str) -> str:
    """A short hash of ``path``'s bytes and the format it was read as."""
    digest = hashlib.sha256(path.read_bytes())
    digest.update(kind.encode())
    return digest.hexdigest()[:16]
