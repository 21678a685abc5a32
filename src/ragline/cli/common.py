"""What the command groups share: option types used by several commands, and output.

Results go to stdout (one JSON object with ``--json``); human-readable text, progress and
logs go to stderr. Rich and the library's heavy parts are imported only when a command
runs, so that ``import ragline.cli`` stays light.
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

KbOption = Annotated[Path, typer.Option("--kb", help="Knowledge base directory.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")]
ChunkSizeOption = Annotated[int | None, typer.Option(help="Chunk size in embedder tokens.")]
OverlapOption = Annotated[int | None, typer.Option(help="Overlap in embedder tokens.")]
EmbedderOption = Annotated[str | None, typer.Option(help="minilm or a model directory.")]
FusionOption = Annotated[str | None, typer.Option(help="Hybrid fusion: rrf | score.")]
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


def stderr_console() -> Any:
    """A rich console on stderr, where everything but results goes."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def setup_logging(verbose: bool) -> None:
    """Log warnings (with ``--verbose``: progress details too) to stderr."""
    from rich.logging import RichHandler

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=stderr_console(), show_time=False, show_path=False)],
        force=True,
    )


def progress_bar(console: Any, as_json: bool, *, counted: bool = True) -> Any:
    """Progress on stderr, silent with --json or when stderr is not a terminal: a bar with
    done/total (``counted``), else a spinner for work of unknown size."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    description = TextColumn("{task.description}")
    columns = (
        (description, BarColumn(), MofNCompleteColumn())
        if counted
        else (
            SpinnerColumn(),
            description,
        )
    )
    return Progress(
        *columns,
        TimeElapsedColumn(),
        console=console,
        disable=as_json or not console.is_terminal,
    )


def stage_reporter(progress: Any) -> Callable[[str, int, int | None], None]:
    """A library ``on_progress(stage, done, total)`` callback shown on ``progress``: one task
    per stage, added the first time the stage reports."""
    tasks: dict[str, Any] = {}

    def report(stage: str, done: int, total: int | None) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return report


def build_config(
    base: Config | None = None,
    *,
    chunker: str | None = None,
    chunk_size: int | None = None,
    overlap: int | None = None,
    embedder: str | None = None,
    vector_dtype: str | None = None,
    index_factory: str | None = None,
    max_file_size: int | None = None,
) -> Config:
    """``base`` (default: the defaults) with the build-time settings given on the command
    line, named as the flags are; those not given (None) keep ``base``'s."""
    return (
        (base or Config())
        .with_overrides("chunk", method=chunker, size=chunk_size, overlap=overlap)
        .with_overrides("embed", model=embedder, vector_dtype=vector_dtype)
        .with_overrides("index", factory=index_factory)
        .with_overrides("load", max_file_bytes=max_file_size)
    )


def split_list(value: str) -> list[str]:
    """A comma-separated flag value as a list, blanks dropped.

    >>> split_list("bm25, dense,,hybrid")
    ['bm25', 'dense', 'hybrid']
    """
    return [item.strip() for item in value.split(",") if item.strip()]


def given(**options: Any) -> dict[str, Any]:
    """The options given a value on the command line; empty ones (None, "", 0) are left out
    so that the configured values apply.

    >>> given(model="", max_new_tokens=32, follow_up=None)
    {'max_new_tokens': 32}
    """
    return {key: value for key, value in options.items() if value}


def emit_json(payload: dict[str, Any]) -> None:
    """A command's result: one JSON object on one line of stdout."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")


def report_results(
    title: str, payload: dict[str, Any], *, plot: Path | None, as_json: bool, console: Any
) -> None:
    """An evaluation's results (``payload["results"]``: mode → metric → value) as a bar
    chart when asked, and as JSON on stdout or a table on stderr."""
    from ragline.evaluate.report import bar_chart, results_table

    if plot:
        bar_chart(title, payload["results"], plot)
    if as_json:
        emit_json(payload)
    else:
        console.print(results_table(title, payload["results"]))
