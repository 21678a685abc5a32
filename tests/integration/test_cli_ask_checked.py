"""`ragline ask` as a user runs it: a checked answer, an honest abstention with what was
withheld shown on request, and a bad policy refused (extractive generator: no model load)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DOCS = {
    "zorbia.md": "# Zorbia\n\nQuellport is the capital of the island nation of Zorbia. "
    "Zorbia exports salted fish.\n",
    "rufen.md": "# Rufen\n\nGralir is the capital of Rufen. Mount Eldra, 4120 metres high, "
    "rises north of Gralir.\n",
}


@pytest.fixture(scope="module")
def kb(tmp_path_factory, run_cli) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("ask")
    (root / "docs").mkdir()
    for name, text in DOCS.items():
        (root / "docs" / name).write_text(text, encoding="utf-8")
    done = run_cli("index", root / "docs", "--kb", root / "kb", "--embedder", "hash-64")
    assert done.returncode == 0, done.stderr
    return root / "kb"


def test_answer_is_a_checked_sentence_of_the_right_document(kb: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    done = run_cli(
        "ask", "What is the capital of Zorbia?", "--kb", kb, "--generator", "extractive", "--json"
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["generator"] == "extractive" and not answer["abstained"]
    assert answer["answer"].startswith("Quellport is the capital") and not answer["withheld"]
    assert [c["doc_id"] for c in answer["citations"]] == ["docs/zorbia.md"]
    assert all(c["supported"] for c in answer["citations"])
    timings = answer["timings"]
    assert timings["retrieval_s"] > 0 and timings["generate_s"] > 0
    assert timings["support_check_s"] > 0
    # The extractive generator picks a sentence: there is no first token or decoding speed.
    assert timings["first_token_s"] is None and timings["decode_tokens_per_s"] is None


def test_unknown_subject_abstains_and_shows_what_was_withheld(kb: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    done = run_cli("ask", "What is the capital of Norvania?", "--kb", kb, "--show-unsupported")
    assert done.returncode == 0, done.stderr
    assert "The knowledge base does not say." in done.stdout
    assert "Quellport" not in done.stdout.split("UNSUPPORTED")[0]
    for line in done.stdout.splitlines():
        if "UNSUPPORTED" in line:
            assert "Norvania" in line  # the passage lacks the subject asked about


def test_bad_policy_is_one_line_error(kb: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    done = run_cli("ask", "What is the capital of Zorbia?", "--kb", kb, "--unsupported", "maybe")
    assert done.returncode == 1
    assert "unsupported-answer policy 'maybe'" in done.stderr and "Traceback" not in done.stderr
