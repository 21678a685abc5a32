"""Commands on one knowledge base: index, search, ask, delete, info, reindex."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ragline.cli.common import (
    DEFAULTS,
    AnswerStyleOption,
    ChunkSizeOption,
    DeprecatedModeOption,
    EmbedBackendOption,
    FollowUpOption,
    FusionOption,
    HopsOption,
    JsonOption,
    KbOption,
    KeepWholeOption,
    MaxNewTokensOption,
    ModelOption,
    Output,
    OverlapOption,
    QueryEncoderOption,
    QuietOption,
    RerankBackendOption,
    RerankDepthOption,
    RerankFusionOption,
    RerankOption,
    SearchModeOption,
    StackOption,
    VerboseOption,
    WeightsOption,
    build_config,
    given,
    open_to_search,
    output,
    require_text,
    resolve_search_mode,
    second_stage,
)
from ragline.config import Config
from ragline.errors import LoadError, RaglineError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ragline.distributed.ray_ingest import RayReader
    from ragline.manage import IndexingResult

ChunkerOption = Annotated[
    str | None,
    typer.Option(
        help=f"fixed, recursive or semantic (new knowledge base: {DEFAULTS.chunk.method})."
    ),
]
IndexFactoryOption = Annotated[
    str | None,
    typer.Option(
        "--index",
        metavar="FACTORY",
        help="FAISS factory string (Flat, HNSW32, IVF1024,Flat) or auto (new knowledge base: "
        f"{DEFAULTS.index.factory}).",
    ),
]
IndexBackendOption = Annotated[
    str | None,
    typer.Option(
        "--backend",
        metavar="NAME",
        help="Where the indexes live: faiss (FAISS and BM25 files in the knowledge base) or "
        f"milvus (Milvus collections and Milvus BM25 at --uri); new knowledge base: "
        f"{DEFAULTS.index.backend}.",
    ),
]
IndexUriOption = Annotated[
    str | None,
    typer.Option(
        "--uri",
        metavar="URI",
        help="Milvus: a Milvus Lite path ending .db or a server URL (http://host:19530; "
        "token from MILVUS_TOKEN).",
    ),
]
IndexEmbedderOption = Annotated[
    str | None,
    typer.Option(
        help="minilm (packaged) or a sentence-transformers directory (new knowledge base: "
        f"{DEFAULTS.embed.model})."
    ),
]
VectorDtypeOption = Annotated[
    str | None,
    typer.Option(
        help="Stored vector precision: float32 or float16 (new knowledge base: "
        f"{DEFAULTS.embed.vector_dtype})."
    ),
]
MetaOption = Annotated[
    list[str] | None,
    typer.Option("--meta", metavar="KEY=VALUE", help="Metadata for every document; repeatable."),
]
IncludeOption = Annotated[
    list[str] | None,
    typer.Option(metavar="GLOB", help="Index only files matching this glob; repeatable."),
]
ExcludeOption = Annotated[
    list[str] | None,
    typer.Option(metavar="GLOB", help="Skip files matching this glob; repeatable."),
]
MaxFileSizeOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        help=f"Skip files larger than this many bytes (default: {DEFAULTS.load.max_file_bytes}).",
    ),
]
RayOption = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="Read, chunk and embed on Ray: local (a Ray started here on this machine's "
        "cores), auto (the cluster this machine is in) or ray://HOST:10001 (docs/ray.md).",
    ),
]
SearchKOption = Annotated[int, typer.Option("-k", "--k", min=1, help="How many hits.")]
SearchFilterOption = Annotated[
    list[str] | None,
    typer.Option("--filter", metavar="FILTER", help="key=value, key>=number, key=a|b; repeatable."),
]
NprobeOption = Annotated[
    int | None,
    typer.Option(min=1, help=f"IVF cells to visit (default: {DEFAULTS.search.nprobe})."),
]
EfSearchOption = Annotated[
    int | None,
    typer.Option(min=1, help=f"HNSW search breadth (default: {DEFAULTS.search.ef_search})."),
]
GeneratorOption = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="span-rules (the passage sentence that answers, its short answer chosen by the "
        "packaged span reader, or an abstention), extractive (the same, rules alone), "
        "smollm2 (packaged language model), a reader or model directory, or an API base "
        f"URL; default: {DEFAULTS.generate.generator}.",
    ),
]
AnswerModeOption = Annotated[
    str | None,
    typer.Option(
        "--mode",
        help="Generation: plain, or sequence / token to marginalize over the passages "
        f"(RAG-Sequence, RAG-Token; local language models); default: {DEFAULTS.generate.mode}.",
    ),
]
PassagesOption = Annotated[
    int | None,
    typer.Option(
        "-k",
        "--k",
        min=1,
        help=f"Passages given to the model (default: {DEFAULTS.generate.passages}).",
    ),
]
PassageFilterOption = Annotated[
    list[str] | None,
    typer.Option("--filter", metavar="FILTER", help="Restrict passages: key=value …"),
]
UnsupportedOption = Annotated[
    str | None,
    typer.Option(
        help="When no answer sentence passes the support check: abstain, fallback "
        "(the best passage sentence that passes) or regenerate (ask once more); "
        f"default: {DEFAULTS.generate.unsupported}."
    ),
]
ShowUnsupportedOption = Annotated[
    bool, typer.Option(help="Also print the sentences withheld as unsupported, marked.")
]
DeleteFilterOption = Annotated[
    list[str] | None,
    typer.Option("--filter", metavar="FILTER", help="Delete documents matching key=value."),
]


def index(
    paths: Annotated[list[Path], typer.Argument(help="Files or directories to index.")],
    kb: KbOption,
    chunker: ChunkerOption = None,
    chunk_size: ChunkSizeOption = None,
    keep_whole: KeepWholeOption = None,
    overlap: OverlapOption = None,
    index_factory: IndexFactoryOption = None,
    backend: IndexBackendOption = None,
    uri: IndexUriOption = None,
    embedder: IndexEmbedderOption = None,
    embed_backend: EmbedBackendOption = None,
    vector_dtype: VectorDtypeOption = None,
    meta: MetaOption = None,
    include: IncludeOption = None,
    exclude: ExcludeOption = None,
    max_file_size: MaxFileSizeOption = None,
    ray: RayOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Add files and directories to a knowledge base (created if missing)."""
    from ragline.manage import stored_config

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    config = build_config(
        stored_config(kb),
        chunker=chunker,
        chunk_size=chunk_size,
        keep_whole=keep_whole,
        overlap=overlap,
        embedder=embedder,
        embed_backend=embed_backend,
        vector_dtype=vector_dtype,
        index_factory=index_factory,
        max_file_size=max_file_size,
    )
    if backend or uri:
        from ragline.index.milvus_collection import with_backend

        config = with_backend(config, backend or config.index.backend, uri)
    result = _index_with_progress(
        out,
        kb,
        paths,
        config,
        include=include or (),
        exclude=exclude or (),
        metadata=parse_meta(meta or []),
        reader=None if ray is None else ray_reader(ray),
    )
    if as_json:
        out.json(result.to_dict())
    else:
        _print_indexed(out, result)
    if result.failed:
        raise typer.Exit(1)


def _index_with_progress(
    out: Output, kb: Path, paths: list[Path], config: Config, **options: Any
) -> IndexingResult:
    """Index ``paths`` into ``kb`` showing files read out of those found (with the time
    left) and what is committed; on Ctrl-C, say what was kept and exit 130."""
    from ragline.manage import index_paths

    kept = [0]
    try:
        with out.progress() as progress:
            task = progress.add_task("indexing", total=None)

            def read(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            def committed(doc_ids: list[str], report: Any) -> None:
                kept[0] = report.indexed
                progress.update(task, description=f"indexing ({report.indexed} documents kept)")
                for doc_id in doc_ids:
                    out.detail(f"committed {doc_id}")

            return index_paths(kb, paths, config, on_commit=committed, on_input=read, **options)
    except KeyboardInterrupt:
        out.warn(
            f"ragline: interrupted: kept {kept[0]} documents; run the same command again to resume"
        )
        raise typer.Exit(130) from None


def ray_reader(address: str) -> RayReader:
    """The reader that runs on the Ray at ``address`` (``local``: one started here)."""
    from ragline.distributed.ray_ingest import RayReader

    return RayReader(None if address == "local" else address)


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


SKIPS_LISTED = 3
"""Skipped records of one file for one reason listed one by one; more are counted."""


def skip_lines(errors: Sequence[LoadError]) -> list[str]:
    """One line per skipped input, except records of one file skipped for one reason: past
    :data:`SKIPS_LISTED` of them, one line counts them (a questions file beside documents
    would otherwise print a line per question).

    >>> errors = [LoadError(f"q.jsonl:{n}", "no 'text' field") for n in range(1, 65)]
    >>> for line in skip_lines([LoadError("a.pdf", "encrypted"), *errors]):
    ...     print(line)
    skipped a.pdf: encrypted
    skipped 64 records of q.jsonl (lines 1-64): no 'text' field
    """
    groups: dict[tuple[str, str], list[LoadError]] = {}
    for error in errors:
        file, _, line = error.source.rpartition(":")
        key = (file, error.reason) if file and line.isdigit() else (error.source, "")
        groups.setdefault(key, []).append(error)
    lines: list[str] = []
    for (file, reason), group in groups.items():
        if len(group) <= SKIPS_LISTED or not reason:
            lines += [f"skipped {e.source}: {e.reason}" for e in group]
            continue
        first, last = (group[i].source.rpartition(":")[2] for i in (0, -1))
        lines.append(f"skipped {len(group)} records of {file} (lines {first}-{last}): {reason}")
    return lines


def _print_indexed(out: Output, result: IndexingResult) -> None:
    """What ``index`` did (stdout), and every input it skipped with the reason, and the
    files of unknown type it left out, counted by extension (stderr)."""
    report = result.report
    out.print(
        f"indexed {report.added} new and {report.updated} changed documents "
        f"({report.chunks} chunks), {report.unchanged} unchanged; "
        f"knowledge base: {result.documents} documents, {result.chunks} chunks"
    )
    for line in skip_lines(report.errors):
        out.warn(line)
    if result.scan.summary():
        out.warn(result.scan.summary())


def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    kb: KbOption,
    k: SearchKOption = DEFAULTS.search.k,
    search_mode: SearchModeOption = None,
    mode: DeprecatedModeOption = None,
    fusion: FusionOption = None,
    filter_: SearchFilterOption = None,
    nprobe: NprobeOption = None,
    ef_search: EfSearchOption = None,
    rerank: RerankOption = None,
    rerank_depth: RerankDepthOption = None,
    rerank_fusion: RerankFusionOption = None,
    rerank_backend: RerankBackendOption = None,
    stack: StackOption = None,
    query_encoder: QueryEncoderOption = None,
    embed_backend: EmbedBackendOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Search a knowledge base."""
    from ragline.filters import parse_filters

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    require_text(query, "query")
    filters = parse_filters(filter_) if filter_ else None
    with open_to_search(kb, embed_backend, query_encoder) as knowledge_base:
        stages = second_stage(
            knowledge_base,
            stack,
            out,
            mode=resolve_search_mode(search_mode, mode, out, "search"),
            rerank=rerank,
            rerank_depth=rerank_depth,
            rerank_fusion=rerank_fusion,
            rerank_backend=rerank_backend,
        )
        hits = knowledge_base.search(
            query, k=k, fusion=fusion, filters=filters, nprobe=nprobe, ef_search=ef_search, **stages
        )
    if as_json:
        out.json({"query": query, "hits": [hit.to_dict() for hit in hits]})
    else:
        _print_hits(out, hits)


def _print_hits(out: Output, hits: list[Any]) -> None:
    """Search hits: rank, score, title and place, then a one-line snippet."""
    if not hits:
        out.print("no hits")
    for hit in hits:
        title = hit.chunk.metadata.get("title") or hit.chunk.doc_id
        snippet = " ".join(hit.chunk.text.split())[:300]
        page = _page(hit.chunk.metadata.get("page"), hit.chunk.metadata.get("page_label"))
        out.print(
            f"[bold]{hit.rank}.[/bold] {hit.score:.4f}  [cyan]{_escape(title)}[/cyan]  "
            f"({_escape(hit.chunk.doc_id)}{_escape(page)} {hit.chunk.start}:{hit.chunk.end})",
            markup=True,
        )
        out.print(f"   {snippet}")


def _page(page: int | None, label: str | None) -> str:
    """`` p.N`` for a paged document: the printed label when the page has one, with the
    physical page beside it; empty otherwise.

    >>> _page(4, "iv"), _page(4, "4"), _page(4, None), _page(None, None)
    (' p.iv, PDF page 4', ' p.4', ' p.4', '')
    """
    if not page:
        return ""
    return f" p.{label}, PDF page {page}" if label and label != str(page) else f" p.{page}"


def _escape(text: str) -> str:
    """``text`` shown as it is inside rich markup (a title may hold ``[brackets]``)."""
    from rich.markup import escape

    return escape(str(text))


def ask(
    question: Annotated[str, typer.Argument(help="The question to answer.")],
    kb: KbOption,
    generator: GeneratorOption = None,
    model: ModelOption = None,
    weights: WeightsOption = None,
    mode: AnswerModeOption = None,
    hops: HopsOption = None,
    follow_up: FollowUpOption = None,
    answer_style: AnswerStyleOption = None,
    k: PassagesOption = None,
    search_mode: SearchModeOption = None,
    filter_: PassageFilterOption = None,
    max_new_tokens: MaxNewTokensOption = None,
    rerank: RerankOption = None,
    rerank_backend: RerankBackendOption = None,
    stack: StackOption = None,
    query_encoder: QueryEncoderOption = None,
    embed_backend: EmbedBackendOption = None,
    unsupported: UnsupportedOption = None,
    show_unsupported: ShowUnsupportedOption = False,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Answer a question from a knowledge base, citing the passages it used."""
    from ragline.filters import parse_filters

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    require_text(question, "question")
    echo = _Echo(out) if not as_json and (mode or "plain") == "plain" else None
    stages = {"mode": search_mode, "rerank": rerank, "rerank_backend": rerank_backend}
    with open_to_search(kb, embed_backend, query_encoder) as knowledge_base:
        answer = knowledge_base.ask(
            question,
            generator=generator,
            mode=mode,
            k=k,
            hops=hops,
            filters=parse_filters(filter_) if filter_ else None,
            search_options=second_stage(knowledge_base, stack, out, **stages),
            on_token=echo,
            **given(
                model=model,
                weights=weights,
                max_new_tokens=max_new_tokens,
                follow_up=follow_up,
                answer_style=answer_style,
                unsupported=unsupported,
            ),
        )
    if as_json:
        out.json(answer.to_dict())
    else:
        streamed = echo is not None and echo.printed
        _print_answer(out, answer, streamed=streamed, show_unsupported=show_unsupported)


class _Echo:
    """Prints an answer as it streams, and remembers whether anything was printed."""

    def __init__(self, out: Output) -> None:
        self.out = out
        self.printed = False

    def __call__(self, piece: str) -> None:
        self.printed = True
        self.out.print(piece, end="")


def _print_answer(out: Output, answer: Any, *, streamed: bool, show_unsupported: bool) -> None:
    """The answer (unless it was streamed already), then its citations and, when asked, the
    sentences withheld as unsupported; all on stdout."""
    if streamed:
        out.print()  # ends the streamed line
    if not streamed or answer.abstained:
        out.print(answer.text)
    if answer.fallback:
        out.print(
            "  (the generated answer failed the support check; shown: the best passage "
            "sentence that passes it)"
        )
    lines = []
    for citation in answer.citations:
        state = "supported" if citation.supported else "NOT SUPPORTED"
        page = _page(citation.page, citation.page_label)
        lines.append(
            f"  [{citation.n}] {citation.doc_id}{page} {citation.span[0]}:{citation.span[1]} "
            f"({state}, {citation.origin})"
        )
    for line in dict.fromkeys(lines):  # a passage cited by several sentences is listed once
        out.print(line)
    if show_unsupported:
        for withheld in answer.withheld:
            missing = ", ".join(withheld["missing"]) or "too little overlap"
            out.print(
                f"  UNSUPPORTED, not shown: {withheld['sentence']} "
                f"(cites {withheld['cited'] or 'nothing'}; passage lacks: {missing})"
            )


def delete(
    kb: KbOption,
    doc_ids: Annotated[
        list[str] | None,
        typer.Argument(help="Document ids, or files and folders (relative or absolute paths)."),
    ] = None,
    filter_: DeleteFilterOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Delete documents by id, by path or by metadata filter (exit 1 if a name matches none)."""
    from ragline.filters import parse_filters
    from ragline.manage import delete_documents

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    if not doc_ids and not filter_:
        raise RaglineError("delete: give document ids or paths, or --filter")
    result = delete_documents(kb, doc_ids or [], parse_filters(filter_) if filter_ else None)
    if as_json:
        out.json(result)
    else:
        out.print(f"deleted {result['deleted']} documents")
    for target in result["missing"]:
        out.warn(f"ragline: error: no document matches {target}; `ragline ls --kb {kb}` lists ids")
    if result["missing"]:
        raise typer.Exit(1)


def info(
    kb: KbOption,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Describe a knowledge base: counts, embedder, index."""
    from ragline.kb import KnowledgeBase

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    with KnowledgeBase.open(kb) as knowledge_base:
        facts = knowledge_base.info()
    if as_json:
        out.json(facts)
        return
    for key in ("path", "documents", "chunks", "embedder", "dim", "index", "generation", "bytes"):
        out.print(f"{key:>10}: {facts[key]}")


def reindex(
    kb: KbOption,
    embedder: Annotated[str, typer.Option(help="minilm or a model directory to embed with.")],
    query_prefix: Annotated[str, typer.Option(help="Prefix for queries (e5: 'query: ').")] = "",
    document_prefix: Annotated[str, typer.Option(help="Prefix for passages.")] = "",
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Re-embed a knowledge base's stored chunks with another embedder, atomically."""
    from dataclasses import replace

    from ragline.kb import KnowledgeBase

    out = output(as_json=as_json, quiet=quiet, verbose=verbose)
    with KnowledgeBase.open(kb) as knowledge_base, out.progress() as progress:
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
        out.json(report)
        return
    out.print(
        f"re-embedded {report['chunks']} chunks with {report['embedder']} "
        f"({report['dim']}-d) in {report['seconds']} s"
    )
