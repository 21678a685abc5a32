"""Question-answering data sets in their published formats, one reader per format
(:data:`QA_FORMATS`), each ``read(path, limit=...) -> QaDataset`` beside a
``matches(record)`` that recognises its records.

``ragline eval qa`` reads its data set through :func:`load_dataset`: the format from
``--format``, or found (:func:`detect`) from the first record of the file, else ragline's
own data sets (:func:`~ragline.evaluate.qa.load_qa`: SQuAD, a HotpotQA folder with its
corpus, a folder with ``questions.jsonl``). The readers turn every question's paragraphs
into one corpus, so retrieval runs over all of them, and mark the paragraphs that support
each answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ragline.errors import RaglineError
from ragline.evaluate.qa import QUESTIONS_FILE, QaDataset, hotpotqa_files, load_qa
from ragline.evaluate.qa_formats.records import QaFormat, first_record
from ragline.registry import Registry

QA_FORMATS = Registry(
    "QA format",
    {
        "musique": "ragline.evaluate.qa_formats.musique:FORMAT",
        "2wiki": "ragline.evaluate.qa_formats.twowiki:FORMAT",
        "hotpotqa": "ragline.evaluate.qa_formats.hotpotqa:FORMAT",
        "open": "ragline.evaluate.qa_formats.open_qa:FORMAT",
    },
)
"""Format name -> its :class:`~ragline.evaluate.qa_formats.records.QaFormat`, in the order
:func:`detect` tries them."""


def detect(path: Path) -> str | None:
    """The format of the questions at ``path`` (a file, or for ``open`` its folder), or
    None when no reader recognises them."""
    if path.is_dir():  # a folder is the open format's: questions beside their corpus
        from ragline.evaluate.qa_formats.open_qa import questions_file

        try:
            found = detect(questions_file(path))
        except RaglineError:
            return None
        return found if found == "open" else None
    record = first_record(path) if path.suffix in (".json", ".jsonl") else None
    if record is None:
        return None
    return next((name for name in QA_FORMATS.names() if _reader(name).matches(record)), None)


def read_format(path: Path, name: str | None = None, *, limit: int | None = None) -> QaDataset:
    """The data set at ``path`` read as format ``name`` (None: the detected one)."""
    name = name or detect(path)
    if name is None:
        known = ", ".join(QA_FORMATS.names())
        raise RaglineError(f"{path}: not a QA file ragline recognises ({known}); give --format")
    if not path.exists():
        raise RaglineError(f"{path}: no such file")
    dataset: QaDataset = _reader(name).read(path, limit=limit)
    return dataset


def _reader(name: str) -> QaFormat:
    found: QaFormat = QA_FORMATS.load(name)
    return found


def load_dataset(path: str | Path, *, format: str | None = None, **options: Any) -> QaDataset:
    """The QA data set at ``path``: read as ``format``, else as the published format it is
    in, else by :func:`~ragline.evaluate.qa.load_qa` (given ``options``: sampling, limit)."""
    path = Path(path)
    own = (
        path.name == QUESTIONS_FILE
        or (path / QUESTIONS_FILE).is_file()
        or hotpotqa_files(path) is not None
    )
    if format or (not own and detect(path)):
        return read_format(path, format, limit=options.get("limit"))
    return load_qa(path, **options)
