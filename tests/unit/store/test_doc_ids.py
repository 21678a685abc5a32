"""Document ids for files: unique per file, stable across re-indexing, and kept for
knowledge bases made before ids had a root (catalog schema 3)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ragline import KnowledgeBase
from ragline.load import load_paths
from ragline.store.layout import CATALOG_FILE
from ragline.store.migrations import ID_ROOT


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def folders(tmp_path: Path) -> dict[str, Path]:
    """``p1/notes`` and ``p2/notes`` holding ``a.md`` each, and ``elsewhere/extra``."""
    write(tmp_path / "p1" / "notes" / "a.md", "Kestrels hover over the meadow.")
    write(tmp_path / "p1" / "notes" / "sub" / "b.txt", "Voles hide in the grass.")
    write(tmp_path / "p2" / "notes" / "a.md", "Narwhals dive under the sea ice.")
    write(tmp_path / "elsewhere" / "extra" / "c.txt", "Owls hunt at dusk.")
    return {
        "p1": tmp_path / "p1" / "notes",
        "p2": tmp_path / "p2" / "notes",
        "extra": tmp_path / "elsewhere" / "extra",
    }


def ids(kb: KnowledgeBase) -> list[str]:
    return [doc.id for doc in kb.catalog.documents(limit=-1)]


def test_ids_are_relative_to_the_first_parent_then_absolute(tmp_path: Path, make_config) -> None:
    paths = folders(tmp_path)
    with KnowledgeBase.create(tmp_path / "kb", make_config()) as kb:
        kb.add(paths["p1"])
        kb.add(paths["p2"])
        kb.add(paths["p1"].parent / "notes" / "a.md")  # the same file, given directly
        assert kb.catalog.get_meta(ID_ROOT) == str(tmp_path / "p1")
        assert ids(kb) == sorted(
            [(paths["p2"] / "a.md").as_posix(), "notes/a.md", "notes/sub/b.txt"]
        )


def test_a_relative_id_held_by_another_file_is_not_reused(tmp_path: Path, make_config) -> None:
    paths = folders(tmp_path)
    with KnowledgeBase.create(tmp_path / "kb", make_config()) as kb:
        kb.add(paths["p1"])
        kb.delete(["notes/a.md"])
        kb.add(list(load_paths(paths["p2"])))  # made elsewhere: id notes/a.md, p2's path
        report = kb.add(paths["p1"])
        assert (report.added, report.unchanged) == (1, 1)
        assert (paths["p1"] / "a.md").as_posix() in ids(kb)


def downgrade_to_schema_3(kb_dir: Path) -> None:
    """Make a current catalog look like one an older ragline wrote."""
    with sqlite3.connect(kb_dir / CATALOG_FILE) as db:
        db.execute("DROP INDEX documents_by_path")
        db.execute("DELETE FROM meta WHERE key = ?", (ID_ROOT,))
        db.execute("PRAGMA user_version = 3")


def test_migration_records_the_root_and_old_ids_stay_valid(tmp_path: Path, make_config) -> None:
    paths = folders(tmp_path)
    kb_dir = tmp_path / "kb"
    with KnowledgeBase.create(kb_dir, make_config()) as kb:
        # ids as older versions made them: each folder's name plus the path below it
        kb.add(list(load_paths([paths["p1"], paths["extra"]])))
        old_ids = ids(kb)
    assert old_ids == ["extra/c.txt", "notes/a.md", "notes/sub/b.txt"]
    downgrade_to_schema_3(kb_dir)
    with KnowledgeBase.open(kb_dir) as kb:
        assert kb.catalog.get_meta(ID_ROOT) == str(tmp_path / "p1")
        again = kb.add([paths["p1"], paths["extra"]])
        assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
        added = kb.add(paths["p2"])
        assert (added.added, added.updated) == (1, 0)
        assert ids(kb) == sorted([*old_ids, (paths["p2"] / "a.md").as_posix()])
