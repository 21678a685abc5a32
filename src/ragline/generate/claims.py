"""The checkable content of a sentence: the names, numbers, dates and quantities it states.

Counting shared words passes "The capital of Rufen is Gralir." against a passage about Gralir
that never mentions Rufen: most of the words are there. Whether a sentence is true mostly
rests on its names, numbers, dates and quantities, so :func:`claims` pulls those out, each
with a normalised key, and :class:`PassageTerms` says whether a passage states each of them.

Normalisation makes the same fact match however it is written: case, diacritics, unicode
dashes and quotes, a possessive ``'s``, thousands separators ("1,200" is "1200"), trailing
decimal zeros ("3.50" is "3.5"), scale words ("1.2 million" is "1200000"), number words up to
ninety-nine, unit spellings ("km", "kilometres"; "%", "per cent") and date orders ("5 May
1902", "May 5, 1902"). A name is found when its words occur in the passage as a phrase,
after the same normalisation and stemming ("Normans" finds "Norman").

>>> [(t.kind, t.text) for t in claims("Quellport Shipping hired 1,200 people on 5 May 1902.")]
[('name', 'Quellport Shipping'), ('number', '1,200'), ('date', '5 May 1902')]
>>> PassageTerms("On May 5, 1902, the firm hired 1200 people.").missing(
...     claims("Quellport Shipping hired 1,200 people on 5 May 1902."))
['Quellport Shipping']
>>> [t.text for t in question_terms("Who founded Quellport Shipping in 1902?")]
['Quellport Shipping', '1902']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

KINDS = ("name", "number", "date", "quantity")

_FUNCTION_WORDS = """
    i me my we our you your he him his she her its they them what which who whom whose
    when where why how do does did has have had can could would should may might must
    shall am were been being than so also some all each every most more other own same
"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())
"""Pronouns, auxiliaries, question words and determiners that the Lucene stopword list keeps."""

# Words that start sentences and questions with a capital letter without being names:
# prepositions, conjunctions, determiners, adverbs and the imperatives of questions.
_OPENERS = """
    about above according across after afterwards again against ago all almost along already
    although always among amongst another any anyone anything approximately around because
    before behind below beneath besides between beyond both but despite during each early
    either else even eventually every everyone everything except few finally following
    formerly from further furthermore generally given having hence here however including
    indeed initially inside instead later latter less like many meanwhile moreover most
    mostly much near nearly neither never nevertheless next none nor now off often once one
    only onto other others otherwise out outside over overall perhaps prior rather recently
    regardless roughly several since some sometimes soon still subsequently such thanks
    though through throughout thus today together too toward towards traditionally
    typically under unlike until upon usually various very via whatever whenever whereas
    wherever whether while within without yes yet name list give describe define
    explain identify
"""
OPENERS = frozenset(_OPENERS.split())
"""Common words that are capitalised at the start of a sentence and are not names there."""


@lru_cache(maxsize=1)
def default_stopwords() -> frozenset[str]:
    """bm25s's English stopwords (the Lucene list) plus :data:`FUNCTION_WORDS`."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | FUNCTION_WORDS


@lru_cache(maxsize=4)
def stemmer(language: str = "english") -> Any:
    """The Snowball stemmer for ``language`` (PyStemmer), made once."""
    import Stemmer

    return Stemmer.Stemmer(language)


_FOLD = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u0060\u00b4", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
        **dict.fromkeys("\u00a0\u2007\u2009\u202f", " "),
    }
)
_POSSESSIVE = re.compile(r"(?<=[^\W\d])'s\b|(?<=s)'(?!\w)")


def fold(text: str) -> str:
    """``text`` with diacritics dropped and unicode dashes, quotes and spaces made plain;
    case is kept (capitals mark names).

    >>> print(fold("Zorbia’s café – “1 200” km"))
    Zorbia's cafe - "1 200" km
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_CODE_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=\d)")  # "SHA-256" is written "sha256" too


def words(text: str) -> list[str]:
    """The folded, lower-cased and stemmed words of ``text``: what names are matched on.
    A hyphen between letters and a number is dropped: "SHA-256" is "sha256".

    >>> words("The Normans' Anglo-Saxon foes use SHA-256")
    ['the', 'norman', 'anglo', 'saxon', 'foe', 'use', 'sha256']
    """
    plain = _POSSESSIVE.sub("", fold(text)).lower().replace("'", "")
    tokens = re.findall(r"[^\W_]+", _CODE_HYPHEN.sub("", plain))
    return list(stemmer().stemWords(tokens)) if tokens else []


@dataclass(frozen=True)
class Term:
    """A checkable term: its kind (one of :data:`KINDS`), the text as written, and the
    normalised key two spellings of the same fact share."""

    kind: str
    text: str
    key: str


# ---- numbers, quantities, dates --------------------------------------------------------------

_SMALL = [
    *["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"],
    *["eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"],
    *["eighteen", "nineteen"],
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINAL_SMALL = [
    *["zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"],
    *["ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth"],
    *["sixteenth", "seventeenth", "eighteenth", "nineteenth"],
]
_ORDINAL_TENS = [f"{tens[:-1]}ieth" for tens in _TENS]
_WORD_VALUES = {w: i for i, w in enumerate(_SMALL)} | {w: i for i, w in enumerate(_ORDINAL_SMALL)}
_WORD_VALUES |= {w: 20 + 10 * i for tens in (_TENS, _ORDINAL_TENS) for i, w in enumerate(tens)}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
_SCALES |= {"trillion": 10**12, "bn": 10**9}

_UNIT_SPELLINGS = {
    "%": "% percent per-cent pct",
    "km": "km kilometre kilometres kilometer kilometers",
    "m": "m metre metres meter meters",
    "cm": "cm centimetre centimetres centimeter centimeters",
    "mm": "mm millimetre millimetres millimeter millimeters",
    "mi": "mi mile miles",
    "ft": "ft foot feet",
    "in": "inch inches",
    "km2": "km2 km² sq-km square-kilometre square-kilometres square-kilometer square-kilometers",
    "mi2": "sq-mi square-mile square-miles",
    "ha": "ha hectare hectares",
    "acre": "acre acres",
    "kg": "kg kilogram kilograms kilogramme kilogrammes kilo kilos",
    "g": "g gram grams gramme grammes",
    "t": "tonne tonnes ton tons",
    "lb": "lb lbs pound pounds",
    "l": "l litre litres liter liters",
    "km/h": "km/h kph kmh kilometres-per-hour kilometers-per-hour",
    "mph": "mph miles-per-hour",
    "°c": "°c degrees-celsius degrees-c celsius degrees-centigrade centigrade",
    "°f": "°f degrees-fahrenheit degrees-f fahrenheit",
    "°": "° degree degrees",
    "s": "s sec secs second seconds",
    "min": "min mins minute minutes",
    "h": "h hr hrs hour hours",
    "day": "day days",
    "week": "week weeks",
    "month": "month months",
    "year": "year years yr yrs",
    "w": "w watt watts",
    "kw": "kw kilowatt kilowatts",
    "mw": "mw megawatt megawatts",
    "v": "v volt volts",
    "hz": "hz hertz",
    "mhz": "mhz megahertz",
    "ghz": "ghz gigahertz",
    "$": "$ dollar dollars usd",
    "€": "€ euro euros eur",
    "£": "£ gbp sterling",
    "¥": "¥ yen",
}
_UNITS = {
    spelling.replace("-", " "): unit
    for unit, spellings in _UNIT_SPELLINGS.items()
    for spelling in spellings.split()
}
_CURRENCY = "$€£¥"


def _longest_first(names: Any) -> str:
    return "|".join(sorted(names, key=len, reverse=True))


def _alternatives(names: Any) -> str:
    """A regex alternation of ``names``, longest first, any run of spaces where one is."""
    return _longest_first(re.escape(name).replace(r"\ ", r"\s+") for name in names)


_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:\.\d{3}){2,}|\d+(?:\.\d+)?"

_WORD_NUMBER = (
    rf"(?:{_longest_first(_TENS)})(?:[- ](?:{_longest_first(_SMALL[1:10])}))?"
    rf"|{_longest_first(_SMALL[2:])}"
    rf"|one(?=\s+(?:{_alternatives(_SCALES)})\b)"
)
_WORD_ORDINAL = (
    rf"(?:(?:{_longest_first(_TENS)})[- ])?(?:{_longest_first(_ORDINAL_SMALL[1:10])})"
    rf"|{_longest_first(_ORDINAL_SMALL[10:] + _ORDINAL_TENS)}"
)
_NUMBER = re.compile(
    rf"(?<![\w.,])(?P<currency>[{_CURRENCY}]\s?)?"
    rf"(?:(?P<digits>{_DIGITS})(?![\d]|[.,]\d)(?P<suffix>st|nd|rd|th|'?s)?"
    rf"|(?P<ordinal>{_WORD_ORDINAL})\b|(?P<word>{_WORD_NUMBER})\b)"
    rf"(?:\s?(?P<scale>{_alternatives(_SCALES)}|m(?=\W|$))(?!\w))?"
    rf"(?:\s?(?P<unit>{_alternatives(_UNITS)})(?![\w²]))?"
    r"(?:\s+(?P<era>bce|bc|ce|ad)\b)?",
    re.IGNORECASE,
)
_ERA_BEFORE = re.compile(r"\b(?:ad|ce)\s+$", re.IGNORECASE)

_MONTHS = [
    *["january", "february", "march", "april", "may", "june", "july", "august", "september"],
    *["october", "november", "december"],
]
_MONTH_NAME = (
    r"(?P<{}>(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b\.?)"
)
_DAY = r"(?P<{}>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<{}>\d{{3,4}})(?!\d)"
_DATE = re.compile(
    rf"\b{_DAY.format('d1')}\s+(?:of\s+)?{_MONTH_NAME.format('m1')}(?:,?\s+{_YEAR.format('y1')})?"
    rf"|\b{_MONTH_NAME.format('m2')}\s+{_DAY.format('d2')}(?!\d)(?:,?\s+{_YEAR.format('y2')})?"
    rf"|\b{_MONTH_NAME.format('m3')},?\s+{_YEAR.format('y3')}"
)


def _decimal(text: str) -> Decimal:
    """The value of a numeral: "1,200" and "1.200.000" have thousands separators."""
    if text.count(".") > 1:
        text = text.replace(".", "")
    return Decimal(text.replace(",", ""))


def _canonical(value: Decimal) -> str:
    """Digits without exponent or trailing zeros: 3.50 → "3.5", 1.2E+3 → "1200"."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _word_value(word: str) -> int:
    return sum(_WORD_VALUES[part] for part in re.split(r"[- ]", word.lower()))


def _number_term(match: re.Match[str], before: str) -> Term:
    """The term a :data:`_NUMBER` match states: a year, decade, ordinal, quantity or number."""
    text = match.group(0).strip()
    digits, word, ordinal = match.group("digits"), match.group("word"), match.group("ordinal")
    if ordinal:
        return Term("number", text, f"#{_word_value(ordinal)}")
    suffix = (match.group("suffix") or "").lower().lstrip("'")
    scale, unit = (match.group("scale") or "").lower(), (match.group("unit") or "").lower()
    currency = (match.group("currency") or "").strip()
    value = _decimal(digits) if digits else Decimal(_word_value(word))
    if scale == "m" and not currency:
        scale, unit = "", unit or "m"  # "5 m" is five metres; "$5m" is five million dollars
    if scale:
        value *= _SCALES.get(scale, 10**6)  # only "m" is not in the table: a million
    canonical = _canonical(value)
    plain = bool(digits) and not (scale or unit or currency) and "," not in digits
    if plain and suffix == "s" and digits.endswith("0"):
        return Term("date", text, f"{canonical}s")  # a decade: 1990s
    if suffix and suffix != "s":
        return Term("number", text, f"#{canonical}")  # an ordinal: 10th
    if match.group("era"):
        bce = match.group("era").lower() in ("bc", "bce")
        return Term("date", text, f"{canonical} bc" if bce else canonical)
    if plain and "." not in digits and (len(digits) == 4 or _ERA_BEFORE.search(before)):
        return Term("date", text, canonical)  # a year
    unit_key = _UNITS[re.sub(r"\s+", " ", unit)] if unit else currency
    if unit_key:
        return Term("quantity", text, f"{canonical} {unit_key}")
    return Term("number", text, canonical)


def _month(text: str) -> int:
    prefix = text.lower()[:3]
    return next(i for i, m in enumerate(_MONTHS, start=1) if m.startswith(prefix))


def _date_term(match: re.Match[str]) -> Term | None:
    groups = match.groupdict()
    number = next(i for i in "123" if groups[f"m{i}"])
    month = _month(groups[f"m{number}"])
    day = groups.get(f"d{number}")
    year = groups.get(f"y{number}")
    if day is not None and not 1 <= int(day) <= 31:
        return None
    key = "-".join(
        part
        for part in (year, f"{month:02d}", f"{int(day):02d}" if day else None)
        if part is not None
    )
    return Term("date", match.group(0).strip().rstrip(","), key if year else f"--{key}")


def _date_keys(key: str) -> set[str]:
    """A date key with the less precise keys it implies: 1902-05-05 → 1902-05, --05-05, 1902."""
    parts = key.split("-")
    if len(parts) == 3 and parts[0]:
        year, month, day = parts
        return {key, f"{year}-{month}", f"--{month}-{day}", year}
    if len(parts) == 2:
        return {key, parts[0]}
    return {key}


def _numeric(folded: str) -> list[tuple[int, int, Term | None]]:
    """The dates, then the other numbers of ``folded`` text, as (start, end, term) spans."""
    spans = [(m.start(), m.end(), _date_term(m)) for m in _DATE.finditer(folded)]
    dates = list(spans)
    for match in _NUMBER.finditer(folded):
        if not any(s < match.end() and match.start() < e for s, e, _ in dates):
            term = _number_term(match, folded[max(0, match.start() - 4) : match.start()])
            spans.append((match.start(), match.end(), term))
    return spans


# ---- names ---------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_](?:[\w']*[^\W_])?(?:-[^\W_](?:[\w']*[^\W_])?)*")
_ENDS_SENTENCE = re.compile(r"[.!?:;\n][\s\"'(\[]*$")
_MIDDLE_INITIAL = re.compile(r"(?<=[^\W\d_] )[A-Z]\. (?=[A-Z])")  # "Waylon J. Smithers"


def _names(text: str) -> list[tuple[int, Term]]:
    """Maximal runs of capitalised words that are not stopwords, with their offsets.

    Anything but spaces between two words (punctuation, a number) ends a run. A sentence's
    first word counts only when it is not a common word (:data:`OPENERS`).
    """
    stop = default_stopwords()
    found: list[tuple[int, Term]] = []
    run: list[re.Match[str]] = []

    def close() -> None:
        if run:
            phrase = text[run[0].start() : run[-1].end()]
            if len(phrase) > 1:
                found.append((run[0].start(), Term("name", phrase, " ".join(words(phrase)))))
            run.clear()

    end = 0
    for match in _TOKEN.finditer(text):
        token, gap = match.group(0), text[end : match.start()]
        lower = token.lower()
        starts = end == 0 or bool(_ENDS_SENTENCE.search(gap))
        capitalised = token[0].isupper() and lower not in stop
        if gap.strip():
            close()
        if capitalised and not (starts and lower in OPENERS):
            run.append(match)
        else:
            close()
        end = match.end()
    close()
    return found


def located_claims(text: str) -> list[tuple[int, int, Term]]:
    """The terms of :func:`claims` with their ``(start, end)`` offsets in ``fold(text)``.

    >>> [(start, end, t.text) for start, end, t in located_claims("It opened in 1902 in Okkazarn.")]
    [(13, 17, '1902'), (21, 29, 'Okkazarn')]
    """
    # a possessive ends a name: "France's Huguenots" names France and the Huguenots
    folded = _POSSESSIVE.sub(lambda m: "#" * len(m.group()), fold(text))
    numeric = _numeric(folded)
    masked = list(folded)
    for start, end, _ in numeric:
        masked[start:end] = "#" * (end - start)
    located = [(start, end, term) for start, end, term in numeric if term is not None]
    located += [(start, start + len(term.text), term) for start, term in _names("".join(masked))]
    return sorted(located, key=lambda span: span[0])


def claims(text: str) -> list[Term]:
    """The names, numbers, dates and quantities ``text`` states, in order of appearance.

    >>> [(t.kind, t.key) for t in claims("In the 1990s Paris paid $1.2 million for 3.50 km.")]
    [('date', '1990s'), ('name', 'pari'), ('quantity', '1200000 $'), ('quantity', '3.5 km')]
    """
    return [term for _, _, term in located_claims(text)]


def question_terms(question: str) -> list[Term]:
    """The subject terms of ``question``: the names, numbers, dates and quantities it states,
    which a passage answering it must mention. A number spelled out as a word is left out:
    in a question it mostly describes the answer ("What two rivers …?", "Who first …?"),
    it is not a fact the passage must repeat.

    >>> [t.text for t in question_terms("What is the capital of Zorbia?")]
    ['Zorbia']
    >>> [t.text for t in question_terms("Which two firms did Arvid Tenn found in 1902?")]
    ['Arvid Tenn', '1902']
    """
    return [
        term
        for term in claims(question)
        if term.kind != "number" or any(c.isdigit() for c in term.text)
    ]


class PassageTerms:
    """A passage analysed once, to tell which of a sentence's terms it states.

    A name is found when its stemmed words occur in the passage as a phrase, also with a
    middle initial of the passage's left out ("Waylon Smithers Jr." is the passage's "Waylon
    J. Smithers Jr.", not the other way round: an initial the passage lacks is a claim); a
    number when the passage states the same value (as a number, year or quantity); a
    quantity when it states the same value in the same unit; a date when it states that
    date, or a more precise one that includes it ("May 1902" is found in "5 May 1902").

    >>> passage = PassageTerms("The Dovul, 1,200 km long, flows into Lake Kafen.")
    >>> [passage.found(t) for t in claims("The Dovul river flows 1200 kilometres into Kafen.")]
    [True, True, True]
    >>> passage = PassageTerms("Waylon J. Smithers Jr. is a recurring character.")
    >>> passage.missing(claims("Waylon Smithers Jr. met Waylon K. Smithers."))
    ['Waylon K']
    """

    def __init__(self, text: str) -> None:
        self._words = f" {' '.join(words(text))} "
        plain = _MIDDLE_INITIAL.sub("", text)
        self._without_initials = f" {' '.join(words(plain))} " if plain != text else ""
        self._numbers: set[str] = set()
        self._dates: set[str] = set()
        self._quantities: set[str] = set()
        for _, _, term in _numeric(fold(text)):
            if term is None:
                continue
            if term.kind == "quantity":
                self._quantities.add(term.key)
                self._numbers.add(term.key.split(" ", 1)[0])
            elif term.kind == "number":
                self._numbers.add(term.key)
            elif term.kind == "date":
                keys = _date_keys(term.key)
                self._dates |= keys
                self._numbers |= {key for key in keys if key.isdigit()}

    def found(self, term: Term) -> bool:
        """Whether the passage states ``term``."""
        if term.kind == "name":
            key = f" {term.key} "
            return key in self._words or key in self._without_initials
        if term.kind == "quantity":
            return term.key in self._quantities
        if term.kind == "date":
            return term.key in self._dates or term.key in self._numbers
        return term.key in self._numbers

    def missing(self, terms: Sequence[Term]) -> list[str]:
        """The text of each of ``terms`` the passage does not state, once each, in order."""
        return list(dict.fromkeys(t.text for t in terms if not self.found(t)))

    def missing_subject(self, terms: Sequence[Term]) -> list[str]:
        """What the passage lacks of a question's subject ``terms``: every number, date and
        quantity it does not state, and the names when it states none of them.

        A question may name several things ("When did Germany invade Poland?"); a passage
        that names none of them is about something else, one that names some may still
        answer it (the answer sentence's own names are checked one by one).

        >>> PassageTerms("Germany invaded France.").missing_subject(
        ...     question_terms("When did Germany invade Poland in 1939?"))
        ['1939']
        """
        names = [t for t in terms if t.kind == "name"]
        lacking = self.missing([t for t in terms if t.kind != "name"])
        if names and not any(self.found(t) for t in names):
            lacking = self.missing(names) + lacking
        return lacking
