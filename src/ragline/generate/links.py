"""Entity links between documents: which documents do these passages name by title?

In a corpus of documents about things (an encyclopedia, a product catalogue, a wiki), a
passage that names another document's title points at it, as a hyperlink would. Following
those links is a second retrieval hop that needs no language model: for "Who directed the
film shot in Leland in 1986?", the passage about Leland names *Maximum Overdrive*, whose
own document says who directed it.

Titles match as whole words, case-sensitively, without a trailing parenthetical
(``Mercury (planet)`` is named by "Mercury"); titles shorter than :data:`MIN_TITLE_CHARS`
characters are ignored, since short ones ("It", "US") are named by accident.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ragline.store.catalog import Catalog

MIN_TITLE_CHARS = 4
MAX_TITLE_WORDS = 12
_WORD = re.compile(r"\w+")
_PARENTHETICAL = re.compile(r"\s*\([^()]*\)\s*$")


def title_words(title: str) -> tuple[str, ...]:
    """The words a title is named by: without a trailing ``(...)``, punctuation dropped.

    >>> title_words("Young, New South Wales")
    ('Young', 'New', 'South', 'Wales')
    >>> title_words("Charles Andrews (Maine politician)")
    ('Charles', 'Andrews')
    """
    return tuple(_WORD.findall(_PARENTHETICAL.sub("", title)))


class TitleIndex:
    """Document ids by the words of their titles, for finding the titles a text names.

    >>> index = TitleIndex([("d1", "Maximum Overdrive"), ("d2", "Leland"), ("d3", "It")])
    >>> index.named_in(["Leland hosted the shooting of Maximum Overdrive in 1986."])
    ['d2', 'd1']
    """

    def __init__(self, titles: Iterable[tuple[str, str]]) -> None:
        self._ids: dict[tuple[str, ...], list[str]] = {}
        self._longest = 0
        for doc_id, title in titles:
            words = title_words(title)
            if sum(map(len, words)) < MIN_TITLE_CHARS or len(words) > MAX_TITLE_WORDS:
                continue
            self._ids.setdefault(words, []).append(doc_id)
            self._longest = max(self._longest, len(words))

    def named_in(self, texts: Sequence[str]) -> list[str]:
        """Ids of the documents whose titles ``texts`` name, in order of first mention."""
        found: dict[str, None] = {}
        for text in texts:
            words = _WORD.findall(text)
            for start in range(len(words)):
                for length in range(1, min(self._longest, len(words) - start) + 1):
                    for doc_id in self._ids.get(tuple(words[start : start + length]), ()):
                        found.setdefault(doc_id)
        return list(found)


class CatalogTitles:
    """The :class:`TitleIndex` of a catalog's documents, built on first use and again after
    the catalog changed (its generation moved); ``lock`` guards the rebuild."""

    def __init__(self, catalog: Catalog, lock: threading.RLock) -> None:
        self.catalog = catalog
        self.lock = lock
        self._index: tuple[int, TitleIndex] | None = None

    def named_in(self, texts: Sequence[str]) -> list[str]:
        """Ids of the documents whose titles ``texts`` name, in order of first mention."""
        with self.lock:
            generation = self.catalog.generation
            if self._index is None or self._index[0] != generation:
                self._index = (generation, TitleIndex(self.catalog.document_titles()))
            index = self._index[1]
        return index.named_in(texts)
