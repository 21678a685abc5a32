"""Only what passes the support check is shown: answer sentences checked as they stream.

A generator's reply (its first paragraph, see :func:`~ragline.generate.answer.first_answer`)
is cut into sentences — lines are boundaries too, and citation markers written after a full
stop stay with their sentence. Each complete sentence is checked against the passages it
cites, or, when it cites none, attributed to a passage that passes the same check; it is
shown (and streamed) only when a citation supports it, and withheld otherwise. Lines with
nothing to check (a code fence, a bare list bullet) are shown with the sentences around
them. The answer kept is exactly what was shown, so the terminal, ``--json`` and the API
agree, and nothing unchecked reaches the user.

>>> from ragline.documents import Chunk, Hit
>>> hit = Hit(Chunk("z#0", "z", "Quellport is the capital of Zorbia.", 0, 35), 1.0, 1, "bm25")
>>> shown = []
>>> gate = CheckedText("What is the capital of Zorbia?", [hit], on_text=shown.append)
>>> for piece in ["Quellport is the capital [1]. ", "Eldra is its port [1].", ""]:
...     gate.feed(piece)
>>> gate.finish()
>>> gate.text, [w["sentence"] for w in gate.withheld]
('Quellport is the capital [1].', ['Eldra is its port.'])
>>> "".join(shown) == gate.text
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ragline.documents import Citation, Hit
from ragline.generate.citations import (
    BULLET,
    ClaimSupport,
    SupportChecker,
    attribute,
    cited_numbers,
    content_words,
    resolve_citations,
    sentence_spans,
    strip_citations,
)

_WORD = re.compile(r"\w")


def segments(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, without surrounding whitespace; lines
    are boundaries, and a piece without a word (stray markers) joins the one before.

    >>> text = "Paris is big. [1] It is old [2].\\n- Lyon [3]"
    >>> [text[s:e] for s, e in segments(text)]
    ['Paris is big. [1]', 'It is old [2].', '- Lyon [3]']
    """
    found: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        for start, end in sentence_spans(line):
            piece = line[start:end]
            left = start + len(piece) - len(piece.lstrip())
            right = start + len(piece.rstrip())
            if left >= right:
                continue
            if found and not _WORD.search(strip_citations(line[left:right])):
                found[-1] = (found[-1][0], offset + right)
            else:
                found.append((offset + left, offset + right))
        offset += len(line) + 1
    return found


class CheckedText:
    """Feeds on a reply as it arrives and shows only its supported sentences.

    ``feed`` takes streamed pieces; ``finish`` decides the rest (``text`` is the whole
    reply when it was not streamed). ``on_text`` receives what is shown, piece by piece;
    :attr:`text` is all of it, :attr:`citations` their citations and :attr:`withheld` the
    sentences held back (with the terms their passages lacked).
    """

    def __init__(
        self,
        question: str,
        passages: Sequence[Hit],
        checker: SupportChecker | None = None,
        *,
        on_text: Callable[[str], None] | None = None,
        select: Callable[[str], str] | None = None,
    ) -> None:
        self.question = question
        self.passages = list(passages)
        self.checker = checker if checker is not None else ClaimSupport()
        self.on_text = on_text
        self.select = select or (lambda text: text.strip())
        self.citations: list[Citation] = []
        self.withheld: list[dict[str, Any]] = []
        self._raw = ""
        self._pieces: list[str] = []
        self._decided = 0
        self._pending: list[str] = []
        self._last_end: int | None = None

    @property
    def text(self) -> str:
        return "".join(self._pieces)

    def feed(self, piece: str) -> None:
        self._raw += piece
        self._advance(final=False)

    def finish(self, text: str | None = None) -> None:
        if text is not None:
            self._raw = text
        self._advance(final=True)
        if self._pieces:
            for pending in self._pending:
                self.show(pending)
        self._pending = []

    def show(self, piece: str) -> None:
        """Show ``piece`` (already decided) and keep it as part of the answer."""
        self._pieces.append(piece)
        if self.on_text is not None:
            self.on_text(piece)

    def _advance(self, *, final: bool) -> None:
        body = self.select(self._raw)
        spans = segments(body)
        ready = len(spans) if final else len(spans) - 1
        for index in range(self._decided, max(ready, self._decided)):
            start, end = spans[index]
            separator = body[self._last_end : start] if self._last_end is not None else ""
            separator = separator if separator.isspace() else " "
            self._last_end = end
            sentence = body[start:end]
            claim = BULLET.sub("", sentence)
            if not content_words(strip_citations(claim)):
                prefix = separator if self._pieces or self._pending else ""
                self._pending.append(prefix + sentence)
                continue
            citations = self._check(claim)
            if citations and any(c.supported for c in citations):
                for pending in self._pending:
                    self.show(pending)
                self._pending = []
                self.show((separator if self._pieces else "") + sentence)
                self.citations.extend(citations)
            else:
                self.withheld.append(
                    {
                        "sentence": strip_citations(claim),
                        "missing": sorted({t for c in citations for t in c.missing}),
                        "cited": [c.n for c in citations],
                    }
                )
        self._decided = max(ready, self._decided)

    def _check(self, sentence: str) -> list[Citation]:
        citations, _ = resolve_citations(
            sentence, self.passages, checker=self.checker, question=self.question
        )
        if not citations and not cited_numbers(sentence):
            citations = attribute(sentence, self.passages, self.checker, self.question)
        return citations
