"""Retrieval metrics (nDCG, recall, MRR, MAP, precision) via pytrec_eval, and TREC file I/O.

Numbers match ``trec_eval -c``: every query in the qrels counts, a query the run does not
answer scores 0, and relevance <= 0 is not relevant. Metric names are ``<measure>@<k>`` with
measure one of ``ndcg``, ``recall``, ``mrr``, ``map``, ``precision``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import unquote

from ragline._optional import require

Qrels = dict[str, dict[str, int]]
"""Query id -> document id -> graded relevance (<= 0 means not relevant)."""

Run = dict[str, dict[str, float]]
"""Query id -> document id -> retrieval score (higher is better)."""

DEFAULT_METRICS: tuple[str, ...] = ("ndcg@10", "recall@10", "recall@100", "mrr@10", "map@100")

# our measure name -> trec_eval measure family; mrr is handled apart (trec_eval has no cut for it)
_TREC_MEASURES = {"ndcg": "ndcg_cut", "recall": "recall", "map": "map_cut", "precision": "P"}
_METRIC_RE = re.compile(r"^(ndcg|recall|map|precision|mrr)@([1-9][0-9]*)$")


def _parse_metric(name: str) -> tuple[str, int]:
    match = _METRIC_RE.match(name.strip().lower())
    if match is None:
        raise ValueError(
            f"unknown metric {name!r}; expected <measure>@<k> with measure one of "
            f"{', '.join([*_TREC_MEASURES, 'mrr'])} and k >= 1"
        )
    return match.group(1), int(match.group(2))


def _top_k(scores: Mapping[str, float], k: int) -> dict[str, float]:
    # trec_eval's order: score descending, ties broken by document id descending
    ranked = sorted(scores.items(), key=lambda item: (item[1], item[0]), reverse=True)
    return dict(ranked[:k])


def per_query(
    qrels: Mapping[str, Mapping[str, int]],
    run: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str] = DEFAULT_METRICS,
) -> dict[str, dict[str, float]]:
    """Score every query of ``qrels``: query id -> metric name -> value.

    Per-query values are what significance tests and error analysis need. Queries missing
    from ``run`` get 0 for every metric; run queries absent from ``qrels`` are ignored.

    >>> qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}}
    >>> run = {"q1": {"d1": 0.9, "d3": 0.5}, "q2": {"d3": 0.8, "d2": 0.4}}
    >>> per_query(qrels, run, ["mrr@10", "recall@1"])
    {'q1': {'mrr@10': 1.0, 'recall@1': 1.0}, 'q2': {'mrr@10': 0.5, 'recall@1': 0.0}}
    """
    if not qrels:
        raise ValueError("qrels is empty: there is nothing to evaluate")
    parsed = {name: _parse_metric(name) for name in metrics}
    if not parsed:
        raise ValueError("no metrics asked for")
    pytrec_eval = require("pytrec_eval", "eval")

    judged: Qrels = {
        str(qid): {str(doc): int(rel) for doc, rel in docs.items()} for qid, docs in qrels.items()
    }
    scored: Run = {
        str(qid): {str(doc): float(score) for doc, score in docs.items()}
        for qid, docs in run.items()
        if str(qid) in judged
    }
    results = {qid: dict.fromkeys(parsed, 0.0) for qid in judged}

    cuts: dict[str, set[int]] = {}
    for measure, k in parsed.values():
        if measure != "mrr":
            cuts.setdefault(_TREC_MEASURES[measure], set()).add(k)
    if cuts:
        wanted = {f"{family}.{','.join(map(str, sorted(ks)))}" for family, ks in cuts.items()}
        evaluated = pytrec_eval.RelevanceEvaluator(judged, wanted).evaluate(scored)
        for qid, values in evaluated.items():
            for name, (measure, k) in parsed.items():
                if measure != "mrr":
                    results[qid][name] = float(values[f"{_TREC_MEASURES[measure]}_{k}"])

    # mrr@k: trec_eval's recip_rank has no cutoff, so score each run truncated to its top k.
    for k in sorted({k for measure, k in parsed.values() if measure == "mrr"}):
        truncated = {qid: _top_k(docs, k) for qid, docs in scored.items()}
        evaluated = pytrec_eval.RelevanceEvaluator(judged, {"recip_rank"}).evaluate(truncated)
        for qid, values in evaluated.items():
            for name, (measure, cut) in parsed.items():
                if measure == "mrr" and cut == k:
                    results[qid][name] = float(values["recip_rank"])
    return results


def evaluate_run(
    qrels: Mapping[str, Mapping[str, int]],
    run: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str] = DEFAULT_METRICS,
) -> dict[str, float]:
    """Mean of each metric over the queries of ``qrels`` (unanswered queries count as 0).

    The headline numbers of a retrieval experiment, computed as BEIR and ``trec_eval -c`` do.

    >>> evaluate_run({"q1": {"d1": 1}, "q2": {"d2": 1}}, {"q1": {"d1": 1.0}}, ["recall@10"])
    {'recall@10': 0.5}
    """
    scores = per_query(qrels, run, metrics)
    names = list(dict.fromkeys(metrics))
    return {name: sum(q[name] for q in scores.values()) / len(scores) for name in names}


def _fields(line: str) -> list[str]:
    return line.split("\t") if "\t" in line else line.split()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _relevance(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        value = float(text)  # some BEIR files write "1.0"; a fractional grade is an error
        if not value.is_integer():
            raise ValueError(f"relevance must be an integer, got {text!r}") from None
        return int(value)


def read_qrels(path: str | os.PathLike[str]) -> Qrels:
    """Read relevance judgements from a BEIR TSV or a TREC qrels file.

    Accepts BEIR's ``query-id corpus-id score`` (with or without that header) and TREC's
    ``qid 0 docid rel``, tab- or space-separated, so one reader serves every benchmark.
    A repeated (query, document) pair keeps the last value, as BEIR's loader does.
    """
    path = Path(path)
    qrels: Qrels = {}
    first = True
    with path.open(encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line:
                continue
            is_first, first = first, False
            fields = [field.strip() for field in _fields(line)]
            if len(fields) == 3:
                qid, doc, rel = fields
            elif len(fields) == 4:
                qid, _, doc, rel = fields
            else:
                raise ValueError(
                    f"{path}:{lineno}: expected 'query-id corpus-id score' or "
                    f"'qid 0 docid rel', got {line!r}"
                )
            if is_first and not _is_number(rel):
                continue  # a header line, e.g. "query-id corpus-id score"
            try:
                value = _relevance(rel)
            except ValueError:
                raise ValueError(
                    f"{path}:{lineno}: relevance must be an integer, got {rel!r}"
                ) from None
            qrels.setdefault(qid, {})[doc] = value
    return qrels


def write_trec_run(
    run: Mapping[str, Mapping[str, float]], path: str | os.PathLike[str], tag: str
) -> None:
    """Write ``run`` as a TREC run file (``qid Q0 docid rank score tag``), the format every
    IR tool reads. Ranks follow trec_eval's order: score descending, ties by doc id descending.
    Ids holding whitespace (HotpotQA's titles) are written percent-encoded ("Lilu%20(mythology)"),
    as :func:`read_trec_run` reads them back.
    """
    if not tag or any(ch.isspace() for ch in tag):
        raise ValueError(f"run tag must be a non-empty word without whitespace, got {tag!r}")
    lines = []
    for qid, docs in run.items():
        ranked = _top_k({str(doc): float(score) for doc, score in docs.items()}, len(docs))
        if not str(qid) or "" in ranked:
            raise ValueError(f"ids in a TREC run cannot be empty (query {qid!r})")
        query = _trec_id(str(qid))
        for rank, (doc, score) in enumerate(ranked.items(), 1):
            lines.append(f"{query} Q0 {_trec_id(doc)} {rank} {score!r} {tag}\n")
    Path(path).write_text("".join(lines), encoding="utf-8")


def _trec_id(ident: str) -> str:
    """``ident`` with "%" and whitespace percent-encoded: one field of a TREC line.

    >>> _trec_id("Lilu (mythology) 50%")
    'Lilu%20(mythology)%2050%25'
    """
    return _TREC_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m[0].encode()), ident)


_TREC_UNSAFE = re.compile(r"[%\s]")


def read_trec_run(path: str | os.PathLike[str]) -> Run:
    """Read a TREC run file (``qid Q0 docid rank score tag``) into a :data:`Run`.

    Scores are kept and ranks are only checked to be integers, since trec_eval ranks by
    score. A document listed twice for one query is an error, as in trec_eval. Ids are
    percent-decoded, undoing what :func:`write_trec_run` encodes.
    """
    path = Path(path)
    run: Run = {}
    with path.open(encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line:
                continue
            fields = line.split()
            if len(fields) != 6:
                raise ValueError(
                    f"{path}:{lineno}: expected 'qid Q0 docid rank score tag', got {line!r}"
                )
            qid, doc = unquote(fields[0]), unquote(fields[2])
            rank, score = fields[3], fields[4]
            try:
                int(rank)
                value = float(score)
            except ValueError:
                raise ValueError(
                    f"{path}:{lineno}: rank must be an integer and score a number, got {line!r}"
                ) from None
            docs = run.setdefault(qid, {})
            if doc in docs:
                raise ValueError(f"{path}:{lineno}: document {doc!r} repeated for query {qid!r}")
            docs[doc] = value
    return run
