"""``ragline bench``: ingest throughput, query latency, generation speed, seconds per answer,
update cost, and ANN recall against raw FAISS."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ragline.cli.common import (
    ChunkSizeOption,
    EmbedderOption,
    JsonOption,
    KbOption,
    MaxNewTokensOption,
    RerankDepthOption,
    RerankFusionOption,
    RerankOption,
    VerboseOption,
    build_config,
    emit_json,
    setup_logging,
    split_list,
    stderr_console,
)

app = typer.Typer(no_args_is_help=True, help="Measure speed and memory.")

ChartOption = Annotated[Path | None, typer.Option(help="Write a chart (PNG).")]
QueriesOption = Annotated[
    Path, typer.Option(help="BEIR folder, queries.jsonl, or a text file with a query a line.")
]
BuildKbOption = Annotated[
    Path | None, typer.Option("--kb", help="Where to build (default: a temporary directory).")
]
RawOption = Annotated[bool, typer.Option(help="Also time the raw encoder on the same texts.")]
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
    Path | None, typer.Option("--kb", help="Knowledge base whose stored vectors to use.")
]
ThreadsOption = Annotated[
    int | None, typer.Option(help="FAISS threads (default: the machine's cores).")
]


@app.command("ingest")
def bench_ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="Corpus files or directories.")],
    kb: BuildKbOption = None,
    embedder: EmbedderOption = None,
    chunk_size: ChunkSizeOption = None,
    raw: RawOption = True,
    plot: ChartOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest throughput (docs/s, chunks/s, MB/s), stage breakdown, peak RSS, ingest/raw ratio."""
    import tempfile

    from ragline.bench.ingest import bench_ingest
    from ragline.bench.plots import ingest_chart

    config = build_config(embedder=embedder, chunk_size=chunk_size)
    with tempfile.TemporaryDirectory(prefix="ragline-bench-") as tmp:
        result = bench_ingest(paths, kb or Path(tmp) / "kb", config, raw_baseline=raw)
    if plot:
        ingest_chart(result, plot)
    if as_json:
        emit_json(result)
        return
    console = stderr_console()
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


@app.command("query")
def bench_query_command(
    kb: KbOption,
    queries: QueriesOption,
    mode: Annotated[str, typer.Option(help="Comma-separated modes.")] = "bm25,dense,hybrid",
    k: Annotated[int, typer.Option("-k", "--k", help="Hits per query.")] = 10,
    limit: Annotated[int | None, typer.Option(help="Use the first N queries.")] = None,
    threads: Annotated[int, typer.Option(help="Concurrent clients for the QPS run.")] = 2,
    rerank: RerankOption = None,
    rerank_depth: RerankDepthOption = None,
    rerank_fusion: RerankFusionOption = None,
    plot: ChartOption = None,
    as_json: JsonOption = False,
) -> None:
    """Latency p50/p95/p99 and queries/s per mode (warm), single and multi-threaded."""
    from ragline.bench.plots import query_chart
    from ragline.bench.queries import read_queries
    from ragline.bench.query import bench_query
    from ragline.kb import KnowledgeBase

    texts = read_queries(queries, limit)
    with KnowledgeBase.open(kb) as knowledge_base:
        options = (
            {"rerank": rerank, "rerank_depth": rerank_depth, "rerank_fusion": rerank_fusion}
            if rerank
            else {}
        )
        result = bench_query(
            knowledge_base, texts, split_list(mode), k=k, threads=threads, **options
        )
    if plot:
        query_chart(result, plot)
    if as_json:
        emit_json(result)
        return
    from rich.table import Table

    table = Table(title=f"{len(texts)} queries over {result['chunks']} chunks, k={k}")
    for column in ("mode", "p50 ms", "p95 ms", "p99 ms", "qps", f"qps x{threads}"):
        table.add_column(column, justify="right")
    for name, row in result["results"].items():
        table.add_row(name, *(f"{v:.1f}" for v in row.values()))
    stderr_console().print(table)


@app.command("generate")
def bench_generate_command(
    kb: KbOption,
    queries: QueriesOption,
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
        emit_json(result)
        return
    console = stderr_console()
    for key, value in result.items():
        if key != "machine":
            console.print(f"{key:>26}: {value}", markup=False)


@app.command("answer")
def bench_answer_command(
    kb: KbOption,
    queries: QueriesOption,
    generator: AnswerGeneratorsOption = "smollm2,extractive",
    limit: Annotated[int, typer.Option(help="Use the first N questions.")] = 20,
    k: Annotated[int | None, typer.Option("-k", "--k", help="Passages per question.")] = None,
    max_new_tokens: MaxNewTokensOption = None,
    as_json: JsonOption = False,
) -> None:
    """Seconds per answer (retrieve, generate, check) per generator, relative to the first."""
    from ragline.bench.answer import bench_answer
    from ragline.bench.queries import read_queries
    from ragline.kb import KnowledgeBase

    with KnowledgeBase.open(kb) as knowledge_base:
        result = bench_answer(
            knowledge_base,
            read_queries(queries, limit),
            split_list(generator),
            k=k,
            max_new_tokens=max_new_tokens,
        )
    if as_json:
        emit_json(result)
        return
    console = stderr_console()
    for name, row in result["generators"].items():
        console.print(
            f"{name}: p50 {row['p50_s']:.3f} s, p95 {row['p95_s']:.3f} s per answer "
            f"({row['relative_to_baseline']:.2f}× {result['baseline']}), load "
            f"{row['load_seconds']:.1f} s, abstained {row['abstained']}/{result['questions']}",
            markup=False,
        )


@app.command("update")
def bench_update_command(
    chunks: Annotated[int, typer.Option(help="Size of the knowledge base, in chunks.")] = 100_000,
    embedder: UpdateEmbedderOption = "hash-384",
    index_factory: Annotated[str, typer.Option("--index", help="FAISS factory string.")] = "auto",
    repeats: Annotated[int, typer.Option(help="Documents added, replaced and deleted.")] = 5,
    kb: Annotated[Path | None, typer.Option("--kb", help="Where to build (default: temp).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Time to add, replace and delete one document in a large knowledge base."""
    import tempfile

    from ragline.bench.update import bench_update

    config = build_config(embedder=embedder, index_factory=index_factory)
    with tempfile.TemporaryDirectory(prefix="ragline-bench-") as tmp:
        result = bench_update(kb or Path(tmp) / "kb", config, chunks=chunks, repeats=repeats)
    if as_json:
        emit_json(result)
        return
    stderr_console().print(
        f"{result['chunks']} chunks ({result['index']}, {result['embedder']}): built in "
        f"{result['build_seconds']:.1f} s, "
        f"opened in {result['open_and_first_search_seconds']:.2f} s; "
        + ", ".join(f"{op} {ms:.1f} ms" for op, ms in result["median_ms"].items())
        + " (median)",
        markup=False,
    )


@app.command("ann")
def bench_ann_command(
    source: VectorSourceOption = None,
    kb: VectorKbOption = None,
    limit: Annotated[int | None, typer.Option(help="Base vectors (default: all).")] = None,
    queries: Annotated[int, typer.Option(help="Vectors held out as queries.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed for the held-out queries and IVF sample.")] = 0,
    threads: ThreadsOption = None,
    repeats: Annotated[int, typer.Option(help="Timed runs per point; the best counts.")] = 3,
    plot: ChartOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Recall@10 vs queries/s for Flat, HNSW (efSearch) and IVF (nprobe): ragline vs raw FAISS."""
    from ragline.bench.ann import bench_ann
    from ragline.bench.datasets import load_vectors
    from ragline.bench.plots import ann_chart

    setup_logging(verbose)
    vectors = load_vectors(
        source or ("kb" if kb else "glove"), kb=kb, limit=limit, queries=queries, seed=seed
    )
    result = bench_ann(vectors, threads=threads, repeats=repeats, seed=seed)
    if plot:
        ann_chart(result, plot)
    if as_json:
        emit_json(result)
    else:
        _print_ann(stderr_console(), result)


def _print_ann(console: Any, result: dict[str, Any]) -> None:
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
    console.print(table)
    console.print(
        "build s (ragline / FAISS): "
        + ", ".join(
            f"{b['factory']} {b['ragline_s']:.2f} / {b['faiss_s']:.2f}"
            for b in result["builds"].values()
        ),
        markup=False,
    )
