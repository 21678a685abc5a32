"""Commands that find documents again: ``ls`` lists them, ``show`` prints a chunk or a
document. Results go to stdout; both call :class:`ragline.store.lookup.DocumentLookup`."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated, Any

import typer

from ragline.cli.common import JsonOption, KbOption, emit_json, output
from ragline.errors import RaglineError

ListFilterOption = Annotated[
    list[str] | None,
    typer.Option(
        "--filter",
        metavar="KEY=VALUE",
        help="List documents with a chunk matching key=value; repeatable.",
    ),
]
ContextOption = Annotated[
    int,
    typer.Option(
        min=0, metavar="N", help="Characters of the document shown either side of a chunk."
    ),
]


def ls(kb: KbOption, filter_: ListFilterOption = None, as_json: JsonOption = False) -> None:
    """List the documents of a knowledge base: id, chunks, title, source path, modified."""
    from ragline.filters import parse_filters
    from ragline.kb import KnowledgeBase

    with KnowledgeBase.open(kb) as knowledge_base:
        rows = knowledge_base.lookup.listing(parse_filters(filter_) if filter_ else None)
    if as_json:
        emit_json({"documents": rows, "count": len(rows)})
        return
    for row in rows:
        fields = (row["doc_id"], str(row["chunks"]), row["title"], row["path"], row["mtime"])
        print("\t".join(_text(value) for value in fields))
    output().note(f"{len(rows)} documents")


def _text(value: Any) -> str:
    """A listing field as text: a modification time as local date and time, None as -."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def show(
    some_id: Annotated[str, typer.Argument(help="A chunk id or a document id.")],
    kb: KbOption,
    context: ContextOption = 0,
    as_json: JsonOption = False,
) -> None:
    """Show a chunk (its text, span, page, metadata and context) or a whole document."""
    from ragline.kb import KnowledgeBase

    with KnowledgeBase.open(kb) as knowledge_base:
        passage = knowledge_base.lookup.passage(some_id, context=context)
    if passage is None:
        hint = f"`ragline ls --kb {kb}` lists document ids"
        raise RaglineError(f"no chunk or document has the id {some_id!r}; {hint}")
    if as_json:
        emit_json(passage.to_dict())
        return
    out = sys.stdout
    if passage.chunk_id:
        out.write(f"chunk: {passage.chunk_id}\n")
    out.write(f"document: {passage.doc_id}\nspan: {passage.span[0]}:{passage.span[1]}\n")
    if passage.page is not None:
        label = f" (printed {passage.page_label})" if passage.page_label else ""
        out.write(f"page: {passage.page}{label}\n")
    for key, value in passage.metadata.items():
        if key not in ("page", "page_label", "page_labels"):
            out.write(f"{key}: {_text(value) if key == 'mtime' else value}\n")
    for chunk in passage.chunks:
        out.write(f"  {chunk['chunk_id']} {chunk['span'][0]}:{chunk['span'][1]}\n")
    if passage.before:
        out.write(f"--- before ---\n{passage.before}\n")
    out.write(f"--- text ---\n{passage.text}\n")
    if passage.after:
        out.write(f"--- after ---\n{passage.after}\n")
