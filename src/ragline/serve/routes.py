"""The native API routes of a ``--kb`` server: health, info, search and ask, in the shapes of
the CLI's ``--json``; :func:`hits` and :func:`answer` also serve the collection routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from ragline._optional import require

require("fastapi", "serve")

from fastapi import APIRouter, Depends, Request  # noqa: E402

from ragline.documents import Answer  # noqa: E402
from ragline.errors import RaglineError  # noqa: E402
from ragline.filters import parse_filters, to_sql  # noqa: E402
from ragline.serve.errors import ApiError, failure  # noqa: E402
from ragline.serve.models import (  # noqa: E402
    AskRequest,
    FilterSpec,
    Health,
    SearchRequest,
    SearchResponse,
)
from ragline.serve.state import ServerState  # noqa: E402

SQL_INTEGERS = range(-(2**63), 2**63)
"""The integers SQLite holds: a larger number in a filter is compared as a float."""


def request_filters(spec: FilterSpec | None) -> dict[str, Any] | None:
    """Filters from a request: a dict as the library takes it, or CLI-style strings.

    In a dict, a bare list means any of its values (``{"in": [...]}``).
    """
    if not spec:
        return None
    try:
        if isinstance(spec, list):
            return parse_filters(spec)
        filters = {key: _condition(condition) for key, condition in spec.items()}
        to_sql(filters)  # refuses unknown operators before any work is done
    except RaglineError as e:
        raise ApiError(400, str(e)) from e
    return filters


def _condition(condition: Any) -> Any:
    """A condition as the catalog takes it: a bare list is ``in``; numbers that fit SQLite."""
    if isinstance(condition, list):
        condition = {"in": condition}
    if not isinstance(condition, dict):
        return _sql_value(condition)
    return {
        op: [_sql_value(v) for v in value] if isinstance(value, list) else _sql_value(value)
        for op, value in condition.items()
    }


def _sql_value(value: Any) -> Any:
    return float(value) if isinstance(value, int) and value not in SQL_INTEGERS else value


router = APIRouter()


@router.get("/health", response_model=Health)
async def health() -> dict[str, str]:
    """Liveness: answers whenever the server is up, without a key (on the event loop, so
    a thread pool busy with searches and answers does not delay it)."""
    return {"status": "ok"}


@router.get("/info")
def info(state: Default) -> dict[str, Any]:
    """KnowledgeBase.info() (counts, embedder, index, config) and the server's generator."""
    return {**state.kb.info(), "generator": state.generator_name}


def hits(state: ServerState, body: SearchRequest) -> dict[str, Any]:
    """The hits of a search request, in the shape of ``ragline search --json``."""
    filters = request_filters(body.filters)
    try:
        found = state.kb.search(
            body.query, k=body.k, mode=body.mode, fusion=body.fusion, filters=filters
        )
    except RaglineError as e:
        raise ApiError(400, str(e)) from e
    except Exception as e:  # noqa: BLE001 - the request was validated: what fails is ours
        raise failure(e, "search") from e
    return {"query": body.query, "hits": [hit.to_dict() for hit in found]}


def answer(
    state: ServerState, body: AskRequest, on_token: Callable[[str], None] | None = None
) -> Answer:
    """The cited answer to an ask request; ``on_token`` receives its text as it is written."""
    generator = state.generator(body.generator)
    filters = request_filters(body.filters)
    if body.mode in ("sequence", "token"):
        from ragline.generate.scoring import TokenScorer

        if not isinstance(generator, TokenScorer):
            raise ApiError(
                400,
                f"mode {body.mode!r} needs token probabilities; generator "
                f"{generator.name!r} has none (use mode plain)",
            )
    options: dict[str, Any] = {}
    if body.max_new_tokens:
        options["max_new_tokens"] = body.max_new_tokens
    if body.follow_up:
        options["follow_up"] = body.follow_up
    if body.answer_style:
        options["answer_style"] = body.answer_style
    try:
        return state.kb.ask(
            body.question,
            generator=generator,
            mode=body.mode,
            k=body.k,
            hops=body.hops,
            filters=filters,
            search_mode=body.search_mode,
            on_token=on_token,
            **options,
        )
    except Exception as e:  # noqa: BLE001 - the request was validated: what fails is ours
        raise failure(e, "answering") from e


def _default(request: Request) -> ServerState:
    """The one knowledge base of a ``--kb`` server (these routes are absent with ``--data``)."""
    found: ServerState | None = request.app.state.ragline
    if found is None:
        raise ApiError(404, "this server holds collections: use /collections/{name}/...")
    return found


Default = Annotated[ServerState, Depends(_default)]


@router.post("/search", response_model=SearchResponse)
def search(body: SearchRequest, state: Default) -> dict[str, Any]:
    """Top-k hits from the ``--kb`` knowledge base, in the shape of ``ragline search --json``."""
    return hits(state, body)


@router.post("/ask")
def ask(body: AskRequest, state: Default) -> dict[str, Any]:
    """A cited answer from the ``--kb`` knowledge base, in the shape of ``ragline ask --json``."""
    return answer(state, body).to_dict()
