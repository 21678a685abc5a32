"""The ``ragline`` command: parses arguments, calls the library, prints.

One module per command group: ``kb`` (index, search, ask, delete, info, reindex), ``docs``
(ls, show), ``snapshot`` (export, import), ``watch``, ``serve``, ``eval``, ``bench`` and ``train``;
``common`` holds the options and output they share.
``--json`` prints one JSON object on stdout; human-readable text goes to stderr. Exit codes:
0 ok, 1 user error (bad path, flag or input) with a one-line reason, 2 internal error.
"""

from __future__ import annotations

import logging
import sys

import typer

from ragline.cli import bench, docs, kb, serve, snapshot, train, watch
from ragline.cli import eval as evaluate
from ragline.errors import RaglineError

__all__ = ["app", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="ragline: index documents, search them, and check what the answers cite.",
)
for command in (kb.index, kb.search, kb.ask, kb.delete, kb.info, kb.reindex, serve.serve):
    app.command()(command)
app.command(name="ls")(docs.ls)
app.command()(docs.show)
app.command()(snapshot.export)
app.command(name="import")(snapshot.import_)
app.command()(watch.watch)
app.add_typer(evaluate.app, name="eval")
app.add_typer(bench.app, name="bench")
app.add_typer(train.app, name="train")


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
