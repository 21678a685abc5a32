"""Readers as generators: a reader answers from passages directly, and also satisfies the
:class:`~ragline.generate.base.Generator` protocol by reading the question and passages back
out of a prompt made by :func:`~ragline.generate.prompt.build_messages`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from ragline.generate.prompt import parse_user_message

if TYPE_CHECKING:
    from ragline.generate.base import Message


class PromptReader:
    """The Generator side of a reader; subclasses give ``_best(question, passages)``, the
    cited answer and the passage numbers it used.

    ``max_new_tokens``, ``temperature`` and ``seed`` do not apply: a reader copies a
    sentence, never cut short, so :func:`~ragline.generate.base.complete` reports it
    finished with ``"stop"``. The text is cut at the first ``stop`` string, as a model's
    would be.
    """

    def _best(self, question: str, passages: Sequence[str]) -> tuple[str, list[int]]:
        raise NotImplementedError

    def generate(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 256,
        stop: Sequence[str] = (),
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> str:
        """The answer to the last user message (question and passages of its prompt)."""
        content = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        question, passages = parse_user_message(content)
        text, _ = self._best(question, [body for _, body in passages])
        for marker in stop:
            if marker and marker in text:
                text = text[: text.index(marker)]
        return text

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 256,
        stop: Sequence[str] = (),
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> Iterator[str]:
        """The answer of :meth:`generate`, as a single piece."""
        yield self.generate(messages, stop=stop)
