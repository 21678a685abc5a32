"""Answer-quality evaluation: SQuAD-format and HotpotQA-format sets, and folders of documents
with a ``questions.jsonl``, retrieving over the whole set of documents (never the gold passage
alone), scored with the SQuAD answer metrics and with checks of what the answers cite.

SQuAD sample (documented, fixed): questions are taken in file order, shuffled with
``random.Random(seed)``, and the first ``answerable`` answerable and ``unanswerable``
unanswerable ones kept (defaults 300 and 100, seed 0).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragline.documents import Document
from ragline.errors import RaglineError
from ragline.evaluate.qa_metrics import (
    exact_match,
    f1,
    is_abstention,
    normalize_answer,
    supporting_recall,
)

QUESTIONS_FILE = "questions.jsonl"
"""The questions of a folder data set (:func:`load_folder`); every other loadable file in the
folder is one of its documents."""


@dataclass(frozen=True)
class Question:
    """One evaluation question: gold answers ([] = unanswerable) and supporting passages."""

    id: str
    text: str
    answers: list[str]
    supporting: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class QaDataset:
    name: str
    documents: list[Document]
    questions: list[Question]
    fingerprint: str


def _fingerprint(path: Path, **params: Any) -> str:
    digest = hashlib.sha256(path.read_bytes())
    digest.update(json.dumps(params, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def held_out_paragraphs(count: int, fraction: float, seed: int = 0) -> set[int]:
    """The test side of the fixed by-paragraph split of a SQuAD file: paragraph indices (file
    order, every paragraph counted) shuffled with ``random.Random(seed)``, the first
    ``round(fraction · count)`` of them. Training (``ragline train rag``) uses the rest."""
    if not 0 < fraction < 1:
        raise RaglineError(f"test fraction {fraction}: must be in (0, 1)")
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return set(order[: round(fraction * count)])


@dataclass(frozen=True)
class SquadParagraph:
    """One paragraph of a SQuAD file: its document id (article title and number in the
    article), title, text, question records, and whether the split holds it out."""

    doc_id: str
    title: str
    context: str
    qas: list[dict[str, Any]]
    held_out: bool


def squad_paragraphs(
    data: dict[str, Any], held_out: float | None = None, split_seed: int = 0
) -> Iterator[SquadParagraph]:
    """The paragraphs of parsed SQuAD ``data`` in file order; with ``held_out``, those on the
    test side of the by-paragraph split (:func:`held_out_paragraphs`) are marked.

    ``ragline eval qa --held-out`` and ``ragline train rag --squad`` both split through
    this, so they agree on every paragraph's side and name."""
    count = sum(len(article["paragraphs"]) for article in data["data"])
    test_side = set() if held_out is None else held_out_paragraphs(count, held_out, split_seed)
    n = 0
    for article in data["data"]:
        for number, paragraph in enumerate(article["paragraphs"]):
            yield SquadParagraph(
                f"{article['title']}#{number}",
                article["title"],
                paragraph.get("context", ""),
                paragraph["qas"],
                n in test_side,
            )
            n += 1


def held_out_documents(path: str | Path, fraction: float, seed: int = 0) -> set[str]:
    """Document ids of the test side's paragraphs in the by-paragraph split of a SQuAD file,
    as :func:`load_squad` names them."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {p.doc_id for p in squad_paragraphs(data, fraction, seed) if p.held_out}


def load_squad(
    path: Path,
    *,
    answerable: int = 300,
    unanswerable: int = 100,
    seed: int = 0,
    held_out: float | None = None,
    split_seed: int = 0,
) -> QaDataset:
    """SQuAD 1.1/2.0 json: every paragraph a document, a fixed sample of questions; with
    ``held_out``, questions only from the test side of the by-paragraph split (retrieval
    still runs over every paragraph)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    documents: list[Document] = []
    pool: list[Question] = []
    for paragraph in squad_paragraphs(data, held_out, split_seed):
        documents.append(Document(paragraph.doc_id, paragraph.context, {"title": paragraph.title}))
        if held_out is not None and not paragraph.held_out:
            continue
        for qa in paragraph.qas:
            golds = [] if qa.get("is_impossible") else [a["text"] for a in qa["answers"]]
            pool.append(Question(qa["id"], qa["question"], golds, [paragraph.doc_id]))
    random.Random(seed).shuffle(pool)
    chosen = [q for q in pool if q.answers][:answerable]
    chosen += [q for q in pool if not q.answers][:unanswerable]
    fingerprint = _fingerprint(path, kind="squad")
    return QaDataset(path.parent.name or path.stem, documents, chosen, fingerprint)


def load_hotpotqa(
    questions_path: Path, corpus_path: Path, *, limit: int | None = None
) -> QaDataset:
    """HotpotQA json (``question``, ``answer``, ``supporting_facts``) over its corpus
    (title → sentences); a question's supporting passages are its supporting titles."""
    corpus = json.loads(corpus_path.read_text(encoding="utf-8"))
    documents = [
        Document(title, "".join(sentences).strip(), {"title": title})
        for title, sentences in corpus.items()
    ]
    questions = []
    for record in json.loads(questions_path.read_text(encoding="utf-8"))[:limit]:
        supporting = sorted({title for title, _ in record["supporting_facts"]})
        questions.append(
            Question(record["_id"], record["question"], [record["answer"]], supporting)
        )
    fingerprint = _fingerprint(corpus_path, kind="hotpotqa")
    return QaDataset(questions_path.parent.name, documents, questions, fingerprint)


def load_folder(path: str | Path, *, limit: int | None = None) -> QaDataset:
    """A folder of documents with a ``questions.jsonl``: the documents are loaded with
    ragline's own loaders, so they are chunked and named exactly as ``ragline index FOLDER``
    would (``"{folder name}/{relative path}"``); ``questions.jsonl`` is left out of them.

    Each line of ``questions.jsonl`` is ``{"id", "question", "answers", "doc_ids"}``:
    ``answers`` the gold strings (``[]`` for a question the documents do not answer),
    ``doc_ids`` the documents that state the answer (a Question's ``supporting``). A bad
    record raises an error naming its file and line; ``limit`` keeps the first N questions.

    >>> import json, pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = pathlib.Path(tmp, "facts")
    ...     root.mkdir()
    ...     _ = (root / "zorl.md").write_text("# Zorl\\nZorl is a lake.")
    ...     record = {"id": "q1", "question": "What is Zorl?", "answers": ["a lake"],
    ...               "doc_ids": ["facts/zorl.md"]}
    ...     _ = (root / QUESTIONS_FILE).write_text(json.dumps(record))
    ...     data = load_folder(root)
    >>> [d.id for d in data.documents], data.questions[0].supporting
    (['facts/zorl.md'], ['facts/zorl.md'])
    """
    root = Path(path)
    questions_path = root / QUESTIONS_FILE
    if not questions_path.is_file():
        raise RaglineError(f"{root}: no {QUESTIONS_FILE} in this folder")
    documents = folder_documents(root, QUESTIONS_FILE)
    known = {d.id for d in documents}
    questions: list[Question] = []
    seen: set[str] = set()
    raw = questions_path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RaglineError(f"{questions_path}: not valid UTF-8 (byte {e.start})") from e
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        question = _question_record(line, f"{questions_path}:{lineno}", known)
        if question.id in seen:
            raise RaglineError(f"{questions_path}:{lineno}: question id {question.id!r} repeated")
        seen.add(question.id)
        questions.append(question)
    if not questions:
        raise RaglineError(f"{questions_path}: no questions")
    digest = hashlib.sha256(raw)
    for document in documents:
        digest.update(f"\0{document.id}\0{document.hash}".encode())
    name = Path(os.path.abspath(root)).name
    return QaDataset(name, documents, questions[:limit], digest.hexdigest()[:16])


def folder_documents(root: Path, questions_file: str) -> list[Document]:
    """The documents of a folder beside its questions file, loaded as ``ragline index``
    would load them; an error if one cannot be loaded or there are none."""
    from ragline.load import load_paths

    documents: list[Document] = []
    for loaded in load_paths([root], exclude=[questions_file]):
        if not isinstance(loaded, Document):
            raise loaded
        documents.append(loaded)
    if not documents:
        raise RaglineError(f"{root}: no documents beside {questions_file}")
    return documents


def _question_record(line: str, where: str, known: set[str]) -> Question:
    """One line of ``questions.jsonl`` as a Question; RaglineError naming ``where`` if bad."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise RaglineError(f"{where}: invalid JSON: {e.msg} (column {e.colno})") from e
    if not isinstance(record, dict):
        raise RaglineError(f"{where}: not a JSON object but {type(record).__name__}")
    for key in ("id", "question", "answers", "doc_ids"):
        if key not in record:
            raise RaglineError(f"{where}: no {key!r} field")
    for key in ("id", "question"):
        if not isinstance(record[key], str) or not record[key].strip():
            raise RaglineError(f"{where}: {key!r} must be a non-empty string")
    for key in ("answers", "doc_ids"):
        values = record[key]
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise RaglineError(f"{where}: {key!r} must be a list of non-empty strings")
    unknown = [doc_id for doc_id in record["doc_ids"] if doc_id not in known]
    if unknown:
        example = sorted(known)[0]
        raise RaglineError(
            f"{where}: doc id {unknown[0]!r} is no document of the folder (ids look like "
            f"{example!r})"
        )
    if record["answers"] and not record["doc_ids"]:
        raise RaglineError(f"{where}: an answerable question needs the 'doc_ids' that answer it")
    return Question(record["id"], record["question"], record["answers"], record["doc_ids"])


def hotpotqa_files(folder: Path) -> tuple[Path, Path] | None:
    """The questions (``qa_*.json``) and corpus (``*corpus*.json``) files of a HotpotQA
    folder as ragline keeps them, or None when ``folder`` is not one."""
    if not folder.is_dir():
        return None
    questions = sorted(folder.glob("qa_*.json"))
    corpora = sorted(folder.glob("*corpus*.json"))
    return (questions[0], corpora[0]) if questions and corpora else None


def load_qa(path: str | Path, **options: Any) -> QaDataset:
    """A SQuAD json file, a HotpotQA folder (``qa_*.json`` and ``*corpus*.json``), or a folder
    of documents with a ``questions.jsonl`` (:func:`load_folder`; also given by that file)."""
    path = Path(path)
    if path.name == QUESTIONS_FILE and path.is_file():
        return load_folder(path.parent, limit=options.get("limit"))
    if path.is_dir():
        if (path / QUESTIONS_FILE).is_file():
            return load_folder(path, limit=options.get("limit"))
        hotpotqa = hotpotqa_files(path)
        if hotpotqa is not None:
            return load_hotpotqa(*hotpotqa, limit=options.get("limit"))
        squad = sorted(path.glob("*.json"))
        if len(squad) == 1:
            path = squad[0]
        else:
            raise RaglineError(
                f"{path}: expected a SQuAD json file, a HotpotQA folder or a folder with "
                f"{QUESTIONS_FILE}"
            )
    if not path.is_file():
        raise RaglineError(f"{path}: no such file")
    keys = ("answerable", "unanswerable", "seed", "held_out", "split_seed")
    params = {k: v for k, v in options.items() if k in keys}
    return load_squad(path, **params)


def contains_answer(prediction: str, golds: Sequence[str]) -> bool:
    """Whether ``prediction`` holds any gold answer as a run of whole words, both normalized
    as SQuAD does (:func:`normalize_answer`): a sentence-style answer that states the gold
    string counts, a longer number or name that merely begins with it does not.

    >>> contains_answer("The capital of Zorbia is Quellport [1].", ["Quellport"])
    True
    >>> contains_answer("It is 3,412 metres high.", ["3412"]), contains_answer("34120", ["3412"])
    (True, False)
    """
    words = normalize_answer(prediction).split()
    for gold in golds:
        target = normalize_answer(gold).split()
        if target and any(
            words[i : i + len(target)] == target for i in range(len(words) - len(target) + 1)
        ):
            return True
    return False


@dataclass(frozen=True)
class Verdict:
    """How one answer fares against its question.

    ``abstained``: ragline declined (or the text is an abstention phrase); ``correct``: an
    answerable question answered with a gold string in the text; ``cites_gold``: a citation
    points at one of the question's supporting documents; ``wrong``: an answer that is not
    an abstention and is not correct (for an unanswerable question, any answer);
    ``all_supported``: at least one citation, and every one marked supported.
    """

    abstained: bool
    correct: bool
    cites_gold: bool
    wrong: bool
    all_supported: bool

    @property
    def wrong_supported(self) -> bool:
        """A wrong answer presented as checked: the failure a user cannot see."""
        return self.wrong and self.all_supported


def judge(question: Question, answer: Any) -> Verdict:
    """The :class:`Verdict` on ``answer`` (an :class:`~ragline.documents.Answer`)."""
    prediction = "" if answer.abstained else _strip(answer.text)
    abstained = is_abstention(prediction)
    correct = bool(question.answers) and not abstained
    correct = correct and contains_answer(prediction, question.answers)
    citations = answer.citations
    return Verdict(
        abstained=abstained,
        correct=correct,
        cites_gold=any(c.doc_id in question.supporting for c in citations),
        wrong=not abstained and not correct,
        all_supported=bool(citations) and all(c.supported for c in citations),
    )


def evaluate_answers(
    kb: Any,
    dataset: QaDataset,
    modes: Sequence[str],
    *,
    on_answer: Callable[[str, Question, Any], None] | None = None,
    **ask_options: Any,
) -> dict[str, dict[str, float]]:
    """Answer every question of ``dataset`` in each mode and score the answers.

    Per mode: ``em``, ``f1`` and ``abstain_acc`` over all questions; ``citation_support``
    (share of citations marked supported); ``supporting_recall`` of the retrieved passages;
    ``answerable_em`` and ``answerable_f1`` over answerable questions only; ``correct_cited``,
    the share of answerable questions whose answer holds a gold string and cites a gold
    document; ``wrong_supported``, how many answers were wrong (:class:`Verdict`) while
    every citation was marked supported; ``abstain_unanswerable``, the share of
    unanswerable questions abstained on; and the counts ``answerable`` and ``unanswerable``.
    EM and F1 score a span reader's span (``answer.short_answer``), not the sentence shown
    around it; other answers are scored as written, without their citation markers.
    """
    results: dict[str, dict[str, float]] = {}
    answerable = [q for q in dataset.questions if q.answers]
    n_answerable, n_unanswerable = len(answerable), len(dataset.questions) - len(answerable)
    for mode in modes:
        em = f1_total = abstain_right = 0.0
        answerable_em = answerable_f1 = 0.0
        correct_cited = wrong_supported = abstained_unanswerable = 0
        cited = supported = 0
        recall_total = 0.0
        for question in dataset.questions:
            answer = kb.ask(question.text, mode=mode, **ask_options)
            prediction = "" if answer.abstained else answer.short_answer or _strip(answer.text)
            verdict = judge(question, answer)
            question_em = exact_match(prediction, question.answers)
            question_f1 = f1(prediction, question.answers)
            em += question_em
            f1_total += question_f1
            abstain_right += verdict.abstained == (not question.answers)
            if question.answers:
                answerable_em += question_em
                answerable_f1 += question_f1
                correct_cited += verdict.correct and verdict.cites_gold
            else:
                abstained_unanswerable += verdict.abstained
            wrong_supported += verdict.wrong_supported
            cited += len(answer.citations)
            supported += sum(c.supported for c in answer.citations)
            titles = list(dict.fromkeys(hit.chunk.doc_id for hit in answer.passages))
            if question.supporting:
                recall_total += supporting_recall(titles, question.supporting)
            if on_answer:
                on_answer(mode, question, answer)
        n = len(dataset.questions) or 1
        results[mode] = {
            "em": em / n,
            "f1": f1_total / n,
            "abstain_acc": abstain_right / n,
            "citation_support": supported / cited if cited else 0.0,
            "supporting_recall": recall_total / n,
            "answerable_em": answerable_em / (n_answerable or 1),
            "answerable_f1": answerable_f1 / (n_answerable or 1),
            "correct_cited": correct_cited / (n_answerable or 1),
            "wrong_supported": wrong_supported,
            "abstain_unanswerable": abstained_unanswerable / (n_unanswerable or 1),
            "answerable": n_answerable,
            "unanswerable": n_unanswerable,
        }
    return results


def _strip(text: str) -> str:
    from ragline.generate.citations import strip_citations

    return strip_citations(text).strip()
