"""An answer without a language model: the passage sentence that best matches the question.

Sentences are scored by a blend of embedding cosine to the question and the fraction of
the question's content words they contain; ties go to the higher-ranked passage. The
chosen sentences are returned with their ``[n]`` markers, so extractive answers are cited
like generated ones. With no sentence sharing a content word with the question, the
answer is :data:`~ragline.generate.prompt.ABSTAIN_TEXT`.

The generator works on passages directly (:meth:`ExtractiveGenerator.answer`), and also
satisfies the :class:`~ragline.generate.base.Generator` protocol by reading the passages
back out of a prompt made by :func:`~ragline.generate.prompt.build_messages`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ragline.generate.citations import content_words, split_sentences, strip_citations
from ragline.generate.prompt import ABSTAIN_TEXT, parse_user_message

if TYPE_CHECKING:
    from ragline.documents import Hit
    from ragline.embed.base import Encoder
    from ragline.generate.base import Message

_FINAL_PUNCTUATION = re.compile(r"([.!?…]+[\"'”’)]*)$")


def _cite(sentence: str, n: int) -> str:
    """``sentence`` with ``[n]`` before its final punctuation (or at its end)."""
    marker = f" [{n}]"
    match = _FINAL_PUNCTUATION.search(sentence)
    if match:
        return sentence[: match.start()] + marker + match.group(1)
    return sentence + marker


class ExtractiveGenerator:
    """Answers with the best-matching sentence(s) of the passages, cited by number.

    ``encoder`` embeds the question and the sentences (default: the packaged MiniLM,
    loaded on first use); ``weight`` is the share of embedding cosine in the score, the
    rest being lexical overlap.

    >>> from ragline.documents import Chunk, Hit
    >>> from ragline.embed.fake import HashEncoder
    >>> hits = [
    ...     Hit(Chunk("a#0", "a", "Berlin is in Germany. It is big.", 0, 32), 2.0, 1, "bm25"),
    ...     Hit(Chunk("b#0", "b", "Paris is the capital of France.", 0, 31), 1.0, 2, "bm25"),
    ... ]
    >>> ExtractiveGenerator(HashEncoder()).answer("What is the capital of France?", hits)
    ('Paris is the capital of France [2].', [2])
    """

    name = "extractive"

    def __init__(self, encoder: Encoder | None = None, *, weight: float = 0.5) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight must be within [0, 1], got {weight}")
        self._encoder = encoder
        self.weight = weight

    @property
    def encoder(self) -> Encoder:
        """The sentence encoder, built from the default embed config on first use."""
        if self._encoder is None:
            from ragline.config import EmbedConfig
            from ragline.embed import make_encoder

            self._encoder = make_encoder(EmbedConfig())
        return self._encoder

    def _extract(
        self, question: str, passages: Sequence[str], max_sentences: int
    ) -> tuple[str, list[int]]:
        """The one scoring path behind :meth:`answer` and :meth:`generate`."""
        asked = set(content_words(question))
        candidates: list[tuple[int, int, str, float]] = []  # passage no., position, text, overlap
        for n, text in enumerate(passages, start=1):
            for position, raw in enumerate(split_sentences(text)):
                sentence = strip_citations(raw)  # passages may carry their own [n] footnotes
                if not sentence:
                    continue
                shared = asked & set(content_words(sentence))
                candidates.append((n, position, sentence, len(shared) / max(len(asked), 1)))
        if not any(overlap > 0 for *_, overlap in candidates):
            return ABSTAIN_TEXT, []
        if self.weight > 0:
            sentence_vectors = self.encoder.encode_documents([c[2] for c in candidates])
            question_vector = self.encoder.encode_queries([question])[0]
            cosines = sentence_vectors @ question_vector
        else:
            cosines = np.zeros(len(candidates), dtype=np.float32)
        scored = sorted(
            (
                (-round(self.weight * float(cos) + (1 - self.weight) * overlap, 6), n, pos, s)
                for (n, pos, s, overlap), cos in zip(candidates, cosines, strict=True)
            ),
        )
        chosen: list[tuple[int, str]] = []
        seen: set[str] = set()
        for _, n, _, sentence in scored:
            if sentence not in seen:
                seen.add(sentence)
                chosen.append((n, sentence))
            if len(chosen) == max(max_sentences, 1):
                break
        text = " ".join(_cite(sentence, n) for n, sentence in chosen)
        return text, list(dict.fromkeys(n for n, _ in chosen))

    def answer(
        self, question: str, passages: Sequence[Hit], *, max_sentences: int = 1
    ) -> tuple[str, list[int]]:
        """The best sentence(s) of ``passages`` for ``question``, and the passage numbers used.

        Passage ``n`` is ``passages[n - 1]``; each sentence ends with its ``[n]`` marker.
        """
        return self._extract(question, [hit.chunk.text for hit in passages], max_sentences)

    def generate(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 256,
        stop: Sequence[str] = (),
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> str:
        """Answer the last user message, made by :func:`~ragline.generate.prompt.build_messages`.

        ``max_new_tokens``, ``temperature`` and ``seed`` do not apply; the text is cut at the
        first ``stop`` string.
        """
        content = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        question, passages = parse_user_message(content)
        text, _ = self._extract(question, [body for _, body in passages], 1)
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
        yield self.generate(messages, max_new_tokens=max_new_tokens, stop=stop)
