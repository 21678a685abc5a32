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


def request_filters(spec: FilterSpec | None) -> dict[str, Any] | None:
    """Filters from a request: a dict as the library takes it, or CLI-style strings."""
    if not spec:
        return None
    if isinstance(spec, list):
        try:
            return parse_filters(spec)
        except RaglineError as e:
            raise ApiError(400, str(e)) from e
    try:
        to_sql(spec)  # refuses unknown operators before any work is done
    except RaglineError as e:
        raise ApiError(400, str(e)) from e
    return dict(spec)


router = APIRouter()


@router.get("/health", response_model=Health)
def health() -> dict[str, str]:
    """Liveness: answers whenever the server is up, without a key."""
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
