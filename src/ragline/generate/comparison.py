"""Questions about two named options that each option's own passage decides: choices in
time ("Which band was formed first, The Exies or Circus Diablo?") and shared kinds ("Are
Medici and Senet both board games?").

An answer that picks one of the two options, or says "yes", says nothing but the
question's own words, so no passage backs it alone (the support check never passes it).
Two passages can: each option's own passage (the document titled with it, from its start)
says what the option is and when it began in its first sentences. A choice in time
(formed first, older, younger, published earlier…) is supported when the years the two
passages give as beginnings — born, founded, formed, published since — decide for the
option the answer picks. "Yes" to "are A and B both Z?" is supported when both passages
open by stating Z. Nothing else is: no year, equal years, a title that fits no passage, or
"no" (a passage that leaves Z out does not say the option is not Z) stay unsupported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ragline.chunk.semantic import split_sentences
from ragline.documents import Hit
from ragline.generate.claims import Term, default_stopwords, fold, located_claims, words

_BEGAN = (
    r"born|founded|formed|established|published|started|created|released|opened|launched"
    r"|debuted|incorporated|built|begun|began|introduced|premiered"
)
_ORDER = re.compile(
    rf"\b(?:(?:{_BEGAN}|came|come)\s+(?P<when>first|earlier|sooner|later|last)"
    rf"|(?P<first>first|earlier|later)\s+(?:{_BEGAN})"
    r"|(?P<age>older|oldest|elder|eldest|younger|youngest|newer|newest))\b",
    re.IGNORECASE,
)
_LATER = frozenset({"later", "last", "younger", "youngest", "newer", "newest"})
_YEAR = r"\b(1[0-9]{3}|20[0-9]{2})\b"
# A year the passage gives as a beginning: a few words after "born", "founded", "since"…,
# or the first year of a life span written after the name: "Robert Young (1964 – 2014)".
_BEGINNING = re.compile(
    rf"\b(?:{_BEGAN}|since)\b(?:\W+\w+){{0,5}}?\W+{_YEAR}|\(\s*(?:[^()]*;\s*)?{_YEAR}\s*-",
    re.IGNORECASE,
)
_LEAD_SENTENCES = 2
"""How many opening sentences of an option's passage may say when it began."""
_PARENTHESIS = re.compile(r"\s*\([^)]*\)\s*$")
_BOTH = re.compile(r"^\s*(?:are|were|is|was)\b.*\bboth\b", re.IGNORECASE)
_SAME = re.compile(r"\b(?:same|different|together|each other)\b", re.IGNORECASE)


def choice_in_time(question: str) -> tuple[Term, Term, bool] | None:
    """The two options of a question that orders them in time, and whether it asks for the
    later one; None for any other question.

    >>> a, b, later = choice_in_time("Who is the oldest, Sid Haig or Vic Darchinyan?")
    >>> a.text, b.text, later
    ('Sid Haig', 'Vic Darchinyan', False)
    >>> choice_in_time("Which singer is American, Mark King or Nick Hexum?") is None
    True
    """
    order = _ORDER.search(fold(question))
    if order is None:
        return None
    pair = _options(question, "or")
    if pair is None:
        return None
    word = (order.group("when") or order.group("first") or order.group("age")).lower()
    return pair[0][2], pair[1][2], word in _LATER


def both_question(question: str) -> tuple[Term, Term, list[str]] | None:
    """The two options of an "are A and B both Z?" question and the stems of Z's content
    words; None for any other question (one that compares the two, "the same band", too).

    >>> a, b, kind = both_question("Are Medici and Senet both board games?")
    >>> a.text, b.text, kind
    ('Medici', 'Senet', ['board', 'game'])
    >>> both_question("Are Medici and Senet members of the same club?") is None
    True
    """
    folded = fold(question)
    if not _BOTH.search(folded) or _SAME.search(folded):
        return None
    pair = _options(question, "and")
    if pair is None:
        return None
    stop = default_stopwords()
    said = re.findall(r"[^\W_]+", folded[pair[1][1] :].lower())
    kind = words(" ".join(word for word in said if word not in stop | {"both"}))
    return (pair[0][2], pair[1][2], kind) if kind else None


def _options(question: str, joint: str) -> tuple[tuple[int, int, Term], ...] | None:
    """The names just before and just after the first ``joint`` word ("or", "and") that
    has a name on each side, located in ``fold(question)``."""
    names = [span for span in located_claims(question) if span[2].kind == "name"]
    for match in re.finditer(rf"\s+{joint}\s+", fold(question)):
        before = [span for span in names if span[1] <= match.start()]
        after = [span for span in names if span[0] >= match.end()]
        if before and after:
            return before[-1], after[0]
    return None


def decided_choice(sentence: str, question: str, passages: Sequence[Hit]) -> tuple[int, int] | None:
    """``(n, m)`` when ``sentence`` picks the option of ``question`` that the years of the
    two options' own passages decide for: passage ``n`` (1-based) is the picked option's,
    ``m`` the other's. None when the question is no choice in time, the sentence picks
    neither option or both, a year is missing, or the years decide for the other option.

    >>> from ragline.documents import Chunk, Hit
    >>> def hit(title, text):
    ...     return Hit(Chunk(title, title, text, 0, len(text), {"title": title}), 1.0, 1, "bm25")
    >>> passages = [hit("The Exies", "The Exies were an American rock band formed in 1997."),
    ...             hit("Circus Diablo", "Circus Diablo is a rock band, formed in early 2006.")]
    >>> question = "Which band was formed first, The Exies or Circus Diablo?"
    >>> [decided_choice(a, question, passages) for a in ("The Exies", "Circus Diablo")]
    [(1, 2), None]
    """
    options = choice_in_time(question)
    if options is None:
        return None
    first, second, later = options
    said = set(words(sentence))
    picked = [set(term.key.split()) <= said for term in (first, second)]
    if picked.count(True) != 1:
        return None
    found = [_began(term, passages) for term in (first, second)]
    if None in found:
        return None
    (n_first, year_first), (n_second, year_second) = found  # type: ignore[misc]
    if year_first == year_second:
        return None
    first_wins = (year_first > year_second) if later else (year_first < year_second)
    if first_wins != picked[0]:
        return None
    return (n_first, n_second) if picked[0] else (n_second, n_first)


def confirmed_both(sentence: str, question: str, passages: Sequence[Hit]) -> tuple[int, int] | None:
    """``(n, m)``, the two options' own passages (1-based), when ``sentence`` says "yes" to
    an "are A and B both Z?" ``question`` and both passages state Z in their first
    sentences; None otherwise ("no" included).

    >>> from ragline.documents import Chunk, Hit
    >>> def hit(title, text):
    ...     return Hit(Chunk(title, title, text, 0, len(text), {"title": title}), 1.0, 1, "bm25")
    >>> passages = [hit("Senet", "Senet is a board game from ancient Egypt."),
    ...             hit("Medici", "Medici is a German board game.")]
    >>> question = "Are Medici and Senet both board games?"
    >>> confirmed_both("Yes.", question, passages), confirmed_both("No.", question, passages)
    ((2, 1), None)
    """
    asked = both_question(question)
    if asked is None or words(sentence)[:1] != ["yes"]:
        return None
    first, second, kind = asked
    found = [_own_lead(term, passages) for term in (first, second)]
    if None in found:
        return None
    (n, lead_n), (m, lead_m) = found  # type: ignore[misc]
    stated = [set(words(lead)) >= set(kind) for lead in (lead_n, lead_m)]
    return (n, m) if all(stated) else None


def _began(option: Term, passages: Sequence[Hit]) -> tuple[int, int] | None:
    """The passage (1-based) that opens the document titled with ``option``, and the year
    its first sentences give as the option's beginning."""
    own = _own_lead(option, passages)
    year = _BEGINNING.search(own[1]) if own else None
    return None if own is None or year is None else (own[0], int(year.group(1) or year.group(2)))


def _own_lead(option: Term, passages: Sequence[Hit]) -> tuple[int, str] | None:
    """The passage (1-based) that opens the document titled with ``option``, and its first
    sentences."""
    for n, hit in enumerate(passages, start=1):
        chunk = hit.chunk
        title = _PARENTHESIS.sub("", str(chunk.metadata.get("title") or chunk.header))
        named = [term.key for _, _, term in located_claims(title) if term.kind == "name"]
        if chunk.start == 0 and named == [option.key]:
            text = fold(chunk.text)
            return n, " ".join(text[a:b] for a, b in split_sentences(text)[:_LEAD_SENTENCES])
    return None
