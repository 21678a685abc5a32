"""Evaluation: retrieval metrics, answer metrics and significance tests, as pure functions."""

from __future__ import annotations

from ragline.abstention import ABSTENTION_PHRASES, is_abstention
from ragline.evaluate.metrics import (
    DEFAULT_METRICS,
    Qrels,
    Run,
    evaluate_run,
    per_query,
    read_qrels,
    read_trec_run,
    write_trec_run,
)
from ragline.evaluate.qa_metrics import (
    abstention_accuracy,
    exact_match,
    f1,
    normalize_answer,
    supporting_recall,
)
from ragline.evaluate.significance import paired_test

__all__ = [
    "ABSTENTION_PHRASES",
    "DEFAULT_METRICS",
    "Qrels",
    "Run",
    "abstention_accuracy",
    "evaluate_run",
    "exact_match",
    "f1",
    "is_abstention",
    "normalize_answer",
    "paired_test",
    "per_query",
    "read_qrels",
    "read_trec_run",
    "supporting_recall",
    "write_trec_run",
]
