"""An answer without a language model: the passage sentence that best matches the question.

Sentences are scored by a blend of embedding cosine to the question and the fraction of
the question's content words they contain; ties go to the higher-ranked passage. The
chosen sentences are returned with their ``[n]`` markers, so extractive answers are cited
like generated ones. With no sentence sharing a content word with the question, the
answer is :data:`~ragline.generate.prompt.ABSTAIN_TEXT`.

Only statements are candidates (:func:`statements`): passages cut from web pages and
documentation carry headings, table rows, page titles and navigation lines that share the
question's words but answer nothing.

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
    from ragline.config import GenerateConfig
    from ragline.documents import Hit
    from ragline.embed.base import Encoder
    from ragline.generate.base import Message

_FINAL_PUNCTUATION = re.compile(r"([.!?…]+[\"'”’)]*)$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(?:\s|$)")  # Markdown "## Title"
_UNDERLINE = re.compile(r"^\s*([=\-~^\"'`#*+_:.])\1{2,}\s*$")  # RST/Setext "=====", "-----"
_TABLE_RULE = re.compile(r"^\s*\+[-=+]+\+\s*$")  # RST grid tables "+----+----+"
_SEPARATORS = re.compile(r"[|»›]")  # table cells, breadcrumbs, navigation bars
_TITLE_DASH = re.compile(r"^\S+(?:\s\S+)?\s[—–-]{1,2}\s")  # pydoc "csv — CSV File Reading"
_LABEL = re.compile(r"^[^:]{1,40}:\s+\S")  # "Capital: Quellport" states a value
_VERB = re.compile(
    r"\b(?:is|are|was|were|be|been|being|am|has|have|had|do|does|did|can|could|will|would|"
    r"shall|should|may|might|must|[a-z]{2,}ed)\b|\w'(?:s|re|ve|ll|d)\b",
    re.IGNORECASE,
)
_NAVIGATION_WORDS = """
    navigation index modules module next previous prev home up top back contents toc search
    menu skip main content page source show edit view quick links topic this
"""
_NAVIGATION = frozenset(_NAVIGATION_WORDS.split())
_FRAGMENT_WORDS = 8  # an unpunctuated line this short without a verb is a label, not a claim


def _is_statement_line(line: str) -> bool:
    """Whether ``line`` of a passage can hold a statement: not a Markdown heading, a table
    row or rule, or a navigation bar (several ``|`` ``»`` ``›`` separators)."""
    stripped = line.strip()
    return not (
        _HEADING.match(stripped)
        or _UNDERLINE.match(stripped)
        or _TABLE_RULE.match(stripped)
        or stripped.startswith("|")
        or stripped.endswith("|")
        or len(_SEPARATORS.findall(stripped)) >= 2
    )


def _is_statement(sentence: str) -> bool:
    """Whether ``sentence`` says something: it ends like a sentence, or it is not a title
    ("csv — CSV File ..."), a run of navigation words, or a short verbless label."""
    if _FINAL_PUNCTUATION.search(sentence):
        return True
    words = re.findall(r"[\w'’]+", sentence)
    navigation = [w.lower() in _NAVIGATION for w in words]
    if navigation[:2] == [True, True] or sum(navigation) * 2 > len(words):
        return False
    if _TITLE_DASH.match(sentence):
        return False
    short = len(words) <= _FRAGMENT_WORDS
    return not short or bool(_LABEL.match(sentence) or _VERB.search(sentence))


def statements(text: str) -> list[str]:
    """The sentences of passage ``text`` that can stand as an answer, without citation markers.

    Headings (Markdown ``#``, a line over an RST/Setext underline), table rows, navigation
    lines, pydoc-style titles and short unpunctuated fragments without a verb are left out.

    >>> statements(
    ...     "csv — CSV File Reading and Writing\\n"
    ...     "Navigation index modules | next | previous\\n"
    ...     "Module Contents\\n"
    ...     "===============\\n"
    ...     "| Return the digest value as a bytes object. |\\n"
    ...     "The csv module reads and writes tabular data.[1] Dialects are supported\\n"
    ...     "Delimiter: a comma"
    ... )  # doctest: +NORMALIZE_WHITESPACE
    ['The csv module reads and writes tabular data.', 'Dialects are supported',
     'Delimiter: a comma']
    """
    lines = text.split("\n")
    kept = [
        line
        for i, line in enumerate(lines)
        if _is_statement_line(line)
        and not (i + 1 < len(lines) and line.strip() and _UNDERLINE.match(lines[i + 1]))
    ]
    sentences = (strip_citations(raw) for raw in split_sentences("\n".join(kept)))
    return [s for s in sentences if s and _is_statement(s)]


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

    @classmethod
    def from_config(cls, config: GenerateConfig) -> ExtractiveGenerator:
        return cls()

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
            # passages may carry their own [n] footnotes, which statements() drops
            for position, sentence in enumerate(statements(text)):
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

        ``max_new_tokens``, ``temperature`` and ``seed`` do not apply: a reply is never cut
        short, so :func:`~ragline.generate.base.complete` reports it finished with
        ``"stop"``. The text is cut at the first ``stop`` string.
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
