"""Training pairs for retrievers and re-rankers: (query, relevant passage[, negatives]).

Three inputs: BEIR folders (a qrels split), SQuAD-format json (question → its paragraph) and
JSONL records ``{"query", "positive", "negatives"?}``. Passages are keyed by their text, so the
corpus negatives are mined from and the relevance labels that keep positives out of the
negatives refer to the same strings.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragline.errors import RaglineError


@dataclass(frozen=True)
class TrainingPair:
    """One query with one passage labelled relevant, and optional given negatives."""

    query: str
    positive: str
    negatives: tuple[str, ...] = ()


@dataclass
class TrainingData:
    """Pairs, the passages negatives may come from, and every label per query.

    ``relevant`` maps a query to all passages labelled relevant for it (a query may have
    several pairs); ``skipped`` counts input records not used, by reason.
    """

    pairs: list[TrainingPair] = field(default_factory=list)
    corpus: list[str] = field(default_factory=list)
    relevant: dict[str, set[str]] = field(default_factory=dict)
    read: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def add_pair(self, pair: TrainingPair) -> None:
        self.pairs.append(pair)
        self.relevant.setdefault(pair.query, set()).add(pair.positive)

    def extend(self, other: TrainingData) -> None:
        for pair in other.pairs:
            self.add_pair(pair)
        self.corpus = list(dict.fromkeys([*self.corpus, *other.corpus]))
        self.read += other.read
        self.skipped.update(other.skipped)

    def queries(self) -> list[str]:
        return list(dict.fromkeys(pair.query for pair in self.pairs))

    def subset(self, queries: set[str]) -> TrainingData:
        """The pairs of ``queries``, over the same corpus."""
        part = TrainingData(corpus=self.corpus)
        for pair in self.pairs:
            if pair.query in queries:
                part.add_pair(pair)
        return part

    def split(self, fraction: float, seed: int) -> tuple[TrainingData, TrainingData]:
        """(train, dev), split by query so no query is on both sides."""
        queries = self.queries()
        random.Random(seed).shuffle(queries)
        dev = set(queries[: round(len(queries) * fraction)])
        return self.subset(set(queries) - dev), self.subset(dev)

    def summary(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "pairs": len(self.pairs),
            "queries": len(self.relevant),
            "corpus": len(self.corpus),
            "skipped": dict(self.skipped),
        }


def _jsonl_records(path: Path, data: TrainingData) -> list[tuple[int, dict[str, Any]]]:
    records = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            data.read += 1
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                data.skipped[f"{path.name}: invalid JSON"] += 1
                continue
            if not isinstance(record, dict):
                data.skipped[f"{path.name}: not a JSON object"] += 1
                continue
            records.append((number, record))
    return records


def beir_passage(record: dict[str, Any]) -> str:
    """A BEIR corpus record as ragline's BEIR loader indexes it: title, blank line, text."""
    title = str(record.get("title") or "").strip()
    text = str(record.get("text") or "").strip()
    return f"{title}\n\n{text}" if title and text else title or text


def read_beir(path: str | Path, split: str = "train") -> TrainingData:
    """Pairs from a BEIR folder's ``qrels/<split>.tsv`` (score > 0 is relevant)."""
    path = Path(path)
    qrels = path / "qrels" / f"{split}.tsv"
    for needed in (path / "corpus.jsonl", path / "queries.jsonl", qrels):
        if not needed.is_file():
            raise RaglineError(f"{path}: not a BEIR folder for split {split!r} (no {needed.name})")
    data = TrainingData()
    corpus = {
        str(record.get("_id")): beir_passage(record)
        for _, record in _jsonl_records(path / "corpus.jsonl", TrainingData())
    }
    queries = {
        str(record.get("_id")): str(record.get("text") or "")
        for _, record in _jsonl_records(path / "queries.jsonl", TrainingData())
    }
    data.corpus = [text for text in corpus.values() if text]
    with open(qrels, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0] == "query-id":
                continue
            data.read += 1
            query_id, doc_id, score = parts[0], parts[1], parts[-1]
            if not score.lstrip("-").isdigit() or int(score) <= 0:
                data.skipped["qrels: not relevant (score <= 0)"] += 1
            elif not queries.get(query_id):
                data.skipped["qrels: query id not in queries.jsonl"] += 1
            elif not corpus.get(doc_id):
                data.skipped["qrels: document id not in corpus.jsonl"] += 1
            else:
                data.add_pair(TrainingPair(queries[query_id], corpus[doc_id]))
    return data


def read_squad(path: str | Path) -> TrainingData:
    """Pairs from SQuAD-format json: each answerable question with its paragraph."""
    path = Path(path)
    try:
        articles = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError) as e:
        raise RaglineError(f"{path}: not a SQuAD-format json file ({e})") from e
    data = TrainingData()
    for article in articles:
        for paragraph in article.get("paragraphs", []):
            context = str(paragraph.get("context") or "").strip()
            if context:
                data.corpus.append(context)
            for qa in paragraph.get("qas", []):
                data.read += 1
                question = str(qa.get("question") or "").strip()
                if qa.get("is_impossible"):
                    data.skipped["squad: unanswerable question"] += 1
                elif not question or not context:
                    data.skipped["squad: empty question or paragraph"] += 1
                else:
                    data.add_pair(TrainingPair(question, context))
    data.corpus = list(dict.fromkeys(data.corpus))
    return data


def read_jsonl(path: str | Path) -> TrainingData:
    """Pairs from JSONL records ``{"query": str, "positive": str, "negatives": [str]?}``."""
    path = Path(path)
    if not path.is_file():
        raise RaglineError(f"{path}: no such file")
    data = TrainingData()
    corpus: list[str] = []
    for _, record in _jsonl_records(path, data):
        query, positive = record.get("query"), record.get("positive")
        negatives = record.get("negatives") or []
        if not isinstance(query, str) or not query.strip():
            data.skipped[f"{path.name}: no 'query' string"] += 1
        elif not isinstance(positive, str) or not positive.strip():
            data.skipped[f"{path.name}: no 'positive' string"] += 1
        elif not isinstance(negatives, list) or not all(isinstance(n, str) for n in negatives):
            data.skipped[f"{path.name}: 'negatives' is not a list of strings"] += 1
        else:
            data.add_pair(TrainingPair(query.strip(), positive.strip(), tuple(negatives)))
            corpus += [positive.strip(), *negatives]
    data.corpus = list(dict.fromkeys(corpus))
    return data


def read_qa(path: str | Path) -> TrainingData:
    """Pairs from a QA file in a published format (HotpotQA, MuSiQue, 2WikiMultiHopQA; see
    :mod:`ragline.evaluate.qa_formats`): each question with each paragraph that supports
    its answer, over all the file's paragraphs."""
    from ragline.evaluate.qa_formats import read_format

    dataset = read_format(Path(path))
    texts = {document.id: document.text for document in dataset.documents}
    data = TrainingData(corpus=list(dict.fromkeys(texts.values())))
    for question in dataset.questions:
        data.read += 1
        if not question.answers or not question.supporting:
            data.skipped["qa: no answer or no supporting paragraph"] += 1
        for doc_id in question.supporting if question.answers else ():
            data.add_pair(TrainingPair(question.text, texts[doc_id]))
    return data


def read_training_data(
    *,
    beir: Path | None = None,
    split: str = "train",
    squad: Path | None = None,
    jsonl: Path | None = None,
    qa: Path | None = None,
) -> TrainingData:
    """All given inputs merged into one set of pairs over one corpus."""
    sources = [
        read(path)
        for read, path in (
            (lambda p: read_beir(p, split), beir),
            (read_squad, squad),
            (read_jsonl, jsonl),
            (read_qa, qa),
        )
        if path is not None
    ]
    if not sources:
        raise RaglineError("no training data: give --beir, --squad, --jsonl or --qa")
    data = TrainingData()
    for source in sources:
        data.extend(source)
    if not data.pairs:
        raise RaglineError(f"no usable training pairs (skipped: {dict(data.skipped)})")
    return data
