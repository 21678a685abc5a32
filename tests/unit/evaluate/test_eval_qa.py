"""evaluate/qa.py: the folder data-set loader (and the fictional-facts suite it loads), and
the answer metrics of ``evaluate_answers`` scored on hand-made answers (no model)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ragline import KnowledgeBase
from ragline.documents import Answer, Chunk, Citation, Document, Hit
from ragline.embed.fake import HashEncoder
from ragline.errors import RaglineError
from ragline.evaluate.qa import (
    QUESTIONS_FILE,
    QaDataset,
    Question,
    contains_answer,
    evaluate_answers,
    judge,
    load_folder,
    load_qa,
)
from ragline.evaluate.qa_metrics import normalize_answer

SUITE = Path(__file__).parents[2] / "data" / "fictional"


def _record(qid: str = "q1", **fields: Any) -> dict[str, Any]:
    record = {"id": qid, "question": "Where is Zorl?", "answers": ["Brask"]}
    return {**record, "doc_ids": ["facts/zorl.md"], **fields}


def _folder(tmp_path: Path, lines: list[str]) -> Path:
    root = tmp_path / "facts"
    (root / "sub").mkdir(parents=True)
    (root / "zorl.md").write_text("# Zorl\n\nZorl is a lake in Brask.\n", encoding="utf-8")
    (root / "sub" / "brask.txt").write_text("Brask is a town on Lake Zorl.\n", encoding="utf-8")
    (root / QUESTIONS_FILE).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return root


# ---- the loader ------------------------------------------------------------------------


def test_folder_documents_are_named_as_the_knowledge_base_names_them(tmp_path: Path) -> None:
    root = _folder(tmp_path, [json.dumps(_record())])
    data = load_qa(root)
    assert data.name == "facts"
    assert sorted(d.id for d in data.documents) == ["facts/sub/brask.txt", "facts/zorl.md"]
    with KnowledgeBase.create(tmp_path / "kb", encoder=HashEncoder()) as kb:
        kb.add(root, exclude=[QUESTIONS_FILE])
        indexed = sorted(kb.catalog.doc_ids_where({}))
    assert indexed == sorted(d.id for d in data.documents)
    zorl = next(d for d in data.documents if d.id == "facts/zorl.md")
    assert zorl.metadata["title"] == "Zorl"  # through the Markdown loader, as indexing does


def test_folder_questions_keep_answers_and_gold_documents(tmp_path: Path) -> None:
    lines = [
        json.dumps(_record("q1")),
        "",
        json.dumps(_record("q2", question="Who owns Zorl?", answers=[], doc_ids=[])),
    ]
    data = load_qa(_folder(tmp_path, lines))
    assert data.questions == [
        Question("q1", "Where is Zorl?", ["Brask"], ["facts/zorl.md"]),
        Question("q2", "Who owns Zorl?", [], []),
    ]
    assert load_qa(tmp_path / "facts" / QUESTIONS_FILE).questions == data.questions
    assert [q.id for q in load_qa(tmp_path / "facts", limit=1).questions] == ["q1"]


def test_folder_fingerprint_follows_documents_and_questions(tmp_path: Path) -> None:
    root = _folder(tmp_path, [json.dumps(_record())])
    before = load_folder(root).fingerprint
    assert load_folder(root).fingerprint == before
    (root / "zorl.md").write_text("# Zorl\n\nZorl is a lake in Vell.\n", encoding="utf-8")
    after_document = load_folder(root).fingerprint
    assert after_document != before
    (root / QUESTIONS_FILE).write_text(json.dumps(_record("q9")) + "\n", encoding="utf-8")
    assert load_folder(root).fingerprint not in {before, after_document}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "not a JSON object but list"),
        (json.dumps({"id": "q2", "question": "Q?", "answers": []}), "no 'doc_ids' field"),
        (json.dumps(_record("q2", question=" ")), "'question' must be a non-empty string"),
        (json.dumps(_record("q2", answers="Brask")), "'answers' must be a list"),
        (json.dumps(_record("q2", doc_ids=[3])), "'doc_ids' must be a list"),
        (json.dumps(_record("q2", doc_ids=["zorl.md"])), "doc id 'zorl.md' is no document"),
        (json.dumps(_record("q2", doc_ids=[])), "needs the 'doc_ids'"),
        (json.dumps(_record("q1")), "question id 'q1' repeated"),
    ],
)
def test_malformed_record_names_file_and_line(tmp_path: Path, line: str, reason: str) -> None:
    root = _folder(tmp_path, [json.dumps(_record("q1")), "", line])
    with pytest.raises(RaglineError) as error:
        load_qa(root)
    message = str(error.value)
    assert message.startswith(f"{root / QUESTIONS_FILE}:3: ")
    assert reason in message
    assert "\n" not in message


def test_folder_without_questions_or_documents_is_refused(tmp_path: Path) -> None:
    root = _folder(tmp_path, [])
    with pytest.raises(RaglineError, match=f"{QUESTIONS_FILE}: no questions$"):
        load_qa(root)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / QUESTIONS_FILE).write_text(json.dumps(_record()) + "\n", encoding="utf-8")
    with pytest.raises(RaglineError, match=f"empty: no documents beside {QUESTIONS_FILE}"):
        load_qa(empty)


def test_unloadable_document_is_an_error_naming_it(tmp_path: Path) -> None:
    root = _folder(tmp_path, [json.dumps(_record())])
    (root / "blank.md").write_text("  \n", encoding="utf-8")
    with pytest.raises(RaglineError, match=r"blank\.md: empty file"):
        load_qa(root)


def test_folder_of_neither_format_names_the_three(tmp_path: Path) -> None:
    with pytest.raises(RaglineError, match=f"or a folder with {QUESTIONS_FILE}"):
        load_qa(tmp_path)


# ---- the fictional-facts suite ---------------------------------------------------------


@pytest.fixture(scope="module")
def suite() -> QaDataset:
    return load_qa(SUITE)


def test_suite_composition(suite: QaDataset) -> None:
    answerable = [q for q in suite.questions if q.answers]
    assert len(suite.documents) >= 28
    assert len(suite.questions) == 64
    assert len(answerable) >= 52
    assert len(suite.questions) - len(answerable) >= 12
    assert all(d.id.startswith("fictional/") and d.id.endswith(".md") for d in suite.documents)
    assert len({d for q in answerable for d in q.supporting}) >= 25


def test_suite_gold_documents_state_the_gold_answer(suite: QaDataset) -> None:
    text = {d.id: d.text for d in suite.documents}
    for question in suite.questions:
        for doc_id in question.supporting:
            assert contains_answer(text[doc_id], question.answers), (question.id, doc_id)


def test_suite_documents_have_a_title_and_name_each_other(suite: QaDataset) -> None:
    titles = {d.id: d.metadata["title"] for d in suite.documents}
    for document in suite.documents:
        assert document.text.startswith(f"# {titles[document.id]}\n")
        others = [t for doc_id, t in titles.items() if doc_id != document.id]
        body = document.text.split("\n", 1)[1]
        assert any(title in body for title in others), document.id


def test_suite_unanswerable_entities_appear_nowhere_but_lookalikes_do(suite: QaDataset) -> None:
    corpus = normalize_answer(" ".join(d.text for d in suite.documents))
    for name, lookalike in [
        ("Ustravia", "Ustravine"),
        ("Keltorro Shipping", "Keltorro Mining"),
        ("Dremmisk River", "Dulvask River"),
    ]:
        assert normalize_answer(name) not in corpus
        assert normalize_answer(lookalike) in corpus


# ---- the metrics -----------------------------------------------------------------------


def _citation(doc_id: str, supported: bool = True) -> Citation:
    return Citation(1, f"{doc_id}#0", doc_id, (0, 10), supported=supported)


class _ScriptedKb:
    """Stands in for a KnowledgeBase: ``ask`` returns the answer scripted for the question."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def ask(self, question: str, **options: Any) -> Answer:
        self.asked.append((question, options))
        return self.answers[question]


QUESTIONS = [
    Question("a1", "Capital of Zorbia?", ["Quellport"], ["zorbia.md", "quellport.md"]),
    Question("a2", "Height of Eldra?", ["3,412 metres", "3,412"], ["eldra.md"]),
    Question("a3", "Founder of Brask?", ["Ilo Venn"], ["brask.md"]),
    Question("a4", "Lake of the Dovul?", ["Lake Kafen"], ["dovul.md"]),
    Question("u1", "Founder of Quell Foods?", [], []),
    Question("u2", "Boiling point on Mars?", [], []),
    Question("u3", "Capital of Zorbija?", [], []),
]


def _answers() -> dict[str, Answer]:
    def answer(text: str, *citations: Citation, abstained: bool = False) -> Answer:
        passage = Hit(Chunk("zorbia.md#0", "zorbia.md", "Zorbia.", 0, 7), 1.0, 1, "dense")
        return Answer("", text, list(citations), [passage], abstained=abstained)

    return {
        # right and cited: the citation names one of the two gold documents
        "Capital of Zorbia?": answer("The capital is Quellport [1].", _citation("quellport.md")),
        # right, but the citation points elsewhere: not correct_cited
        "Height of Eldra?": answer("3,412 metres [1].", _citation("brask.md")),
        # wrong entity, cited and marked supported: the failure wrong_supported counts
        "Founder of Brask?": answer("Ilo Vennard [1].", _citation("brask.md")),
        # abstained on an answerable question: neither right nor a wrong answer
        "Lake of the Dovul?": answer("The knowledge base does not say.", abstained=True),
        # answered an unanswerable question, one of two citations unsupported: not counted
        "Founder of Quell Foods?": answer(
            "Ilo Venn [1][2].", _citation("brask.md"), _citation("quell.md", supported=False)
        ),
        # answered an unanswerable question with every citation supported: counted
        "Boiling point on Mars?": answer("About 0 degrees [1].", _citation("eldra.md")),
        "Capital of Zorbija?": answer("I don't know."),
    }


def test_contains_answer_matches_whole_normalized_words() -> None:
    assert contains_answer("Founded by Ilo Venn in 1902.", ["Ilo Venn"])
    assert contains_answer("THE ysel-mark", ["ysel mark", "x"]) is False  # hyphen joins words
    assert not contains_answer("Ilo Vennard", ["Ilo Venn"])
    assert not contains_answer("anything", [])
    assert not contains_answer("", ["a"])


def test_judge_verdicts() -> None:
    answers = _answers()
    verdicts = {q.id: judge(q, answers[q.text]) for q in QUESTIONS}
    assert verdicts["a1"].correct and verdicts["a1"].cites_gold
    assert verdicts["a2"].correct and not verdicts["a2"].cites_gold
    assert verdicts["a3"].wrong_supported and not verdicts["a3"].correct
    assert verdicts["a4"].abstained and not verdicts["a4"].wrong
    assert verdicts["u1"].wrong and not verdicts["u1"].all_supported
    assert verdicts["u2"].wrong_supported
    assert verdicts["u3"].abstained and not verdicts["u3"].wrong_supported


def test_evaluate_answers_metrics_on_scripted_answers() -> None:
    kb = _ScriptedKb(_answers())
    data = QaDataset("scripted", [Document("zorbia.md", "Zorbia.")], QUESTIONS, "f")
    seen: list[str] = []
    results = evaluate_answers(
        kb, data, ["plain"], on_answer=lambda mode, q, a: seen.append(q.id), k=3
    )
    metrics = results["plain"]
    assert seen == [q.id for q in QUESTIONS]
    assert kb.asked[0] == ("Capital of Zorbia?", {"mode": "plain", "k": 3})
    assert metrics["answerable"] == 4 and metrics["unanswerable"] == 3
    assert metrics["correct_cited"] == pytest.approx(1 / 4)
    assert metrics["wrong_supported"] == 2
    assert metrics["abstain_unanswerable"] == pytest.approx(1 / 3)
    assert metrics["answerable_em"] == pytest.approx(1 / 4)  # only "3,412 metres" is exact
    # F1 per answerable question: 0.5 ("the capital is quellport"), 1, 0.5, 0
    assert metrics["answerable_f1"] == pytest.approx((0.5 + 1 + 0.5 + 0) / 4)
    assert metrics["em"] == pytest.approx(2 / 7)  # a2, and u3's abstention
    assert metrics["abstain_acc"] == pytest.approx(4 / 7)  # wrong on a4, u1 and u2
    assert metrics["citation_support"] == pytest.approx(5 / 6)
    assert set(metrics) >= {"f1", "supporting_recall"}


def test_evaluate_answers_with_no_unanswerable_questions() -> None:
    kb = _ScriptedKb(_answers())
    data = QaDataset("scripted", [], QUESTIONS[:1], "f")
    metrics = evaluate_answers(kb, data, ["plain", "token"])["token"]
    assert metrics["unanswerable"] == 0 and metrics["abstain_unanswerable"] == 0.0
    assert metrics["correct_cited"] == 1.0 and metrics["wrong_supported"] == 0
