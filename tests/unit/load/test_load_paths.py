"""load_paths: walking, ids, filters, and bad input reported per file while the rest loads."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ragline.config import LoadConfig
from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load import load_paths
from ragline.load.paths import matches


def make_tree(root: Path) -> Path:
    files = {
        "a.txt": "Alpha text.",
        "b.md": "# Bravo\n\nBody.",
        "c.html": "<title>Charlie</title><p>Charlie page.</p>",
        "data.jsonl": '{"id": "r1", "text": "Record one."}\n',
        "sub/d.txt": "Delta.",
        "sub/deep/e.markdown": "Echo.",
        "sub/f.htm": "<p>Foxtrot.</p>",
        "skip.csv": "not,loaded",
        "image.png": "\x89PNG",
        ".hidden.txt": "Hidden file.",
        ".git/config.txt": "Hidden dir.",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def docs_of(results: list[Any]) -> dict[str, Document]:
    return {r.id: r for r in results if isinstance(r, Document)}


def errors_of(results: list[Any]) -> dict[str, str]:
    return {r.source: r.reason for r in results if isinstance(r, LoadError)}


def test_walks_directory_in_sorted_order_with_stable_ids(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "kb")
    results = list(load_paths(root))
    assert errors_of(results) == {}
    assert [r.id for r in results] == [
        "kb/a.txt",
        "kb/b.md",
        "kb/c.html",
        "r1",
        "kb/sub/d.txt",
        "kb/sub/deep/e.markdown",
        "kb/sub/f.htm",
    ]
    docs = docs_of(results)
    assert docs["kb/b.md"].metadata["title"] == "Bravo"
    assert docs["kb/c.html"].metadata["title"] == "Charlie"
    assert docs["kb/sub/d.txt"].metadata["path"] == str((root / "sub" / "d.txt").resolve())
    assert [r.id for r in load_paths(str(root))] == [r.id for r in results]


def test_ids_do_not_depend_on_how_the_root_is_spelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_tree(tmp_path / "kb")
    monkeypatch.chdir(root / "sub")
    relative = [r.id for r in load_paths(["..", "d.txt", "."])]
    assert relative[:7] == [r.id for r in load_paths(root)]
    assert relative[7:] == ["d.txt", "sub/d.txt", "sub/deep/e.markdown", "sub/f.htm"]


def test_metadata_is_added_to_every_document(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "kb")
    user = {"collection": "demo", "title": "overridden by the loader"}
    docs = docs_of(list(load_paths(root, metadata=user)))
    assert all(d.metadata["collection"] == "demo" for d in docs.values())
    assert docs["kb/a.txt"].metadata["title"] == "a"
    assert user == {"collection": "demo", "title": "overridden by the loader"}


def test_is_a_lazy_stream(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "kb")
    stream = load_paths(root)
    first = next(stream)
    assert isinstance(first, Document) and first.id == "kb/a.txt"
    (root / "sub" / "d.txt").unlink()  # removed after the walk started, before it is read
    rest = list(stream)
    assert errors_of(rest) == {}
    assert "kb/sub/d.txt" not in docs_of(rest)


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        (("*.md", "*.markdown"), (), ["kb/b.md", "kb/sub/deep/e.markdown"]),
        (("sub/**",), (), ["kb/sub/d.txt", "kb/sub/deep/e.markdown", "kb/sub/f.htm"]),
        ((), ("sub/**", "*.jsonl"), ["kb/a.txt", "kb/b.md", "kb/c.html"]),
        (("*.txt",), ("sub",), ["kb/a.txt"]),
        ((), ("deep", "*.htm*"), ["kb/a.txt", "kb/b.md", "r1", "kb/sub/d.txt"]),
        (("**/*.txt",), (), ["kb/a.txt", "kb/sub/d.txt"]),
    ],
)
def test_include_and_exclude(
    tmp_path: Path, include: tuple[str, ...], exclude: tuple[str, ...], expected: list[str]
) -> None:
    root = make_tree(tmp_path / "kb")
    results = list(load_paths(root, include=include, exclude=exclude))
    assert [r.id for r in results] == expected


def test_glob_matching() -> None:
    assert matches("a.md", "*.md")
    assert matches("x/y/a.md", "*.md")
    assert matches("x/y/a.md", "x/**")
    assert matches("x/y/a.md", "y")
    assert matches("x/y/a.md", "x/")
    assert not matches("x/y/a.md", "z/**")
    assert not matches("x/y/a.md", "*.txt")
    assert not matches("xy/a.md", "x")


def test_explicit_file_with_unknown_suffix_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "table.csv").write_text("a,b")
    (tmp_path / "README").write_text("hi")
    results = list(load_paths([tmp_path / "table.csv", tmp_path / "README"]))
    assert errors_of(results) == {
        str(tmp_path / "table.csv"): "unsupported file type .csv",
        str(tmp_path / "README"): "unsupported file type (no suffix)",
    }


def test_explicit_file_gets_its_name_as_id(tmp_path: Path) -> None:
    make_tree(tmp_path / "kb")
    [doc] = load_paths(tmp_path / "kb" / "sub" / "d.txt")
    assert isinstance(doc, Document) and doc.id == "d.txt"
    [doc] = load_paths(tmp_path / "kb" / ".hidden.txt")  # asked for by name: loaded
    assert isinstance(doc, Document) and doc.text == "Hidden file."


def test_every_bad_input_is_reported_and_the_rest_loads(
    tmp_path: Path, make_pdf: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_tree(tmp_path / "kb")
    bad = root / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "blank.md").write_text(" \n\n\t ")
    (bad / "huge.txt").write_text("x" * 5000)
    (bad / "binary.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00\x00")
    (bad / "broken.pdf").write_bytes(b"%PDF-1.7\n% truncated")
    (bad / "good.pdf").write_bytes(make_pdf(["Page one.", "Page two."]))
    (bad / "locked.txt").write_text("Cannot read me.")
    (bad / "records.jsonl").write_text(
        '{"id": "j1", "text": "Fine."}\n{oops\n{"id": "j3", "title": "no text"}\n'
    )
    real_open = pathlib.Path.open

    def deny_locked(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", deny_locked)
    results = list(load_paths([root, tmp_path / "nowhere"], config=LoadConfig(max_file_bytes=1000)))
    assert errors_of(results) == {
        str(bad / "binary.txt"): "binary file, not text",
        str(bad / "blank.md"): "empty file",
        str(bad / "broken.pdf"): errors_of(results)[str(bad / "broken.pdf")],
        str(bad / "empty.txt"): "empty file",
        str(bad / "huge.txt"): "file is 5000 bytes, over the limit of 1000",
        str(bad / "locked.txt"): "permission denied",
        f"{bad / 'records.jsonl'}:2": errors_of(results)[f"{bad / 'records.jsonl'}:2"],
        f"{bad / 'records.jsonl'}:3": "no 'text' field",
        str(tmp_path / "nowhere"): "no such file or directory",
    }
    assert errors_of(results)[str(bad / "broken.pdf")].startswith("corrupt PDF")
    assert errors_of(results)[f"{bad / 'records.jsonl'}:2"].startswith("invalid JSON")
    assert all(str(e).startswith(e.source + ": ") for e in results if isinstance(e, LoadError))
    docs = docs_of(results)
    assert set(docs) == {
        "kb/a.txt", "kb/b.md", "kb/c.html", "r1", "kb/sub/d.txt", "kb/sub/deep/e.markdown",
        "kb/sub/f.htm", "kb/bad/good.pdf", "j1",
    }  # fmt: skip
    assert docs["kb/bad/good.pdf"].page_starts == (0, len("Page one.\n\n"))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_and_folder(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "kb")
    (root / "a.txt").chmod(0)
    (root / "sub").chmod(0)
    try:
        results = list(load_paths(root))
    finally:
        (root / "a.txt").chmod(0o644)
        (root / "sub").chmod(0o755)
    assert errors_of(results) == {
        str(root / "a.txt"): "permission denied",
        str(root / "sub"): "permission denied",
    }
    assert set(docs_of(results)) == {"kb/b.md", "kb/c.html", "r1"}


def test_symlink_loop_terminates(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "kb")
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    ids = [r.id for r in load_paths(root) if isinstance(r, Document)]
    assert "kb/sub/loop/a.txt" not in ids
    assert len(ids) == len(set(ids)) == 7


def test_unlistable_folder_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_tree(tmp_path / "kb")
    real_scandir = os.scandir

    def deny_sub(path: Any) -> Any:
        if Path(path).name == "sub":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", deny_sub)
    results = list(load_paths(root))
    assert errors_of(results) == {str(root / "sub"): "permission denied"}
    assert set(docs_of(results)) == {"kb/a.txt", "kb/b.md", "kb/c.html", "r1"}
