"""The ``ragline`` command in a subprocess: JSON shapes of index, search, info and delete.

All knowledge bases here use ``--embedder hash-64`` (model-free), so each call is ~1 s.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ragline import KnowledgeBase

pytestmark = pytest.mark.integration


def parse(result) -> dict:
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout  # exactly one JSON object on stdout
    return json.loads(lines[0])


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, run_cli, write_corpus):
    """A knowledge base built by the CLI from the corpus (year=2020) and an extra folder."""
    root = tmp_path_factory.mktemp("cli")
    ids = write_corpus(root / "corpus")
    extra = root / "extra"
    extra.mkdir()
    (extra / "owls.txt").write_text("Owls hunt mice silently at dusk.", encoding="utf-8")
    (extra / "bees.md").write_text("# Bees\n\nBees dance to share where nectar is.\n")
    kb = root / "kb"
    first = run_cli(
        "index",
        root / "corpus",
        "--kb",
        kb,
        "--embedder",
        "hash-64",
        "--meta",
        "year=2020",
        "--meta",
        "team=blue",
        "--json",
    )
    second = run_cli("index", extra, "--kb", kb, "--meta", "year=2023", "--json")
    return {"root": root, "kb": kb, "ids": ids, "first": first, "second": second}


def test_index_json_shape(indexed):
    first, second = parse(indexed["first"]), parse(indexed["second"])
    for payload in (first, second):
        for key, kind in [
            ("added", int),
            ("updated", int),
            ("unchanged", int),
            ("chunks", int),
            ("errors", list),
            ("documents", int),
        ]:
            assert isinstance(payload[key], kind), key
    assert (first["added"], first["updated"], first["unchanged"]) == (8, 0, 0)
    assert first["errors"] == [] and first["documents"] == 8 and first["chunks"] >= 8
    assert (second["added"], second["documents"]) == (2, 10)
    assert second["total_chunks"] == first["chunks"] + second["chunks"]
    # the stderr of a --json run carries no JSON, stdout nothing else
    assert "{" not in indexed["first"].stderr


def test_search_json_shape(indexed, run_cli):
    payload = parse(run_cli("search", "magma lava basalt", "--kb", indexed["kb"], "--json"))
    assert payload["query"] == "magma lava basalt"
    hits = payload["hits"]
    assert 1 <= len(hits) <= 10
    assert [h["rank"] for h in hits] == list(range(1, len(hits) + 1))
    for hit in hits:
        assert {"rank", "score", "doc_id", "chunk_id", "text", "span", "metadata", "scores"} <= set(
            hit
        )
        assert isinstance(hit["score"], float)
        start, end = hit["span"]
        assert isinstance(start, int) and isinstance(end, int) and 0 <= start < end
        assert len(hit["text"]) == end - start
        assert hit["chunk_id"].startswith(hit["doc_id"] + "#")
        assert set(hit["scores"]) <= {"dense", "bm25"} and hit["scores"]
    top = hits[0]
    assert top["doc_id"] == indexed["ids"]["volcanoes"]
    assert set(top["scores"]) == {"dense", "bm25"}
    assert top["metadata"]["year"] == 2020 and top["metadata"]["team"] == "blue"
    assert top["metadata"]["title"] == "Volcanoes"
    with KnowledgeBase.open(indexed["kb"]) as kb:
        document = kb.document(top["doc_id"])
        assert document.text[top["span"][0] : top["span"][1]] == top["text"]


def test_search_mode_and_k(indexed, run_cli):
    payload = parse(
        run_cli(
            "search",
            "kitten purr whiskers",
            "--kb",
            indexed["kb"],
            "--search-mode",
            "bm25",
            "-k",
            "2",
            "--json",
        )
    )
    hits = payload["hits"]
    assert len(hits) == 1  # only one document has these words
    assert hits[0]["doc_id"] == indexed["ids"]["cats"]
    assert set(hits[0]["scores"]) == {"bm25"}


def test_search_mode_keeps_its_deprecated_name(indexed, run_cli):
    query = ("search", "kitten purr whiskers", "--kb", indexed["kb"], "-k", "2", "--json")
    old = run_cli(*query, "--mode", "bm25")
    assert parse(old) == parse(run_cli(*query, "--search-mode", "bm25"))
    assert old.stderr.strip().splitlines() == [
        "ragline: note: `search --mode` is deprecated; use --search-mode"
    ]
    clash = run_cli(*query, "--mode", "bm25", "--search-mode", "dense")
    assert clash.returncode == 1 and "disagree" in clash.stderr


def test_info_json_shape(indexed, run_cli):
    payload = parse(run_cli("info", "--kb", indexed["kb"], "--json"))
    assert payload["documents"] == 10
    assert isinstance(payload["chunks"], int) and payload["chunks"] >= 10
    assert payload["embedder"] == "hash-64"
    assert payload["index"] == "SQfp16"  # "auto" on a small corpus: exact search, float16
    assert payload["dim"] == 64


def test_human_output_goes_to_stdout(indexed, run_cli):
    result = run_cli("info", "--kb", indexed["kb"])
    assert result.returncode == 0
    assert result.stderr == ""
    assert "documents: 10" in result.stdout
    assert "hash-64" in result.stdout


def test_filter_by_cli_metadata(indexed, run_cli):
    kb = indexed["kb"]
    everything = "owls mice bees nectar magma kitten sourdough knight coral steam tomatoes"
    payload = parse(
        run_cli("search", everything, "--kb", kb, "--filter", "year=2023", "-k", "20", "--json")
    )
    assert {h["doc_id"] for h in payload["hits"]} == {"extra/owls.txt", "extra/bees.md"}
    payload = parse(
        run_cli(
            "search",
            everything,
            "--kb",
            kb,
            "--filter",
            "year<2021",
            "--filter",
            "doc_id=chess|oceans",
            "--search-mode",
            "dense",
            "-k",
            "20",
            "--json",
        )
    )
    assert {h["doc_id"] for h in payload["hits"]} == {"chess", "oceans"}
    assert all(h["metadata"]["year"] == 2020 for h in payload["hits"])
    payload = parse(
        run_cli("search", everything, "--kb", kb, "--filter", "year=2023", "--filter",
                "doc_id!=extra/owls.txt|chess", "-k", "20", "--json")
    )  # fmt: skip
    assert {h["doc_id"] for h in payload["hits"]} == {"extra/bees.md"}


def test_reindex_unchanged_is_a_no_op(indexed, run_cli):
    payload = parse(run_cli("index", indexed["root"] / "corpus", "--kb", indexed["kb"], "--json"))
    assert (payload["added"], payload["updated"], payload["unchanged"]) == (0, 0, 8)
    assert payload["documents"] == 10


def test_delete_then_search(indexed, run_cli, tmp_path: Path):
    kb = tmp_path / "kb"
    shutil.copytree(indexed["kb"], kb)
    (kb / "write.lock").unlink(missing_ok=True)
    chess = indexed["ids"]["chess"]
    result = run_cli("delete", chess, "ghost-id", "--kb", kb, "--json")
    assert result.returncode == 1  # a name that matched nothing; the rest is deleted
    assert json.loads(result.stdout) == {"deleted": 1, "doc_ids": [chess], "missing": ["ghost-id"]}
    payload = parse(
        run_cli("search", "grandmasters sicilian knight", "--kb", kb, "-k", "20", "--json")
    )
    assert chess not in {h["doc_id"] for h in payload["hits"]}
    assert payload["hits"]  # the others are still there
    with KnowledgeBase.open(kb) as opened:
        assert opened.info()["documents"] == 9
        assert opened.document(chess) is None


def test_records_skipped_for_one_reason_are_counted_in_one_line(tmp_path, run_cli):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "owls.txt").write_text("Owls hunt mice silently at dusk.", encoding="utf-8")
    lines = [json.dumps({"question": f"q{n}"}) for n in range(1, 8)]
    (folder / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "two.jsonl").write_text('{"text": "ok"}\n{"title": "x"}\n', encoding="utf-8")
    result = run_cli("index", folder, "--kb", tmp_path / "kb", "--embedder", "hash-64")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"skipped 7 records of {folder / 'questions.jsonl'} (lines 1-7): no 'text' field",
        f"skipped {folder / 'two.jsonl'}:2: no 'text' field",
    ]
