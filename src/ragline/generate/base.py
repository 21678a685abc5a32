"""The Generator protocol: a chat prompt in, text out (whole or streamed).

Generators are one class per backend file (``hf_local.py``, ``openai_http.py``,
``extractive.py``). Capabilities beyond plain generation are separate protocols, so a
user's own class plugs in with just the methods it has: ``TokenScorer`` (token
probabilities, needed by RAG-Sequence and RAG-Token) lives beside the local backend.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, TypedDict, runtime_checkable


class Message(TypedDict):
    """One chat message, as OpenAI-compatible APIs and chat templates take it."""

    role: str
    content: str


@runtime_checkable
class Generator(Protocol):
    """Produces text for a chat. ``name`` is reported in answers.

    ``seed`` makes sampling repeatable where the backend supports it; ``temperature`` 0
    means greedy decoding.
    """

    name: str

    def generate(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 256,
        stop: Sequence[str] = (),
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> str: ...

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 256,
        stop: Sequence[str] = (),
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> Iterator[str]: ...
