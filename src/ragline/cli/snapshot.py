"""Commands that copy a knowledge base while it is in use: ``export`` and ``import``
(see :mod:`ragline.snapshot`). The result goes to stdout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ragline.cli.common import JsonOption, KbOption, emit_json


def export(
    kb: KbOption,
    out: Annotated[Path, typer.Argument(help="New or empty directory for the snapshot.")],
    as_json: JsonOption = False,
) -> None:
    """Copy a knowledge base to a snapshot directory, consistently, even while it is written."""
    from ragline.snapshot import copy_knowledge_base

    _print_copy(copy_knowledge_base(kb, out), as_json)


def import_(
    snapshot: Annotated[Path, typer.Argument(help="A directory made by `ragline export`.")],
    kb: KbOption,
    as_json: JsonOption = False,
) -> None:
    """Make a new knowledge base from a snapshot (or copy an existing knowledge base)."""
    from ragline.snapshot import copy_knowledge_base

    _print_copy(copy_knowledge_base(snapshot, kb), as_json)


def _print_copy(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(result)
        return
    print(
        f"{result['path']}: {result['documents']} documents, {result['chunks']} chunks "
        f"(catalog generation {result['generation']}; files: {', '.join(result['files'])})"
    )
