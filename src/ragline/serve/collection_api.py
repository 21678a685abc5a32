"""Collections over HTTP: create, list, info, delete; search and ask (whole or streamed).

Every route checks the caller's key (:mod:`ragline.serve.access`) and calls the library:
``KnowledgeBase.create`` / ``info`` / ``search`` / ``ask``. ``ask/stream`` sends
server-sent events: ``token`` events as the answer is written, then ``citations`` (each
with its support verdict), then ``done`` with the whole answer in the shape of ``ask``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ragline._optional import require

require("fastapi", "serve")

from fastapi import APIRouter  # noqa: E402
from fastapi.responses import StreamingResponse  # noqa: E402

from ragline.config import Config  # noqa: E402
from ragline.documents import Answer  # noqa: E402
from ragline.errors import RaglineError  # noqa: E402
from ragline.serve.access import Administered, Principal, Readable, Svc  # noqa: E402
from ragline.serve.errors import ApiError, failure, one_line  # noqa: E402
from ragline.serve.models import (  # noqa: E402
    AskRequest,
    CreateCollection,
    ErrorResponse,
    SearchRequest,
    SearchResponse,
)
from ragline.serve.routes import answer, hits  # noqa: E402
from ragline.serve.state import ServerState  # noqa: E402
from ragline.serve.streaming import Finished, relayed, sse  # noqa: E402

router = APIRouter(prefix="/collections", tags=["collections"])


def summary(name: str, state: ServerState) -> dict[str, Any]:
    """A collection's name and counts (what the list shows)."""
    info = state.kb.info()
    return {"name": name, "documents": info.get("documents"), "chunks": info.get("chunks")}


@router.get("")
def list_collections(key: Principal, svc: Svc) -> dict[str, Any]:
    """The collections this key may see."""
    names = [n for n in svc.collections.names() if key.sees(n)]
    return {"collections": [summary(n, svc.collections.get(n)) for n in names]}


@router.post(
    "",
    status_code=201,
    responses={409: {"model": ErrorResponse, "description": "A collection of that name exists"}},
)
def create_collection(body: CreateCollection, key: Principal, svc: Svc) -> dict[str, Any]:
    """A new, empty collection built with the given options (an admin key for it)."""
    if not key.allows(body.name, "admin"):
        raise ApiError(403, f"this key may not create collection {body.name!r}")
    config = Config()
    config = config.with_overrides(
        "chunk", method=body.chunker, size=body.chunk_size, overlap=body.overlap
    )
    config = config.with_overrides("embed", model=body.embedder)
    config = config.with_overrides("index", factory=body.index)
    try:
        state = svc.collections.create(body.name, config)
    except RaglineError as e:
        raise ApiError(400, str(e)) from e
    except OSError as e:
        raise failure(e, f"creating collection {body.name!r}") from e
    return {"name": body.name, **state.kb.info()}


@router.get("/{name}")
def collection_info(name: str, state: Readable) -> dict[str, Any]:
    """KnowledgeBase.info() of the collection, and the generator it answers with."""
    return {"name": name, **state.kb.info(), "generator": state.generator_name}


@router.delete("/{name}")
def delete_collection(name: str, state: Administered, svc: Svc) -> dict[str, Any]:
    """Remove the collection and everything in it (its running upload jobs stop first)."""
    svc.jobs.stop(state)
    svc.collections.delete(name)
    return {"deleted": name}


@router.post("/{name}/search", response_model=SearchResponse)
def search(body: SearchRequest, state: Readable) -> dict[str, Any]:
    """Top-k hits, in the shape of ``ragline search --json``."""
    return hits(state, body)


@router.post("/{name}/ask")
def ask(body: AskRequest, state: Readable) -> dict[str, Any]:
    """A cited answer, in the shape of ``ragline ask --json``."""
    return answer(state, body).to_dict()


EVENT_STREAM = {
    200: {
        "description": "Server-sent events: token..., citations, done (or error)",
        "content": {
            "text/event-stream": {
                "schema": {
                    "description": "One event: its name, and its data as JSON text",
                    "type": "object",
                    "required": ["event", "data"],
                    "properties": {
                        "event": {"enum": ["token", "citations", "done", "error"]},
                        "data": {"type": "string", "contentMediaType": "application/json"},
                    },
                }
            }
        },
    }
}
"""The schema of a streamed reply: ``text/event-stream``, described event by event."""


@router.post("/{name}/ask/stream", response_class=StreamingResponse, responses=EVENT_STREAM)
def ask_stream(body: AskRequest, state: Readable) -> StreamingResponse:
    """The answer as server-sent events: ``token``..., ``citations``, ``done``."""
    stream = relayed(lambda on_token: answer(state, body, on_token=on_token))
    first = next(stream)  # errors before the first piece are still a proper status code

    def events() -> Iterator[str]:
        streamed = False
        try:
            for item in _chain(first, stream):
                if isinstance(item, Finished):
                    done: Answer = item.value
                    if not streamed and done.text:
                        yield sse("token", {"text": done.text})
                    yield sse("citations", [c.to_dict() for c in done.citations])
                    yield sse("done", done.to_dict())
                elif item:
                    streamed = True
                    yield sse("token", {"text": item})
        except Exception as e:  # noqa: BLE001 - reported in-band: the 200 is already sent
            error = failure(e, "answering")
            yield sse("error", {"error": {"message": one_line(error.message), "code": 500}})
        finally:
            stream.close()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _chain(first: str | Finished[Answer], rest: Iterator[str | Finished[Answer]]) -> Iterator[Any]:
    yield first
    yield from rest
