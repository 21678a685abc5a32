"""Retrieval-only multi-hop evaluation: recall per hop on a two-question set, as worked out
by hand, with no generator."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ragline import KnowledgeBase
from ragline.embed.fake import HashEncoder
from ragline.errors import RaglineError
from ragline.evaluate.multihop import evaluate_multihop
from ragline.evaluate.qa import QaDataset, Question

sys.path.insert(0, str(Path(__file__).parents[1] / "generate"))
from test_gen_follow_up import QUESTION, RIVERS  # noqa: E402

DATA = QaDataset(
    "rivers",
    RIVERS,
    [
        Question("chain", QUESTION, ["Ilse Marr"], ["dovul", "marr"]),
        Question("single", "Where does the Brint river rise?", ["Umber hills"], ["brint"]),
        Question("no-support", "What is unasked?", [], []),
    ],
    "fingerprint",
)


def test_recall_per_hop_is_the_share_of_supporting_documents_read(tmp_path: Path) -> None:
    with KnowledgeBase.create(tmp_path / "kb", encoder=HashEncoder()) as kb:
        kb.add(RIVERS)
        results = evaluate_multihop(
            kb, DATA, ["none", "entities"], hops=2, k=2, search_mode="hybrid"
        )
    # By hand. Hop 1 reads the top 2: the chain question finds the Dovul passage and not the
    # painter's (1/2), the single question the Brint passage (1/1): mean 0.75. One hop
    # reading 3 passages finds the painter third (hybrid ranks dovul, vask, marr): 1.0.
    # Entity follow-ups find the painter through "Ketta" (2/2). The Brint question reads the
    # Brint and the Dovul passages; the Dovul's "Ketta" leads to the painter too, so a second
    # hop runs for both questions (3 passages read), and the Brint passage stays read (1/1).
    # The question without supporting passages is not counted.
    assert results["none"] == {
        "recall_hop1": 0.75, "recall_hop2": 1.0, "hops_run": 1.0, "passages_read": 3.0,
    }  # fmt: skip
    assert results["entities"] == {
        "recall_hop1": 0.75, "recall_hop2": 1.0, "hops_run": 2.0, "passages_read": 3.0,
    }  # fmt: skip


def test_an_unknown_follow_up_is_refused_before_retrieving(tmp_path: Path) -> None:
    kb = KnowledgeBase.create(tmp_path / "kb", encoder=HashEncoder())
    with kb, pytest.raises(RaglineError, match="follow-up 'guess': use missing"):
        evaluate_multihop(kb, DATA, ["none", "guess"])


def test_eval_multihop_command_prints_recall_per_hop(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "rivers"
    folder.mkdir()
    corpus = {doc.metadata["title"]: [doc.text] for doc in RIVERS}
    (folder / "rivers_corpus.json").write_text(json.dumps(corpus))
    question = {"_id": "q", "question": QUESTION, "answer": "Ilse Marr",
                "supporting_facts": [["Dovul river", 0], ["Ilse Marr", 0]]}  # fmt: skip
    (folder / "qa_rivers.json").write_text(json.dumps([question]))
    done = run_cli(
        "eval", "multihop", folder, "--follow-up", "none,entities", "-k", "2",
        "--embedder", "hash-64", "--json", env={"RAGLINE_CACHE": str(tmp_path / "cache")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["hops"], report["k"], report["questions"]) == (2, 2, 1)
    assert report["results"]["entities"]["recall_hop2"] == 1.0
    refused = run_cli("eval", "multihop", folder, "--hops", "1")
    assert refused.returncode != 0 and "Invalid value for '--hops'" in refused.stderr
