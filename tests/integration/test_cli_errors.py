"""The ``ragline`` command on bad input: every problem reported, nothing stored is lost.

Exit codes per DESIGN.md: 0 ok (bad files are reported, the rest indexed), 1 user error with a
one-line ``ragline: error:`` reason, or an index run where nothing could be indexed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ragline import Document, KnowledgeBase

pytestmark = pytest.mark.integration

MAX_SIZE = 2000


def parse(result, code: int = 0) -> dict:
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0])


def write_bad_files(folder: Path) -> dict[str, str]:
    """One file per kind of bad input; returns file name -> a word its reason must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4 garbage")
    (folder / "x.txt").write_bytes(b"looks like text\x00\x00\x01\x02 but has NUL bytes")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_bytes(b"  \n\n\t \n")
    # bytes that are neither UTF-8 nor any plausible single-byte text
    (folder / "undecodable.txt").write_bytes(bytes(range(0x80, 0x100)) * 4)
    (folder / "huge.txt").write_text("big " * (MAX_SIZE // 2), encoding="utf-8")
    return {
        "corrupt.pdf": "pdf",
        "x.txt": "binary",
        "empty.txt": "empty",
        "blank.md": "empty",
        "undecodable.txt": "binary",
        "huge.txt": str(MAX_SIZE),
    }


def one_line_error(result) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ragline: error: "), lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


def test_bad_inputs_are_reported_and_good_files_indexed(tmp_path: Path, run_cli):
    folder = tmp_path / "inbox"
    expected = write_bad_files(folder)
    (folder / "good.txt").write_text("Otters crack shellfish on their bellies.", "utf-8")
    (folder / "good.md").write_text("# Herons\n\nHerons stalk frogs in the shallows.\n", "utf-8")
    result = run_cli(
        "index",
        folder,
        "--kb",
        tmp_path / "kb",
        "--embedder",
        "hash-64",
        "--max-file-size",
        str(MAX_SIZE),
        "--json",
    )
    payload = parse(result, 0)
    assert payload["added"] == 2 and payload["documents"] == 2
    errors = {Path(e["source"]).name: e for e in payload["errors"]}
    assert set(errors) == set(expected)
    for name, word in expected.items():
        error = errors[name]
        assert error["source"] == str(folder / name)  # the path, as found
        assert word in error["reason"].lower(), error
    with KnowledgeBase.open(tmp_path / "kb") as kb:
        for query, doc_id in [
            ("otters shellfish", "inbox/good.txt"),
            ("herons frogs", "inbox/good.md"),
        ]:
            assert kb.search(query, mode="bm25", k=1)[0].chunk.doc_id == doc_id
        assert kb.info()["documents"] == 2


def test_human_output_lists_skipped_files(tmp_path: Path, run_cli):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "good.txt").write_text("Otters crack shellfish.", "utf-8")
    (folder / "empty.txt").write_bytes(b"")
    result = run_cli("index", folder, "--kb", tmp_path / "kb", "--embedder", "hash-64")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("indexed 1 new and 0 changed documents")
    assert result.stderr.strip().splitlines() == [f"skipped {folder / 'empty.txt'}: empty file"]


@pytest.mark.skipif(
    os.geteuid() == 0,
    reason="running as root: file permissions do not block reads, so chmod 000 cannot "
    "make a file unreadable",
)
def test_unreadable_file_is_reported(tmp_path: Path, run_cli):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "good.txt").write_text("Otters crack shellfish.", "utf-8")
    locked = folder / "locked.txt"
    locked.write_text("secret", "utf-8")
    locked.chmod(0)
    try:
        payload = parse(
            run_cli("index", folder, "--kb", tmp_path / "kb", "--embedder", "hash-64", "--json"), 0
        )
    finally:
        locked.chmod(0o644)
    assert payload["added"] == 1
    [error] = payload["errors"]
    assert error["source"] == str(locked)
    assert "permission denied" in error["reason"]


def test_nothing_indexable_exits_1_and_loses_nothing(tmp_path: Path, run_cli):
    kb = tmp_path / "kb"
    good = tmp_path / "good"
    good.mkdir()
    (good / "a.txt").write_text("Walruses haul out on Arctic beaches.", "utf-8")
    (good / "b.txt").write_text("Puffins nest in burrows on sea cliffs.", "utf-8")
    first = parse(run_cli("index", good, "--kb", kb, "--embedder", "hash-64", "--json"), 0)
    assert first["added"] == 2

    bad = tmp_path / "bad"
    expected = write_bad_files(bad)
    result = run_cli("index", bad, "--kb", kb, "--max-file-size", str(MAX_SIZE), "--json")
    payload = parse(result, 1)
    assert payload["added"] == 0 and payload["documents"] == 2
    assert {Path(e["source"]).name for e in payload["errors"]} == set(expected)

    # a nonexistent path is a one-line error, whatever else is given
    for paths in ([tmp_path / "nope"], [good, tmp_path / "nope"]):
        refused = run_cli("index", *paths, "--kb", kb, "--json")
        assert (
            one_line_error(refused)
            == f"ragline: error: {tmp_path / 'nope'}: no such file or directory"
        )
        assert refused.stdout == ""

    with KnowledgeBase.open(kb) as opened:
        assert opened.info()["documents"] == 2
        assert opened.search("walruses arctic", mode="bm25")[0].chunk.doc_id == "good/a.txt"
        assert opened.search("puffins burrows", mode="dense")[0].chunk.doc_id == "good/b.txt"


def test_search_missing_kb_is_a_one_line_error(tmp_path: Path, run_cli):
    line = one_line_error(run_cli("search", "anything", "--kb", tmp_path / "missing"))
    assert str(tmp_path / "missing") in line
    one_line_error(run_cli("info", "--kb", tmp_path / "missing", "--json"))


def test_bad_filter_expression_is_a_one_line_error(tmp_path: Path, run_cli, make_config):
    with KnowledgeBase.create(tmp_path / "kb", make_config()) as kb:
        kb.add([Document("a", "Some text.")])
    line = one_line_error(
        run_cli("search", "text", "--kb", tmp_path / "kb", "--filter", "no-operator-here")
    )
    assert "no-operator-here" in line


def test_unknown_answer_style_is_a_one_line_error(tmp_path: Path, run_cli, make_config):
    with KnowledgeBase.create(tmp_path / "kb", make_config()) as kb:
        kb.add([Document("a", "Tides follow the Moon.")])
    ask = ("ask", "What do tides follow?", "--kb", tmp_path / "kb", "--generator", "extractive")
    line = one_line_error(run_cli(*ask, "--answer-style", "essay"))
    assert "answer style 'essay': use sentence, short" in line
    assert parse(run_cli(*ask, "--answer-style", "short", "--json"))["citations"]


def test_second_cli_writer_is_refused_while_locked(tmp_path: Path, run_cli, make_config):
    with KnowledgeBase.create(tmp_path / "kb", make_config()) as kb:
        kb.add([Document("a", "Some text.")])
        folder = tmp_path / "more"
        folder.mkdir()
        (folder / "b.txt").write_text("More text.", "utf-8")
        line = one_line_error(run_cli("index", folder, "--kb", tmp_path / "kb"))
        assert "another process is writing" in line
        assert kb.info()["documents"] == 1


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (("search", "text", "-k", "-5"), "'-k' / '--k'"),
        (("search", "text", "-k", "0"), "'-k' / '--k'"),
        (("search", "text", "--nprobe", "0"), "'--nprobe'"),
        (("ask", "why?", "--hops", "0"), "'--hops'"),
        (("ask", "why?", "-k", "0"), "'-k' / '--k'"),
        (("index", "docs", "--chunk-size", "0"), "'--chunk-size'"),
        (("bench", "query", "--queries", "q.txt", "--threads", "0"), "'--threads'"),
        (("eval", "qa", "squad.json", "--held-out", "1.5"), "'--held-out'"),
    ],
)
def test_bad_numbers_are_one_line_errors(args, flag, tmp_path: Path, run_cli):
    kb = () if args[0] == "eval" else ("--kb", tmp_path / "kb")
    line = one_line_error(run_cli(*args, *kb, cwd=tmp_path))
    assert f"Invalid value for {flag}" in line
    assert not (tmp_path / "kb").exists()


def test_empty_query_and_question_are_one_line_errors(tmp_path: Path, run_cli, make_config):
    with KnowledgeBase.create(tmp_path / "kb", make_config()) as kb:
        kb.add([Document("a", "Some text.")])
    line = one_line_error(run_cli("search", "", "--kb", tmp_path / "kb"))
    assert line == "ragline: error: the query is empty"
    line = one_line_error(run_cli("ask", "  ", "--kb", tmp_path / "kb", "--json"))
    assert line == "ragline: error: the question is empty"


def test_nonexistent_path_creates_no_knowledge_base(tmp_path: Path, run_cli):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Otters crack shellfish.", "utf-8")
    result = run_cli("index", tmp_path / "docs", tmp_path / "typo", "--kb", tmp_path / "kb")
    assert (
        one_line_error(result) == f"ragline: error: {tmp_path / 'typo'}: no such file or directory"
    )
    assert not (tmp_path / "kb").exists()


def test_changing_a_build_option_names_both_values(tmp_path: Path, run_cli):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Otters crack shellfish.", "utf-8")
    kb = tmp_path / "kb"
    built = run_cli("index", docs, "--kb", kb, "--embedder", "hash-64", "--chunk-size", "64")
    assert built.returncode == 0, built.stderr
    line = one_line_error(run_cli("index", docs, "--kb", kb, "--chunk-size", "128", "--json"))
    assert line.startswith(f"ragline: error: {kb} was built with --chunk-size 64, not 128: ")
    same = run_cli("index", docs, "--kb", kb, "--chunk-size", "64", "--json")
    assert parse(same)["unchanged"] == 1
