"""The Generator protocol: a chat prompt in, text out (whole or streamed).

Generators are one class per backend file (``hf_local.py``, ``openai_http.py``,
``extractive.py``). Capabilities beyond plain generation are separate protocols, so a
user's own class plugs in with just the methods it has: ``TokenScorer`` (token
probabilities, needed by RAG-Sequence and RAG-Token) lives beside the local backend, and
:class:`Completer` (why decoding ended) is here.

Callers that need to know whether a reply was cut at the token limit use
:func:`complete`, which works with any generator: exactly through ``complete`` where the
generator has it, by counting the reply's tokens where it has ``encode``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict, runtime_checkable

FINISH_REASONS = ("stop", "length")
"""Why decoding ended: the reply was complete (end of turn or a stop string), or it reached
``max_new_tokens`` and was cut."""


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


@dataclass(frozen=True)
class Completion:
    """A whole reply and why decoding ended (``"stop"`` or ``"length"``, as OpenAI's API).

    ``first_token_s`` (seconds from the call to the first generated token: reading the
    prompt), ``seconds`` (the whole call) and ``tokens`` (generated tokens) are set by
    generators that can tell, else None; :meth:`decode_tokens_per_s` derives the speed
    after the first token from them.

    >>> Completion("Paris is the", "length").finish_reason
    'length'
    >>> Completion("a b c", first_token_s=0.5, seconds=1.5, tokens=11).decode_tokens_per_s()
    10.0
    """

    text: str
    finish_reason: str = "stop"
    first_token_s: float | None = field(default=None, repr=False, compare=False)
    seconds: float | None = field(default=None, repr=False, compare=False)
    tokens: int | None = field(default=None, repr=False, compare=False)

    def decode_tokens_per_s(self) -> float | None:
        """Tokens per second after the first one, or None when the timings are unknown."""
        if self.first_token_s is None or self.seconds is None or self.tokens is None:
            return None
        decoding = self.seconds - self.first_token_s
        if self.tokens < 2 or decoding <= 0:
            return None
        return (self.tokens - 1) / decoding

    def __post_init__(self) -> None:
        if self.finish_reason not in FINISH_REASONS:
            raise ValueError(
                f"finish_reason must be one of {FINISH_REASONS}, got {self.finish_reason!r}"
            )


@runtime_checkable
class Completer(Protocol):
    """A generator that knows why its decoding ended; :func:`complete` uses it when present.

    ``on_token``, when given, receives the reply piece by piece as it is decoded; the
    pieces joined equal the returned text.
    """

    def complete(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 256,
        stop: Sequence[str] = (),
        temperature: float = 0.0,
        seed: int | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Completion: ...


def complete(
    generator: Generator,
    messages: Sequence[Message],
    *,
    max_new_tokens: int,
    stop: Sequence[str] = (),
    temperature: float = 0.0,
    seed: int | None = None,
    on_token: Callable[[str], None] | None = None,
) -> Completion:
    """The reply of ``generator`` to ``messages`` and why it ended, streamed to ``on_token``.

    A :class:`Completer` answers exactly. Any other generator streams (with ``on_token``)
    or generates, and its reply counts as cut (``"length"``) when the generator has
    ``encode(text) -> list[int]`` and the reply takes ``max_new_tokens`` tokens or more;
    without ``encode`` nothing tells, and the reply counts as complete.

    >>> class Echo:
    ...     name = "echo"
    ...     def generate(self, messages, **options):
    ...         return messages[-1]["content"]
    ...     def encode(self, text):
    ...         return list(range(len(text.split())))
    >>> complete(Echo(), [{"role": "user", "content": "a b c"}], max_new_tokens=3)
    Completion(text='a b c', finish_reason='length')
    >>> complete(Echo(), [{"role": "user", "content": "a b"}], max_new_tokens=3)
    Completion(text='a b', finish_reason='stop')
    """
    options: dict[str, Any] = {
        "max_new_tokens": max_new_tokens,
        "stop": stop,
        "temperature": temperature,
        "seed": seed,
    }
    if isinstance(generator, Completer):
        return generator.complete(messages, on_token=on_token, **options)
    started = time.perf_counter()
    first: float | None = None
    if on_token is None:
        text = generator.generate(messages, **options)
    else:
        pieces = []
        stream = generator.stream(messages, **options)
        try:
            for piece in stream:
                if first is None and piece:
                    first = time.perf_counter() - started
                pieces.append(piece)
                on_token(piece)
        finally:  # an on_token that raises stops the generator's work too
            close = getattr(stream, "close", None)
            if callable(close):
                close()
        text = "".join(pieces)
    seconds = time.perf_counter() - started
    encode = getattr(generator, "encode", None)
    tokens = len(encode(text)) if callable(encode) else None
    cut = tokens is not None and tokens >= max_new_tokens
    return Completion(
        text, "length" if cut else "stop", first_token_s=first, seconds=seconds, tokens=tokens
    )
