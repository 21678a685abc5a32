"""What a question asks for, and which part of a sentence gives it.

A sentence answers a question only when it is about what the question is about and adds
what the question asks for. :func:`answer_spans` wants the sentence (with its passage's
title as context) to hold the question's names and its other content words — one in three
may be said differently; the noun of *which currency* when the question has no other — and
to state something new of the kind asked for: a person's
name for *who* (not a place: a name after *in*, *at*, *from* … is one), a year or date for
*when*, a number with a unit for *how high* and *what is the depth*, a number for *how
many*, a name for *where* and *which city*, and for other questions any words the question
does not hold. The spans it returns, best first, are the short answers; none means the
sentence does not answer the question. Whatever else it says, a sentence answers a
question about what is not so ("Who never …?") only if it is negated itself, and it must
say the words that restrict what is asked (*first*, *last*, *largest* …) and, in a
question that asks in place ("… created by who?"), the word the answer stands after. The
extractive reader (:mod:`ragline.generate.extractive`) answers only with sentences that
pass; a trained span reader may vouch for a sentence under looser rules (``passage``).

Rules rather than a model: the packaged models are a sentence embedder and a 135M chat
model, neither of which tells an answer from a sentence that merely shares the question's
words, and these rules are what make that distinction checkable.

>>> asked = parse_question("Who founded Zemtrava Lines?")
>>> asked.kind
'person'
>>> answer_spans(asked, "It was founded in Quennimar, Ustravine, by Idrenna Vosskari.",
...     title="Zemtrava Lines")
[AnswerSpan(text='Idrenna Vosskari', typed=True)]
>>> answer_spans(asked, "Zemtrava Lines is a shipping company founded in 1902 in Quennimar.")
[]
>>> answer_spans(parse_question("How high is Mount Hessarine?"), "It is 3,108 metres high.",
...     title="Mount Hessarine")
[AnswerSpan(text='3,108 metres', typed=True)]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple

from ragline.generate.claims import (
    PassageTerms,
    Term,
    claims,
    default_stopwords,
    fold,
    located_claims,
    question_terms,
    words,
)

Kind = Literal["person", "date", "number", "measure", "name", "any"]

_WH = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b", re.IGNORECASE)
_LENGTH_WORDS = """
    high tall deep long far wide thick broad height depth length width elevation altitude
    distance thickness breadth diameter radius
"""
_LENGTH_UNITS = frozenset({"km", "m", "cm", "mm", "mi", "ft", "in"})
_DURATION_UNITS = frozenset({"s", "min", "h", "day", "week", "month", "year"})
# the units a measure word asks for (unit keys of ragline.generate.claims); None: any unit
_MEASURES: dict[str, frozenset[str] | None] = {
    **dict.fromkeys(_LENGTH_WORDS.split(), _LENGTH_UNITS),
    "long": _LENGTH_UNITS | _DURATION_UNITS,  # a distance, or a while
    "area": frozenset({"km2", "mi2", "ha", "acre"}),
    **dict.fromkeys(("heavy", "weight"), frozenset({"kg", "g", "t", "lb"})),
    **dict.fromkeys(("old", "age"), frozenset({"year"})),
    **dict.fromkeys(("fast", "speed"), frozenset({"km/h", "mph"})),
    **dict.fromkeys(("hot", "cold", "temperature"), frozenset({"°c", "°f", "°"})),
    **dict.fromkeys(("volume", "capacity"), frozenset({"l"})),
    **dict.fromkeys(("big", "large", "size"), None),
}
_NOUNS = """
    height depth length area width elevation altitude distance weight size temperature speed
    age thickness breadth diameter radius volume capacity
"""
_MEASURE_NOUNS = frozenset(_NOUNS.split())
# the dimension each measure word names: a quantity beside another dimension's word
# ("318 kilometres long") does not answer "how deep"
_DIMENSIONS = {
    word: dimension
    for dimension, spelled in {
        "height": "high higher highest height tall taller tallest elevation altitude",
        "depth": "deep deeper deepest depth",
        "length": "long longer longest length",
        "width": "wide wider widest width broad broader broadest breadth",
        "distance": "far farther further distance",
        "thickness": "thick thicker thickest thickness",
    }.items()
    for word in spelled.split()
}
# verbs that carry little of a question's meaning ("What currency does Ardessa use?"): a
# sentence need not repeat them
_LIGHT_VERBS = frozenset(words("use uses used make makes made have has had take takes took"))
_COUNT_NOUNS = frozenset({"population", "number", "amount", "count", "total"})
_AUXILIARIES = frozenset(
    {"is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "can", "could"}
    | {"will", "would", "may", "might", "shall", "should", "must"}
)
# words that link an answer to its sentence rather than belong to it: an answer phrase
# neither begins nor ends with one
_LINKING_WORDS = frozenset(
    {"from", "onto", "through", "via", "during", "about", "after", "before", "between"}
    | {"among", "since", "until", "upon", "within", "without", "across", "against"}
    | {"toward", "towards", "because", "while", "although", "called", "named", "known"}
)
_DATE_NOUNS = frozenset({"year", "date", "day", "month", "century", "decade"})
_LOCATIVE = re.compile(
    r"\b(?:in|at|near|from|on|into|to|of|across|outside|inside|around|toward|towards)"
    r"\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_LIST_CONTINUES = re.compile(r",\s*$")
_ATTRIBUTES = ("date", "number", "measure")  # kinds that ask about the subject itself
_VERB = re.compile(
    r"\b(?:is|are|was|were|has|have|had|became|becomes|lies|rises|stands|[a-z]{2,}ed)\b"
)
# the kinds of claim that answer a question of each kind (a measure's also in its units)
_KIND_TERMS: dict[str, tuple[str, ...]] = {
    "date": ("date",),
    "number": ("number", "quantity"),
    "measure": ("quantity",),
}
_PARAPHRASED = 3  # one content word in this many may be said differently
_VOUCHED = 2  # … one in this many (or the only one) when a trained reader vouches for it
# words that restrict what is asked ("the first captain"): a sentence must say them itself
_RESTRICTIVE_WORDS = """
    first second third fourth fifth last final earliest latest oldest youngest newest
    largest biggest smallest longest shortest highest lowest tallest deepest greatest
"""
# "Who never captured the fort?" is not answered by a sentence saying who captured it
_NEGATION = re.compile(
    r"\b(?:not|never|no|none|nothing|nobody|neither|nor|without|cannot)\b|n't\b|n’t\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*|[^\w\s]")


@dataclass(frozen=True)
class Asked:
    """A question, analysed: the ``kind`` of answer it wants, its ``names`` (the terms a
    sentence must state), its other content ``words`` (stemmed), and ``head``, the stemmed
    noun of *which lake* / *what company* that a name answering it may contain; ``units``,
    the units a measure may be given in (None: any), and the ``dimension`` it measures
    (height, depth, length …) when it says; ``known``, every stemmed word of the question
    (what an answer must add to), worked out once rather than for each sentence;
    ``answer_after``, whether the question fronts its object ("What is the mace made of?":
    an auxiliary follows *what*) or asks in place ("The Orvane mace is made of what?"), so
    that the answer follows the question's words in a sentence, rather than leading them as
    a subject does ("What toxin induces apoptosis?"); ``negated``, whether it asks about
    what is not so ("Who never captured the fort?"), which only a negated sentence answers;
    ``relation``, for a question that asks in place, the stemmed content word just before
    its *who* / *what* ("… a soap opera created by who?"): the relation the answer stands
    in, which a sentence must say (one that says the soap opera was *played by* someone
    answers another question)."""

    question: str
    kind: Kind
    names: tuple[Term, ...]
    words: frozenset[str]
    head: str | None = None
    units: frozenset[str] | None = None
    dimension: str | None = None
    known: frozenset[str] = frozenset()
    answer_after: bool = False
    negated: bool = False
    relation: str | None = None


def parse_question(question: str) -> Asked:
    """What ``question`` asks for (see :class:`Asked`).

    >>> asked = parse_question("Which lake does the Veskel River flow into?")
    >>> asked.kind, [t.text for t in asked.names], sorted(asked.words), asked.head
    ('name', ['Veskel River'], ['flow'], 'lake')
    >>> parse_question("In which year was Drazhimel founded?").kind
    'date'
    """
    tokens = [t.lower() for t in _TOKEN.findall(fold(question))]
    wh_at = next((i for i, t in enumerate(tokens) if _WH.fullmatch(t)), None)
    wh = tokens[wh_at] if wh_at is not None else ""
    following = tokens[wh_at + 1 : wh_at + 4] if wh_at is not None else []
    after = following[0] if following else ""
    stop = default_stopwords()
    head = after if wh in ("which", "what") and after.isalpha() and after not in stop else None
    kind: Kind = "any"
    typed: set[str] = {wh}
    if wh in ("who", "whom", "whose"):
        kind = "person"
    elif wh == "when" or head in _DATE_NOUNS:
        kind = "date"
    elif wh == "how" and after in ("many", "much"):
        kind = "number"
        typed.update(("many", "much"))
    elif wh == "how" and after in _MEASURES and after not in _MEASURE_NOUNS:
        kind = "measure"
        typed.add(after)
    elif any(t in _MEASURE_NOUNS for t in tokens):
        kind = "measure"
        typed.update(t for t in tokens if t in _MEASURE_NOUNS)
    elif wh in ("what", "which") and any(t in _COUNT_NOUNS for t in following):
        kind = "number"
        typed.update(t for t in following if t in _COUNT_NOUNS)
    elif wh == "where" or head is not None or wh == "which":
        kind = "name"
    if head is not None:
        typed.add(head)
    units = _units(typed) if kind == "measure" else None
    dimension = next((_DIMENSIONS[t] for t in tokens if t in _DIMENSIONS), None)
    names = tuple(t for t in question_terms(question) if t.kind == "name")
    in_names = {w for term in names for w in term.key.split()}
    # prepositions and conjunctions link the question's words, they do not say what it asks
    unstopped = " ".join(
        t
        for t in tokens
        if t not in stop and t not in _LINKING_WORDS and len(t) > 1 and not t.isdigit()
    )
    content = set(words(unstopped)) - in_names - _LIGHT_VERBS
    typed_stems = set(words(" ".join(typed)))
    head_stem = words(head)[0] if head else None
    needed = frozenset(content - typed_stems)
    known = frozenset(words(question))
    verb = following[1 if head is not None and following[0] not in _AUXILIARIES else 0 :][:1]
    # "Dendritic cells resemble what?"; not "In 1979, what company …?", a fronted *what*
    in_place = wh_at is not None and wh_at >= 2 and tokens[wh_at - 1] != ","
    answer_after = in_place or (bool(verb) and verb[0] in _AUXILIARIES)
    negated = bool(_NEGATION.search(question))
    relation = None
    if in_place and wh_at is not None:
        before = [
            t for t in tokens[:wh_at] if t.isalpha() and t not in stop and t not in _LINKING_WORDS
        ]
        relation = next(iter(words(before[-1])), None) if before else None
        relation = relation if relation in needed else None
    return Asked(
        question,
        kind,
        names,
        needed,
        head_stem,
        units,
        dimension,
        known,
        answer_after,
        negated,
        relation,
    )


def _units(measures: set[str]) -> frozenset[str] | None:
    """The units an answer to a question with these measure words may be in."""
    allowed = [_MEASURES[m] for m in measures if m in _MEASURES]
    if not allowed or any(units is None for units in allowed):
        return None
    return frozenset().union(*(units for units in allowed if units is not None))


class AnswerSpan(NamedTuple):
    """A short answer cut from a sentence; ``typed`` when it is of the kind asked for (a
    name for a *which* question) rather than only words the question does not hold."""

    text: str
    typed: bool


def answer_spans(
    asked: Asked, sentence: str, *, title: str = "", passage: str = ""
) -> list[AnswerSpan]:
    """The parts of ``sentence`` that answer ``asked``, best first; empty when the sentence
    does not answer it. ``title`` is the passage's title: what the sentence is about when
    it does not say. ``passage``, the sentence's whole passage, is given only when a trained
    reader vouches for the sentence: then the question's names need only be somewhere in
    the passage, and the sentence need not repeat the question's other words (SQuAD's
    sentences say them differently more often than not; the reader reads the meaning)."""
    context = f"{title}\n{sentence}" if title else sentence
    if (_passage_terms(passage) if passage else PassageTerms(context)).missing(asked.names):
        return []
    if passage and PassageTerms(context).missing(asked.names) and _led_by_a_name(sentence):
        return []  # the subject is elsewhere in the passage; this sentence is about another
    if asked.negated and not _NEGATION.search(sentence):
        return []
    held = set(words(context))
    unsaid = asked.words - held
    size = len(asked.words)
    allowed = max(1, size // _VOUCHED) if passage else size // _PARAPHRASED
    if unsaid & _restrictive() or asked.relation in unsaid or len(unsaid) > allowed:
        return []
    if not asked.words and asked.head and asked.head not in held:
        return []  # "What currency does Ardessa use?": only "currency" says what is asked
    folded = fold(sentence)
    if asked.kind in _ATTRIBUTES and not _about(asked, folded, title):
        return []
    ranked = _ranked_candidates(asked, folded)
    return list(dict.fromkeys(AnswerSpan(text, tier == 1) for _, _, text, tier in ranked))


def restated_answer(question: str, sentence: str) -> str:
    """The phrase of ``sentence`` that answers ``question`` when the sentence says the
    question again around its answer ("The network was founded by Betty Cohen." for "Who
    founded the network?"), else "": a short answer asked of a language model that wrote a
    sentence. The sentence must already be checked against its passages; this only cuts it.
    A phrase without a verb is left whole: "Kimber Manufacturing" answers "Which company
    manufactures …?" with a word of the question in its name.

    >>> restated_answer("Who founded the Ostravel network?",
    ...                 "The Ostravel network was founded by Betty Vanmoor [2].")
    'Betty Vanmoor'
    >>> restated_answer("Who founded the Ostravel network?", "Betty Vanmoor [2]")
    ''
    """
    asked = parse_question(question)
    folded = fold(sentence)
    if not _WH.search(question) or not _VERB.search(folded):
        return ""
    if not set(words(sentence)) & asked.words:
        return ""
    ranked = _ranked_candidates(asked, folded)
    if not ranked:
        return ""
    start, end, text, _ = ranked[0]
    return sentence[start:end] if len(folded) == len(sentence) else text


def _ranked_candidates(asked: Asked, folded: str) -> list[tuple[int, int, str, int]]:
    """:func:`_candidates` that add to the question, nearest the question's words on the
    side its answer stands (names of the asked head first)."""
    anchors = _anchors(folded, asked)

    def rank(span: tuple[int, int, str, int]) -> tuple[int, int, int, int]:
        start, end, text, tier = span
        named = asked.head is not None and asked.head in words(text)
        gap = min((max(a - end, start - b, 0) for a, b in anchors), default=0)
        if asked.answer_after:
            on_its_side = [start - b for _, b in anchors if b <= start]
        else:
            on_its_side = [a - end for a, _ in anchors if a >= end]
        return (0 if named else tier, min(on_its_side, default=len(folded)), gap, start)

    subject = {w for term in asked.names for w in term.key.split()}
    candidates = [
        c
        for c in _candidates(folded, asked)
        if not set(words(c[2])) <= asked.known and not subject & set(words(c[2]))
    ]
    return sorted(candidates, key=rank)


@lru_cache(maxsize=16)
def _passage_terms(passage: str) -> PassageTerms:
    """:class:`PassageTerms` of ``passage``, kept for the next sentence of the same passage:
    a vouched sentence is checked against its whole passage, once per sentence."""
    return PassageTerms(passage)


@lru_cache(maxsize=1)
def _restrictive() -> frozenset[str]:
    """The stems of :data:`_RESTRICTIVE_WORDS`."""
    return frozenset(words(_RESTRICTIVE_WORDS))


def _led_by_a_name(sentence: str) -> bool:
    """Whether ``sentence`` names something before its first verb: its subject, which a
    sentence that leaves the question's subject unsaid must not name ("Pardovel was founded
    by …" does not say who founded the company its passage mentions)."""
    verb = _VERB.search(sentence.lower())
    lead = sentence[: verb.start()] if verb else ""
    return any(term.kind == "name" for term in claims(lead))


def _about(asked: Asked, folded: str, title: str) -> bool:
    """Whether ``folded`` (a sentence of the passage titled ``title``) speaks about the
    question's subject rather than naming it in passing: the passage is the subject's
    own, or the subject comes before the sentence's first verb. "When was Corrisk founded?"
    is not answered by "The university in Corrisk was founded in 1653"."""
    if not asked.names:
        return True
    if title and len(PassageTerms(title).missing(asked.names)) < len(asked.names):
        return True
    verb = _VERB.search(folded)
    lead = folded[: verb.start()] if verb else folded
    return len(PassageTerms(lead).missing(asked.names)) < len(asked.names)


def _anchors(folded: str, asked: Asked) -> list[tuple[int, int]]:
    """Where the sentence says the question's content words: what the answer is near."""
    return [
        (m.start(), m.end()) for m in _TOKEN.finditer(folded) if set(words(m.group())) & asked.words
    ]


def _candidates(folded: str, asked: Asked) -> list[tuple[int, int, str, int]]:
    """``(start, end, text, tier)`` of each span of the asked kind in ``folded``; tier 1
    spans (names, for a *which* question) go before tier 2 ones (other new phrases)."""
    terms = located_claims(folded)
    if asked.kind == "person":
        kept = [t for t in terms if t[2].kind == "name" and not _placed(folded, t[0])]
    elif asked.kind in ("date", "number"):
        kept = [t for t in terms if t[2].kind in _KIND_TERMS[asked.kind]]
    elif asked.kind == "measure":
        kept = [
            (s, e, t)
            for s, e, t in terms
            if t.kind in _KIND_TERMS["measure"]
            and _in_units(t, asked.units)
            and _measures(folded, s, e, asked.dimension)
        ]
    elif asked.kind == "name":
        names = [(s, e, t.text, 1) for s, e, t in terms if t.kind == "name"]
        return names + [(s, e, text, 2) for s, e, text in _new_phrases(folded, asked)]
    else:
        return [(s, e, text, 1) for s, e, text in _new_phrases(folded, asked)]
    return [(s, e, t.text, 1) for s, e, t in kept]


def _measures(folded: str, start: int, end: int, dimension: str | None) -> bool:
    """Whether the quantity at ``start:end`` may measure ``dimension``: no word of another
    dimension stands within three words of it."""
    near = _TOKEN.findall(folded[:start])[-3:] + _TOKEN.findall(folded[end:])[:3]
    said = {_DIMENSIONS[w.lower()] for w in near if w.lower() in _DIMENSIONS}
    return dimension is None or not said or dimension in said


def _in_units(term: Term, units: frozenset[str] | None) -> bool:
    """Whether quantity ``term`` is given in one of ``units`` (any, when None)."""
    return units is None or term.key.split(" ", 1)[-1] in units


def _placed(folded: str, start: int) -> bool:
    """Whether the name at ``start`` is a place: it follows a locative preposition, or it
    continues a comma list that one began ("in Tiscavel, Kormaddo")."""
    before = folded[:start]
    if _LOCATIVE.search(before):
        return True
    if not _LIST_CONTINUES.search(before):
        return False
    previous = [s for s, _, t in located_claims(before) if t.kind == "name"]
    return bool(previous) and _placed(folded, previous[-1])


@lru_cache(maxsize=1)
def _edge_words() -> frozenset[str]:
    """The words an answer phrase neither begins nor ends with: stopwords and linking words."""
    return default_stopwords() | _LINKING_WORDS


def trimmed(phrase: str) -> str:
    """``phrase`` without leading or trailing stopwords and linking words: an answer phrase
    neither begins nor ends with one.

    >>> trimmed("is the Dastren Hills in")
    'Dastren Hills'
    """
    edges = _edge_words()
    kept = [m for m in _TOKEN.finditer(phrase) if m.group().lower() not in edges]
    return phrase[kept[0].start() : kept[-1].end()] if kept else ""


_CLAUSE = re.compile(
    r"(?:,\s*|\s+)(?:but|which|who|whom|whose|that|where|while|although|though)\b.*$",
    re.IGNORECASE | re.DOTALL,
)


def before_a_clause(phrase: str) -> str:
    """``phrase`` up to a relative or contrasting clause ("committees which have the
    oversight …", "cocoa butter alone, but British …"): an answer is the phrase the clause
    says more about. A quotation stays whole, and so does a phrase of under three words.

    >>> before_a_clause("precise operational definitions that are consistent")
    'precise operational definitions'
    >>> before_a_clause('"ensure that the law is observed"')
    '"ensure that the law is observed"'
    """
    if phrase.startswith(('"', "“", "'")) or len(phrase.split()) < 3:
        return phrase
    return _CLAUSE.sub("", phrase) or phrase


def of_the_kind(asked: Asked, phrase: str) -> str:
    """The one date, number or quantity in ``phrase`` when ``asked`` wants that kind of
    answer and the phrase holds one with other words around it, else ``phrase``: the answer
    to *when* is the date, not what a reader's span adds to it.

    >>> of_the_kind(parse_question("When was Quellport founded?"), "back in the year 1313")
    '1313'
    >>> of_the_kind(parse_question("When was Quellport founded?"), "1313 and 1402")
    '1313 and 1402'
    """
    kinds = _KIND_TERMS.get(asked.kind)
    if not kinds:
        return phrase
    found = [term for term in claims(phrase) if term.kind in kinds]
    return found[0].text if len(found) == 1 else phrase


def _new_phrases(folded: str, asked: Asked) -> list[tuple[int, int, str]]:
    """Runs of words the question does not hold, cut at punctuation, without leading or
    trailing stopwords or linking words ("from silver", "called granulysin"): for
    questions that name no kind of answer."""
    stop = default_stopwords()
    edges = _edge_words()
    phrases: list[tuple[int, int, str]] = []
    run: list[re.Match[str]] = []

    def close() -> None:
        while run and run[-1].group().lower() in edges:
            run.pop()
        if run:
            start, end = run[0].start(), run[-1].end()
            phrases.append((start, end, folded[start:end]))
        run.clear()

    for match in _TOKEN.finditer(folded):
        token = match.group()
        punctuation = not token[0].isalnum() and token not in "-'"
        if punctuation or (set(words(token)) <= asked.known and token.lower() not in stop):
            close()
        elif run or token.lower() not in edges:
            run.append(match)
    close()
    return phrases
