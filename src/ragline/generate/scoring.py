"""Token probabilities from a language model: what RAG-Sequence and RAG-Token need.

A generator that can score text implements :class:`TokenScorer` on top of ``Generator``.
It is a separate ``runtime_checkable`` protocol, so a plain text generator (an HTTP API)
plugs in without it, and callers check ``isinstance(gen, TokenScorer)`` before picking a
mode that marginalises over passages.

Prompts are given as token ids (``prompt_ids(messages)``) so that one chat-templated prompt
per passage is built once and reused both for scoring (``continuations_logprobs``) and for
incremental decoding (``begin`` → :class:`TokenSteps`).

The log-space mixtures live here too, as pure NumPy functions shared by both modes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp

from ragline.errors import ConfigError
from ragline.generate.base import Message


@runtime_checkable
class TokenSteps(Protocol):
    """Incremental decoding of ``k`` prompts side by side, one token per row per step.

    ``logprobs`` is the ``(k, vocab)`` array of next-token log-probabilities given each
    prompt and every token fed so far; ``feed`` appends one token to every row (the same
    token for all rows when given an int) and returns the new ``logprobs``.
    """

    logprobs: NDArray[np.float64]

    def feed(self, token_ids: int | Sequence[int]) -> NDArray[np.float64]: ...


@runtime_checkable
class TokenScorer(Protocol):
    """A language model that exposes token log-probabilities.

    - ``prompt_ids(messages)``: the chat-templated prompt, generation prompt included.
    - ``continuations_logprobs(prompts, continuations)``: ``log p(continuation | prompt)``
      summed over each continuation's tokens, shape ``(len(prompts), len(continuations))``.
    - ``begin(prompts)``: a :class:`TokenSteps` over all prompts at once (batched, with the
      key/value cache kept between steps).
    - ``encode``/``decode``: text ↔ ids without special tokens; ``eos_token_ids()`` end a reply.

    ``eos_token_ids`` is a method, not a property, so that ``isinstance`` checks (which
    look the members up) never load a model.
    """

    name: str

    def eos_token_ids(self) -> tuple[int, ...]: ...

    def prompt_ids(self, messages: Sequence[Message]) -> list[int]: ...

    def continuations_logprobs(
        self, prompt_ids: Sequence[list[int]], continuations: Sequence[list[int]]
    ) -> NDArray[np.float64]: ...

    def begin(self, prompt_ids: Sequence[list[int]]) -> TokenSteps: ...

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...


def passage_prior(scores: Sequence[float] | ArrayLike, temperature: float = 1.0) -> NDArray:
    """p(z|q): a softmax of retrieval scores divided by ``temperature``.

    A low temperature trusts the top passage; a high one spreads belief evenly.

    >>> passage_prior([2.0, 0.0], temperature=1.0).round(3).tolist()
    [0.881, 0.119]
    >>> passage_prior([2.0, 0.0], temperature=1e9).round(3).tolist()
    [0.5, 0.5]
    """
    if not temperature > 0:
        raise ConfigError(f"prior temperature must be > 0, got {temperature}")
    z = np.asarray(scores, dtype=np.float64) / temperature
    if z.ndim != 1 or z.size == 0:
        raise ValueError(f"scores must be a non-empty 1-d sequence, got shape {z.shape}")
    z = z - z.max()
    p = np.exp(z)
    return p / p.sum()


def log_mixture(log_prior: ArrayLike, logprobs: ArrayLike) -> NDArray[np.float64]:
    """``log Σ_z p(z) p(x|z)`` over axis 0: ``(k,)`` and ``(k, n)`` log-space in, ``(n,)`` out.

    >>> import numpy as np
    >>> log_mixture(np.log([0.5, 0.5]), np.log([[0.2, 0.8], [0.6, 0.4]])).round(3).tolist()
    [-0.916, -0.511]
    """
    lp = np.asarray(log_prior, dtype=np.float64)
    ll = np.asarray(logprobs, dtype=np.float64)
    if ll.ndim != 2 or lp.shape != (ll.shape[0],):
        raise ValueError(f"expected log_prior (k,) and logprobs (k, n), got {lp.shape}, {ll.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(logsumexp(lp[:, None] + ll, axis=0), dtype=np.float64)


def first_stop(text: str, stop: Sequence[str]) -> int | None:
    """The index where the earliest stop string begins in ``text``, or None.

    >>> first_stop("yes.\\nQ: next", ["\\nQ:", "."])
    3
    """
    found = [i for s in stop if s and (i := text.find(s)) >= 0]
    return min(found) if found else None


class StopHold:
    """A reply released as it grows, holding back text that may be the start of a stop
    string until it is not; ``stopped`` once a stop string has appeared.

    >>> held = StopHold(["\\nQ:"])
    >>> held.update("Paris"), held.update("Paris\\n"), held.update("Paris\\nQ: next")
    ('Par', 'i', 's')
    >>> held.stopped
    True
    """

    def __init__(self, stop: Sequence[str]) -> None:
        self.stop = [s for s in stop if s]
        self.hold = max((len(s) for s in self.stop), default=1) - 1
        self.sent = 0
        self.stopped = False

    def update(self, text: str) -> str:
        """The part of ``text`` (the whole reply so far) that is safe to release now."""
        if self.stopped:
            return ""
        cut = first_stop(text, self.stop)
        if cut is not None:
            self.stopped = True
            piece = text[self.sent : cut] if cut > self.sent else ""
            self.sent = len(text)
            return piece
        safe = len(text) - self.hold
        if safe <= self.sent:
            return ""
        piece, self.sent = text[self.sent : safe], safe
        return piece

    def finish(self, text: str) -> str:
        """What remains of ``text`` (the whole reply) once decoding has ended."""
        piece = self.update(text)
        if self.stopped:
            return piece
        rest, self.sent = text[self.sent :], len(text)
        return piece + rest
