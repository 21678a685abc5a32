"""Citations in answers: find ``[n]`` markers, map them to passages, check their support.

An answer cites passage ``n`` with ``[n]``, several with ``[1][3]`` or ``[1, 3]``, a range
with ``[2-4]``. :func:`parse_citations` splits the answer into sentences and pairs each
cited number with its sentence; :func:`resolve_citations` maps the numbers to the
passages the prompt showed and asks a :class:`SupportChecker` whether each passage backs
its sentence. The default, :class:`ClaimSupport`, wants the passage to state the sentence's
names, numbers, dates and quantities and the question's subject; :class:`LexicalSupport`
and :class:`EmbeddingSupport` only measure overlap. ``ragline eval support`` measures the
checkers on SQuAD sentences with a swapped answer (:mod:`ragline.evaluate.support_check`).

>>> parse_citations("Paris is the capital [1][3]. It is on the Seine [2].")
[(1, 'Paris is the capital.'), (3, 'Paris is the capital.'), (2, 'It is on the Seine.')]
>>> strip_citations("Paris is the capital [1, 2].")
'Paris is the capital.'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from functools import cache
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

import numpy as np

from ragline.abstention import is_abstention
from ragline.documents import Citation, Hit
from ragline.generate.claims import (
    PassageTerms,
    Term,
    claims,
    default_stopwords,
    fold,
    question_terms,
    words,
)
from ragline.generate.claims import stemmer as snowball
from ragline.generate.comparison import confirmed_both, decided_choice

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
# a full stop after a lone capital is an initial ("E. B. White", "U.S. Army"), not an end
_SENTENCE_END = re.compile(
    r"(?:[!?…]|(?<!\b[A-Z])\.)[.!?…]*[\"'”’)]*"
    rf"(?:[ \t]*{_MARKER_SOURCE})*"
    r"(?=\s+[\"'“‘(]?[A-Z0-9]|\s*$)"
)
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
"""A list bullet at the start of a line (``- ``, ``* ``, ``1. ``)."""
_WORD = re.compile(r"\w+")
_MAX_RANGE = 100  # "[1-100000]" is a typo, not a hundred thousand citations
_CACHED = 256  # passages whose analysis a checker keeps

_T = TypeVar("_T")


def _cached(cache: dict[str, _T], text: str, make: Callable[[str], _T]) -> _T:
    """``make(text)``, kept in ``cache`` (emptied when it holds :data:`_CACHED` entries)."""
    value = cache.get(text)
    if value is None:
        if len(cache) >= _CACHED:
            cache.clear()
        value = cache[text] = make(text)
    return value


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
        words = list(snowball(stemmer).stemWords(words))
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


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Consecutive ``(start, end)`` offsets cutting ``text`` into sentences (with the
    whitespace between them), by the rule :func:`split_sentences` uses within a line.

    >>> sentence_spans("It rose 3.5 m. Then it fell [1].")
    [(0, 14), (14, 32)]
    >>> sentence_spans("E. B. White wrote it. He was American.")
    [(0, 21), (21, 38)]
    """
    ends = [m.end() for m in _SENTENCE_END.finditer(text) if m.end() < len(text)]
    starts = [0, *ends]
    return list(zip(starts, [*ends, len(text)], strict=True))


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, each with the citation markers that belong to it.

    Lines are sentence boundaries too (lists), and leading list bullets are dropped. A
    marker written after the full stop stays with the sentence before it.

    >>> split_sentences("Paris is the capital. [1] It lies on the Seine [2].\\n- Lyon [3]")
    ['Paris is the capital. [1]', 'It lies on the Seine [2].', 'Lyon [3]']
    """
    sentences: list[str] = []
    for line in text.split("\n"):
        line = BULLET.sub("", line)
        for start, end in sentence_spans(line):
            piece = line[start:end].strip()
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
    """Scores how well a passage backs a sentence; at or above ``threshold`` is support.

    ``question`` is the question the sentence answers, for checkers that use it.
    """

    threshold: float

    def support(
        self, sentence: str, passage_text: str, *, question: str | None = None
    ) -> float: ...


@runtime_checkable
class ExplainsSupport(Protocol):
    """A support checker that also says what the passage lacks (see :attr:`Citation.missing`)."""

    def missing(
        self, sentence: str, passage_text: str, *, question: str | None = None
    ) -> list[str]: ...


class LexicalSupport:
    """Support = the fraction of the sentence's content words found in the passage.

    Content words are lower-cased, stemmed words that are not stopwords (see
    :func:`content_words`). A sentence with no content words counts as supported. The
    question is not used.

    >>> check = LexicalSupport()
    >>> check.support("Tides follow the moon.", "The moon's gravity drives the tides.")
    0.6666666666666666
    >>> check.support("Tides follow the sun.", "The moon's gravity drives the tides.")
    0.3333333333333333
    >>> check.missing("Tides follow the sun.", "The moon's gravity drives the tides.")
    ['follow', 'sun']
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

    def content_stems(self, text: str) -> list[str]:
        """The stems of the content words of ``text`` (diacritics dropped), with this
        checker's stopwords and stemmer."""
        return content_words(fold(text), stopwords=self.stopwords, stemmer=self.stemmer)

    def compare(
        self, sentence: str, passage_text: str, *, matched: Collection[str] = ()
    ) -> tuple[float, list[tuple[str, str]]]:
        """The support score and, for each content word the passage lacks, the word as
        written (lower-cased) and its stem; stems in ``matched`` count as found."""
        text = fold(strip_citations(sentence))
        stems = self.content_stems(text)
        if not stems:
            return 1.0, []
        written = content_words(text, stopwords=self.stopwords, stemmer=None)
        found = _cached(self._passages, passage_text, lambda t: frozenset(self.content_stems(t)))
        pairs = zip(written, stems, strict=True)
        lacking = {stem: word for word, stem in pairs if stem not in found and stem not in matched}
        distinct = len(set(stems))
        return (distinct - len(lacking)) / distinct, [(w, s) for s, w in lacking.items()]

    def support(self, sentence: str, passage_text: str, *, question: str | None = None) -> float:
        return self.compare(sentence, passage_text)[0]

    def missing(
        self, sentence: str, passage_text: str, *, question: str | None = None
    ) -> list[str]:
        """The sentence's content words (lower-cased) that the passage lacks."""
        return [word for word, _ in self.compare(sentence, passage_text)[1]]


RESTATES_QUESTION = "(only what the question says)"
"""What :class:`ClaimSupport` reports missing from a sentence that only restates the question."""
STATES_NOTHING = "(nothing to check)"
"""What it reports for a sentence of stopwords alone ("No.", "It is."): nothing a passage
could back, so never supported."""


class ClaimSupport:
    """A sentence is supported by a passage only if the passage states what it says: every
    name, number, date and quantity of the sentence, the subject of the question, and every
    content word of the sentence that the question did not supply. The score is then the
    lexical overlap (:class:`LexicalSupport`), a further signal; otherwise it is 0.

    Counting shared words alone passes "The capital of Zorbia is Eldra." against
    "Quellport is the capital of Zorbia": four words of five match. A sentence is true or
    false by its terms (:func:`~ragline.generate.claims.claims`) and by the words that
    answer the question; a passage that lacks one of them does not back it. Words the
    question supplies ("located" in "Where is Normandy located?") may be missing, so that
    a correct answer phrased like the question still passes.

    >>> check = ClaimSupport()
    >>> passage = "Quellport is the capital of the island nation of Zorbia."
    >>> check.support("The capital of Zorbia is Eldra.", passage)
    0.0
    >>> check.missing("The capital of Zorbia is Eldra.", passage)
    ['Eldra']
    >>> check.support("Quellport is the capital of Zorbia.", passage)
    1.0
    >>> check.missing("Its capital is Quellport.", passage, question="What is Rufen's capital?")
    ['Rufen']
    >>> check.missing("Zorbia's capital lies on the coast.", passage)
    ['lies', 'coast']
    >>> check.support("Zorbia's capital is located in Quellport.", passage,
    ...               question="Where is Zorbia's capital located?")
    0.75

    A sentence made only of the question's own words states nothing a passage could back
    ("Circus Diablo" for "Which band formed first, The Exies or Circus Diablo?": which
    option is right is beyond this check), so it is never supported:

    >>> check.missing("Quellport.", passage, question="Is Quellport or Eldra the capital?")
    ['(only what the question says)']
    >>> check.missing("No.", passage, question="Is Eldra the capital of Zorbia?")
    ['(nothing to check)']
    """

    def __init__(
        self,
        threshold: float = 0.5,
        *,
        lexical: LexicalSupport | None = None,
        bridges: bool = False,
    ) -> None:
        self.threshold = threshold
        self.lexical = lexical if lexical is not None else LexicalSupport(threshold)
        self.bridges = bridges
        self._passages: dict[str, PassageTerms] = {}

    def check(
        self,
        sentence: str,
        passage_text: str,
        *,
        question: str | None = None,
        subject: bool = True,
    ) -> tuple[float, list[str]]:
        """The support score and what the passage lacks (empty when supported); with
        ``subject=False`` the passage need not state the question's subject."""
        asked = set(self.lexical.content_stems(question)) if question else set()
        claim = strip_citations(sentence)
        said = set(self.lexical.content_stems(claim))
        terms = claims(claim)
        if not said and not terms:
            return 0.0, [STATES_NOTHING]
        if said and said <= asked:
            return 0.0, [RESTATES_QUESTION]
        passage = _cached(self._passages, passage_text, PassageTerms)
        lacking = passage.missing(terms)
        if question and subject:
            lacking += passage.missing_subject(question_terms(question))
        # the words of the terms were checked above, with numbers and units normalised
        checked = {stem for term in terms for stem in words(term.text)}
        score, unmatched = self.lexical.compare(sentence, passage_text, matched=checked)
        lacking += [word for word, stem in unmatched if stem not in asked]
        if lacking:
            return 0.0, list(dict.fromkeys(lacking))
        return score, [] if score >= self.threshold else [word for word, _ in unmatched]

    def support(self, sentence: str, passage_text: str, *, question: str | None = None) -> float:
        return self.check(sentence, passage_text, question=question)[0]

    def missing(
        self, sentence: str, passage_text: str, *, question: str | None = None
    ) -> list[str]:
        """The terms and words of ``sentence`` (and the subject terms of ``question``) that
        the passage does not state, in order, each once; empty when it is supported."""
        return self.check(sentence, passage_text, question=question)[1]

    def joined(
        self,
        sentence: str,
        passages: Sequence[Hit],
        question: str,
        answering: Collection[int] | None = None,
    ) -> tuple[tuple[int, int, float], str] | None:
        """Support that two of ``passages`` give ``sentence`` together, and the origin of
        the second one's citation: the two options of the question, each decided by its
        own passage (:mod:`~ragline.generate.comparison`: a choice in time, or "yes" to
        "are A and B both Z?"; ``"compared"``), or, with ``bridges`` on, a two-hop
        :meth:`bridge` (``"bridge"``). None when none holds."""
        claim = strip_citations(sentence)
        decided = decided_choice(claim, question, passages) or confirmed_both(
            claim, question, passages
        )
        if decided is not None:
            return (*decided, 1.0), "compared"
        texts = [hit.chunk.indexed_text for hit in passages]
        headers = [hit.chunk.header for hit in passages]
        found = self.bridge(sentence, texts, question, answering, headers)
        return None if found is None else (found, "bridge")

    def bridge(
        self,
        sentence: str,
        passage_texts: Sequence[str],
        question: str,
        answering: Collection[int] | None = None,
        headers: Sequence[str] | None = None,
    ) -> tuple[int, int, float] | None:
        """Two-hop support, when ``bridges`` is on: ``(n, m, score)`` where passage ``n``
        (1-based; one of ``answering`` when given) states everything ``sentence`` says but
        the question's subject, passage ``m`` states that subject, both name an entity
        that neither the question nor the sentence names — the bridge between the hops
        ("Who wrote the song about a luau in Laie's district?": the song's passage names
        its writer and Laie, Laie's passage names the district) — and passage ``n`` adds
        the question's other words (its relation: "wrote", "song"), so that the two
        passages together hold most of the question.

        The bridge must stand in passage ``n``'s header (``headers``, what the passage is
        about) or in a sentence of it that states the answer's names or numbers: a passage
        that mentions "New York" and, elsewhere, the bridge does not tie the two. A name
        most passages share ("National Football League" across football passages) joins
        nothing in particular, and a sentence without names or numbers has nothing to tie.
        None otherwise.

        >>> check = ClaimSupport(bridges=True)
        >>> texts = ["Laie is a town in the Koolauloa District of Oahu.",
        ...          "The Hukilau Song was written by Jack Owens after a luau in Laie."]
        >>> check.bridge("Jack Owens [2].", texts,
        ...              "Who wrote a song after a luau in the Koolauloa District?")
        (2, 1, 1.0)
        >>> ClaimSupport().bridge("Jack Owens.", texts, "Who wrote a song in Koolauloa?")
        """
        terms = claims(strip_citations(sentence))
        if not self.bridges or not terms:
            return None
        stated = {t.key for t in claims(question)} | {t.key for t in terms}
        subject = question_terms(question)
        analysed = [_cached(self._passages, text, PassageTerms) for text in passage_texts]
        common = max(2, len(passage_texts) // 2)

        def joins(term: Term) -> bool:
            return term.key not in stated and sum(p.found(term) for p in analysed) <= common

        # What depends on the subject passage alone is worked out once, not per answer passage.
        @cache
        def covers_alone(m: int) -> float:
            return self.lexical.compare(question, passage_texts[m - 1])[0]

        @cache
        def names(m: int) -> list[Term]:
            return _entity_names(passage_texts[m - 1])

        for n, answer_text in enumerate(passage_texts, start=1):
            if answering is not None and n not in answering:
                continue
            score, lacking = self.check(sentence, answer_text, question=question, subject=False)
            if lacking or score < self.threshold:
                continue
            around = [PassageTerms(headers[n - 1] if headers else "")] + [
                part
                for part in map(PassageTerms, split_sentences(answer_text))
                if any(part.found(term) for term in terms)
            ]
            for m, subject_text in enumerate(passage_texts, start=1):
                if m == n or analysed[m - 1].missing_subject(subject):
                    continue
                joined, _ = self.lexical.compare(question, f"{subject_text}\n{answer_text}")
                if joined < self.threshold or joined <= covers_alone(m):
                    continue
                if any(joins(t) and any(part.found(t) for part in around) for t in names(m)):
                    return n, m, score
        return None


def _entity_names(text: str) -> list[Term]:
    """The names ``text`` states that can join two passages: those with a word that is
    not a stopword (not "We're" opening a sentence)."""
    stop = default_stopwords()
    return [
        term
        for term in claims(text)
        if term.kind == "name" and any(word not in stop for word in term.key.split())
    ]


class EmbeddingSupport:
    """Support = the highest cosine between the sentence and any sentence of the passage.

    Works with any ragline :class:`~ragline.embed.base.Encoder` (both sides are embedded as
    documents: this compares statements, it is not retrieval). The question is not used.
    """

    def __init__(self, encoder: Encoder, threshold: float = 0.5) -> None:
        self.encoder = encoder
        self.threshold = threshold
        self._passages: dict[str, NDArray[np.float32]] = {}

    def _embed_sentences(self, passage_text: str) -> NDArray[np.float32]:
        sentences = [strip_citations(s) for s in split_sentences(passage_text)]
        return self.encoder.encode_documents([s for s in sentences if s] or [passage_text])

    def support(self, sentence: str, passage_text: str, *, question: str | None = None) -> float:
        claim = self.encoder.encode_documents([strip_citations(sentence)])
        vectors = _cached(self._passages, passage_text, self._embed_sentences)
        return float(np.max(vectors @ claim[0]))


def check_support(
    checker: SupportChecker, sentence: str, passage_text: str, question: str | None = None
) -> tuple[float, list[str]]:
    """``checker``'s support score for ``sentence`` against ``passage_text`` and, when it
    falls short and the checker can say (:class:`ExplainsSupport`), what the passage lacks."""
    score = float(checker.support(sentence, passage_text, question=question))
    if score >= checker.threshold or not isinstance(checker, ExplainsSupport):
        return score, []
    return score, list(checker.missing(sentence, passage_text, question=question))


def resolve_citations(
    text: str,
    passages: Sequence[Hit],
    *,
    checker: SupportChecker | None = None,
    question: str | None = None,
) -> tuple[list[Citation], list[int]]:
    """The citations of answer ``text`` to ``question`` resolved against the numbered
    ``passages``.

    ``[n]`` refers to ``passages[n - 1]``: the citation carries that chunk's id, document,
    span and page (``chunk.metadata["page"]``), and whether ``checker`` (default
    :class:`ClaimSupport`) finds the sentence supported by the chunk's indexed text (its
    title header included: a later chunk of a document still speaks of its title's
    subject). Numbers outside
    ``1..len(passages)`` are dropped and returned as the second value.

    >>> from ragline.documents import Chunk, Hit
    >>> hit = Hit(Chunk("d#0", "d", "Tides follow the moon.", 0, 22, {"page": 3}), 1.0, 1, "bm25")
    >>> citations, invalid = resolve_citations("Tides follow the moon [1][4].", [hit])
    >>> [(c.n, c.chunk_id, c.page, c.supported) for c in citations], invalid
    ([(1, 'd#0', 3, True)], [4])
    >>> citations, _ = resolve_citations("Tides follow Titan [1].", [hit])
    >>> citations[0].supported, citations[0].missing
    (False, ['Titan'])
    """
    check = checker if checker is not None else ClaimSupport()
    citations: list[Citation] = []
    invalid: list[int] = []
    for n, sentence in parse_citations(text):
        if not 1 <= n <= len(passages):
            if n not in invalid:
                invalid.append(n)
            continue
        score, missing = check_support(
            check, sentence, passages[n - 1].chunk.indexed_text, question
        )
        citations.append(
            cite(n, passages[n - 1], sentence, score, check.threshold, missing=missing)
        )
    if question and isinstance(check, ClaimSupport):
        citations = _joined(citations, passages, check, question)
    return citations, invalid


def _joined(
    citations: list[Citation], passages: Sequence[Hit], check: ClaimSupport, question: str
) -> list[Citation]:
    """``citations`` with each sentence that no cited passage supports given the support
    of two passages together (:meth:`ClaimSupport.joined`), both cited."""
    result: list[Citation] = []
    for sentence in dict.fromkeys(c.sentence for c in citations):
        group = [c for c in citations if c.sentence == sentence]
        answering = {c.n for c in group}
        supported = any(c.supported for c in group)
        found = None if supported else check.joined(sentence, passages, question, answering)
        if found is None:
            result += group
            continue
        (n, m, score), origin = found
        result += [c for c in group if c.n not in (n, m)]
        for number in (n, m):
            by = "model" if number in answering else origin
            result.append(cite(number, passages[number - 1], sentence, score, check.threshold, by))
    return result


def attribute(
    text: str,
    passages: Sequence[Hit],
    checker: SupportChecker | None = None,
    question: str | None = None,
) -> list[Citation]:
    """Citations for an answer the generator did not cite: each sentence goes to the passage
    that supports it best, when that passage passes the check (``checker``, default
    :class:`ClaimSupport`, given the ``question``).

    >>> from ragline.documents import Chunk, Hit
    >>> hits = [Hit(Chunk(f"{d}#0", d, t, 0, len(t)), 1.0, r, "bm25") for r, (d, t) in
    ...     enumerate([("a", "Quellport is the capital of Zorbia."),
    ...                ("b", "Eldra is a mountain in Rufen.")], start=1)]
    >>> [(c.n, c.origin) for c in attribute("Zorbia's capital is Quellport.", hits)]
    [(1, 'attributed')]
    >>> attribute("Zorbia's capital is Eldra.", hits, question="What is the capital of Zorbia?")
    []
    """
    check = checker if checker is not None else ClaimSupport()
    citations: list[Citation] = []
    texts = [hit.chunk.indexed_text for hit in passages]
    for sentence in split_sentences(strip_citations(text)):
        scored = [
            (check.support(sentence, passage_text, question=question), n)
            for n, passage_text in enumerate(texts, start=1)
        ]
        if not scored:
            break
        support, n = max(scored)
        if support >= check.threshold:
            citations.append(
                cite(n, passages[n - 1], sentence, float(support), check.threshold, "attributed")
            )
        elif question and isinstance(check, ClaimSupport):
            found = check.joined(sentence, passages, question)
            if found is not None:
                (n, m, score), origin = found
                citations += [
                    cite(n, passages[n - 1], sentence, score, check.threshold, "attributed"),
                    cite(m, passages[m - 1], sentence, score, check.threshold, origin),
                ]
    return citations


def cite(
    n: int,
    hit: Hit,
    sentence: str,
    support: float,
    threshold: float,
    origin: str = "model",
    *,
    missing: Sequence[str] = (),
) -> Citation:
    """The citation of passage ``n`` (``hit``) by ``sentence``, with its support score and
    the terms the passage lacks."""
    chunk = hit.chunk
    page = chunk.metadata.get("page")
    label = chunk.metadata.get("page_label")
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
        missing=list(missing),
        page_label=str(label) if label is not None else None,
    )


def is_abstention_text(text: str) -> bool:
    """Whether an answer declines to answer (like ``ABSTAIN_TEXT``), markers ignored.

    >>> is_abstention_text("The knowledge base does not say. [1]"), is_abstention_text("Paris [1].")
    (True, False)
    """
    return is_abstention(strip_citations(text))
