"""OpenAI-compatible routes: ``GET /v1/models`` and ``POST /v1/chat/completions``.

Chat completions are produced by the server's generator (the knowledge base's configured
one, or ``ragline serve --generator``), whole or streamed as server-sent events::

    data: {"object": "chat.completion.chunk", "choices": [{"delta": {"content": "..."}}], ...}
    ...
    data: [DONE]

so any OpenAI client, ragline's own :class:`~ragline.generate.openai_http.OpenAIChatGenerator`
among them, can use a ragline generator over HTTP. The ``model`` a request names is
echoed back; it does not choose the generator. ``finish_reason`` is ``"length"`` when the
reply was cut at ``max_tokens`` (as :func:`~ragline.generate.base.complete` tells),
``"stop"`` otherwise. A generator that fails before its first
piece of text gives a 500; one that fails mid-stream ends the stream with an ``error``
event (the status line has been sent by then).
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from ragline._optional import require

require("fastapi", "serve")

from fastapi import APIRouter  # noqa: E402
from fastapi.responses import StreamingResponse  # noqa: E402

from ragline.generate.base import Completion, Generator, Message, complete  # noqa: E402
from ragline.serve.errors import failure, one_line  # noqa: E402
from ragline.serve.models import (  # noqa: E402
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    ModelCard,
    ModelList,
    Usage,
)
from ragline.serve.state import State  # noqa: E402

MODEL_ID = "ragline"
"""The one model /v1/models lists (requests may name any model)."""

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


@router.get("/models", response_model=ModelList)
def list_models(state: State) -> ModelList:
    """The model this server answers as (its generator, whatever ``model`` a request names)."""
    return ModelList(data=[ModelCard(id=MODEL_ID, created=_STARTED, owned_by="ragline")])


@router.post("/chat/completions", response_model=ChatCompletion)
def chat_completions(body: ChatCompletionRequest, state: State) -> Any:
    """A chat reply by the server's generator; ``stream: true`` sends it as SSE events."""
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


class _Abandoned(Exception):
    """Raised into a generator whose reply nobody reads any more, to stop its decoding."""


def _relayed(
    generator: Generator, messages: list[Message], options: dict[str, Any]
) -> Iterator[str | Completion]:
    """:func:`~ragline.generate.base.complete` as an iterator: the reply's pieces as they are
    decoded, then its :class:`~ragline.generate.base.Completion`.

    ``complete`` hands out pieces through a callback, so it runs on a worker thread and the
    pieces come through a queue; a generator failure is re-raised here. Closing the
    iterator makes the next piece raise inside ``complete``, which ends the decoding.
    """
    items: queue.Queue[str | Completion | BaseException] = queue.Queue()
    closed = threading.Event()

    def on_token(piece: str) -> None:
        if closed.is_set():
            raise _Abandoned
        items.put(piece)

    def run() -> None:
        try:
            items.put(complete(generator, messages, on_token=on_token, **options))
        except BaseException as e:  # noqa: BLE001 - handed to the reading side
            items.put(e)

    threading.Thread(target=run, name="ragline-chat", daemon=True).start()
    try:
        while True:
            item = items.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if isinstance(item, Completion):
                return
    finally:
        closed.set()
