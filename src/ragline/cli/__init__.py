"""The ``ragline`` command: parses arguments, calls the library, prints.

One module per command group: ``kb`` (index, search, ask, delete, info, reindex), ``docs``
(ls, show), ``snapshot`` (export, import), ``watch``, ``serve``, ``mcp``, ``keys``, ``eval``,
``bench`` and ``train``; ``common`` holds the options and output they share, and ``help`` the
help in words. Results go to stdout (``--json``: one JSON object); progress, logs and notes go to
stderr. ``-q/--quiet`` and ``-v/--verbose`` work before the command or after it. Exit codes:
0 ok, 1 user error (bad path, flag or input) with a one-line reason on stderr, 2 internal
error, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Any

import typer

from ragline import __version__
from ragline.cli import bench, docs, kb, keys, mcp, serve, snapshot, train, watch
from ragline.cli import eval as evaluate
from ragline.cli.common import QuietOption, VerboseOption, set_global_flags
from ragline.cli.help import WordsCommand, WordsGroup
from ragline.errors import RaglineError

__all__ = ["app", "main"]

app = typer.Typer(
    cls=WordsGroup,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="ragline: index documents, search them, and check what the answers cite.",
)
for command in (kb.index, kb.search, kb.ask, kb.delete, kb.info, kb.reindex, serve.serve):
    app.command(cls=WordsCommand)(command)
app.command(name="ls", cls=WordsCommand)(docs.ls)
app.command(cls=WordsCommand)(docs.show)
app.command(cls=WordsCommand)(snapshot.export)
app.command(name="import", cls=WordsCommand)(snapshot.import_)
app.command(cls=WordsCommand)(watch.watch)
app.command(name="mcp", cls=WordsCommand)(mcp.serve_mcp)
app.add_typer(keys.app, name="keys")
app.add_typer(evaluate.app, name="eval")
app.add_typer(bench.app, name="bench")
app.add_typer(train.app, name="train")


def _print_version(value: bool) -> None:
    """``--version``: print it on stdout and stop."""
    if value:
        print(f"ragline {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version."
        ),
    ] = False,
    quiet: QuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Flags that apply to every command."""
    set_global_flags(quiet=quiet, verbose=verbose)


def main() -> None:
    """Entry point: run the app, mapping errors to exit codes 1 (user) and 2 (internal)."""
    try:
        # Without standalone mode, click *returns* the code of a `typer.Exit(n)` raised by a
        # command (130 for Ctrl-C) instead of raising it, so it has to be passed on here.
        code = app(prog_name="ragline", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except RaglineError as e:
        _fail(str(e))
    except (typer.Exit, SystemExit) as e:
        code = e.exit_code if isinstance(e, typer.Exit) else e.code
        sys.exit(code if isinstance(code, int) else 0)
    except Exception as e:  # noqa: BLE001 - the last resort that turns a bug into exit code 2
        if _is_usage_error(e):
            _usage_error(e)
        if type(e).__name__ == "Abort":
            sys.exit(1)
        logging.getLogger("ragline").debug("internal error", exc_info=True)
        print(f"ragline: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(2)


def _fail(reason: str) -> None:
    """A user error: one line on stderr, exit code 1."""
    print(f"ragline: error: {reason}", file=sys.stderr)
    sys.exit(1)


def _is_usage_error(error: Exception) -> bool:
    """A bad flag, value or argument. typer ships its own copy of click, so usage errors
    are recognised by their shape."""
    return callable(getattr(error, "format_message", None)) and hasattr(error, "exit_code")


def _usage_error(error: Any) -> None:
    """A usage error in one line with where to look for help (``ragline`` or a group run
    without a command: its help instead)."""
    if type(error).__name__ == "NoArgsIsHelpError":
        error.show()
        sys.exit(1)
    context = getattr(error, "ctx", None)
    hint = f" (see '{context.command_path} -h')" if context is not None else ""
    _fail(" ".join(error.format_message().split()) + hint)
