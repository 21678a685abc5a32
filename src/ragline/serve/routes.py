"""The native API routes: health, info, search and ask, in the shapes of the CLI's ``--json``."""

from __future__ import annotations

from typing import Any

from ragline._optional import require

require("fastapi", "serve")

from fastapi import APIRouter  # noqa: E402

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
from ragline.serve.state import State  # noqa: E402


def _filters(spec: FilterSpec | None) -> dict[str, Any] | None:
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
def info(state: State) -> dict[str, Any]:
    """KnowledgeBase.info() (counts, embedder, index, config) and the server's generator."""
    return {**state.kb.info(), "generator": state.generator_name}


@router.post("/search", response_model=SearchResponse)
def search(body: SearchRequest, state: State) -> dict[str, Any]:
    """Top-k hits, in the shape of ``ragline search --json``."""
    filters = _filters(body.filters)
    try:
        hits = state.kb.search(
            body.query, k=body.k, mode=body.mode, fusion=body.fusion, filters=filters
        )
    except RaglineError as e:
        raise ApiError(400, str(e)) from e
    return {"query": body.query, "hits": [hit.to_dict() for hit in hits]}


@router.post("/ask")
def ask(body: AskRequest, state: State) -> dict[str, Any]:
    """A cited answer, in the shape of ``ragline ask --json``."""
    generator = state.generator(body.generator)
    filters = _filters(body.filters)
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
        answer = state.kb.ask(
            body.question,
            generator=generator,
            mode=body.mode,
            k=body.k,
            hops=body.hops,
            filters=filters,
            search_mode=body.search_mode,
            **options,
        )
    except Exception as e:  # noqa: BLE001 - the request was validated: what fails is ours
        raise failure(e, "answering") from e
    return answer.to_dict()
