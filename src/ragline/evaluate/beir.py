"""BEIR evaluation: index a BEIR folder (cached), run its queries, score chunk hits per document.

A knowledge base returns chunks; BEIR judges documents. A document's score is the best score
of its chunks, and its rank the rank of that chunk, as in MaxP passage aggregation.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragline.cache import default_cache_dir, files_fingerprint
from ragline.config import Config
from ragline.errors import RaglineError
from ragline.evaluate.metrics import DEFAULT_METRICS, Qrels, Run, evaluate_run, read_qrels
from ragline.store.layout import CONFIG_FILE

log = logging.getLogger(__name__)

MODES = ("bm25", "dense", "hybrid")
COMPLETE_MARKER = "beir-complete.json"


@dataclass(frozen=True)
class BeirDataset:
    """The parts of a BEIR folder needed to evaluate one split."""

    name: str
    path: Path
    split: str
    queries: dict[str, str]
    qrels: Qrels
    documents: list[Any] | None = None
    fingerprint: str = ""


def load_beir(path: str | Path, split: str = "test") -> BeirDataset:
    """Read queries and qrels of ``split``; only queries that have judgements are kept.

    A QA data set (a HotpotQA folder, a SQuAD json file, or a file in a published format:
    see ``ragline.evaluate.qa_formats``) is read as a retrieval set too: its answerable
    questions are the queries, their supporting passages or paragraphs the relevant
    documents.
    """
    path = Path(path)
    hotpotqa = path.is_dir() and not (path / "corpus.jsonl").exists()
    qa_file = path.is_file() and path.suffix in (".json", ".jsonl")
    if (hotpotqa and any(path.glob("qa_*.json"))) or qa_file:
        return _qa_as_beir(path)
    qrels_file = path / "qrels" / f"{split}.tsv"
    for needed in (path / "corpus.jsonl", path / "queries.jsonl", qrels_file):
        if not needed.is_file():
            raise RaglineError(f"{path}: not a BEIR folder for split {split!r} (no {needed.name})")
    qrels = read_qrels(qrels_file)
    queries: dict[str, str] = {}
    with open(path / "queries.jsonl", encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise RaglineError(f"{path / 'queries.jsonl'}:{number}: invalid JSON: {e}") from e
            if str(record["_id"]) in qrels:
                queries[str(record["_id"])] = record["text"]
    return BeirDataset(path.name, path, split, queries, qrels)


def _qa_as_beir(path: Path) -> BeirDataset:
    from ragline.evaluate.qa_formats import load_dataset

    data = load_dataset(path, answerable=10**9, unanswerable=0)
    asked = [q for q in data.questions if q.supporting and q.answers]
    queries = {q.id: q.text for q in asked}
    qrels = {q.id: dict.fromkeys(q.supporting, 1) for q in asked}
    return BeirDataset(
        data.name, path, "qa", queries, qrels, data.documents, fingerprint=data.fingerprint
    )


def corpus_fingerprint(path: Path) -> str:
    """A hash of a BEIR folder's corpus file."""
    return files_fingerprint(path, [path / "corpus.jsonl"])


def cached_kb(
    name: str,
    fingerprint: str,
    config: Config,
    sources: Callable[[], Iterable[Any]],
    *,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    on_commit: Callable[..., None] | None = None,
) -> Any:
    """A knowledge base over ``sources()`` (paths or Documents), built once per data set
    (``fingerprint``) and build-time configuration, and reused from the cache afterwards."""
    import shutil

    from ragline.kb import KnowledgeBase

    build = {s: config.to_dict()[s] for s in ("load", "chunk", "embed", "index")}
    weights = _model_files_fingerprint(config.embed.model)
    if weights:
        build["weights"] = weights
    build["text_code"] = text_code_fingerprint()
    key = hashlib.sha256((fingerprint + json.dumps(build, sort_keys=True)).encode())
    directory = (cache_dir or default_cache_dir()) / "kb" / f"{name}-{key.hexdigest()[:16]}"
    if use_cache and (directory / COMPLETE_MARKER).is_file():
        return KnowledgeBase.open(directory, config=config)
    kb = _resumed(directory, config) if use_cache else None
    if kb is None:
        shutil.rmtree(directory, ignore_errors=True)
        kb = KnowledgeBase.create(directory, config)
    report = kb.add(sources(), on_commit=on_commit)
    if report.errors:
        log.warning(
            "%d corpus records could not be loaded, e.g. %s", len(report.errors), report.errors[0]
        )
    kb.save()
    (directory / COMPLETE_MARKER).write_text(json.dumps(report.to_dict()))
    return kb


def _resumed(directory: Path, config: Config) -> Any:
    """A build cut short (a timeout, Ctrl-C), opened to carry on: adding the corpus again
    skips every document already committed. None when there is nothing usable to resume."""
    from ragline.kb import KnowledgeBase

    if not (directory / CONFIG_FILE).is_file():
        return None
    try:
        return KnowledgeBase.open(directory, config=config)
    except RaglineError as e:
        log.warning("%s: unfinished build not resumed (%s); building again", directory, e)
        return None


def _model_files_fingerprint(model: str) -> str:
    """Sizes and times of a model directory's files: a model retrained in the same place
    must not reuse the knowledge base built with its earlier weights."""
    path = Path(model).expanduser()
    if not path.is_dir():
        return ""
    stats = sorted(
        (str(f.relative_to(path)), f.stat().st_size, f.stat().st_mtime_ns)
        for f in path.rglob("*")
        if f.is_file()
    )
    return hashlib.sha256(json.dumps(stats).encode()).hexdigest()[:16]


@functools.cache
def text_code_fingerprint() -> str:
    """A hash of the source that decides a knowledge base's texts and chunks (loaders,
    chunkers, documents): a cached build made before a change there (text cleaning, a
    chunker fix) is not reused, which would report numbers for text ragline no longer makes."""
    package = Path(__file__).resolve().parent.parent
    sources = [*(package / "load").glob("*.py"), *(package / "chunk").glob("*.py")]
    return files_fingerprint(package, [*sources, package / "documents.py"])


def open_beir_kb(dataset: BeirDataset, config: Config, **options: Any) -> Any:
    """A knowledge base over the data set's corpus (see ``cached_kb``)."""
    fingerprint = dataset.fingerprint or corpus_fingerprint(dataset.path)
    sources = dataset.documents if dataset.documents is not None else [dataset.path]
    return cached_kb(dataset.name, fingerprint, config, lambda: sources, **options)


def run_queries(
    kb: Any,
    queries: dict[str, str],
    mode: str,
    *,
    top: int = 100,
    batch: int = 64,
    on_batch: Callable[[int], None] | None = None,
    **options: Any,
) -> Run:
    """Top-``top`` documents per query: each document scored by its best chunk."""
    ids = list(queries)
    run: Run = {}
    for start in range(0, len(ids), batch):
        part = ids[start : start + batch]
        results = kb.search_many([queries[q] for q in part], k=top * 3, mode=mode, **options)
        for query_id, hits in zip(part, results, strict=True):
            ranked: dict[str, float] = {}
            for hit in hits:
                # Scores by position: a re-ranked head and a first-stage tail have scores
                # on different scales, and the order is what counts.
                ranked.setdefault(hit.chunk.doc_id, float(top - len(ranked)))
                if len(ranked) == top:
                    break
            run[query_id] = ranked
        if on_batch:
            on_batch(len(part))
    return run


def evaluate_modes(
    kb: Any,
    dataset: BeirDataset,
    modes: Sequence[str],
    *,
    metrics: Sequence[str] = DEFAULT_METRICS,
    on_batch: Callable[[int], None] | None = None,
    **options: Any,
) -> tuple[dict[str, dict[str, float]], dict[str, Run]]:
    """Metrics per mode, and the runs they were computed from."""
    results: dict[str, dict[str, float]] = {}
    runs: dict[str, Run] = {}
    for mode in modes:
        runs[mode] = run_queries(kb, dataset.queries, mode, on_batch=on_batch, **options)
        results[mode] = evaluate_run(dataset.qrels, runs[mode], metrics)
    return results, runs
