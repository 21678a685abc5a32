"""Commands on one knowledge base: index, search, ask, delete, info, reindex."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ragline.cli.common import (
    AnswerStyleOption,
    ChunkSizeOption,
    FollowUpOption,
    FusionOption,
    HopsOption,
    JsonOption,
    KbOption,
    MaxNewTokensOption,
    ModelOption,
    OverlapOption,
    QueryEncoderOption,
    RerankDepthOption,
    RerankFusionOption,
    RerankOption,
    SearchModeOption,
    VerboseOption,
    build_config,
    emit_json,
    given,
    progress_bar,
    setup_logging,
    stderr_console,
)
from ragline.errors import RaglineError

ChunkerOption = Annotated[
    str | None, typer.Option(help="fixed | recursive | semantic (new KB: recursive).")
]
IndexFactoryOption = Annotated[
    str | None,
    typer.Option("--index", help="FAISS factory string (Flat, HNSW32, IVF1024,Flat) or auto."),
]
IndexEmbedderOption = Annotated[
    str | None, typer.Option(help="minilm (packaged) or a sentence-transformers directory.")
]
VectorDtypeOption = Annotated[
    str | None, typer.Option(help="Stored vector precision: float32 or float16.")
]
MetaOption = Annotated[
    list[str] | None, typer.Option("--meta", help="key=value metadata for every document.")
]
MaxFileSizeOption = Annotated[
    int | None, typer.Option(help="Skip files larger than this many bytes.")
]
SearchFilterOption = Annotated[
    list[str] | None,
    typer.Option("--filter", help="key=value, key>=number, key=a|b; repeatable."),
]
GeneratorOption = Annotated[
    str | None,
    typer.Option(
        help="extractive (default: the passage sentence that answers, or an abstention), "
        "smollm2 (packaged language model), a reader or model directory, or an API base URL."
    ),
]
PassageFilterOption = Annotated[
    list[str] | None, typer.Option("--filter", help="Restrict passages: key=value …")
]
UnsupportedOption = Annotated[
    str | None,
    typer.Option(
        help="When no answer sentence passes the support check: abstain | fallback "
        "(the best passage sentence that passes) | regenerate (ask once more)."
    ),
]
ShowUnsupportedOption = Annotated[
    bool, typer.Option(help="Also print the sentences withheld as unsupported, marked.")
]
DeleteFilterOption = Annotated[
    list[str] | None, typer.Option("--filter", help="Delete documents matching key=value.")
]


def index(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to index.")],
    kb: KbOption,
    chunker: ChunkerOption = None,
    chunk_size: ChunkSizeOption = None,
    overlap: OverlapOption = None,
    index_factory: IndexFactoryOption = None,
    embedder: IndexEmbedderOption = None,
    vector_dtype: VectorDtypeOption = None,
    meta: MetaOption = None,
    include: Annotated[list[str] | None, typer.Option(help="Glob of files to include.")] = None,
    exclude: Annotated[list[str] | None, typer.Option(help="Glob of files to skip.")] = None,
    max_file_size: MaxFileSizeOption = None,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Add files and directories to a knowledge base (created if missing)."""
    from ragline.manage import index_paths, stored_config

    setup_logging(verbose)
    config = build_config(
        stored_config(kb),
        chunker=chunker,
        chunk_size=chunk_size,
        overlap=overlap,
        embedder=embedder,
        vector_dtype=vector_dtype,
        index_factory=index_factory,
        max_file_size=max_file_size,
    )
    metadata = parse_meta(meta or [])
    console = stderr_console()
    with progress_bar(console, as_json, counted=False) as progress:
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
    if as_json:
        emit_json(result.to_dict())
    else:
        _print_indexed(console, result)
    if result.failed:
        raise typer.Exit(1)


def parse_meta(pairs: list[str]) -> dict[str, Any]:
    """``--meta key=value`` flags as metadata, values typed as filters type them."""
    from ragline.filters import parse_value

    meta: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise RaglineError(f"--meta {pair!r}: expected key=value")
        meta[key.strip()] = parse_value(value.strip())
    return meta


def _print_indexed(console: Any, result: Any) -> None:
    """What ``index`` did, and every input it skipped with the reason."""
    report = result.report
    console.print(
        f"indexed {report.added} new and {report.updated} changed documents "
        f"({report.chunks} chunks), {report.unchanged} unchanged; "
        f"knowledge base: {result.documents} documents, {result.chunks} chunks",
        markup=False,
    )
    for error in report.errors:
        console.print(f"skipped {error.source}: {error.reason}", markup=False)


def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    kb: KbOption,
    k: Annotated[int, typer.Option("-k", "--k", help="How many hits.")] = 10,
    mode: Annotated[str | None, typer.Option(help="hybrid | dense | bm25.")] = None,
    fusion: FusionOption = None,
    filter_: SearchFilterOption = None,
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
    from ragline.filters import parse_filters
    from ragline.kb import KnowledgeBase

    setup_logging(verbose)
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
        emit_json({"query": query, "hits": [hit.to_dict() for hit in hits]})
    else:
        _print_hits(stderr_console(), hits)


def _print_hits(console: Any, hits: list[Any]) -> None:
    """Search hits: rank, score, title and place, then a one-line snippet."""
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


def ask(
    question: Annotated[str, typer.Argument(help="The question to answer.")],
    kb: KbOption,
    generator: GeneratorOption = None,
    model: ModelOption = None,
    mode: Annotated[str | None, typer.Option(help="plain | sequence | token.")] = None,
    hops: HopsOption = None,
    follow_up: FollowUpOption = None,
    answer_style: AnswerStyleOption = None,
    k: Annotated[int | None, typer.Option("-k", "--k", help="Passages given to the model.")] = None,
    search_mode: SearchModeOption = None,
    filter_: PassageFilterOption = None,
    max_new_tokens: MaxNewTokensOption = None,
    rerank: RerankOption = None,
    query_encoder: QueryEncoderOption = None,
    unsupported: UnsupportedOption = None,
    show_unsupported: ShowUnsupportedOption = False,
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Answer a question from a knowledge base, citing the passages it used."""
    from ragline.filters import parse_filters
    from ragline.kb import KnowledgeBase

    setup_logging(verbose)
    console = stderr_console()
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
            **given(
                model=model,
                max_new_tokens=max_new_tokens,
                follow_up=follow_up,
                answer_style=answer_style,
                unsupported=unsupported,
            ),
        )
    if as_json:
        emit_json(answer.to_dict())
    else:
        _print_answer(console, answer, streamed=streamed, show_unsupported=show_unsupported)


def _print_answer(console: Any, answer: Any, *, streamed: bool, show_unsupported: bool) -> None:
    """The answer (unless it was streamed already), then its citations and, when asked, the
    sentences withheld as unsupported."""
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


def delete(
    doc_ids: Annotated[
        list[str] | None,
        typer.Argument(help="Document ids, or files and folders (relative or absolute paths)."),
    ] = None,
    kb: KbOption = Path("."),
    filter_: DeleteFilterOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete documents by id, by path or by metadata filter (exit 1 if a name matches none)."""
    from ragline.filters import parse_filters
    from ragline.manage import delete_documents

    if not doc_ids and not filter_:
        raise RaglineError("delete: give document ids or paths, or --filter")
    result = delete_documents(kb, doc_ids or [], parse_filters(filter_) if filter_ else None)
    console = stderr_console()
    if as_json:
        emit_json(result)
    else:
        console.print(f"deleted {result['deleted']} documents", markup=False)
    for target in result["missing"]:
        hint = f"`ragline ls --kb {kb}` lists ids"
        console.print(f"ragline: error: no document matches {target}; {hint}", markup=False)
    if result["missing"]:
        raise typer.Exit(1)


def info(kb: KbOption, as_json: JsonOption = False) -> None:
    """Describe a knowledge base: counts, embedder, index."""
    from ragline.kb import KnowledgeBase

    with KnowledgeBase.open(kb) as knowledge_base:
        facts = knowledge_base.info()
    if as_json:
        emit_json(facts)
        return
    console = stderr_console()
    for key in ("path", "documents", "chunks", "embedder", "dim", "index", "generation", "bytes"):
        console.print(f"{key:>10}: {facts[key]}", markup=False)


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

    setup_logging(verbose)
    console = stderr_console()
    with KnowledgeBase.open(kb) as knowledge_base, progress_bar(console, as_json) as progress:
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
        emit_json(report)
        return
    console.print(
        f"re-embedded {report['chunks']} chunks with {report['embedder']} "
        f"({report['dim']}-d) in {report['seconds']} s",
        markup=False,
    )
