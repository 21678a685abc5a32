"""Grounded chat: ``/v1/chat/completions`` answered from a collection, with its citations.

A request whose ``model`` is ``ragline/<collection>`` is answered by
``KnowledgeBase.ask`` on its last user message: the reply's text carries the ``[n]``
markers and the citations (each with chunk, document, span and support verdict) travel
with it: on the message and the completion when whole, on the last chunk (and its delta)
when streamed, so that streaming does not drop the references. Fields an OpenAI client
does not know are kept by it (``message.model_extra["citations"]`` in the Python client).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from ragline._optional import require

require("fastapi", "serve")

from fastapi.responses import StreamingResponse  # noqa: E402

from ragline.documents import Answer  # noqa: E402
from ragline.generate.prompt import approx_tokens  # noqa: E402
from ragline.serve.errors import ApiError, failure, one_line  # noqa: E402
from ragline.serve.models import (  # noqa: E402
    AskRequest,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    Delta,
    Usage,
)
from ragline.serve.routes import answer  # noqa: E402
from ragline.serve.state import ServerState  # noqa: E402
from ragline.serve.streaming import Finished, relayed  # noqa: E402

PREFIX = "ragline/"
"""Model names that answer from a collection: ``ragline/<collection>``."""


def question_of(body: ChatCompletionRequest) -> str:
    """The last user message: the question a grounded reply answers."""
    for message in reversed(body.messages):
        if message.role == "user" and message.text.strip():
            return message.text[:10_000]
    raise ApiError(400, "messages: a grounded reply needs a user message with text")


def _usage(question: str, text: str) -> Usage:
    prompt, completion = approx_tokens(question), approx_tokens(text)
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


def _citations(done: Answer) -> list[dict[str, Any]]:
    return [c.to_dict() for c in done.citations]


def chat(body: ChatCompletionRequest, state: ServerState) -> Any:
    """The grounded reply to ``body`` from the collection ``state``, whole or streamed."""
    question = question_of(body)
    ask = AskRequest(
        question=question, max_new_tokens=body.max_tokens or body.max_completion_tokens
    )
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if not body.stream:
        done = answer(state, ask)
        citations = _citations(done)
        message = AssistantMessage(content=done.text, citations=citations)
        return ChatCompletion(
            id=completion_id,
            created=created,
            model=body.model,
            choices=[Choice(message=message)],
            usage=_usage(question, done.text),
            citations=citations,
        )
    stream = relayed(lambda on_token: answer(state, ask, on_token=on_token))
    first = next(stream)

    def chunk(delta: Delta, finish: str | None = None, **extra: Any) -> str:
        event = ChatCompletionChunk(
            id=completion_id,
            created=created,
            model=body.model,
            choices=[ChunkChoice(delta=delta, finish_reason=finish)],
            **extra,
        )
        data = event.model_dump(exclude_none=True)
        data["choices"][0].setdefault("finish_reason", None)
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    def events() -> Iterator[str]:
        yield chunk(Delta(role="assistant", content=""))
        streamed = False
        try:
            for item in _chain(first, stream):
                if isinstance(item, Finished):
                    done: Answer = item.value
                    if not streamed and done.text:
                        yield chunk(Delta(content=done.text))
                    cited = _citations(done)
                    usage = _usage(question, done.text)
                    yield chunk(Delta(citations=cited), "stop", citations=cited, usage=usage)
                elif item:
                    streamed = True
                    yield chunk(Delta(content=item))
        except Exception as e:  # noqa: BLE001 - reported in-band: the 200 is already sent
            error = failure(e, "answering")
            payload = {"error": {"message": one_line(error.message), "type": "server_error"}}
            yield f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"
            return
        finally:
            stream.close()
        yield "data: [DONE]\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest
