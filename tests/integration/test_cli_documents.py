"""Documents a user can find again, through ``ragline`` in a subprocess: ids that do not
collide, ``delete`` by what was typed, ``ls`` and ``show``.

Knowledge bases here use ``--embedder hash-64`` (model-free), so each call is ~1 s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def parse(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def two_notes(tmp_path: Path, run_cli) -> dict[str, Path]:
    """``p1/notes/a.md`` and ``p2/notes/a.md`` (same folder and file names, different
    content) indexed one after the other into one knowledge base."""
    write(tmp_path / "p1" / "notes" / "a.md", "# Alpha\n\nKestrels hover over the meadow.\n")
    write(tmp_path / "p2" / "notes" / "a.md", "# Beta\n\nNarwhals dive under the sea ice.\n")
    kb = tmp_path / "kb"
    parse(
        run_cli("index", tmp_path / "p1" / "notes", "--kb", kb, "--embedder", "hash-64", "--json")
    )
    return {"root": tmp_path, "kb": kb}


def test_same_folder_name_twice_keeps_both_documents(two_notes, run_cli):
    root, kb = two_notes["root"], two_notes["kb"]
    second = parse(run_cli("index", root / "p2" / "notes", "--kb", kb, "--json"))
    assert (second["added"], second["updated"], second["documents"]) == (1, 0, 2)
    for query, folder in [("kestrels meadow", "p1"), ("narwhals sea ice", "p2")]:
        hits = parse(run_cli("search", query, "--kb", kb, "--mode", "bm25", "--json"))["hits"]
        assert hits[0]["metadata"]["path"] == str(root / folder / "notes" / "a.md")
    again = parse(
        run_cli("index", root / "p1" / "notes", root / "p2" / "notes", "--kb", kb, "--json")
    )
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 2)
