"""The multi-hop sets: HotpotQA without title mentions, and SQuAD questions chained through
a shared name (the saved set is what the maker makes, and each chain holds together)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragline.bench.multihop_sets import (
    NEUTRAL,
    SQUAD_CHAINS,
    describe,
    squad_chain_folder,
    squad_chains,
    titlefree_hotpotqa,
    without_titles,
)
from ragline.evaluate.qa import load_qa
from ragline.generate.links import TitleIndex

SQUAD = Path("/work/shared/data/squad2-dev/dev-v2.0.json")

CORPUS = {
    "Leland, North Carolina": ["Leland is a town. Maximum Overdrive was shot in Leland."],
    "Maximum Overdrive": ["Maximum Overdrive is a 1986 horror film directed by Stephen King."],
    "Stephen King": ["Stephen King is an American author of horror novels."],
    "United (album)": ["United is a 1986 album, named after the United States."],
}


def test_other_documents_name_a_title_by_a_description_instead() -> None:
    out = without_titles(CORPUS)
    assert out["Leland, North Carolina"] == [
        "Leland is a town. a 1986 horror film was shot in Leland."
    ]
    assert out["Maximum Overdrive"] == [
        "Maximum Overdrive is a 1986 horror film directed by an American author."
    ]
    # a document keeps its own title; "United States" is a longer name, not the album
    assert out["United (album)"] == CORPUS["United (album)"]
    index = TitleIndex((title, title) for title in out)
    named = {t: set(index.named_in(s)) - {t} for t, s in out.items()}
    assert named == {t: set() for t in out}


def test_a_document_that_says_not_what_it_is_is_a_related_subject() -> None:
    assert describe("Born in 1950, she wrote novels.") == NEUTRAL
    assert describe("Kur was the underworld, a place of dust.") == "the underworld"


def test_titlefree_folder_loads_as_hotpotqa(tmp_path: Path) -> None:
    source = tmp_path / "hotpot"
    source.mkdir()
    (source / "tiny_corpus.json").write_text(json.dumps(CORPUS))
    question = {
        "_id": "q",
        "question": "Who directed the film shot in Leland?",
        "answer": "Stephen King",
        "supporting_facts": [["Maximum Overdrive", 0]],
    }
    (source / "qa_tiny.json").write_text(json.dumps([question]))
    report = titlefree_hotpotqa(source, tmp_path / "out")
    assert report == {"documents": 4, "changed": 2, "naming_before": 2, "naming_after": 0}
    data = load_qa(tmp_path / "out")
    assert [q.supporting for q in data.questions] == [["Maximum Overdrive"]]


SQUAD_DATA = {
    "data": [
        {
            "title": "Normans",
            "paragraphs": [
                {
                    "context": "The Normans gave their name to Normandy, a region in France.",
                    "qas": [
                        {
                            "id": "a",
                            "question": "In what country is Normandy?",
                            "answers": [{"text": "France", "answer_start": 55}],
                        },  # fmt: skip
                    ],
                }
            ],
        },
        {
            "title": "Paris",
            "paragraphs": [
                {
                    "context": "Paris is the capital of France and lies on the Seine.",
                    "qas": [
                        {
                            "id": "b",
                            "question": "What is the capital of France?",
                            "answers": [{"text": "Paris", "answer_start": 0}],
                        },  # fmt: skip
                        {
                            "id": "c",
                            "question": "What river is in New France?",
                            "answers": [{"text": "Seine", "answer_start": 47}],
                        },  # fmt: skip
                    ],
                }
            ],
        },
    ]
}


def test_squad_questions_chain_through_the_first_answer() -> None:
    (chain,) = squad_chains(SQUAD_DATA)
    assert chain["question"] == (
        "What is the capital of X? Here X is the answer to: In what country is Normandy?"
    )
    assert chain["answer"] == "Paris"
    assert chain["supporting_facts"] == [["Normans#0", 0], ["Paris#0", 0]]


@pytest.mark.slow  # about a minute: reads the SQuAD file and pairs all its questions
@pytest.mark.skipif(not SQUAD.is_file(), reason="needs ../shared/data/squad2-dev")
def test_saved_squad_chains_are_what_the_maker_makes(tmp_path: Path) -> None:
    chains = squad_chains(json.loads(SQUAD.read_text(encoding="utf-8")))
    assert chains == json.loads(SQUAD_CHAINS.read_text(encoding="utf-8"))
    assert 50 <= len(chains) <= 100
    squad_chain_folder(SQUAD, tmp_path / "chains")
    data = load_qa(tmp_path / "chains")
    texts = {d.id: d.text for d in data.documents}
    for chain, question in zip(chains, data.questions, strict=True):
        first, _ = chain["parts"]
        (bridge_doc, _), (answer_doc, _) = chain["supporting_facts"]
        assert question.supporting == sorted([bridge_doc, answer_doc])
        assert first["answer"] in texts[bridge_doc] and first["answer"] in texts[answer_doc]
        assert question.answers[0] in texts[answer_doc] and "X" in question.text
