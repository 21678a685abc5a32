"""``ragline bench``: ingest throughput, query latency, generation speed, seconds per answer,
update cost, and ANN recall against raw FAISS."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ragline.cli.common import (
    DEFAULTS,
    ChunkSizeOption,
    DeprecatedModeOption,
    EmbedBackendOption,
    EmbedderOption,
    JsonOption,
    KbOption,
    MaxNewTokensOption,
    Output,
    QuietOption,
    RerankBackendOption,
    RerankDepthOption,
    RerankFusionOption,
    RerankOption,
    VerboseOption,
    build_config,
    opening_config,
    output,
    resolve_search_mode,
    split_list,
)
from ragline.cli.help import WordsCommand, WordsGroup

app = typer.Typer(cls=WordsGroup, no_args_is_help=True, help="Measure speed and memory.")

ChartOption = Annotated[Path | None, typer.Option(help="Write a chart (PNG).")]
QueriesOption = Annotated[
    Path, typer.Option(help="BEIR folder, queries.jsonl, or a text file with a query a line.")
]
BuildKbOption = Annotated[
    Path | None,
    typer.Option("--kb", metavar="DIR", help="Where to build (default: a temporary directory)."),
]
RawOption = Annotated[bool, typer.Option(help="Also time the raw encoder on the same texts.")]
BackendsOption = Annotated[
    str | None,
    typer.Option(
        metavar="NAMES",
        help="Embedder backends to compare with the raw float32 encode, comma-separated "
        "(default: every one installed: torch, openvino, openvino-int8; none: skip).",
    ),
]
RoundsOption = Annotated[
    int, typer.Option(min=1, max=100, metavar="N", help="Interleaved timing rounds per backend.")
]
QueryModesOption = Annotated[
    str | None,
    typer.Option(
        "--search-mode",
        metavar="MODES",
        help="Comma-separated retrieval modes (default: bm25,dense,hybrid).",
    ),
]
HitsOption = Annotated[int, typer.Option("-k", "--k", min=1, help="Hits per query.")]
PassagesOption = Annotated[int, typer.Option("-k", "--k", min=1, help="Passages per question.")]
LimitOption = Annotated[int, typer.Option(min=1, help="Use the first N questions.")]
AnswerGeneratorsOption = Annotated[
    str, typer.Option(help="Comma-separated generators; the first is the baseline.")
]
UpdateEmbedderOption = Annotated[
    str, typer.Option(help="Embedder for the synthetic corpus (hash-N needs no model).")
]
VectorSourceOption = Annotated[
    str | None,
    typer.Option(help="glove, kb or synthetic (default: kb with --kb, else glove)."),
]
VectorKbOption = Annotated[
    Path | None,
    typer.Option("--kb", metavar="DIR", help="Knowledge base whose stored vectors to use."),
]
ThreadsOption = Annotated[
    int | None, typer.Option(min=1, help="FAISS threads (default: the machine's cores).")
]


@app.command("ingest", cls=WordsCommand)
def bench_ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Corpus files or directories.")],
    kb: BuildKbOption = None,
    embedder: EmbedderOption = None,
    embed_backend: EmbedBackendOption = None,
    chunk_size: ChunkSizeOption = None,
    raw: RawOption = True,
    backends: BackendsOption = None,
    rounds: RoundsOption = 3,
    plot: ChartOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Ingest throughput (docs/s, chunks/s, MB/s), stage breakdown, peak RSS, ingest/raw ratio."""
    import tempfile

    from ragline.bench.ingest import bench_ingest
    from ragline.bench.plots import ingest_chart

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    config = build_config(embedder=embedder, embed_backend=embed_backend, chunk_size=chunk_size)
    with tempfile.TemporaryDirectory(prefix="ragline-bench-") as tmp:
        result = bench_ingest(
            paths,
            kb or Path(tmp) / "kb",
            config,
            raw_baseline=raw,
            backends=_backend_list(backends, config.embed.model),
            rounds=rounds,
        )
    if plot:
        ingest_chart(result, plot)
    if as_json:
        out.json(result)
    else:
        _print_ingest(out, result)


def _backend_list(backends: str | None, model: str) -> list[str] | None:
    """``--backends`` as bench_ingest takes it: None for every installed one, [] for none
    (also for the model-free hash encoder, which has no backends to compare)."""
    if model.startswith("hash-") or backends == "none":
        return []
    return split_list(backends) if backends else None


def _print_backends(out: Output, compared: dict[str, Any], columns: tuple[str, ...]) -> None:
    """One row per backend (``raw`` is sentence-transformers float32 itself)."""
    from rich.table import Table

    table = Table(
        title=f"embedder backends on {compared.get('texts', compared.get('queries'))} texts"
    )
    for column in ("backend", *columns, "mean cos", "min cos"):
        table.add_column(column, justify="right")
    for name, row in compared["backends"].items():
        if "error" in row:
            table.add_row(name, *[""] * len(columns), "", row["error"])
            continue
        cells = [f"{row[c]:.2f}" if c in row else "-" for c in columns]
        table.add_row(name, *cells, f"{row['mean_cosine']:.5f}", f"{row['min_cosine']:.5f}")
    out.show(table)


def _print_ingest(out: Output, result: dict[str, Any]) -> None:
    """The ingest benchmark in lines: totals and rates, time per stage, the raw encoder."""
    out.print(
        f"{result['documents']} documents, {result['chunks']} chunks, "
        f"{result['megabytes']:.1f} MB in {result['seconds']:.1f} s: "
        f"{result['docs_per_s']:.1f} docs/s, {result['chunks_per_s']:.1f} chunks/s, "
        f"{result['mb_per_s']:.3f} MB/s; peak RSS {result['peak_rss_mb']:.0f} MB"
    )
    out.print("stages (s): " + ", ".join(f"{k} {v:.2f}" for k, v in result["stages"].items()))
    if "raw_encode" in result:
        out.print(
            f"raw encoder: {result['raw_encode']['chunks_per_s']:.1f} chunks/s; "
            f"ingest/raw = {result['ingest_vs_raw']:.3f}"
        )
    if "backends" in result:
        _print_backends(out, result["backends"], ("texts_per_s", "speedup_vs_raw"))


@app.command("query", cls=WordsCommand)
def bench_query_command(
    kb: KbOption,
    queries: QueriesOption,
    search_mode: QueryModesOption = None,
    mode: DeprecatedModeOption = None,
    k: HitsOption = DEFAULTS.search.k,
    limit: Annotated[int | None, typer.Option(min=1, help="Use the first N queries.")] = None,
    threads: Annotated[int, typer.Option(min=1, help="Concurrent clients for the QPS run.")] = 2,
    rerank: RerankOption = None,
    rerank_depth: RerankDepthOption = None,
    rerank_fusion: RerankFusionOption = None,
    rerank_backend: RerankBackendOption = None,
    embed_backend: EmbedBackendOption = None,
    backends: BackendsOption = "none",
    plot: ChartOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Latency p50/p95/p99 and queries/s per mode (warm), single and multi-threaded; with
    --backends, query embedding and hybrid p50 per embedder backend."""
    from ragline.bench.plots import query_chart
    from ragline.bench.queries import read_queries
    from ragline.bench.query import bench_query, compare_query_backends
    from ragline.kb import KnowledgeBase

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    modes = resolve_search_mode(search_mode, mode, out, "bench query") or "bm25,dense,hybrid"
    texts = read_queries(queries, limit)
    options = (
        {
            "rerank": rerank,
            "rerank_depth": rerank_depth,
            "rerank_fusion": rerank_fusion,
            "rerank_backend": rerank_backend,
        }
        if rerank
        else {}
    )
    with KnowledgeBase.open(kb, config=opening_config(kb, embed_backend)) as knowledge_base:
        result = bench_query(
            knowledge_base, texts, split_list(modes), k=k, threads=threads, **options
        )
        compared = _backend_list(backends, knowledge_base.config.embed.model)
        if compared != []:
            result["backends"] = compare_query_backends(knowledge_base, texts, compared, k=k)
    if plot:
        query_chart(result, plot)
    if as_json:
        out.json(result)
    else:
        _print_query(out, result, queries=len(texts), k=k, threads=threads)
        if "backends" in result:
            _print_backends(out, result["backends"], ("embed_p50_ms", "hybrid_p50_ms"))


def _print_query(
    out: Output, result: dict[str, Any], *, queries: int, k: int, threads: int
) -> None:
    """The query benchmark as a table: one row per mode."""
    from rich.table import Table

    table = Table(title=f"{queries} queries over {result['chunks']} chunks, k={k}")
    for column in ("mode", "p50 ms", "p95 ms", "p99 ms", "qps", f"qps x{threads}"):
        table.add_column(column, justify="right")
    for name, row in result["results"].items():
        table.add_row(name, *(f"{v:.1f}" for v in row.values()))
    out.show(table)


@app.command("generate", cls=WordsCommand)
def bench_generate_command(
    kb: KbOption,
    queries: QueriesOption,
    generator: Annotated[str, typer.Option(help="smollm2 or a local model path.")] = "smollm2",
    limit: LimitOption = 10,
    k: PassagesOption = 3,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Tokens generated per answer.")] = 32,
    weights: Annotated[
        str,
        typer.Option(
            help="The local model's weights, comma-separated, side by side in one run (the "
            "first is the baseline): fp32 (as loaded), int8, gguf, gguf-f16 (llama.cpp)."
        ),
    ] = "fp32",
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Time to first token, tokens/s, and RAG-Token's cost per token relative to plain."""
    from ragline.bench.generate import bench_generate
    from ragline.bench.queries import read_queries
    from ragline.kb import KnowledgeBase

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    texts = read_queries(queries, limit)
    with KnowledgeBase.open(kb) as knowledge_base:
        result = bench_generate(
            knowledge_base,
            texts,
            generator=generator,
            k=k,
            max_new_tokens=max_new_tokens,
            weights=split_list(weights),
        )
    if as_json:
        out.json(result)
        return
    for name, row in result["weights"].items():
        out.print(f"{name}:")
        for key, value in row.items():
            out.print(f"{key:>30}: {value}")


@app.command("answer", cls=WordsCommand)
def bench_answer_command(
    kb: KbOption,
    queries: QueriesOption,
    generator: AnswerGeneratorsOption = "smollm2,extractive,span-rules",
    limit: LimitOption = 20,
    k: Annotated[
        int | None,
        typer.Option(
            "-k",
            "--k",
            min=1,
            help=f"Passages per question (default: {DEFAULTS.generate.passages}).",
        ),
    ] = None,
    max_new_tokens: MaxNewTokensOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Seconds per answer (retrieve, generate, check) per generator, relative to the first."""
    from ragline.bench.answer import bench_answer
    from ragline.bench.queries import read_queries
    from ragline.kb import KnowledgeBase

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    with KnowledgeBase.open(kb) as knowledge_base:
        result = bench_answer(
            knowledge_base,
            read_queries(queries, limit),
            split_list(generator),
            k=k,
            max_new_tokens=max_new_tokens,
        )
    if as_json:
        out.json(result)
        return
    for name, row in result["generators"].items():
        out.print(
            f"{name}: p50 {row['p50_s']:.3f} s, p95 {row['p95_s']:.3f} s per answer "
            f"({row['relative_to_baseline']:.2f}× {result['baseline']}), load "
            f"{row['load_seconds']:.1f} s, abstained {row['abstained']}/{result['questions']}"
        )


@app.command("update", cls=WordsCommand)
def bench_update_command(
    chunks: Annotated[
        int, typer.Option(min=1, help="Size of the knowledge base, in chunks.")
    ] = 100_000,
    embedder: UpdateEmbedderOption = "hash-384",
    index_factory: Annotated[
        str, typer.Option("--index", metavar="FACTORY", help="FAISS factory string.")
    ] = "auto",
    repeats: Annotated[int, typer.Option(min=1, help="Documents added, replaced and deleted.")] = 5,
    kb: BuildKbOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Time to add, replace and delete one document in a large knowledge base."""
    import tempfile

    from ragline.bench.update import bench_update

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    config = build_config(embedder=embedder, index_factory=index_factory)
    with tempfile.TemporaryDirectory(prefix="ragline-bench-") as tmp:
        result = bench_update(kb or Path(tmp) / "kb", config, chunks=chunks, repeats=repeats)
    if as_json:
        out.json(result)
        return
    out.print(
        f"{result['chunks']} chunks ({result['index']}, {result['embedder']}): built in "
        f"{result['build_seconds']:.1f} s, "
        f"opened in {result['open_and_first_search_seconds']:.2f} s; "
        + ", ".join(f"{op} {ms:.1f} ms" for op, ms in result["median_ms"].items())
        + " (median)"
    )


@app.command("ann", cls=WordsCommand)
def bench_ann_command(
    source: VectorSourceOption = None,
    kb: VectorKbOption = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Base vectors (default: all).")] = None,
    queries: Annotated[int, typer.Option(min=1, help="Vectors held out as queries.")] = 1000,
    seed: Annotated[
        int, typer.Option(min=0, help="Seed for the held-out queries and IVF sample.")
    ] = 0,
    threads: ThreadsOption = None,
    repeats: Annotated[int, typer.Option(min=1, help="Timed runs per point; the best counts.")] = 3,
    plot: ChartOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Recall@10 vs queries/s for Flat, HNSW (efSearch) and IVF (nprobe): ragline vs raw FAISS."""
    from ragline.bench.ann import bench_ann
    from ragline.bench.datasets import load_vectors
    from ragline.bench.plots import ann_chart

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    vectors = load_vectors(
        source or ("kb" if kb else "glove"), kb=kb, limit=limit, queries=queries, seed=seed
    )
    result = bench_ann(vectors, threads=threads, repeats=repeats, seed=seed)
    if plot:
        ann_chart(result, plot)
    if as_json:
        out.json(result)
    else:
        _print_ann(out, result)


def _print_ann(out: Output, result: dict[str, Any]) -> None:
    """The ANN benchmark as a table (one row per index and search parameter), then build
    times."""
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
    out.show(table)
    out.print(
        "build s (ragline / FAISS): "
        + ", ".join(
            f"{b['factory']} {b['ragline_s']:.2f} / {b['faiss_s']:.2f}"
            for b in result["builds"].values()
        )
    )
