"""Plain records shared by every stage: a loaded Document, a Chunk of it, a search Hit."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


def content_hash(text: str) -> str:
    """The sha256 of ``text``; a document whose hash is unchanged is not re-indexed."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Document:
    """A unit of source content with a stable id.

    ``page_starts`` holds the character offset at which each page begins, for paged
    formats (PDF); chunks use it to record the page they start on.

    >>> doc = Document("notes.txt", "Hello world.", {"title": "notes"})
    >>> doc.hash == content_hash("Hello world.")
    True
    """

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    page_starts: tuple[int, ...] = ()

    @property
    def hash(self) -> str:
        return content_hash(self.text)

    def page_at(self, offset: int) -> int | None:
        """The 1-based page number that holds character ``offset``, or None if unpaged."""
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i
            else:
                break
        return page + 1


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: ``text == document.text[start:end]``.

    The id is stable across re-runs (document id and ordinal), so citations and
    evaluation runs can refer to it. ``header`` is context indexed with the chunk but not
    part of its span (the document's title, for chunks that do not start with it).

    >>> Chunk("d#1", "d", "It thins blood.", 40, 55, header="Aspirin").indexed_text
    'Aspirin\\nIt thins blood.'
    """

    id: str
    doc_id: str
    text: str
    start: int
    end: int
    metadata: dict[str, Any] = field(default_factory=dict)
    header: str = ""

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)

    @property
    def indexed_text(self) -> str:
        """What the embedder and BM25 see: the header line, then the chunk text."""
        return f"{self.header}\n{self.text}" if self.header else self.text


def chunk_id(doc_id: str, ordinal: int) -> str:
    """The id of the ``ordinal``-th chunk of document ``doc_id``."""
    return f"{doc_id}#{ordinal}"


@dataclass
class Hit:
    """One search result: a chunk, its final score and rank, and what led to it.

    ``scores`` and ``ranks`` hold each retriever's own score and 1-based rank
    (``{"bm25": ..., "dense": ...}``); ``source`` names the retriever that produced it.
    """

    chunk: Chunk
    score: float
    rank: int
    source: str
    scores: dict[str, float] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a hit in ``ragline search --json``."""
        return {
            "rank": self.rank,
            "score": self.score,
            "doc_id": self.chunk.doc_id,
            "chunk_id": self.chunk.id,
            "text": self.chunk.text,
            "span": [self.chunk.start, self.chunk.end],
            "metadata": self.chunk.metadata,
            "source": self.source,
            "scores": self.scores,
            "ranks": self.ranks,
        }


@dataclass
class Citation:
    """A ``[n]`` marker in an answer, resolved to the passage it points at.

    ``supported`` says whether the cited sentence is backed by the passage (``support`` is
    the check's score, ``missing`` the terms of the sentence or question that the passage
    lacks, when the check can tell); ``page`` is set for paged documents, ``page_label``
    when the page's printed label differs from its number ("iv", "T-2"). ``origin`` is
    ``"model"`` for a marker the generator wrote, ``"attributed"`` for one ragline added to
    an uncited sentence by finding the passage that supports it best, ``"bridge"`` for the
    passage that states a multi-hop question's subject and names the entity joining it to
    the passage that states the answer, ``"compared"`` for the two options' own passages
    that decide a choice in time ("which band formed first, A or B?") or a "yes" to "are
    A and B both Z?".
    """

    n: int
    chunk_id: str
    doc_id: str
    span: tuple[int, int]
    page: int | None = None
    supported: bool = True
    support: float = 1.0
    sentence: str = ""
    origin: str = "model"
    missing: list[str] = field(default_factory=list)
    page_label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "span": list(self.span),
            "page": self.page,
            "page_label": self.page_label,
            "supported": self.supported,
            "support": self.support,
            "sentence": self.sentence,
            "origin": self.origin,
            "missing": list(self.missing),
        }


@dataclass
class Answer:
    """A generated answer with the passages it was given and the citations it made.

    ``abstained`` is True when ragline answered that the knowledge base does not say.
    ``passage_probs`` holds p(z|q) per passage in the sequence and token modes; ``hops``
    each multi-hop round's query and chunk ids; ``token_sources`` which passage dominated
    each span of the answer in token mode. ``finish_reason`` is ``"length"`` when the
    generator's reply was cut at the token limit, ``"stop"`` otherwise. ``short_answer``
    is the span a reader extracted (the answer's core, without the sentence around it), or
    in the short answer style the phrase of a model's sentence that answers the question;
    ``withheld`` the sentences (or reader candidates) that failed the support check and are
    not part of ``text``; ``fallback`` is True when the generated answer failed the check
    and ``text`` is the reader's best supported span instead. ``timings`` says where the
    time went, in seconds: ``retrieval_s``, ``generate_s`` (the generator's whole call),
    ``first_token_s`` (reading the prompt, up to the first generated token: time to first
    token), ``decode_tokens_per_s`` (speed after the first token) and ``support_check_s``;
    a value the generator cannot tell (a remote API's first token, say) is None.
    """

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    passages: list[Hit] = field(default_factory=list)
    abstained: bool = False
    mode: str = "plain"
    generator: str = ""
    passage_probs: list[float] = field(default_factory=list)
    hops: list[dict[str, Any]] = field(default_factory=list)
    token_sources: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str = "stop"
    short_answer: str = ""
    withheld: list[dict[str, Any]] = field(default_factory=list)
    fallback: bool = False
    timings: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``ragline ask --json``."""
        passages = []
        for number, hit in enumerate(self.passages, start=1):
            passage = hit.to_dict()
            passage["n"] = number
            if self.passage_probs:
                passage["p"] = self.passage_probs[number - 1]
            passages.append(passage)
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "mode": self.mode,
            "generator": self.generator,
            "citations": [c.to_dict() for c in self.citations],
            "passages": passages,
            "hops": self.hops,
            "token_sources": self.token_sources,
            "finish_reason": self.finish_reason,
            "short_answer": self.short_answer,
            "withheld": self.withheld,
            "fallback": self.fallback,
            "timings": dict(self.timings),
        }
