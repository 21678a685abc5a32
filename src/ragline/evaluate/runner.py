"""Evaluations run end to end, as ``ragline eval beir``, ``eval qa`` and ``eval compare`` run
them: open or build (and cache) the knowledge base, run every query or question (or read two
runs), and return the report those commands print with ``--json``.

Progress is reported through a callback ``(stage, done, total)`` (``total`` None while
unknown), so a caller can show it without this module knowing how.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

from ragline.config import Config
from ragline.errors import RaglineError
from ragline.evaluate.beir import (
    MODES,
    BeirDataset,
    cached_kb,
    evaluate_modes,
    load_beir,
    open_beir_kb,
)
from ragline.evaluate.metrics import Run, per_query, read_qrels, read_trec_run, write_trec_run
from ragline.evaluate.qa import QaDataset, evaluate_answers
from ragline.evaluate.significance import paired_test

Progress = Callable[[str, int, int | None], None]
"""A progress callback: the stage's name, how much of it is done, and its total (or None)."""


def beir_modes(spec: str) -> list[str]:
    """The search modes a ``--search-mode`` value names: ``all``, or a comma-separated list of
    :data:`~ragline.evaluate.beir.MODES` (an unknown one is refused before any work).

    >>> beir_modes("bm25, hybrid")
    ['bm25', 'hybrid']
    """
    modes = list(MODES) if spec == "all" else [m.strip() for m in spec.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        raise RaglineError(f"--search-mode {','.join(unknown)}: use {', '.join(MODES)} or all")
    return modes


def evaluate_beir(
    path: str | Path,
    modes: Sequence[str] = MODES,
    *,
    split: str = "test",
    config: Config | None = None,
    kb: str | Path | None = None,
    use_cache: bool = True,
    max_queries: int | None = None,
    rerank: str | None = None,
    rerank_fusions: Sequence[str] = ("rrf",),
    run_file: str | Path | None = None,
    whole_documents: bool = False,
    on_progress: Progress | None = None,
    **search_options: Any,
) -> dict[str, Any]:
    """Retrieval metrics per search mode on one split of the BEIR folder at ``path``.

    The knowledge base searched is the one at ``kb`` (built over the corpus), else one built
    over the corpus with ``config`` (reused from the cache with ``use_cache``). With
    ``rerank``, every fusion of the two stages in ``rerank_fusions`` is scored too, each as
    ``<mode>+rerank-<fusion>`` (``<mode>+rerank`` for ``none``), beside the first stage.
    ``search_options`` (such as ``fusion``, ``depth``, ``rerank_depth``) go to every search;
    ``run_file`` writes each result's TREC run to ``<run_file>.<name>.trec``. With
    ``whole_documents``, the reference of one vector per whole document
    (:mod:`ragline.evaluate.whole_documents`) is scored too, for each mode. Returns
    ``dataset``, ``split``, ``queries``, ``rerank`` and ``results`` (name → metric → value).
    """
    data = load_beir(path, split)
    if max_queries:
        data = replace(data, queries=dict(list(data.queries.items())[:max_queries]))
    report = on_progress or _no_progress
    knowledge_base = _beir_kb(data, config or Config(), kb, use_cache, report)
    stage_fusions: list[str | None] = [None, *(rerank_fusions if rerank else ())]
    advance = _counter("querying", len(data.queries) * len(modes) * len(stage_fusions), report)
    results: dict[str, dict[str, float]] = {}
    runs: dict[str, Run] = {}
    with knowledge_base:
        for stage_fusion in stage_fusions:
            part, part_runs = evaluate_modes(
                knowledge_base,
                data,
                modes,
                rerank=rerank if stage_fusion is not None else None,
                rerank_fusion=stage_fusion,
                on_batch=advance,
                **search_options,
            )
            suffix = {None: "", "none": "+rerank"}.get(stage_fusion, f"+rerank-{stage_fusion}")
            results |= {f"{name}{suffix}": values for name, values in part.items()}
            runs |= {f"{name}{suffix}": run for name, run in part_runs.items()}
    if whole_documents:
        from ragline.evaluate.whole_documents import evaluate_whole_documents

        report("encoding whole documents", 0, None)
        results |= evaluate_whole_documents(data, modes, config or Config())
    if run_file:
        for name, run in runs.items():
            write_trec_run(run, Path(f"{run_file}.{name}.trec"), tag=f"ragline-{name}")
    return {
        "dataset": data.name,
        "split": data.split,
        "queries": len(data.queries),
        "rerank": rerank,
        "results": results,
    }


def _beir_kb(
    data: BeirDataset, config: Config, kb: str | Path | None, use_cache: bool, report: Progress
) -> Any:
    """The knowledge base at ``kb``, or the (cached) one built over ``data``'s corpus."""
    if kb is not None:
        from ragline.kb import KnowledgeBase

        return KnowledgeBase.open(kb)
    stage = f"indexing {data.name}"
    report(stage, 0, None)
    return open_beir_kb(
        data,
        config,
        use_cache=use_cache,
        on_commit=lambda ids, ingested: report(stage, ingested.indexed, None),
    )


def evaluate_qa(
    data: QaDataset,
    modes: Sequence[str] = ("plain",),
    *,
    config: Config | None = None,
    query_encoder: str | None = None,
    use_cache: bool = True,
    per_question: str | Path | None = None,
    on_progress: Progress | None = None,
    **ask_options: Any,
) -> dict[str, Any]:
    """Answer-quality metrics per generation mode (:func:`~ragline.evaluate.qa.evaluate_answers`)
    over a knowledge base built from ``data``'s documents with ``config`` (reused from the
    cache with ``use_cache``).

    ``query_encoder`` (a model directory) embeds the questions instead of the knowledge
    base's embedder; ``ask_options`` go to every ``ask``; ``per_question`` writes each
    answer, with its question and gold answers, as a JSON line. Returns ``dataset``,
    ``questions`` and ``results`` (mode → metric → value).
    """
    report = on_progress or _no_progress
    # Opened first: a path that cannot be written fails before the knowledge base is built.
    records = open(per_question, "w", encoding="utf-8") if per_question else nullcontext()  # noqa: SIM115
    with records as out:
        kb = _qa_kb(data, config or Config(), query_encoder, use_cache)
        advance = _counter("answering", len(data.questions) * len(modes), report)

        def answered(mode: str, question: Any, answer: Any) -> None:
            advance(1)
            if out is not None:
                record = {
                    "mode": mode,
                    "id": question.id,
                    "question": question.text,
                    "gold": question.answers,
                    **answer.to_dict(),
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")

        with kb:
            results = evaluate_answers(kb, data, modes, on_answer=answered, **ask_options)
    return {"dataset": data.name, "questions": len(data.questions), "results": results}


def _qa_kb(data: QaDataset, config: Config, query_encoder: str | None, use_cache: bool) -> Any:
    """The (cached) knowledge base over ``data``'s documents, searched with ``query_encoder``
    when one is given."""
    kb = cached_kb(data.name, data.fingerprint, config, lambda: data.documents, use_cache=use_cache)
    if not query_encoder:
        return kb
    from ragline.kb import KnowledgeBase

    kb.close()
    return KnowledgeBase.open(kb.path, config=config, query_encoder=query_encoder)


def compare_runs(
    run_a: str | Path, run_b: str | Path, qrels: str | Path, metric: str = "ndcg@10"
) -> dict[str, Any]:
    """Two TREC run files compared query by query on ``metric`` against ``qrels``: the
    :func:`~ragline.evaluate.significance.paired_test` report, with the metric and files."""
    judgements = read_qrels(qrels)
    scores = []
    for path in (Path(run_a), Path(run_b)):
        if not path.is_file():
            raise RaglineError(f"{path}: no such run file")
        per = per_query(judgements, read_trec_run(path), [metric])
        scores.append({q: values[metric] for q, values in per.items()})
    test = paired_test(scores[0], scores[1])
    return {"metric": metric, "a": str(run_a), "b": str(run_b), **test}


def _counter(stage: str, total: int, report: Progress) -> Callable[[int], None]:
    """An ``on_batch(n)`` callback that reports the running count of ``stage`` (from 0)."""
    done = 0
    report(stage, done, total)

    def advance(n: int) -> None:
        nonlocal done
        done += n
        report(stage, done, total)

    return advance


def _no_progress(stage: str, done: int, total: int | None) -> None:
    """The progress callback of a caller that shows none."""
