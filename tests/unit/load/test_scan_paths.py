"""scan_paths: a nonexistent path is refused before loading, and files of types no loader
reads are counted by extension, so ``index`` can say what it skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load import PathScan, load_paths, scan_paths

DATA = Path(__file__).parents[2] / "data"


def write(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("Some text.\n", encoding="utf-8")


def test_a_folder_of_unknown_types(tmp_path: Path) -> None:
    write(tmp_path, "data/a.csv", "data/b.csv", "data/tool.py", "data/notes.rst")
    scan = scan_paths(tmp_path / "data")
    assert scan == PathScan(1, {".csv": 2, ".py": 1})
    assert scan.summary() == "skipped 3 files of unknown type: .csv (2), .py (1)"
    loaded = list(load_paths(tmp_path / "data"))
    assert [d.id for d in loaded if isinstance(d, Document)] == ["data/notes.rst"]


def test_counts_follow_include_exclude_and_hidden(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "b.CSV", "sub/c.csv", "sub/d.json", ".git/config", "logo.png")
    assert scan_paths(tmp_path).skipped == {".csv": 2, ".json": 1, ".png": 1}
    assert scan_paths(tmp_path, exclude=["sub"]).skipped == {".csv": 1, ".png": 1}
    assert scan_paths(tmp_path, include=["*.md"]) == PathScan(1, {})


def test_saved_data_folders() -> None:
    scan = scan_paths([DATA / "html", DATA / "pdf" / "tide-manual.pdf", DATA / "docx"])
    assert scan == PathScan(9, {})
    assert scan.summary() == ""


def test_one_skipped_file_is_singular(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", "b.xlsx")
    assert scan_paths(tmp_path).summary() == "skipped 1 file of unknown type: .xlsx (1)"


def test_a_nonexistent_path_is_one_error(tmp_path: Path) -> None:
    write(tmp_path, "a.txt")
    with pytest.raises(LoadError) as raised:
        scan_paths([tmp_path / "a.txt", tmp_path / "missing"])
    assert str(raised.value) == f"{tmp_path / 'missing'}: no such file or directory"
    assert "\n" not in str(raised.value)


def test_a_file_given_directly_with_an_unknown_type_is_left_to_loading(tmp_path: Path) -> None:
    write(tmp_path, "table.csv")
    assert scan_paths(tmp_path / "table.csv") == PathScan(0, {})
    [error] = load_paths(tmp_path / "table.csv")
    assert isinstance(error, LoadError)
    assert error.reason == "unsupported file type .csv"
