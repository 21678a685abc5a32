"""Citations in answers: find ``[n]`` markers, map them to passages, check their support.

An answer cites passage ``n`` with ``[n]``, several with ``[1][3]`` or ``[1, 3]``, a range
with ``[2-4]``. :func:`parse_citations` splits the answer into sentences and pairs each
cited number with its sentence; :func:`resolve_citations` maps the numbers to the
passages the prompt showed and asks a :class:`SupportChecker` whether each passage backs
its sentence.

>>> parse_citations("Paris is the capital [1][3]. It is on the Seine [2].")
[(1, 'Paris is the capital.'), (3, 'Paris is the capital.'), (2, 'It is on the Seine.')]
>>> strip_citations("Paris is the capital [1, 2].")
'Paris is the capital.'
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from ragline.documents import Citation, Hit
from ragline.evaluate.qa_metrics import is_abstention

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ragline.embed.base import Encoder

_NUMBER_OR_RANGE = r"\d+(?:\s*[-–]\s*\d+)?"
_MARKER_SOURCE = rf"\[\s*({_NUMBER_OR_RANGE}(?:\s*[,;]\s*{_NUMBER_OR_RANGE})*)\s*\]"
MARKER = re.compile(_MARKER_SOURCE)
"""A citation marker: ``[n]``, ``[n, m]``, ``[n-m]``; group 1 holds what is inside."""

_MARKER_WITH_SPACE = re.compile(rf"[ \t]*{_MARKER_SOURCE}")
# Sentence splitting is written here rather than taken from a library because markers
# placed after the full stop ("… capital. [1] The …") must stay with the sentence they
# follow, which general-purpose splitters do not know about. A sentence ends at . ! ? (plus
# closing quotes and any markers) when whitespace and a capital, digit or quote follow.
_SENTENCE_END = re.compile(
    r"[.!?…]+[\"'”’)]*"
    rf"(?:[ \t]*{_MARKER_SOURCE})*"
    r"(?=\s+[\"'“‘(]?[A-Z0-9]|\s*$)"
)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_WORD = re.compile(r"\w+")
_MAX_RANGE = 100  # "[1-100000]" is a typo, not a hundred thousand citations

_FUNCTION_WORDS = """
    i me my we our you your he him his she her its they them what which who whom whose
    when where why how do does did has have had can could would should may might must
    shall am were been being than so also
"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())
"""Pronouns, auxiliaries and question words that the Lucene stopword list keeps."""


@lru_cache(maxsize=1)
def default_stopwords() -> frozenset[str]:
    """bm25s's English stopwords (the Lucene list) plus :data:`FUNCTION_WORDS`."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | FUNCTION_WORDS


@lru_cache(maxsize=4)
def _stemmer(language: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer(language)


def content_words(
    text: str, *, stopwords: Collection[str] | None = None, stemmer: str | None = "english"
) -> list[str]:
    """The lower-cased, stemmed words of ``text`` that are not stopwords, in order.

    Single letters are dropped (the ``s`` of ``moon's``); numbers are kept.

    >>> content_words("The moon's gravity pulls the tides.")
    ['moon', 'graviti', 'pull', 'tide']
    """
    stop = default_stopwords() if stopwords is None else stopwords
    words = [
        w for w in _WORD.findall(text.lower()) if w not in stop and (len(w) > 1 or w.isdigit())
    ]
    if stemmer and words:
        words = list(_stemmer(stemmer).stemWords(words))
    return words


def _numbers(inside: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"[,;]", inside):
        ends = [int(x) for x in re.split(r"[-–]", part)]
        if len(ends) == 2 and ends[0] <= ends[1] and ends[1] - ends[0] < _MAX_RANGE:
            numbers.extend(range(ends[0], ends[1] + 1))
        else:
            numbers.extend(ends)
    return numbers


def cited_numbers(text: str) -> list[int]:
    """Every passage number cited in ``text``, in order of first appearance.

    >>> cited_numbers("A [2]. B [1][2]. C [3-4].")
    [2, 1, 3, 4]
    """
    return list(dict.fromkeys(n for m in MARKER.finditer(text) for n in _numbers(m.group(1))))


def strip_citations(text: str) -> str:
    """``text`` without citation markers (and the spaces before them)."""
    stripped = _MARKER_WITH_SPACE.sub("", text)
    lines = (re.sub(r"[ \t]{2,}", " ", line).strip() for line in stripped.split("\n"))
    return "\n".join(lines).strip()


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, each with the citation markers that belong to it.

    Lines are sentence boundaries too (lists), and leading list bullets are dropped. A
    marker written after the full stop stays with the sentence before it.

    >>> split_sentences("Paris is the capital. [1] It lies on the Seine [2].\\n- Lyon [3]")
    ['Paris is the capital. [1]', 'It lies on the Seine [2].', 'Lyon [3]']
    """
    sentences: list[str] = []
    for line in text.split("\n"):
        line = _BULLET.sub("", line)
        start = 0
        pieces = []
        for match in _SENTENCE_END.finditer(line):
            pieces.append(line[start : match.end()])
            start = match.end()
        pieces.append(line[start:])
        for piece in pieces:
            piece = piece.strip()
            if not piece:
                continue
            if sentences and not _WORD.search(MARKER.sub("", piece)):
                sentences[-1] = f"{sentences[-1]} {piece}"  # stray markers join the sentence
            else:
                sentences.append(piece)
    return sentences


def parse_citations(text: str) -> list[tuple[int, str]]:
    """``(n, sentence)`` for each passage number cited in each sentence of ``text``.

    Numbers come in order of appearance, once per sentence; the sentence is given without
    its markers.
    """
    cited: list[tuple[int, str]] = []
    for sentence in split_sentences(text):
        numbers = cited_numbers(sentence)
        if numbers:
            clean = strip_citations(sentence)
            cited.extend((n, clean) for n in numbers)
    return cited


@runtime_checkable
class SupportChecker(Protocol):
    """Scores how well a passage backs a sentence; at or above ``threshold`` is support."""

    threshold: float

    def support(self, sentence: str, passage_text: str) -> float: ...


class LexicalSupport:
    """Support = the fraction of the sentence's content words found in the passage.

    Content words are lower-cased, stemmed words that are not stopwords (see
    :func:`content_words`). A sentence with no content words counts as supported.

    >>> check = LexicalSupport()
    >>> check.support("Tides follow the moon.", "The moon's gravity drives the tides.")
    0.6666666666666666
    >>> check.support("Tides follow the sun.", "The moon's gravity drives the tides.")
    0.3333333333333333
    """

    def __init__(
        self,
        threshold: float = 0.5,
        *,
        stopwords: Collection[str] | None = None,
        stemmer: str | None = "english",
    ) -> None:
        self.threshold = threshold
        self.stopwords = stopwords
        self.stemmer = stemmer
        self._passages: dict[str, frozenset[str]] = {}

    def _words(self, text: str) -> list[str]:
        return content_words(text, stopwords=self.stopwords, stemmer=self.stemmer)

    def support(self, sentence: str, passage_text: str) -> float:
        words = set(self._words(strip_citations(sentence)))
        if not words:
            return 1.0
        found = self._passages.get(passage_text)
        if found is None:
            if len(self._passages) >= 256:
                self._passages.clear()
            found = self._passages[passage_text] = frozenset(self._words(passage_text))
        return len(words & found) / len(words)


class EmbeddingSupport:
    """Support = the highest cosine between the sentence and any sentence of the passage.

    Works with any ragline :class:`~ragline.embed.base.Encoder` (both sides are embedded as
    documents: this compares statements, it is not retrieval).
    """

    def __init__(self, encoder: Encoder, threshold: float = 0.5) -> None:
        self.encoder = encoder
        self.threshold = threshold
        self._passages: dict[str, NDArray[np.float32]] = {}

    def _passage_vectors(self, passage_text: str) -> NDArray[np.float32]:
        vectors = self._passages.get(passage_text)
        if vectors is None:
            sentences = [strip_citations(s) for s in split_sentences(passage_text)]
            sentences = [s for s in sentences if s] or [passage_text]
            if len(self._passages) >= 256:
                self._passages.clear()
            vectors = self._passages[passage_text] = self.encoder.encode_documents(sentences)
        return vectors

    def support(self, sentence: str, passage_text: str) -> float:
        claim = self.encoder.encode_documents([strip_citations(sentence)])
        return float(np.max(self._passage_vectors(passage_text) @ claim[0]))


def resolve_citations(
    text: str, passages: Sequence[Hit], *, checker: SupportChecker | None = None
) -> tuple[list[Citation], list[int]]:
    """The citations of answer ``text`` resolved against the numbered ``passages``.

    ``[n]`` refers to ``passages[n - 1]``: the citation carries that chunk's id, document,
    span and page (``chunk.metadata["page"]``), and whether ``checker`` (default
    :class:`LexicalSupport`) finds the sentence supported. Numbers outside
    ``1..len(passages)`` are dropped and returned as the second value.

    >>> from ragline.documents import Chunk, Hit
    >>> hit = Hit(Chunk("d#0", "d", "Tides follow the moon.", 0, 22, {"page": 3}), 1.0, 1, "bm25")
    >>> citations, invalid = resolve_citations("Tides follow the moon [1][4].", [hit])
    >>> [(c.n, c.chunk_id, c.page, c.supported) for c in citations], invalid
    ([(1, 'd#0', 3, True)], [4])
    """
    check = checker if checker is not None else LexicalSupport()
    citations: list[Citation] = []
    invalid: list[int] = []
    for n, sentence in parse_citations(text):
        if not 1 <= n <= len(passages):
            if n not in invalid:
                invalid.append(n)
            continue
        score = float(check.support(sentence, passages[n - 1].chunk.text))
        citations.append(cite(n, passages[n - 1], sentence, score, check.threshold))
    return citations, invalid


def cite(
    n: int, hit: Hit, sentence: str, support: float, threshold: float, origin: str = "model"
) -> Citation:
    """The citation of passage ``n`` (``hit``) by ``sentence``, with its support score."""
    chunk = hit.chunk
    page = chunk.metadata.get("page")
    return Citation(
        n=n,
        chunk_id=chunk.id,
        doc_id=chunk.doc_id,
        span=chunk.span,
        page=int(page) if page is not None else None,
        supported=support >= threshold,
        support=support,
        sentence=sentence,
        origin=origin,
    )


def is_abstention_text(text: str) -> bool:
    """Whether an answer declines to answer (like ``ABSTAIN_TEXT``), markers ignored.

    >>> is_abstention_text("The knowledge base does not say. [1]"), is_abstention_text("Paris [1].")
    (True, False)
    """
    return is_abstention(strip_citations(text))
