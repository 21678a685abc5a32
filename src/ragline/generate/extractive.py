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
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ragline.generate.citations import content_words, split_sentences, strip_citations
from ragline.generate.claims import words
from ragline.generate.prompt import ABSTAIN_TEXT
from ragline.generate.prompt_reader import PromptReader
from ragline.generate.question_type import AnswerSpan, answer_spans, parse_question

if TYPE_CHECKING:
    from ragline.config import GenerateConfig
    from ragline.documents import Hit
    from ragline.embed.base import Encoder

_FINAL_PUNCTUATION = re.compile(r"([.!?…]+[\"'”’)]*)$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(?:\s|$)")  # Markdown "## Title"
_UNDERLINE = re.compile(r"^\s*([=\-~^\"'`#*+_:.])\1{2,}\s*$")  # RST/Setext "=====", "-----"
_TABLE_RULE = re.compile(r"^\s*\+[-=+]+\+\s*$")  # RST grid tables "+----+----+"
_SEPARATORS = re.compile(r"[|»›]")  # table cells, breadcrumbs, navigation bars
_SIGNATURE = re.compile(r"^(?:class\s+)?[\w.]+\(.*\)\s*(?:->.*)?:?$")  # "copytree(src, dst)"
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
    row or rule, a navigation bar (several ``|`` ``»`` ``›`` separators) or a function
    signature."""
    stripped = line.strip()
    return not (
        _HEADING.match(stripped)
        or _UNDERLINE.match(stripped)
        or _TABLE_RULE.match(stripped)
        or _SIGNATURE.match(stripped)
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
    lines, function signatures, pydoc-style titles and short unpunctuated fragments without
    a verb are left out; hard-wrapped lines are joined into their sentences.

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
    sentences = (strip_citations(raw) for raw in split_sentences(_unwrap("\n".join(kept))))
    return [s for s in sentences if s and _is_statement(s)]


_WRAPPED = re.compile(r"(?<=[^\s.!?:;])[ \t]*\n[ \t]*(?=[a-z(`'\"])")


def _unwrap(text: str) -> str:
    """``text`` with hard-wrapped lines joined: a line that continues a sentence (it starts
    in lower case and the line before does not end one) belongs to it.

    >>> _unwrap("A callable that is used\\n    to copy the source.\\n- next item")
    'A callable that is used to copy the source.\\n- next item'
    """
    return _WRAPPED.sub(" ", text)


def _cite(sentence: str, n: int) -> str:
    """``sentence`` with ``[n]`` before its final punctuation (or at its end)."""
    marker = f" [{n}]"
    match = _FINAL_PUNCTUATION.search(sentence)
    if match:
        return sentence[: match.start()] + marker + match.group(1)
    return sentence + marker


@lru_cache(maxsize=1)
def default_sentence_encoder() -> Encoder:
    """The default embed config's encoder, made once per process: every reader that was
    not lent an encoder shares it (the extractive fallback of each answer included)."""
    from ragline.config import EmbedConfig
    from ragline.embed import make_encoder

    return make_encoder(EmbedConfig())


_PRONOUN = re.compile(r"^(?:(He|She|It|They)|(His|Her|Its|Their))\s+(?=[a-z])")


def title_of(text: str) -> str:
    """The title a passage starts with: a Markdown heading, or a first line without a full
    stop above the text (the header line of :attr:`~ragline.documents.Chunk.indexed_text`).

    >>> title_of("# Keltorro Mining\\n\\nKeltorro Mining is a company.")
    'Keltorro Mining'
    >>> title_of("Keltorro Mining is a company.")
    ''
    """
    first, _, rest = text.partition("\n")
    heading = _HEADING.match(first)
    if heading:
        return first[heading.end() :].strip()
    words = first.split()
    return (
        first.strip()
        if rest.strip() and 0 < len(words) <= 12 and not _FINAL_PUNCTUATION.search(first)
        else ""
    )


def resolve_pronoun(sentence: str, title: str) -> str:
    """``sentence`` with a leading pronoun replaced by ``title``, what a passage about the
    title means by it: a sentence shown alone must say who "he" is.

    >>> resolve_pronoun("Its chief executive is Sabeth Irrevane.", "Keltorro Mining")
    "Keltorro Mining's chief executive is Sabeth Irrevane."
    >>> resolve_pronoun("He founded it in 1957.", "Aurel Venkhollow")
    'Aurel Venkhollow founded it in 1957.'
    """
    match = _PRONOUN.match(sentence) if title else None
    if match is None:
        return sentence
    subject = title if match.group(1) else f"{title}'s"
    return f"{subject} {sentence[match.end() :]}"


@dataclass(frozen=True)
class Extract:
    """A candidate answer: sentence ``sentence`` of passage ``n`` (pronoun resolved), the
    short answer ``text`` it gives, its match ``score`` with the question, and whether
    the answer is ``typed`` (of the kind asked for) and the passage the question
    subject's ``own`` (its title is the subject)."""

    n: int
    sentence: str
    text: str
    score: float
    typed: bool = True
    own: bool = False

    def cited(self, answer_style: str, passage_text: str = "") -> str:
        """The answer as shown, ending with the ``[n]`` citation: the short answer
        (``short``) or the sentence (``sentence``)."""
        return _cite(self.text if answer_style == "short" else self.sentence, self.n)


class ExtractiveGenerator(PromptReader):
    """Answers with the passage sentence that best answers the question, cited by number.

    A sentence is a candidate only when it answers the question
    (:func:`~ragline.generate.question_type.answer_spans`): it is about what the question
    asks about and states something new of the kind asked for, which is the short answer.
    Candidates are ranked by a blend of embedding cosine to the question and the share of
    the question's content words they hold; with no candidate, the answer is an abstention.
    ``encoder`` embeds the question and the sentences (default: the packaged MiniLM, loaded
    on first use); ``weight`` is the share of embedding cosine in the score.

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
    threshold = 0.0
    """Every candidate already answers the question; ranking alone orders them."""
    embeds_sentences = True
    """It takes the knowledge base's embedder as its sentence encoder when lent one."""

    def __init__(self, encoder: Encoder | None = None, *, weight: float = 0.5) -> None:
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight must be within [0, 1], got {weight}")
        self._encoder = encoder
        self.weight = weight

    @classmethod
    def from_config(
        cls, config: GenerateConfig, *, encoder: Encoder | None = None
    ) -> ExtractiveGenerator:
        return cls(encoder)

    @property
    def encoder(self) -> Encoder:
        """The sentence encoder: the one given, else the default embedder's, made once per
        process (:func:`default_sentence_encoder`)."""
        if self._encoder is None:
            self._encoder = default_sentence_encoder()
        return self._encoder

    def read(
        self,
        question: str,
        passages: Sequence[str],
        *,
        answering: bool = True,
        loose: bool = False,
    ) -> list[Extract]:
        """The sentences of ``passages`` that answer ``question``, best first (passage
        ``n`` is ``passages[n - 1]``; a passage may start with its title line). With
        ``answering`` off, sentences that only share a word with the question follow them:
        what the passages say about it so far. With ``loose``, a sentence is held only to
        the rules a trained reader's vouching allows (``passage`` of
        :func:`~ragline.generate.question_type.answer_spans`): the caller must vouch."""
        asked = parse_question(question)
        terms = set(content_words(question))
        subjects = {term.key for term in asked.names}
        # passage no., sentence, answer (None: it does not answer), overlap, subject's own
        found: list[tuple[int, str, AnswerSpan | None, float, bool]] = []
        for n, text in enumerate(passages, start=1):
            title = title_of(text)
            sentences = statements(text)
            about_title = bool(title) and bool(sentences) and title.lower() in sentences[0].lower()
            own = " ".join(words(title)) in subjects
            # passages may carry their own [n] footnotes, which statements() drops
            for sentence in sentences:
                if about_title:
                    sentence = resolve_pronoun(sentence, title)
                spans = answer_spans(asked, sentence, title=title, passage=text if loose else "")
                shared = terms & set(content_words(sentence))
                if spans or (shared and not answering):
                    span = spans[0] if spans else None
                    found.append((n, sentence, span, len(shared) / max(len(terms), 1), own))
        if not found:
            return []
        if self.weight > 0:
            sentence_vectors = self.encoder.encode_documents([f[1] for f in found])
            question_vector = self.encoder.encode_queries([question])[0]
            cosines = sentence_vectors @ question_vector
        else:
            cosines = np.zeros(len(found), dtype=np.float32)
        extracts: dict[str, Extract] = {}
        for (n, sentence, span, overlap, own), cosine in zip(found, cosines, strict=True):
            score = round(self.weight * float(cosine) + (1 - self.weight) * overlap, 6)
            if sentence not in extracts or extracts[sentence].score < score:
                text, typed = (span.text, span.typed) if span else ("", False)
                extracts[sentence] = Extract(n, sentence, text, score, typed, own)
        # answers first; of them, one of the asked kind (a name, for "which nation") before
        # one that only holds words the question does not; then the passage about the
        # question's subject before passages that mention it in passing
        return sorted(
            extracts.values(),
            key=lambda e: (not e.text, not e.typed, not e.own, -e.score, e.n),
        )

    def _best(
        self, question: str, passages: Sequence[str], *, answering: bool = True
    ) -> tuple[str, list[int]]:
        """The cited best sentence and its passage number, or an abstention."""
        extracts = self.read(question, passages, answering=answering)
        if not extracts:
            return ABSTAIN_TEXT, []
        return extracts[0].cited("sentence"), [extracts[0].n]

    def answer(self, question: str, passages: Sequence[Hit]) -> tuple[str, list[int]]:
        """The best sentence of ``passages`` for ``question`` with its ``[n]`` marker, and
        the passage number used; an abstention when no sentence answers."""
        return self._best(question, [hit.chunk.indexed_text for hit in passages])

    def partial(self, question: str, passages: Sequence[Hit]) -> tuple[str, list[int]]:
        """Like :meth:`answer`, but a sentence that only shares words with the question
        will do: what multi-hop search follows up on (the bridge fact names what to look
        for next, without answering)."""
        return self._best(question, [hit.chunk.indexed_text for hit in passages], answering=False)
