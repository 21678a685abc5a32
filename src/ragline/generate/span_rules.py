"""The span reader's answers, trusted only where the extractive reader's rules agree.

A trained span reader (:mod:`ragline.generate.span_reader`) picks the right phrase of a
sentence far more often than the rules of :mod:`ragline.generate.question_type` do, but
its margin over no-answer tells answers from non-answers poorly. The rules are the
reverse: they know when a sentence answers the question and, on fictional facts, never
let a wrong entity through, but their short answer is often the wrong phrase of the right
sentence. This reader combines them:

1. the span reader's best spans, each shown only when the sentence holding it is one the
   extractive reader accepts (it is about the question's subject and states something of
   the kind asked for), the span shares words with the part of that sentence the rules
   call the answer, and the sentence passes the claim check against its passage
   (:class:`~ragline.generate.citations.ClaimSupport`, the question's subject included);
   such a span leads only among sentences the rules rank alike (an answer of the asked
   kind before one that is not, the subject's own passage before others), so it never
   puts "a mountain" before "a lake" for *which lake*;
2. else the extractive reader's own answers in its order, each short answer replaced by
   the span reader's best span inside the same sentence when one fits the rules the same
   way (whatever its margin: the rules chose the sentence, the span reader the phrase);
3. else, when no sentence passes the rules, the span reader's spans that vouch for a
   sentence the rules turned down for its wording alone: a span that beats no-answer
   (:attr:`SpanRulesReader.vouch`) in a sentence that says half the question's other words
   (or its only one), whose passage holds the question's subject and which is not about
   another named subject, and that passes the claim check like any other;
4. else nothing: :func:`~ragline.generate.answer.answer` abstains.

``span-rules``, the default generator, reads with the span reader that ships inside ragline
(``ragline/models/span-reader``: on SQuAD 2.0's held-out side it lifts short-answer F1 from
the rules' 0.272 to 0.460, step 3 included, README "Checked answers on SQuAD 2.0");
``span-rules:DIR`` reads with your own (``DIR``: a directory written by ``ragline train reader``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ragline.errors import RaglineError
from ragline.generate.claims import words
from ragline.generate.extractive import Extract, ExtractiveGenerator, title_of
from ragline.generate.prompt_reader import PromptReader
from ragline.generate.question_type import (
    Asked,
    answer_spans,
    before_a_clause,
    of_the_kind,
    parse_question,
    trimmed,
)
from ragline.generate.registry import SPAN_RULES_PREFIX

if TYPE_CHECKING:
    from ragline.config import GenerateConfig
    from ragline.documents import Hit
    from ragline.embed.base import Encoder
    from ragline.generate.span_reader import Span, SpanReader


class SpanRulesReader(PromptReader):
    """Answers with the span reader's span where the rules and the claim check agree, else
    with the extractive reader's sentence (its short answer sharpened by the span reader).

    ``reader`` is the span reader (``threshold`` overrides the margin over no-answer its
    spans need to lead; default: any margin, the rules decide); ``encoder`` is the
    extractive reader's sentence encoder (default: the packaged MiniLM).
    """

    name = "span-rules"
    threshold = float("-inf")
    """Every candidate :meth:`read` returns has passed the rules already."""
    embeds_sentences = True
    """Its extractive reader takes the knowledge base's embedder when lent one."""
    vouch = 0.0
    """The margin over no-answer with which a span vouches for a sentence the rules turn
    down for its wording alone (:func:`~ragline.generate.question_type.answer_spans`'
    ``passage``): the span reader's own call, an answer rather than none."""

    def __init__(
        self,
        reader: SpanReader,
        *,
        threshold: float | None = None,
        encoder: Encoder | None = None,
        per_passage: int = 5,
    ) -> None:
        from ragline.generate.citations import ClaimSupport

        self.reader = reader
        self.span_threshold = threshold
        self.extractive = ExtractiveGenerator(encoder)
        self.per_passage = per_passage
        self.check = ClaimSupport()

    @classmethod
    def from_config(
        cls, config: GenerateConfig, *, encoder: Encoder | None = None
    ) -> SpanRulesReader:
        """The reader ``config.generator`` names: ``span-rules`` (the span reader that ships
        inside ragline) or ``span-rules:DIR``; ``encoder`` embeds sentences."""
        from ragline.generate.span_reader import SpanReader
        from ragline.packaged_models import packaged_reader

        if config.generator == cls.name:
            return cls(SpanReader(str(packaged_reader())), encoder=encoder)
        directory = config.generator.removeprefix(SPAN_RULES_PREFIX)
        if not directory or directory == config.generator:
            raise RaglineError(
                f"generator {config.generator!r}: use span-rules or {SPAN_RULES_PREFIX}READER_DIR"
            )
        return cls(SpanReader(directory), encoder=encoder)

    def read(self, question: str, passages: Sequence[str]) -> list[Extract]:
        """Candidate answers, best first: spans the rules and the claim check accept, then
        the extractive reader's answers (short answers sharpened by the span reader); with
        none, the spans the span reader vouches for under the looser rules."""
        asked = parse_question(question)
        extracts = [e for e in self.extractive.read(question, passages) if e.text]
        if extracts:
            spans = self._spans(question, passages, {e.n for e in extracts})
            accepted = self._accepted(spans, extracts, asked, passages, self.span_threshold)
            sharpened = [_sharpen(e, spans, asked, passages) for e in extracts]
            return _ranked([*accepted, *sharpened])
        loose = [e for e in self.extractive.read(question, passages, loose=True) if e.text]
        if not loose:
            return []
        spans = self._spans(question, passages, {e.n for e in loose})
        return _ranked(self._accepted(spans, loose, asked, passages, self.vouch, loose=True))

    def _accepted(
        self,
        spans: Sequence[Span],
        extracts: Sequence[Extract],
        asked: Asked,
        passages: Sequence[str],
        threshold: float | None,
        *,
        loose: bool = False,
    ) -> list[Extract]:
        """The spans, best first, that lie in a sentence of ``extracts``, fit it
        (:func:`_fits`) and pass the claim check, as candidate answers; spans below
        ``threshold`` (None: any) are not read."""
        accepted: list[Extract] = []
        for span in spans:
            if threshold is not None and span.score < threshold:
                break
            holder = _holding(span, extracts)
            if holder is None or not _fits(span, holder, asked, passages, loose=loose):
                continue
            passage = passages[span.n - 1]
            score, _ = self.check.check(holder.sentence, passage, question=asked.question)
            if score >= self.check.threshold:
                text = _phrase(span, asked)
                accepted.append(
                    Extract(span.n, holder.sentence, text, span.score, holder.typed, holder.own)
                )
        return accepted

    def _spans(self, question: str, passages: Sequence[str], numbers: set[int]) -> list[Span]:
        """The span reader's spans in the passages numbered ``numbers`` only: a span is used
        only inside an accepted sentence, and each passage is read on its own, so the
        others need not be read (half the time per answer here)."""
        from dataclasses import replace

        read = sorted(numbers)
        spans = self.reader.read(
            question, [passages[n - 1] for n in read], per_passage=self.per_passage
        )
        return [replace(span, n=read[span.n - 1]) for span in spans]

    def _best(self, question: str, passages: Sequence[str]) -> tuple[str, list[int]]:
        """The cited sentence of the best candidate and its passage number, or an
        abstention."""
        from ragline.generate.prompt import ABSTAIN_TEXT

        found = self.read(question, passages)
        if not found:
            return ABSTAIN_TEXT, []
        return found[0].cited("sentence"), [found[0].n]

    def answer(self, question: str, passages: Sequence[Hit]) -> tuple[str, list[int]]:
        """The best candidate's sentence with its ``[n]`` marker, and its passage number."""
        return self._best(question, [hit.chunk.indexed_text for hit in passages])


def _holding(span: Span, extracts: Sequence[Extract]) -> Extract | None:
    """The accepted sentence of the span's passage that holds the span's text, if any."""
    return next((e for e in extracts if e.n == span.n and span.text in e.sentence), None)


def _fits(
    span: Span, holder: Extract, asked: Asked, passages: Sequence[str], *, loose: bool = False
) -> bool:
    """Whether ``span`` can answer from its sentence ``holder``: it holds a word the
    question does not, and shares one with a part of the sentence the rules call the
    answer (a person's name for *who*, a date for *when* …), under the looser rules when
    the span vouches for the sentence (``loose``)."""
    held = set(words(span.text))
    if not held - asked.known:
        return False
    passage = passages[span.n - 1]
    found = answer_spans(
        asked, holder.sentence, title=title_of(passage), passage=passage if loose else ""
    )
    return any(held & set(words(a.text)) for a in found)


def _ranked(candidates: Sequence[Extract]) -> list[Extract]:
    """``candidates`` without a second answer from the same sentence, with the rules'
    ranking by kind and subject standing (an answer of the asked kind, from the subject's
    own passage, first); within a rank, the order given."""
    seen: set[tuple[int, str]] = set()
    found: list[Extract] = []
    for candidate in candidates:
        key = (candidate.n, candidate.sentence)
        if key not in seen:
            seen.add(key)
            found.append(candidate)
    return sorted(found, key=lambda c: (not c.typed, not c.own))


def _sharpen(
    extract: Extract, spans: Sequence[Span], asked: Asked, passages: Sequence[str]
) -> Extract:
    """``extract`` with the span reader's best span inside its sentence as the short
    answer, when the span reader found one there that fits (:func:`_fits`)."""
    inside = next(
        (
            s
            for s in spans
            if s.n == extract.n
            and s.text in extract.sentence
            and _fits(s, extract, asked, passages)
        ),
        None,
    )
    if inside is None:
        return extract
    text = _phrase(inside, asked)
    return Extract(extract.n, extract.sentence, text, extract.score, extract.typed, extract.own)


def _phrase(span: Span, asked: Asked) -> str:
    """The short answer ``span`` gives: its text without a leading or trailing stopword or
    linking word ("the ustral", "is Orla Menske"), as the rules cut their phrases, before
    any clause that says more about it (:func:`before_a_clause`), and only its date or
    number when that is what is asked (:func:`of_the_kind`)."""
    return of_the_kind(asked, before_a_clause(trimmed(span.text) or span.text))
