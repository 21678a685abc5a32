"""The ``ragline`` command: parses arguments, calls the library, prints.

``--json`` prints one JSON object on stdout; human-readable text goes to stderr. Exit codes:
0 ok, 1 user error (bad path, flag or input) with a one-line reason, 2 internal error.
"""

from __future__ import annotations

import json
import logging
import sys
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
    from ragline.kb import CONFIG_FILE, KnowledgeBase

    _setup_logging(verbose)
    base = Config.read(kb / CONFIG_FILE) if (kb / CONFIG_FILE).is_file() else Config()
    config = (
        base.with_overrides("chunk", method=chunker, size=chunk_size, overlap=overlap)
        .with_overrides("embed", model=embedder, vector_dtype=vector_dtype)
        .with_overrides("index", factory=index_factory)
        .with_overrides("load", max_file_bytes=max_file_size)
    )
    metadata = _parse_meta(meta or [])
    console = _console()

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with KnowledgeBase.open_or_create(kb, config) as knowledge_base, Progress(
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

        report = knowledge_base.add(
            paths,
            include=include or (),
            exclude=exclude or (),
            metadata=metadata,
            on_commit=committed,
        )
        info = knowledge_base.info()
    payload = {**report.to_dict(), "documents": info["documents"], "total_chunks": info["chunks"]}
    if as_json:
        _emit_json(payload)
    else:
        console.print(
            f"indexed {report.added} new and {report.updated} changed documents "
            f"({report.chunks} chunks), {report.unchanged} unchanged; "
            f"knowledge base: {info['documents']} documents, {info['chunks']} chunks",
            markup=False,
        )
        for error in report.errors:
            console.print(f"skipped {error.source}: {error.reason}", markup=False)
    if report.errors and report.indexed == 0 and report.unchanged == 0:
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
    as_json: JsonOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Search a knowledge base."""
    from ragline.index.filters import parse_filters
    from ragline.kb import KnowledgeBase

    _setup_logging(verbose)
    filters = parse_filters(filter_) if filter_ else None
    with KnowledgeBase.open(kb) as knowledge_base:
        hits = knowledge_base.search(
            query, k=k, mode=mode, fusion=fusion, filters=filters, nprobe=nprobe,
            ef_search=ef_search,
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
    from ragline.kb import KnowledgeBase

    if not doc_ids and not filter_:
        raise RaglineError("delete: give document ids or --filter")
    with KnowledgeBase.open(kb) as knowledge_base:
        ids = list(doc_ids or [])
        if filter_:
            ids += knowledge_base.catalog.doc_ids_where(parse_filters(filter_))
        existing = set(knowledge_base.catalog.document_hashes(ids))
        deleted = knowledge_base.delete(ids)
    missing = [i for i in doc_ids or [] if i not in existing]
    if as_json:
        _emit_json({"deleted": deleted, "missing": missing})
        return
    console = _console()
    console.print(f"deleted {deleted} documents", markup=False)
    for doc_id in missing:
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


def main() -> None:
    """Entry point: run the app, mapping errors to exit codes 1 (user) and 2 (internal)."""
    try:
        app(standalone_mode=False)
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
        import click

        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(1)
        if isinstance(e, click.exceptions.Abort):
            sys.exit(1)
        logging.getLogger("ragline").debug("internal error", exc_info=True)
        print(f"ragline: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
