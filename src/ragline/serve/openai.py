"""OpenAI-compatible routes: ``GET /v1/models``, ``POST /v1/chat/completions`` and
``POST /v1/embeddings``.

``model: "ragline/<collection>"`` answers from that collection, with citations
(:mod:`ragline.serve.grounded`). ``model: "ragline"`` on a ``--kb`` server is the plain
pass-through: the reply of the server's generator (the knowledge base's configured one, or
``ragline serve --generator``) to the messages as given, with no retrieval. Any other
model name is a 404. Replies are whole or streamed as server-sent events::

    data: {"object": "chat.completion.chunk", "choices": [{"delta": {"content": "..."}}], ...}
    ...
    data: [DONE]

so any OpenAI client, ragline's own :class:`~ragline.generate.openai_http.OpenAIChatGenerator`
among them, can use a ragline generator over HTTP. ``finish_reason`` is ``"length"`` when the
reply was cut at ``max_tokens`` (as :func:`~ragline.generate.base.complete` tells),
``"stop"`` otherwise. A generator that fails before its first
piece of text gives a 500; one that fails mid-stream ends the stream with an ``error``
event (the status line has been sent by then).
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from ragline._optional import require

require("fastapi", "serve")

from fastapi import APIRouter  # noqa: E402
from fastapi.responses import StreamingResponse  # noqa: E402

from ragline.generate.base import Completion, Generator, Message, complete  # noqa: E402
from ragline.generate.prompt import approx_tokens  # noqa: E402
from ragline.keystore import KeyRecord  # noqa: E402
from ragline.serve import grounded  # noqa: E402
from ragline.serve.access import Principal, Svc, allowed  # noqa: E402
from ragline.serve.errors import ApiError, failure, one_line  # noqa: E402
from ragline.serve.models import (  # noqa: E402
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    EmbeddingRequest,
    ModelCard,
    ModelList,
    Usage,
)
from ragline.serve.service import Service  # noqa: E402
from ragline.serve.state import ServerState  # noqa: E402
from ragline.serve.streaming import Finished, relayed  # noqa: E402

MODEL_ID = "ragline"
"""The plain pass-through model of a ``--kb`` server: the generator alone, no retrieval."""

router = APIRouter(prefix="/v1")
_STARTED = int(time.time())


def _messages(body: ChatCompletionRequest) -> list[Message]:
    # "developer" is the newer name of "system"; chat templates know only the latter.
    return [
        {"role": "system" if m.role == "developer" else m.role, "content": m.text}
        for m in body.messages
    ]


def _token_counter(generator: Generator) -> Callable[[str], int]:
    """The generator's own tokenizer when it has one, else ragline's estimate."""
    encode = getattr(generator, "encode", None)
    if callable(encode):
        return lambda text: len(encode(text))
    from ragline.generate.prompt import approx_tokens

    return approx_tokens


def _usage(generator: Generator, messages: list[Message], text: str) -> Usage:
    count = _token_counter(generator)
    try:
        prompt = sum(count(m["content"]) for m in messages)
        completion = count(text)
    except Exception:  # noqa: BLE001 - usage is informative; a tokenizer hiccup must not fail
        prompt = completion = 0
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def _collection(model: str, key: KeyRecord, svc: Service, role: str = "read") -> ServerState:
    """The collection a ``ragline/<name>`` model names, checked for ``key`` (404 otherwise)."""
    name = model.removeprefix(grounded.PREFIX)
    if not model.startswith(grounded.PREFIX) or not name:
        raise ApiError(404, f"no model {model[:80]!r} (see GET /v1/models)")
    return allowed(svc, key, name, role)


@router.get("/models", response_model=ModelList)
def list_models(key: Principal, svc: Svc) -> ModelList:
    """``ragline/<collection>`` for each collection this key may read, and the plain
    pass-through ``ragline`` on a ``--kb`` server."""
    names = [n for n in svc.collections.names() if key.sees(n)]
    ids = [grounded.PREFIX + n for n in names]
    if svc.collections.single is not None and key.sees(svc.collections.single):
        ids.append(MODEL_ID)
    return ModelList(data=[ModelCard(id=i, created=_STARTED) for i in ids])


@router.post("/embeddings")
def embeddings(body: EmbeddingRequest, key: Principal, svc: Svc) -> dict[str, Any]:
    """Vectors of ``input`` by the collection's embedder (as its documents are embedded)."""
    state = _collection(body.model, key, svc)
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    if not texts:
        raise ApiError(400, "input: give at least one text")
    try:
        vectors = state.kb.encoder.encode_documents(texts)
    except Exception as e:  # noqa: BLE001 - the request was validated: what fails is ours
        raise failure(e, "embedding") from e
    tokens = sum(approx_tokens(t) for t in texts)
    return {
        "object": "list",
        "model": body.model,
        "data": [
            {"object": "embedding", "index": i, "embedding": [float(x) for x in vector]}
            for i, vector in enumerate(vectors)
        ],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


@router.post("/chat/completions", response_model=ChatCompletion, response_model_exclude_none=True)
def chat_completions(body: ChatCompletionRequest, key: Principal, svc: Svc) -> Any:
    """A reply answered from a collection (``model: "ragline/<name>"``, with citations), or
    on a ``--kb`` server by its generator alone (``model: "ragline"``); ``stream: true``
    sends it as SSE events."""
    if body.model != MODEL_ID:
        return grounded.chat(body, _collection(body.model, key, svc))
    single = svc.collections.single
    if single is None or not key.sees(single):
        raise ApiError(404, f"no model {body.model!r} (see GET /v1/models)")
    state = svc.collections.get(single)
    generator = state.generator()
    settings = state.kb.config.generate
    messages = _messages(body)
    options: dict[str, Any] = {
        "max_new_tokens": body.max_tokens or body.max_completion_tokens or settings.max_new_tokens,
        "stop": body.stop_list,
        "temperature": settings.temperature if body.temperature is None else body.temperature,
        "seed": body.seed,
    }
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if not body.stream:
        try:
            done = complete(generator, messages, **options)
        except Exception as e:  # noqa: BLE001 - any generator failure is the server's 500
            raise failure(e, f"generator {generator.name!r}") from e
        return ChatCompletion(
            id=completion_id,
            created=created,
            model=body.model,
            choices=[
                Choice(
                    message=AssistantMessage(content=done.text),
                    finish_reason=done.finish_reason,
                )
            ],
            usage=_usage(generator, messages, done.text),
        )

    relay = _relayed(generator, messages, options)
    try:
        # The first piece is awaited here, so a generator that cannot start (no model, no
        # upstream server) is reported with a proper status instead of a broken stream.
        first = next(relay)
    except Exception as e:  # noqa: BLE001
        raise failure(e, f"generator {generator.name!r}") from e
    include_usage = bool(body.stream_options and body.stream_options.include_usage)

    def chunk(delta: Delta | None = None, finish: str | None = None, **extra: Any) -> str:
        choices = [] if delta is None else [ChunkChoice(delta=delta, finish_reason=finish)]
        event = ChatCompletionChunk(
            id=completion_id, created=created, model=body.model, choices=choices, **extra
        )
        data = event.model_dump(exclude_none=True)
        for choice in data["choices"]:
            choice.setdefault("finish_reason", None)  # null until the last event, as OpenAI's
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    def events() -> Iterator[str]:
        yield chunk(Delta(role="assistant", content=""))
        try:
            for item in itertools.chain([first], relay):
                if isinstance(item, Completion):
                    done = item
                elif item:
                    yield chunk(Delta(content=item))
        except Exception as e:  # noqa: BLE001 - reported in-band: the 200 is already sent
            error = failure(e, f"generator {generator.name!r}")
            payload = {"error": {"message": one_line(error.message), "type": "server_error"}}
            yield f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"
            return
        finally:
            # A client that goes away ends this loop early: stop the generator's work too.
            relay.close()
        yield chunk(Delta(), done.finish_reason)
        if include_usage:
            yield chunk(usage=_usage(generator, messages, done.text))
        yield "data: [DONE]\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _relayed(
    generator: Generator, messages: list[Message], options: dict[str, Any]
) -> Iterator[str | Completion]:
    """:func:`~ragline.generate.base.complete` as an iterator: the reply's pieces as they are
    decoded, then its :class:`~ragline.generate.base.Completion` (see
    :func:`~ragline.serve.streaming.relayed`; closing it ends the decoding)."""
    stream = relayed(lambda on_token: complete(generator, messages, on_token=on_token, **options))
    try:
        for item in stream:
            yield item.value if isinstance(item, Finished) else item
    finally:
        stream.close()
