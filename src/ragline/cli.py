"""The ``ragline`` command: parses arguments, calls the library, prints.

``--json`` prints one JSON object on stdout; human-readable text goes to stderr. Exit codes:
0 ok, 1 user error (bad path, flag or input) with a one-line reason, 2 internal error.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from ragline.config import Config
from ragline.errors import RaglineError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="ragline: index documents, search them, and check what the answers cite.",
)

KbOption = Annotated[Path, typer.Option("--kb", help="Knowledge base directory.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")]
QueryEncoderOption = Annotated[
    str | None,
    typer.Option(help="Embed queries with this model (one trained by `ragline train rag`)."),
]
SearchModeOption = Annotated[
    str | None, typer.Option(help="Retrieval: hybrid | dense | bm25 (default: config).")
]
MaxNewTokensOption = Annotated[
    int | None, typer.Option(help="Longest answer, in tokens (default: config).")
]
ModelOption = Annotated[str | None, typer.Option(help="Remote model name (API generators).")]
HopsOption = Annotated[int | None, typer.Option(help="Retrieval rounds (multi-hop).")]
FollowUpOption = Annotated[
    str | None,
    typer.Option(
        help="Between hops, search for: missing (a query the model writes for the missing "
        "fact), answer (the question plus the model's answer so far) or links (the question, "
        "within the documents the passages found name by title)."
    ),
]
AnswerStyleOption = Annotated[
    str | None,
    typer.Option(
        help="sentence (one or two sentences) or short (the shortest phrase, as span-style "
        "benchmarks score answers); default: config."
    ),
]
RerankOption = Annotated[
    str | None,
    typer.Option(help="Re-rank with cross-encoder, colbert, or a model directory."),
]
RerankDepthOption = Annotated[
    int | None, typer.Option(help="First-stage hits given to the re-ranker (default 100).")
]
RerankFusionOption = Annotated[
    str | None,
    typer.Option(
        help="rrf (default): fuse first-stage and re-rank ranks; none: re-rank score alone "
        "(eval beir: a comma-separated list, scored once)."
    ),
]


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _setup_logging(verbose: bool) -> None:
    from rich.logging import RichHandler

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=_console(), show_time=False, show_path=False)],
        force=True,
    )


def _progress_bar(console: Any, as_json: bool) -> Any:
    """A counted progress bar on stderr (silent with --json or when not a terminal)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=as_json or not console.is_terminal,
    )


def _stage_reporter(progress: Any) -> Callable[[str, int, int | None], None]:
    """A progress callback for the library's ``on_progress``: one task per stage, made the
    first time the stage reports."""
    tasks: dict[str, Any] = {}

    def report(stage: str, done: int, total: int | None) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return report


def _given(**options: Any) -> dict[str, Any]:
    """The options given a value on the command line; empty ones (None, "", 0) are left out
    so that the configured values apply."""
    return {key: value for key, value in options.items() if value}


def _report_results(
    title: str, payload: dict[str, Any], *, plot: Path | None, as_json: bool, console: Any
) -> None:
    """An evaluation's results (``payload["results"]``: mode → metric → value) as a bar
    chart when asked, and as JSON on stdout or a table on stderr."""
    from ragline.evaluate.report import bar_chart, results_table

    if plot:
        bar_chart(title, payload["results"], plot)
    if as_json:
        _emit_json(payload)
    else:
        console.print(results_table(title, payload["results"]))


def _emit_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")


def _parse_meta(pairs: list[str]) -> dict[str, Any]:
    from ragline.index.filters import parse_value

    meta: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise RaglineError(f"--meta {pair!r}: expected key=value")
        meta[key.strip()] = parse_value(value.strip())
    return meta


@app.command()
def index(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to index.")],
    kb: KbOption,
    chunker: Annotated[
        str | None, typer.Option(help="fixed | recursive | semantic (new KB: recursive).")
    ] = None,
    chunk_size: Annotated[int | None, typer.Option(help="Chunk size in embedder tokens.")] = None,
    overlap: Annotated[int | None, typer.Option(help="Overlap in embedder tokens.")] = None,
    index_factory: Annotated[
        str | None,
        typer.Option("--index", help="FAISS factory string (Flat, HNSW32, IVF1024,Flat) or auto."),
    ] = None,
    embedder: Annotated[
        str | None, typer.Option(help="minilm (packaged) or a sentence-transformers directory.")
    ] = None,
    vector_dtype: Annotated[
        str | None, typer.Option(help="Stored vector precision: float32 or float16.")
    ] = None,
    meta: Annotated[
        list[str] | None, typer.Option("--meta", help="key=value metadata for every document.")
    ] = None,
    include: Annotated[list[str] | None, typer.Option(help="Glob of files to include.")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Glob of files to skip.")] = None,
    max_file_size: Annotated[
        int | None, typer.Option(help="Skip files larger than this many bytes.")
    ] = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Add files and directories to a knowledge base (created if missing)."""
    from ragline.manage import index_paths, stored_config

    _setup_logging(verbose)
    config = (
        stored_config(kb)
        .with_overrides("chunk", method=chunker, size=chunk_size, overlap=overlap)
        .with_overrides("embed", model=embedder, vector_dtype=vector_dtype)
        .with_overrides("index", factory=index_factory)
        .with_overrides("load", max_file_bytes=max_file_size)
    )
    metadata = _parse_meta(meta or [])
    console = _console()

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        disable=as_json or not console.is_terminal,
    ) as progress:
        task = progress.add_task("indexing", total=None)

        def committed(doc_ids: list[str], report: Any) -> None:
            progress.update(
                task, description=f"indexing: {report.indexed} documents, {report.chunks} chunks"
            )
            if verbose:
                for doc_id in doc_ids:
                    console.print(f"committed {doc_id}", markup=False)

        result = index_paths(
            kb,
            paths,
            config,
            include=include or (),
            exclude=exclude or (),
            metadata=metadata,
            on_commit=committed,
        )
    report = result.report
    if as_json:
        _emit_json(result.to_dict())
    else:
        console.print(
            f"indexed {report.added} new and {report.updated} changed documents "
            f"({report.chunks} chunks), {report.unchanged} unchanged; "
            f"knowledge base: {result.documents} documents, {result.chunks} chunks",
            markup=False,
        )
        for error in report.errors:
            console.print(f"skipped {error.source}: {error.reason}", markup=False)
    if result.failed:
        raise typer.Exit(1)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    kb: KbOption,
    k: Annotated[int, typer.Option("-k", "--k", help="How many hits.")] = 10,
    mode: Annotated[str | None, typer.Option(help="hybrid | dense | bm25.")] = None,
    fusion: Annotated[str | None, typer.Option(help="Hybrid fusion: rrf | score.")] = None,
    filter_: Annotated[
        list[str] | None,
        typer.Option("--filter", help="key=value, key>=number, key=a|b; repeatable."),
    ] = None,
    nprobe: Annotated[int | None, typer.Option(help="IVF cells to visit.")] = None,
    ef_search: Annotated[int | None, typer.Option(help="HNSW search breadth.")] = None,
    rerank: RerankOption = None,
    rerank_depth: RerankDepthOption = None,
    rerank_fusion: RerankFusionOption = None,
    query_encoder: QueryEncoderOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Search a knowledge base."""
    from ragline.index.filters import parse_filters
    from ragline.kb import KnowledgeBase

    _setup_logging(verbose)
    filters = parse_filters(filter_) if filter_ else None
    with KnowledgeBase.open(kb, query_encoder=query_encoder) as knowledge_base:
        hits = knowledge_base.search(
            query,
            k=k,
            mode=mode,
            fusion=fusion,
            filters=filters,
            nprobe=nprobe,
            ef_search=ef_search,
            rerank=rerank,
            rerank_depth=rerank_depth,
            rerank_fusion=rerank_fusion,
        )
    if as_json:
        _emit_json({"query": query, "hits": [hit.to_dict() for hit in hits]})
        return
    console = _console()
    if not hits:
        console.print("no hits", markup=False)
    for hit in hits:
        title = hit.chunk.metadata.get("title") or hit.chunk.doc_id
        snippet = " ".join(hit.chunk.text.split())[:300]
        console.print(
            f"[bold]{hit.rank}.[/bold] {hit.score:.4f}  [cyan]{title}[/cyan]  "
            f"({hit.chunk.doc_id} {hit.chunk.start}:{hit.chunk.end})"
        )
        console.print(f"   {snippet}", markup=False)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question to answer.")],
    kb: KbOption,
    generator: Annotated[
        str | None,
        typer.Option(
            help="smollm2 (packaged, default), extractive, a reader or model directory, "
            "or an API base URL."
        ),
    ] = None,
    model: ModelOption = None,
    mode: Annotated[str | None, typer.Option(help="plain | sequence | token.")] = None,
    hops: HopsOption = None,
    follow_up: FollowUpOption = None,
    answer_style: AnswerStyleOption = None,
    k: Annotated[int | None, typer.Option("-k", "--k", help="Passages given to the model.")] = None,
    search_mode: SearchModeOption = None,
    filter_: Annotated[
        list[str] | None, typer.Option("--filter", help="Restrict passages: key=value …")
    ] = None,
    max_new_tokens: MaxNewTokensOption = None,
    rerank: RerankOption = None,
    query_encoder: QueryEncoderOption = None,
    unsupported: Annotated[
        str | None,
        typer.Option(
            help="When no answer sentence passes the support check: abstain | fallback "
            "(the best passage sentence that passes) | regenerate (ask once more)."
        ),
    ] = None,
    show_unsupported: Annotated[
        bool, typer.Option(help="Also print the sentences withheld as unsupported, marked.")
    ] = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Answer a question from a knowledge base, citing the passages it used."""
    from ragline.index.filters import parse_filters
    from ragline.kb import KnowledgeBase

    _setup_logging(verbose)
    console = _console()
    streamed = not as_json and (mode or "plain") == "plain"
    with KnowledgeBase.open(kb, query_encoder=query_encoder) as knowledge_base:
        answer = knowledge_base.ask(
            question,
            generator=generator,
            mode=mode,
            k=k,
            hops=hops,
            filters=parse_filters(filter_) if filter_ else None,
            search_mode=search_mode,
            rerank=rerank,
            on_token=(lambda piece: console.print(piece, end="", markup=False))
            if streamed
            else None,
            **({"model": model} if model else {}),
            **({"max_new_tokens": max_new_tokens} if max_new_tokens else {}),
            **({"follow_up": follow_up} if follow_up else {}),
            **({"answer_style": answer_style} if answer_style else {}),
            **({"unsupported": unsupported} if unsupported else {}),
        )
    if as_json:
        _emit_json(answer.to_dict())
        return
    if streamed:
        console.print()
        if answer.abstained:
            console.print(answer.text, markup=False)
    else:
        console.print(answer.text, markup=False)
    if answer.fallback:
        console.print(
            "  (the generated answer failed the support check; shown: the best passage "
            "sentence that passes it)",
            markup=False,
        )
    for citation in answer.citations:
        state = "supported" if citation.supported else "NOT SUPPORTED"
        page = f" p.{citation.page}" if citation.page else ""
        console.print(
            f"  [{citation.n}] {citation.doc_id}{page} {citation.span[0]}:{citation.span[1]} "
            f"({state}, {citation.origin})",
            markup=False,
        )
    if show_unsupported:
        for withheld in answer.withheld:
            missing = ", ".join(withheld["missing"]) or "too little overlap"
            console.print(
                f"  UNSUPPORTED, not shown: {withheld['sentence']} "
                f"(cites {withheld['cited'] or 'nothing'}; passage lacks: {missing})",
                markup=False,
            )


@app.command()
def delete(
    doc_ids: Annotated[list[str] | None, typer.Argument(help="Document ids to delete.")] = None,
    kb: KbOption = Path("."),
    filter_: Annotated[
        list[str] | None, typer.Option("--filter", help="Delete documents matching key=value.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Delete documents by id or by metadata filter."""
    from ragline.index.filters import parse_filters
    from ragline.manage import delete_documents

    if not doc_ids and not filter_:
        raise RaglineError("delete: give document ids or --filter")
    result = delete_documents(kb, doc_ids or [], parse_filters(filter_) if filter_ else None)
    if as_json:
        _emit_json(result)
        return
    console = _console()
    console.print(f"deleted {result['deleted']} documents", markup=False)
    for doc_id in result["missing"]:
        console.print(f"not found: {doc_id}", markup=False)


@app.command()
def info(kb: KbOption, as_json: JsonOption = False) -> None:
    """Describe a knowledge base: counts, embedder, index."""
    from ragline.kb import KnowledgeBase

    with KnowledgeBase.open(kb) as knowledge_base:
        facts = knowledge_base.info()
    if as_json:
        _emit_json(facts)
        return
    console = _console()
    for key in ("path", "documents", "chunks", "embedder", "dim", "index", "generation", "bytes"):
        console.print(f"{key:>10}: {facts[key]}", markup=False)


@app.command()
def reindex(
    kb: KbOption,
    embedder: Annotated[str, typer.Option(help="minilm or a model directory to embed with.")],
    query_prefix: Annotated[str, typer.Option(help="Prefix for queries (e5: 'query: ').")] = "",
    document_prefix: Annotated[str, typer.Option(help="Prefix for passages.")] = "",
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Re-embed a knowledge base's stored chunks with another embedder, atomically."""
    from dataclasses import replace

    from ragline.kb import KnowledgeBase

    _setup_logging(verbose)
    console = _console()
    with KnowledgeBase.open(kb) as knowledge_base, _progress_bar(console, as_json) as progress:
        embed = replace(
            knowledge_base.config.embed,
            model=embedder,
            query_prefix=query_prefix,
            document_prefix=document_prefix,
        )
        task = progress.add_task("re-embedding", total=None)
        report = knowledge_base.reembed(
            embed, on_batch=lambda done, total: progress.update(task, completed=done, total=total)
        )
    if as_json:
        _emit_json(report)
        return
    console.print(
        f"re-embedded {report['chunks']} chunks with {report['embedder']} "
        f"({report['dim']}-d) in {report['seconds']} s",
        markup=False,
    )


eval_app = typer.Typer(no_args_is_help=True, help="Measure retrieval quality.")
app.add_typer(eval_app, name="eval")


@eval_app.command("beir")
def eval_beir(
    dataset: Annotated[
        Path,
        typer.Argument(
            help="BEIR folder (corpus.jsonl, queries.jsonl, qrels/) or HotpotQA folder."
        ),
    ],
    split: Annotated[str, typer.Option(help="Qrels split to evaluate.")] = "test",
    mode: Annotated[str, typer.Option(help="Comma-separated: bm25,dense,hybrid or all.")] = "all",
    chunker: Annotated[str | None, typer.Option(help="fixed | recursive | semantic.")] = None,
    chunk_size: Annotated[int | None, typer.Option(help="Chunk size in embedder tokens.")] = None,
    overlap: Annotated[int | None, typer.Option(help="Overlap in embedder tokens.")] = None,
    embedder: Annotated[str | None, typer.Option(help="minilm or a model directory.")] = None,
    index_factory: Annotated[
        str | None, typer.Option("--index", help="FAISS factory string.")
    ] = None,
    fusion: Annotated[str | None, typer.Option(help="Hybrid fusion: rrf | score.")] = None,
    depth: Annotated[int | None, typer.Option(help="Hybrid candidates per side.")] = None,
    rerank: RerankOption = None,
    rerank_depth: RerankDepthOption = None,
    rerank_fusion: RerankFusionOption = None,
    max_queries: Annotated[
        int | None, typer.Option(help="Evaluate only the first N queries.")
    ] = None,
    run_file: Annotated[
        Path | None, typer.Option(help="Write TREC runs to PREFIX.<mode>.trec.")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a bar chart (PNG).")] = None,
    cache: Annotated[
        bool, typer.Option(help="Reuse the knowledge base built for this corpus.")
    ] = True,
    kb: Annotated[
        Path | None,
        typer.Option("--kb", help="Evaluate this knowledge base (built over the corpus)."),
    ] = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """nDCG@10, Recall@10/100, MRR@10 and MAP@100 on a BEIR data set, per search mode."""
    from ragline.evaluate.runner import beir_modes, evaluate_beir

    _setup_logging(verbose)
    modes = beir_modes(mode)
    config = (
        Config()
        .with_overrides("chunk", method=chunker, size=chunk_size, overlap=overlap)
        .with_overrides("embed", model=embedder)
        .with_overrides("index", factory=index_factory)
    )
    console = _console()
    with _progress_bar(console, as_json) as progress:
        payload = evaluate_beir(
            dataset,
            modes,
            split=split,
            config=config,
            kb=kb,
            use_cache=cache,
            max_queries=max_queries,
            fusion=fusion,
            depth=depth,
            rerank=rerank,
            rerank_depth=rerank_depth,
            rerank_fusions=[f.strip() for f in (rerank_fusion or "rrf").split(",")],
            run_file=run_file,
            on_progress=_stage_reporter(progress),
        )
    title = f"{payload['dataset']} {payload['split']}: {payload['queries']} queries"
    _report_results(title, payload, plot=plot, as_json=as_json, console=console)


@eval_app.command("qa")
def eval_qa(
    dataset: Annotated[
        Path, typer.Argument(help="SQuAD json (or its folder), or a HotpotQA folder.")
    ],
    mode: Annotated[str, typer.Option(help="Comma-separated: plain,sequence,token.")] = "plain",
    generator: Annotated[
        str | None, typer.Option(help="smollm2, extractive, a reader or model path, or an API URL.")
    ] = None,
    model: ModelOption = None,
    hops: HopsOption = None,
    follow_up: FollowUpOption = None,
    answer_style: AnswerStyleOption = None,
    k: Annotated[int | None, typer.Option("-k", "--k", help="Passages per question.")] = None,
    search_mode: SearchModeOption = None,
    max_new_tokens: MaxNewTokensOption = None,
    answerable: Annotated[int, typer.Option(help="SQuAD: answerable questions sampled.")] = 300,
    unanswerable: Annotated[int, typer.Option(help="SQuAD: unanswerable questions sampled.")] = 100,
    seed: Annotated[int, typer.Option(help="SQuAD: sampling seed.")] = 0,
    held_out: Annotated[
        float | None,
        typer.Option(help="SQuAD: ask only the test side of this by-paragraph split (train rag)."),
    ] = None,
    split_seed: Annotated[int, typer.Option(help="SQuAD: seed of that split.")] = 0,
    limit: Annotated[int | None, typer.Option(help="HotpotQA: first N questions.")] = None,
    embedder: Annotated[str | None, typer.Option(help="minilm or a model directory.")] = None,
    query_encoder: QueryEncoderOption = None,
    per_question: Annotated[
        Path | None, typer.Option(help="Write each question's answer as JSON lines.")
    ] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a bar chart (PNG).")] = None,
    cache: Annotated[bool, typer.Option(help="Reuse the knowledge base built before.")] = True,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """EM, F1, abstention accuracy, citation support and supporting-passage recall."""
    from ragline.evaluate.qa import load_qa
    from ragline.evaluate.runner import evaluate_qa

    _setup_logging(verbose)
    modes = [m.strip() for m in mode.split(",") if m.strip()]
    data = load_qa(
        dataset,
        answerable=answerable,
        unanswerable=unanswerable,
        seed=seed,
        held_out=held_out,
        split_seed=split_seed,
        limit=limit,
    )
    console = _console()
    with _progress_bar(console, as_json) as progress:
        payload = evaluate_qa(
            data,
            modes,
            config=Config().with_overrides("embed", model=embedder),
            query_encoder=query_encoder,
            use_cache=cache,
            per_question=per_question,
            on_progress=_stage_reporter(progress),
            generator=generator,
            hops=hops,
            k=k,
            search_mode=search_mode,
            max_new_tokens=max_new_tokens,
            answer_style=answer_style,
            **_given(model=model, follow_up=follow_up),
        )
    title = f"{data.name}: {len(data.questions)} questions"
    _report_results(title, payload, plot=plot, as_json=as_json, console=console)


@eval_app.command("support")
def eval_support(
    dataset: Annotated[Path, typer.Argument(help="SQuAD json file.")],
    limit: Annotated[int | None, typer.Option(help="Check only N questions (seeded).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the swaps and of the sample.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """The support check on itself: gold answer sentences vs the same with the answer swapped."""
    from ragline.evaluate.support_check import load_perturbations, support_report
    from ragline.generate.citations import ClaimSupport, LexicalSupport

    pairs = load_perturbations(dataset, seed=seed, limit=limit)
    report = support_report(pairs, {"claim": ClaimSupport(), "lexical": LexicalSupport()})
    payload = {"dataset": str(dataset), "seed": seed, **report}
    counts = ", ".join(f"{kind} {n}" for kind, n in report["counts"].items())
    title = f"{dataset.name}: {report['n']} sentence pairs ({counts})"
    _report_results(title, payload, plot=None, as_json=as_json, console=_console())


@eval_app.command("compare")
def eval_compare(
    run_a: Annotated[Path, typer.Argument(help="TREC run file A.")],
    run_b: Annotated[Path, typer.Argument(help="TREC run file B.")],
    qrels: Annotated[Path, typer.Option(help="Qrels file (BEIR TSV or TREC).")],
    metric: Annotated[str, typer.Option(help="Per-query metric to compare.")] = "ndcg@10",
    as_json: JsonOption = False,
) -> None:
    """Compare two runs query by query: mean difference and paired significance tests."""
    from ragline.evaluate.metrics import per_query, read_qrels, read_trec_run
    from ragline.evaluate.significance import paired_test

    judgements = read_qrels(qrels)
    scores = []
    for path in (run_a, run_b):
        if not path.is_file():
            raise RaglineError(f"{path}: no such run file")
        per = per_query(judgements, read_trec_run(path), [metric])
        scores.append({q: values[metric] for q, values in per.items()})
    test = paired_test(scores[0], scores[1])
    payload = {"metric": metric, "a": str(run_a), "b": str(run_b), **test}
    if as_json:
        _emit_json(payload)
        return
    console = _console()
    console.print(
        f"{metric} over {test['n']} queries: A {test['mean_a']:.4f}, B {test['mean_b']:.4f}, "
        f"B-A {test['mean_diff']:+.4f}; paired t-test p={test['t_pvalue']:.4g}, "
        f"randomization p={test['perm_pvalue']:.4g}",
        markup=False,
    )


bench_app = typer.Typer(no_args_is_help=True, help="Measure speed and memory.")
app.add_typer(bench_app, name="bench")


@bench_app.command("ingest")
def bench_ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Corpus files or directories.")],
    kb: Annotated[
        Path | None, typer.Option("--kb", help="Where to build (default: a temporary directory).")
    ] = None,
    embedder: Annotated[str | None, typer.Option(help="minilm or a model directory.")] = None,
    chunk_size: Annotated[int | None, typer.Option(help="Chunk size in embedder tokens.")] = None,
    raw: Annotated[bool, typer.Option(help="Also time the raw encoder on the same texts.")] = True,
    plot: Annotated[Path | None, typer.Option(help="Write a chart (PNG).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest throughput (docs/s, chunks/s, MB/s), stage breakdown, peak RSS, ingest/raw ratio."""
    import tempfile

    from ragline.bench.ingest import bench_ingest
    from ragline.bench.plots import ingest_chart

    config = (
        Config().with_overrides("embed", model=embedder).with_overrides("chunk", size=chunk_size)
    )
    with tempfile.TemporaryDirectory(prefix="ragline-bench-") as tmp:
        result = bench_ingest(paths, kb or Path(tmp) / "kb", config, raw_baseline=raw)
    if plot:
        ingest_chart(result, plot)
    if as_json:
        _emit_json(result)
        return
    console = _console()
    console.print(
        f"{result['documents']} documents, {result['chunks']} chunks, "
        f"{result['megabytes']:.1f} MB in {result['seconds']:.1f} s: "
        f"{result['docs_per_s']:.1f} docs/s, {result['chunks_per_s']:.1f} chunks/s, "
        f"{result['mb_per_s']:.3f} MB/s; peak RSS {result['peak_rss_mb']:.0f} MB",
        markup=False,
    )
    console.print(
        "stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in result["stages"].items()),
        markup=False,
    )
    if "raw_encode" in result:
        console.print(
            f"raw encoder: {result['raw_encode']['chunks_per_s']:.1f} chunks/s; "
            f"ingest/raw = {result['ingest_vs_raw']:.3f}",
            markup=False,
        )


@bench_app.command("query")
def bench_query_command(
    kb: KbOption,
    queries: Annotated[
        Path, typer.Option(help="BEIR folder, queries.jsonl, or a text file with a query a line.")
    ],
    mode: Annotated[str, typer.Option(help="Comma-separated modes.")] = "bm25,dense,hybrid",
    k: Annotated[int, typer.Option("-k", "--k", help="Hits per query.")] = 10,
    limit: Annotated[int | None, typer.Option(help="Use the first N queries.")] = None,
    threads: Annotated[int, typer.Option(help="Concurrent clients for the QPS run.")] = 2,
    rerank: RerankOption = None,
    rerank_depth: RerankDepthOption = None,
    rerank_fusion: RerankFusionOption = None,
    plot: Annotated[Path | None, typer.Option(help="Write a chart (PNG).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Latency p50/p95/p99 and queries/s per mode (warm), single and multi-threaded."""
    from ragline.bench.plots import query_chart
    from ragline.bench.queries import read_queries
    from ragline.bench.query import bench_query
    from ragline.kb import KnowledgeBase

    modes = [m.strip() for m in mode.split(",") if m.strip()]
    texts = read_queries(queries, limit)
    with KnowledgeBase.open(kb) as knowledge_base:
        options = (
            {"rerank": rerank, "rerank_depth": rerank_depth, "rerank_fusion": rerank_fusion}
            if rerank
            else {}
        )
        result = bench_query(knowledge_base, texts, modes, k=k, threads=threads, **options)
    if plot:
        query_chart(result, plot)
    if as_json:
        _emit_json(result)
        return
    from rich.table import Table

    table = Table(title=f"{len(texts)} queries over {result['chunks']} chunks, k={k}")
    for column in ("mode", "p50 ms", "p95 ms", "p99 ms", "qps", f"qps x{threads}"):
        table.add_column(column, justify="right")
    for name, row in result["results"].items():
        table.add_row(name, *(f"{v:.1f}" for v in row.values()))
    _console().print(table)


@bench_app.command("generate")
def bench_generate_command(
    kb: KbOption,
    queries: Annotated[
        Path, typer.Option(help="BEIR folder, queries.jsonl, or a text file with a query a line.")
    ],
    generator: Annotated[str, typer.Option(help="smollm2 or a local model path.")] = "smollm2",
    limit: Annotated[int, typer.Option(help="Use the first N questions.")] = 10,
    k: Annotated[int, typer.Option("-k", "--k", help="Passages per question.")] = 3,
    max_new_tokens: Annotated[int, typer.Option(help="Tokens generated per answer.")] = 32,
    as_json: JsonOption = False,
) -> None:
    """Time to first token, tokens/s, and RAG-Token's cost per token relative to plain."""
    from ragline.bench.generate import bench_generate
    from ragline.bench.queries import read_queries
    from ragline.kb import KnowledgeBase

    texts = read_queries(queries, limit)
    with KnowledgeBase.open(kb) as knowledge_base:
        result = bench_generate(
            knowledge_base, texts, generator=generator, k=k, max_new_tokens=max_new_tokens
        )
    if as_json:
        _emit_json(result)
        return
    console = _console()
    for key, value in result.items():
        if key != "machine":
            console.print(f"{key:>26}: {value}", markup=False)


@bench_app.command("answer")
def bench_answer_command(
    kb: KbOption,
    queries: Annotated[
        Path, typer.Option(help="BEIR folder, queries.jsonl, or a text file with a query a line.")
    ],
    generator: Annotated[
        str, typer.Option(help="Comma-separated generators; the first is the baseline.")
    ] = "smollm2,extractive",
    limit: Annotated[int, typer.Option(help="Use the first N questions.")] = 20,
    k: Annotated[int | None, typer.Option("-k", "--k", help="Passages per question.")] = None,
    max_new_tokens: MaxNewTokensOption = None,
    as_json: JsonOption = False,
) -> None:
    """Seconds per answer (retrieve, generate, check) per generator, relative to the first."""
    from ragline.bench.answer import bench_answer
    from ragline.bench.queries import read_queries
    from ragline.kb import KnowledgeBase

    names = [name.strip() for name in generator.split(",") if name.strip()]
    options = {"k": k, "max_new_tokens": max_new_tokens}
    with KnowledgeBase.open(kb) as knowledge_base:
        result = bench_answer(
            knowledge_base,
            read_queries(queries, limit),
            names,
            **{key: value for key, value in options.items() if value is not None},
        )
    if as_json:
        _emit_json(result)
        return
    console = _console()
    for name, row in result["generators"].items():
        console.print(
            f"{name}: p50 {row['p50_s']:.3f} s, p95 {row['p95_s']:.3f} s per answer "
            f"({row['relative_to_baseline']:.2f}× {result['baseline']}), load "
            f"{row['load_seconds']:.1f} s, abstained {row['abstained']}/{result['questions']}",
            markup=False,
        )


@bench_app.command("update")
def bench_update_command(
    chunks: Annotated[int, typer.Option(help="Size of the knowledge base, in chunks.")] = 100_000,
    embedder: Annotated[
        str, typer.Option(help="Embedder for the synthetic corpus (hash-N needs no model).")
    ] = "hash-384",
    index_factory: Annotated[str, typer.Option("--index", help="FAISS factory string.")] = "auto",
    repeats: Annotated[int, typer.Option(help="Documents added, replaced and deleted.")] = 5,
    kb: Annotated[Path | None, typer.Option("--kb", help="Where to build (default: temp).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Time to add, replace and delete one document in a large knowledge base."""
    import tempfile

    from ragline.bench.update import bench_update

    config = (
        Config()
        .with_overrides("embed", model=embedder)
        .with_overrides("index", factory=index_factory)
    )
    with tempfile.TemporaryDirectory(prefix="ragline-bench-") as tmp:
        result = bench_update(kb or Path(tmp) / "kb", config, chunks=chunks, repeats=repeats)
    if as_json:
        _emit_json(result)
        return
    _console().print(
        f"{result['chunks']} chunks ({result['index']}, {result['embedder']}): built in "
        f"{result['build_seconds']:.1f} s, "
        f"opened in {result['open_and_first_search_seconds']:.2f} s; "
        + ", ".join(f"{op} {ms:.1f} ms" for op, ms in result["median_ms"].items())
        + " (median)",
        markup=False,
    )


@bench_app.command("ann")
def bench_ann_command(
    source: Annotated[
        str | None,
        typer.Option(help="glove, kb or synthetic (default: kb with --kb, else glove)."),
    ] = None,
    kb: Annotated[
        Path | None, typer.Option("--kb", help="Knowledge base whose stored vectors to use.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Base vectors (default: all).")] = None,
    queries: Annotated[int, typer.Option(help="Vectors held out as queries.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed for the held-out queries and IVF sample.")] = 0,
    threads: Annotated[
        int | None, typer.Option(help="FAISS threads (default: the machine's cores).")
    ] = None,
    repeats: Annotated[int, typer.Option(help="Timed runs per point; the best counts.")] = 3,
    plot: Annotated[Path | None, typer.Option(help="Write a chart (PNG).")] = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Recall@10 vs queries/s for Flat, HNSW (efSearch) and IVF (nprobe): ragline vs raw FAISS."""
    from ragline.bench.ann import bench_ann
    from ragline.bench.datasets import load_vectors
    from ragline.bench.plots import ann_chart

    _setup_logging(verbose)
    vectors = load_vectors(
        source or ("kb" if kb else "glove"), kb=kb, limit=limit, queries=queries, seed=seed
    )
    result = bench_ann(vectors, threads=threads, repeats=repeats, seed=seed)
    if plot:
        ann_chart(result, plot)
    if as_json:
        _emit_json(result)
        return
    from rich.table import Table

    table = Table(
        title=f"{result['source']}: {result['n']} x {result['dim']}d, {result['queries']} "
        f"queries, k={result['k']}, {result['threads']} threads"
    )
    table.add_column("index", no_wrap=True)
    table.add_column("param", no_wrap=True)
    for column in ("recall@10", "FAISS recall", "ragline QPS", "FAISS QPS", "ratio"):
        table.add_column(column, justify="right")
    for row in result["rows"]:
        table.add_row(
            row["factory"],
            f"{row['param']}={row['value']}" if row["param"] else "-",
            f"{row['recall']:.3f}",
            f"{row['faiss_recall']:.3f}",
            f"{row['ragline_qps']:.0f}",
            f"{row['faiss_qps']:.0f}",
            f"{row['ratio']:.3f}",
        )
    console = _console()
    console.print(table)
    console.print(
        "build s (ragline / FAISS): "
        + ", ".join(
            f"{b['factory']} {b['ragline_s']:.2f} / {b['faiss_s']:.2f}"
            for b in result["builds"].values()
        ),
        markup=False,
    )


train_app = typer.Typer(no_args_is_help=True, help="Train retrievers and re-rankers.")
app.add_typer(train_app, name="train")

BeirTrainOption = Annotated[
    Path | None, typer.Option("--beir", help="BEIR folder whose qrels give the pairs.")
]
SquadTrainOption = Annotated[
    Path | None, typer.Option("--squad", help="SQuAD-format json: question → its paragraph.")
]
JsonlTrainOption = Annotated[
    Path | None,
    typer.Option("--jsonl", help='JSONL of {"query", "positive", "negatives"?} records.'),
]


def _train_and_report(train: Any, data: Any, out: Path, recipe: Any, as_json: bool) -> None:
    """Run a trainer with the data summary first and its report last (JSON or lines)."""
    console = _console()
    summary = data.summary()
    console.print(
        f"{summary['pairs']} training pairs from {summary['read']} records "
        f"({summary['queries']} queries, {summary['corpus']} passages); "
        f"skipped: {summary['skipped'] or 'none'}; temperature {recipe.temperature}",
        markup=False,
    )
    report = train(data, out, recipe, progress=not as_json and console.is_terminal)
    if as_json:
        _emit_json(report)
        return
    for number, result in enumerate(report["rounds"], start=1):
        before = result.get("dev_ndcg@10_before")
        console.print(
            f"round {number}: {result['steps']} steps in {result['training_seconds']} s "
            f"(mining {result['mining_seconds']} s), loss {result['first_loss']:.3f} → "
            f"{result['last_loss']:.3f}; dev nDCG@10 "
            f"{'' if before is None else f'{before:.4f} → '}"
            f"{[round(v, 4) for v in result['dev_ndcg@10_per_epoch']]}",
            markup=False,
        )
    console.print(f"saved {out} in {report['seconds']} s", markup=False)


@train_app.command("retriever")
def train_retriever_command(
    out: Annotated[Path, typer.Option("--out", help="Directory for the trained model.")],
    beir: BeirTrainOption = None,
    split: Annotated[str, typer.Option(help="BEIR qrels split to train on.")] = "train",
    squad: SquadTrainOption = None,
    jsonl: JsonlTrainOption = None,
    base: Annotated[str, typer.Option(help="minilm or a model directory to start from.")] = (
        "minilm"
    ),
    negatives: Annotated[
        str, typer.Option(help="Comma-separated negative sources: in-batch,bm25,model.")
    ] = "in-batch,bm25",
    bm25_negatives: Annotated[int, typer.Option(help="BM25 hard negatives per pair.")] = 1,
    model_negatives: Annotated[int, typer.Option(help="Model-mined negatives per pair.")] = 1,
    mine_skip: Annotated[int, typer.Option(help="Model mining: skip this many top ranks.")] = 0,
    mine_margin: Annotated[
        float, typer.Option(help="Model mining: keep negatives this fraction below the positive.")
    ] = 0.05,
    rounds: Annotated[
        int, typer.Option(help="Training rounds; each later one re-mines with the trained model.")
    ] = 1,
    epochs: Annotated[int, typer.Option(help="Epochs per round.")] = 2,
    batch_size: Annotated[int, typer.Option(help="Pairs per batch (in-batch negatives).")] = 32,
    lr: Annotated[float, typer.Option("--lr", help="Peak learning rate.")] = 3e-5,
    temperature: Annotated[float, typer.Option(help="InfoNCE temperature τ (scale 1/τ).")] = 0.05,
    max_seq_length: Annotated[int, typer.Option(help="Tokens read per passage.")] = 256,
    precision: Annotated[
        str, typer.Option(help="auto (bf16 where the CPU/GPU has it), bf16 or fp32.")
    ] = "auto",
    dev_fraction: Annotated[
        float, typer.Option(help="Share of queries held out for dev nDCG@10 per epoch.")
    ] = 0.1,
    seed: Annotated[int, typer.Option(help="Random seed (splits, sampling, init).")] = 42,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Fine-tune a bi-encoder with InfoNCE over in-batch and hard negatives."""
    from ragline.train.pairs import read_training_data
    from ragline.train.retriever import RetrieverRecipe, train_retriever

    _setup_logging(verbose)
    recipe = RetrieverRecipe(
        base=base,
        negatives=tuple(n.strip() for n in negatives.split(",") if n.strip()),
        bm25_negatives=bm25_negatives,
        model_negatives=model_negatives,
        mine_skip=mine_skip,
        mine_margin=mine_margin,
        rounds=rounds,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=lr,
        temperature=temperature,
        max_seq_length=max_seq_length,
        precision=precision,
        dev_fraction=dev_fraction,
        seed=seed,
    )
    data = read_training_data(beir=beir, split=split, squad=squad, jsonl=jsonl)
    _train_and_report(train_retriever, data, out, recipe, as_json)


@train_app.command("reranker")
def train_reranker_command(
    kind: Annotated[str, typer.Option(help="cross-encoder or colbert.")] = "cross-encoder",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Model directory (default: where --rerank KIND looks)."),
    ] = None,
    beir: BeirTrainOption = None,
    split: Annotated[str, typer.Option(help="BEIR qrels split to train on.")] = "train",
    squad: SquadTrainOption = None,
    jsonl: JsonlTrainOption = None,
    base: Annotated[
        str | None, typer.Option(help="minilm or a model directory to start from.")
    ] = None,
    loss: Annotated[str | None, typer.Option(help="Cross-encoder loss: listwise or bce.")] = None,
    head: Annotated[
        str | None, typer.Option(help="Cross-encoder head: on mean-pooled tokens or [CLS].")
    ] = None,
    bm25_negatives: Annotated[int | None, typer.Option(help="BM25 negatives per pair.")] = None,
    dense_negatives: Annotated[
        int | None, typer.Option(help="Dense-retriever negatives per pair.")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Training epochs.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Queries per batch.")] = None,
    lr: Annotated[float | None, typer.Option("--lr", help="Peak learning rate.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Listwise softmax temperature.")] = None,
    max_length: Annotated[
        int | None, typer.Option(help="Tokens read per passage (cross-encoder: query+passage).")
    ] = None,
    precision: Annotated[str | None, typer.Option(help="auto, bf16 or fp32.")] = None,
    dev_fraction: Annotated[
        float | None, typer.Option(help="Share of queries held out for dev.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Train a re-ranker (cross-encoder or ColBERT) on labelled pairs with hard negatives."""
    from ragline.rerank.registry import default_reranker_dir
    from ragline.train.pairs import read_training_data
    from ragline.train.reranker import reranker_training

    _setup_logging(verbose)
    recipe, train = reranker_training(
        kind,
        base=base,
        loss=loss,
        head=head,
        bm25_negatives=bm25_negatives,
        dense_negatives=dense_negatives,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=lr,
        temperature=temperature,
        max_length=max_length,
        precision=precision,
        dev_fraction=dev_fraction,
        seed=seed,
    )
    data = read_training_data(beir=beir, split=split, squad=squad, jsonl=jsonl)
    _train_and_report(train, data, out or default_reranker_dir(kind), recipe, as_json)


@train_app.command("reader")
def train_reader_command(
    squad: Annotated[Path, typer.Option(help="SQuAD-format json (2.0: with unanswerables).")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the trained reader.")],
    held_out: Annotated[
        float, typer.Option(help="Share of paragraphs held out for testing (never read).")
    ] = 0.2,
    split_seed: Annotated[int, typer.Option(help="Seed of that split.")] = 0,
    epochs: Annotated[int, typer.Option(help="Passes over the training questions.")] = 1,
    negatives: Annotated[
        int, typer.Option(help="BM25 paragraphs per question, labelled no-answer.")
    ] = 0,
    seed: Annotated[int, typer.Option(help="Seed of shuffling and initialisation.")] = 0,
    limit: Annotated[int, typer.Option(help="Train on the first N examples (0 = all).")] = 0,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Train an extractive span reader (LoRA on the packaged MiniLM): ask --generator DIR."""
    from ragline.train.reader import ReaderRecipe, train_reader

    _setup_logging(verbose)
    recipe = ReaderRecipe(
        held_out=held_out,
        split_seed=split_seed,
        epochs=epochs,
        negatives=negatives,
        seed=seed,
        limit=limit,
    )
    console = _console()
    with _progress_bar(console, as_json) as progress:
        task = progress.add_task("training reader", total=None)

        def step(done: int, total: int, loss: float) -> None:
            progress.update(task, completed=done, total=total, description=f"loss {loss:.3f}")

        report = train_reader(squad, out, recipe, on_step=step)
    if as_json:
        _emit_json(report)
        return
    dev = report["dev"]
    console.print(
        f"{report['examples']} examples, {report['steps']} steps in "
        f"{report['training_seconds']} s; dev: answerable F1 {dev['answerable_f1']:.3f}, "
        f"EM {dev['answerable_em']:.3f}, unanswerable abstained "
        f"{dev['unanswerable_abstained']:.3f} at threshold {dev['threshold']:.2f}; saved {out}",
        markup=False,
    )


@train_app.command("rag")
def train_rag_command(
    kb: KbOption,
    out: Annotated[Path, typer.Option("--out", help="Directory for the trained parts.")],
    squad: Annotated[
        Path | None,
        typer.Option(
            help="SQuAD json: trains on its train side, split by paragraph; the test side's "
            "paragraphs are never retrieved in training."
        ),
    ] = None,
    test_fraction: Annotated[
        float, typer.Option(help="SQuAD: share of paragraphs held out for testing.")
    ] = 0.2,
    split_seed: Annotated[int, typer.Option(help="SQuAD: paragraph split seed.")] = 0,
    pairs: Annotated[
        Path | None,
        typer.Option(
            help='(question, answer) pairs: SQuAD/HotpotQA json or {"question", "answer"} JSONL.'
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Train on a seeded sample of N pairs.")] = None,
    train: Annotated[
        str,
        typer.Option(
            help="What learns, comma-separated: query, passage, generator (both = query,generator)."
        ),
    ] = "query",
    loss: Annotated[str, typer.Option(help="Marginalization: sequence or token.")] = "sequence",
    k: Annotated[int, typer.Option("-k", "--k", help="Passages marginalized over.")] = 5,
    temperature: Annotated[float, typer.Option(help="Temperature of p(z|q).")] = 0.1,
    generator: Annotated[
        str, typer.Option(help="smollm2, or a causal LM or encoder-decoder (T5) directory.")
    ] = "smollm2",
    lora: Annotated[bool, typer.Option(help="Train the generator through LoRA adapters.")] = True,
    epochs: Annotated[int, typer.Option(help="Epochs.")] = 1,
    batch_size: Annotated[int, typer.Option(help="Questions per optimizer step.")] = 4,
    query_lr: Annotated[float, typer.Option(help="Query-encoder learning rate.")] = 3e-5,
    passage_lr: Annotated[float, typer.Option(help="Passage-encoder learning rate.")] = 3e-5,
    refresh_every: Annotated[
        int, typer.Option(help="With --train passage: re-encode the passage index every N steps.")
    ] = 50,
    generator_lr: Annotated[float, typer.Option(help="Generator learning rate.")] = 2e-4,
    checkpoint_every: Annotated[int, typer.Option(help="Save a resumable state every N.")] = 50,
    device: Annotated[
        str, typer.Option(help="auto (the GPU when one is present), cpu or cuda[:N].")
    ] = "auto",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run.")] = True,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Train retriever and generator together from (question, answer) pairs alone, with
    the marginalized loss −log Σ_z p(z|q)·p(y|q,z)."""
    from ragline.train.rag import RagRecipe, train_rag, training_pairs

    _setup_logging(verbose)
    data, hidden = training_pairs(
        squad=squad,
        pairs=pairs,
        test_fraction=test_fraction,
        split_seed=split_seed,
        limit=limit,
        seed=seed,
    )
    recipe = RagRecipe(
        train=train,
        loss=loss,
        k=k,
        temperature=temperature,
        generator=generator,
        lora=lora,
        epochs=epochs,
        batch_size=batch_size,
        query_learning_rate=query_lr,
        passage_learning_rate=passage_lr,
        generator_learning_rate=generator_lr,
        refresh_every=refresh_every,
        checkpoint_every=checkpoint_every,
        device=device,
        seed=seed,
    )
    console = _console()
    console.print(f"{len(data)} (question, answer) pairs; training {train}", markup=False)
    report = train_rag(
        kb,
        data,
        out,
        recipe,
        hidden_documents=hidden,
        resume=resume,
        progress=not as_json and console.is_terminal,
    )
    if as_json:
        _emit_json(report)
        return
    console.print(
        f"{report['steps']} steps, {report['seconds_per_step']} s/step; loss "
        f"{report['first_loss']} → {report['last_loss']}; dev F1 "
        f"{report['dev_f1_before']} → {report['dev_f1_per_epoch']}; saved {out}",
        markup=False,
    )
    if recipe.trains_passage:
        console.print(
            f"to search with it: ragline reindex --kb {kb} --embedder {out}/passage-encoder, "
            f"then ask with --query-encoder {out}/query-encoder",
            markup=False,
        )


@app.command()
def serve(
    kb: KbOption,
    host: Annotated[
        str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    generator: Annotated[
        str | None,
        typer.Option(
            help="Generator for /ask and /v1/chat/completions (default: the knowledge base's)."
        ),
    ] = None,
    api_key_env: Annotated[
        str | None,
        typer.Option(
            help="Environment variable holding an API key; when set, every route but "
            "/health needs 'Authorization: Bearer <key>'."
        ),
    ] = None,
    verbose: VerboseOption = False,
) -> None:
    """Serve a knowledge base over HTTP: /search, /ask and an OpenAI-compatible /v1 API."""
    import os

    from ragline._optional import require

    uvicorn = require("uvicorn", "serve")
    from ragline.serve.app import create_app

    _setup_logging(verbose)
    console = _console()
    api_key = os.environ.get(api_key_env) if api_key_env else None
    if api_key_env and not api_key:
        console.print(
            f"warning: ${api_key_env} is not set: serving without an API key", markup=False
        )
    application = create_app(kb, generator=generator, api_key=api_key or None)
    state = application.state.ragline
    state.open()  # here, so that a knowledge base that cannot open is a one-line error
    shown = f"[{host}]" if ":" in host else host
    try:
        console.print(
            f"serving {kb} at http://{shown}:{port} (generator {state.generator_name}, "
            f"{'API key required' if api_key else 'no API key'}); Ctrl-C stops",
            markup=False,
            soft_wrap=True,
        )
        uvicorn.run(application, host=host, port=port, log_level="info" if verbose else "warning")
    finally:
        state.close()


def main() -> None:
    """Entry point: run the app, mapping errors to exit codes 1 (user) and 2 (internal)."""
    try:
        # Without standalone mode, click *returns* the code of a `typer.Exit(n)` raised by a
        # command instead of raising it, so it has to be passed on here.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except RaglineError as e:
        print(f"ragline: error: {e}", file=sys.stderr)
        sys.exit(1)
    except (typer.Exit, SystemExit) as e:
        code = e.exit_code if isinstance(e, typer.Exit) else e.code
        sys.exit(code if isinstance(code, int) else 0)
    except KeyboardInterrupt:
        print("ragline: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # noqa: BLE001 - the last resort that turns a bug into exit code 2
        # typer ships its own copy of click, so usage errors are recognised by their shape.
        if callable(getattr(e, "show", None)) and hasattr(e, "exit_code"):
            e.show()
            sys.exit(1)
        if type(e).__name__ == "Abort":
            sys.exit(1)
        logging.getLogger("ragline").debug("internal error", exc_info=True)
        print(f"ragline: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
