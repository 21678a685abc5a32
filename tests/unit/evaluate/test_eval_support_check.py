"""The support check's own test: gold answer sentences and their copies with the answer swapped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ragline.errors import RaglineError
from ragline.evaluate.support_check import (
    Perturbation,
    answer_kind,
    build_perturbations,
    load_perturbations,
    score_checker,
    support_report,
)
from ragline.generate.citations import ClaimSupport, LexicalSupport

NORMANS = (
    "Rollo led the Normans. They settled in Normandy in 1011 with 5,000 warriors. "
    "Their duke ruled from Rouen."
)
NORWAY = "Harald Hardrada ruled Norway from 1046. His fleet had 300 ships."
LOIRE = "The Loire flows into the Atlantic Ocean. Its basin is a fertile plain."
MONKS = "Monks copied manuscripts in scriptoria. They wrote on vellum made from calfskin."


def qa(qid: str, question: str, context: str, answer: str | None) -> dict[str, Any]:
    if answer is None:
        return {"id": qid, "question": question, "answers": [], "is_impossible": True}
    start = context.index(answer)
    answers = [{"text": answer, "answer_start": start}]
    return {"id": qid, "question": question, "answers": answers, "is_impossible": False}


def squad() -> dict[str, Any]:
    paragraphs = [
        (
            NORMANS,
            [
                ("n1", "Who led the Normans?", "Rollo"),
                ("n2", "When did the Normans settle in Normandy?", "1011"),
                ("n3", "How many warriors came with the Normans?", "5,000"),
                ("n4", "Who led the Vikings to Iceland?", None),
            ],
        ),
        (
            NORWAY,
            [
                ("h1", "Who ruled Norway from 1046?", "Harald Hardrada"),
                ("h2", "Since when did Harald Hardrada rule Norway?", "1046"),
                ("h3", "How many ships did the fleet of Harald Hardrada have?", "300"),
            ],
        ),
        (
            LOIRE,
            [
                ("l1", "Into what does the Loire flow?", "Atlantic Ocean"),
                ("l2", "What is the basin of the Loire?", "a fertile plain"),
            ],
        ),
        (MONKS, [("m1", "What did the monks write on?", "vellum")]),
    ]
    data = {"data": [{"title": "History", "paragraphs": []}]}
    for context, questions in paragraphs:
        qas = [qa(qid, question, context, answer) for qid, question, answer in questions]
        data["data"][0]["paragraphs"].append({"context": context, "qas": qas})
    broken = qa("x1", "Who led the Normans?", NORMANS, "Rollo")
    broken["answers"][0]["answer_start"] = 3  # does not point at the answer: skipped
    data["data"][0]["paragraphs"][0]["qas"].append(broken)
    return data


def test_answer_kinds() -> None:
    assert [answer_kind(a) for a in ("1011", "in May 1902", "the 1990s")] == ["date"] * 3
    assert [answer_kind(a) for a in ("5,000", "300 ships", "12%", "three")] == ["number"] * 4
    assert [answer_kind(a) for a in ("Rollo", "the Atlantic Ocean")] == ["name"] * 2
    assert [answer_kind(a) for a in ("a fertile plain", "vellum")] == ["other"] * 2


def test_each_answerable_question_gives_its_sentence_and_a_swap_of_the_same_kind() -> None:
    pairs = {pair.id: pair for pair in build_perturbations(squad(), seed=0)}
    assert sorted(pairs) == ["h1", "h2", "h3", "l1", "l2", "m1", "n1", "n2", "n3"]
    n2 = pairs["n2"]
    assert n2.kind == "date" and n2.answer == "1011" and n2.replacement == "1046"
    assert n2.original == "They settled in Normandy in 1011 with 5,000 warriors."
    assert n2.swapped == "They settled in Normandy in 1046 with 5,000 warriors."
    assert n2.passage == NORMANS and n2.question == "When did the Normans settle in Normandy?"
    assert pairs["n3"].swapped == "They settled in Normandy in 1011 with 300 warriors."
    assert pairs["l2"].swapped == "Its basin is vellum."
    for pair in pairs.values():
        assert pair.answer in pair.original
        assert pair.original.replace(pair.answer, pair.replacement, 1) == pair.swapped
        assert pair.replacement.lower() not in pair.passage.lower()
        assert answer_kind(pair.replacement) == pair.kind


def test_swaps_are_seeded_and_a_limit_takes_a_subset_of_the_same_pairs() -> None:
    data = squad()
    assert build_perturbations(data, seed=3) == build_perturbations(data, seed=3)
    whole = {pair.id: pair for pair in build_perturbations(data, seed=3)}
    some = build_perturbations(data, seed=3, limit=4)
    assert len(some) == 4 and all(whole[pair.id] == pair for pair in some)
    names = {build_perturbations(data, seed=s)[0].id for s in range(8)}
    assert len(names) > 1  # the seed also orders the sample


def test_a_question_without_a_replacement_is_left_out() -> None:
    data = squad()
    data["data"][0]["paragraphs"] = data["data"][0]["paragraphs"][:1]
    assert build_perturbations(data) == []


def test_the_claim_check_flags_the_swaps_and_the_lexical_one_does_not() -> None:
    pairs = build_perturbations(squad(), seed=0)
    report = support_report(pairs, {"claim": ClaimSupport(), "lexical": LexicalSupport()})
    assert report["n"] == 9
    assert report["counts"] == {"number": 2, "date": 2, "name": 3, "other": 2}
    claim, lexical = report["results"]["claim"], report["results"]["lexical"]
    assert claim == {"flagged_swapped": 1.0, "passed_original": 1.0, "precision": 1.0}
    assert lexical["passed_original"] == 1.0 and lexical["flagged_swapped"] < 0.5
    assert set(report["results"]) == {
        f"{name}{kind}"
        for name in ("claim", "lexical")
        for kind in ("", " · number", " · date", " · name", " · other")
    }


def test_scores_count_flags_on_both_sides() -> None:
    def pair(original: str, swapped: str) -> Perturbation:
        return Perturbation("q", "Who led?", NORMANS, original, swapped, "x", "y", "name")

    pairs = [
        pair("Rollo led the Normans.", "Harald led the Normans."),  # swap flagged
        pair("Rollo led the Normans.", "Rollo led the Normans."),  # swap missed
        pair("Ragnar led the Normans.", "Harald led the Normans."),  # original flagged too
    ]
    assert score_checker(ClaimSupport(), pairs) == {
        "flagged_swapped": 2 / 3,
        "passed_original": 2 / 3,
        "precision": 2 / 3,
    }
    assert set(score_checker(ClaimSupport(), []).values()) == {0.0}


def test_loading_reports_bad_files(tmp_path: Path) -> None:
    with pytest.raises(RaglineError, match="no such file"):
        load_perturbations(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [{"paragraphs": [{"qas": []}]}]}', encoding="utf-8")
    with pytest.raises(RaglineError, match="not a SQuAD json file"):
        load_perturbations(bad)


@pytest.mark.integration
def test_eval_support_command(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps(squad()), encoding="utf-8")
    done = run_cli("eval", "support", path, "--seed", "0", "--limit", "5", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["n"] == 5 and report["seed"] == 0
    assert report["results"]["claim"]["flagged_swapped"] == 1.0
    table = run_cli("eval", "support", path)
    assert table.returncode == 0 and table.stderr == ""
    assert "lexical · other" in table.stdout and "flagged_swapped" in table.stdout
