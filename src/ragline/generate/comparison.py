"""Choices in time decided by the years two passages state: "Which band was formed first,
The Exies or Circus Diablo?"

An answer that picks one of the two options a question names says nothing but the
question's own words, so no passage backs it alone (the support check never passes it).
Two passages can, when the question orders the options in time (formed first, older,
younger, published earlier…): each option's own passage (the document titled with it,
from its start) says when it began — born, founded, formed, published since — and the two
years decide which option came first. The answer is supported only when they decide and it
picks the option they decide for; no year, equal years, or a title that fits no passage
leave it unsupported, as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ragline.documents import Hit
from ragline.generate.claims import Term, fold, located_claims, words

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


def choice_in_time(question: str) -> tuple[Term, Term, bool] | None:
    """The two options of a question that orders them in time, and whether it asks for the
    later one; None for any other question.

    >>> a, b, later = choice_in_time("Who is the oldest, Sid Haig or Vic Darchinyan?")
    >>> a.text, b.text, later
    ('Sid Haig', 'Vic Darchinyan', False)
    >>> choice_in_time("Which singer is American, Mark King or Nick Hexum?") is None
    True
    """
    folded = fold(question)
    order = _ORDER.search(folded)
    if order is None:
        return None
    names = [span for span in located_claims(question) if span[2].kind == "name"]
    for match in re.finditer(r"\s+or\s+", folded):
        before = [term for _, end, term in names if end <= match.start()]
        after = [term for start, _, term in names if start >= match.end()]
        if before and after:
            word = (order.group("when") or order.group("first") or order.group("age")).lower()
            return before[-1], after[0], word in _LATER
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


def _began(option: Term, passages: Sequence[Hit]) -> tuple[int, int] | None:
    """The passage (1-based) that opens the document titled with ``option``, and the year
    its first sentences give as the option's beginning."""
    for n, hit in enumerate(passages, start=1):
        chunk = hit.chunk
        title = _PARENTHESIS.sub("", str(chunk.metadata.get("title") or chunk.header))
        named = [term.key for _, _, term in located_claims(title) if term.kind == "name"]
        if chunk.start != 0 or named != [option.key]:
            continue
        lead = " ".join(re.split(r"(?<=[.!?])\s+", fold(chunk.text))[:_LEAD_SENTENCES])
        year = _BEGINNING.search(lead)
        if year is not None:
            return n, int(year.group(1) or year.group(2))
    return None
