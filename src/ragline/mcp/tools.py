"""The MCP tools: the arguments each takes (a pydantic model: its JSON schema is what the
client sees, its validation what the server checks), the role it needs, and what it
returns (the JSON shapes of the command line's ``--json``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ragline.documents import Document
from ragline.errors import RaglineError
from ragline.filters import to_sql
from ragline.generate.base import Generator
from ragline.kb import KnowledgeBase


def _configured() -> None:
    """No generator of the caller's own: answers use the knowledge base's configured one."""


@dataclass(frozen=True)
class Target:
    """The knowledge base a call acts on, and how to get the generator its answers use
    (made only when a question is asked: a search needs no model)."""

    kb: KnowledgeBase
    generator: Callable[[], Generator | str | None] = _configured


class Arguments(BaseModel):
    """What every tool takes: the collection to act on."""

    model_config = ConfigDict(extra="forbid")

    collection: str | None = Field(
        None, description="Collection to use (default: the only one this client may use)."
    )


class SearchArguments(Arguments):
    query: str = Field(min_length=1, description="What to search for.")
    k: int = Field(5, ge=1, le=100, description="How many hits.")
    mode: Literal["hybrid", "dense", "bm25"] | None = Field(
        None, description="Retrieval mode (default: the knowledge base's, hybrid)."
    )
    filters: dict[str, Any] | None = Field(
        None,
        description='Metadata filters, e.g. {"year": {"gte": 2020}, "tag": {"in": ["a", "b"]}}.',
    )


class AskArguments(Arguments):
    question: str = Field(min_length=1, description="The question to answer.")
    k: int | None = Field(None, ge=1, le=50, description="Passages to answer from.")
    search_mode: Literal["hybrid", "dense", "bm25"] | None = Field(
        None, description="Retrieval mode of the passages."
    )
    filters: dict[str, Any] | None = Field(None, description="Metadata filters, as for search.")


class DocumentArguments(Arguments):
    doc_id: str = Field(min_length=1, description="A document id (as hits name it).")


class ChunkArguments(Arguments):
    chunk_id: str = Field(min_length=1, description="A chunk id (as hits name it).")


class AddDocumentArguments(Arguments):
    doc_id: str = Field(min_length=1, max_length=1000, description="The document's id.")
    text: str = Field(min_length=1, description="Its text.")
    metadata: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Metadata to filter on later."
    )


def _checked(filters: dict[str, Any] | None) -> dict[str, Any] | None:
    if filters:
        to_sql(filters)  # refuses unknown operators with a one-line reason
    return filters or None


def search(target: Target, args: SearchArguments) -> dict[str, Any]:
    """Hits with document and chunk ids, spans and scores (``ragline search --json``)."""
    hits = target.kb.search(args.query, k=args.k, mode=args.mode, filters=_checked(args.filters))
    return {"query": args.query, "hits": [hit.to_dict() for hit in hits]}


def ask(target: Target, args: AskArguments) -> dict[str, Any]:
    """An answer with its checked citations (``ragline ask --json``)."""
    answer = target.kb.ask(
        args.question,
        generator=target.generator(),
        k=args.k,
        search_mode=args.search_mode,
        filters=_checked(args.filters),
    )
    return answer.to_dict()


def _passage(target: Target, some_id: str, kind: str) -> dict[str, Any]:
    found = target.kb.lookup.passage(some_id)
    if found is None or found.kind != kind:
        raise RaglineError(f"no {kind} {some_id[:200]!r}")
    return found.to_dict()


def get_document(target: Target, args: DocumentArguments) -> dict[str, Any]:
    """A document's text and metadata, and its chunks' ids and spans (``ragline show``)."""
    return _passage(target, args.doc_id, "document")


def get_chunk(target: Target, args: ChunkArguments) -> dict[str, Any]:
    """One chunk: its text, document, span, page and metadata (``ragline show``)."""
    return _passage(target, args.chunk_id, "chunk")


def add_document(target: Target, args: AddDocumentArguments) -> dict[str, Any]:
    """Add a document, or replace the one with that id; says what happened."""
    report = target.kb.add([Document(args.doc_id, args.text, dict(args.metadata))])
    if report.errors:
        raise RaglineError(f"document {args.doc_id!r} not added: {report.errors[0]}")
    return {"doc_id": args.doc_id, **report.to_dict()}


def delete_document(target: Target, args: DocumentArguments) -> dict[str, Any]:
    """Delete a document by id; an error when there is none."""
    if not target.kb.delete([args.doc_id]):
        raise RaglineError(f"no document {args.doc_id[:200]!r}")
    return {"deleted": args.doc_id}


@dataclass(frozen=True)
class Tool:
    """One tool: its name and description, the role a caller needs, its arguments and the
    function that runs it."""

    name: str
    description: str
    role: Literal["read", "write"]
    arguments: type[Arguments]
    run: Callable[[Target, Any], dict[str, Any]]


TOOLS = {
    tool.name: tool
    for tool in (
        Tool(
            "search",
            "Search the knowledge base: passages with their document and chunk ids, "
            "character spans and scores.",
            "read",
            SearchArguments,
            search,
        ),
        Tool(
            "ask",
            "Answer a question from the knowledge base, citing passages; each citation says "
            "whether the passage supports the sentence.",
            "read",
            AskArguments,
            ask,
        ),
        Tool(
            "get_document",
            "A document's text, metadata and chunks.",
            "read",
            DocumentArguments,
            get_document,
        ),
        Tool(
            "get_chunk", "One chunk's text, span and document.", "read", ChunkArguments, get_chunk
        ),
        Tool(
            "add_document",
            "Add a document (or replace the one with that id).",
            "write",
            AddDocumentArguments,
            add_document,
        ),
        Tool(
            "delete_document",
            "Delete a document by id.",
            "write",
            DocumentArguments,
            delete_document,
        ),
    )
}
"""Every tool, by name; the ``write`` ones are offered only to callers that may write."""
