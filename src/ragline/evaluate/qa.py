"""Answer-quality evaluation: SQuAD-format and HotpotQA-format sets, retrieving over the whole
set of paragraphs (never the gold paragraph alone), scored with the SQuAD answer metrics.

SQuAD sample (documented, fixed): questions are taken in file order, shuffled with
``random.Random(seed)``, and the first ``answerable`` answerable and ``unanswerable``
unanswerable ones kept (defaults 300 and 100, seed 0).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragline.documents import Document
from ragline.errors import RaglineError
from ragline.evaluate.qa_metrics import exact_match, f1, is_abstention, supporting_recall


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


def load_qa(path: str | Path, **options: Any) -> QaDataset:
    """A SQuAD json file, or a HotpotQA folder (``qa_*.json`` and ``*corpus*.json``)."""
    path = Path(path)
    if path.is_dir():
        corpora = sorted(path.glob("*corpus*.json"))
        questions = sorted(p for p in path.glob("qa_*.json"))
        if corpora and questions:
            return load_hotpotqa(questions[0], corpora[0], limit=options.get("limit"))
        squad = sorted(path.glob("*.json"))
        if len(squad) == 1:
            path = squad[0]
        else:
            raise RaglineError(f"{path}: expected a SQuAD json file or a HotpotQA folder")
    if not path.is_file():
        raise RaglineError(f"{path}: no such file")
    keys = ("answerable", "unanswerable", "seed", "held_out", "split_seed")
    params = {k: v for k, v in options.items() if k in keys}
    return load_squad(path, **params)


def evaluate_answers(
    kb: Any,
    dataset: QaDataset,
    modes: Sequence[str],
    *,
    on_answer: Callable[[str, Question, Any], None] | None = None,
    **ask_options: Any,
) -> dict[str, dict[str, float]]:
    """EM, F1, abstention accuracy, citation support and supporting-passage recall per mode."""
    results: dict[str, dict[str, float]] = {}
    for mode in modes:
        em = f1_total = abstain_right = 0.0
        cited = supported = 0
        recall_total = 0.0
        for question in dataset.questions:
            answer = kb.ask(question.text, mode=mode, **ask_options)
            prediction = "" if answer.abstained else _strip(answer.text)
            em += exact_match(prediction, question.answers)
            f1_total += f1(prediction, question.answers)
            abstain_right += (answer.abstained or is_abstention(prediction)) == (
                not question.answers
            )
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
        }
    return results


def _strip(text: str) -> str:
    from ragline.generate.citations import strip_citations

    return strip_citations(text).strip()
