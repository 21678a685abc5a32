"""Grounded prompts: a question with numbered passages, packed to a token budget.

The system prompt asks for brief answers (one or two sentences, or with
``answer_style="short"`` the shortest phrase) that cite passages as ``[n]`` and for
:data:`ABSTAIN_TEXT` when the passages do not hold the answer. Passages are numbered from 1
in the order given (rank order); :func:`build_messages` returns the passages it actually
used, so that ``[n]`` in an answer maps to ``used[n - 1]``. :func:`parse_user_message`
reads the passages back out of a user message, for generators that work on the passages
themselves (the extractive one).

>>> from ragline.documents import Chunk, Hit
>>> hit = Hit(Chunk("d#0", "d", "Paris is in France.", 0, 19, {"title": "Paris"}), 1.0, 1, "bm25")
>>> messages, used = build_messages("Where is Paris?", [hit])
>>> print(messages[1]["content"])
Passages:
<BLANKLINE>
[1] Title: Paris
Paris is in France.
<BLANKLINE>
Question: Where is Paris?
>>> parse_user_message(messages[1]["content"])
('Where is Paris?', [('Paris', 'Paris is in France.')])
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

from ragline.documents import Hit
from ragline.errors import RaglineError
from ragline.generate.base import Message

ABSTAIN_TEXT = "The knowledge base does not say."
"""The exact reply asked for when the passages do not contain the answer."""

ANSWER_STYLES = {
    "sentence": "- Answer briefly, in one or two sentences.",
    "short": "- Answer with the shortest phrase that answers the question: a name, a number, "
    "a date, or yes or no. Do not write a sentence.",
}
"""How long an answer the system prompt asks for: ``sentence`` suits people reading the
answer; ``short`` suits span-style benchmarks (SQuAD, HotpotQA), whose F1 counts words."""


def check_answer_style(answer_style: str) -> str:
    """``answer_style`` if it is one of :data:`ANSWER_STYLES`, else a one-line error."""
    if answer_style not in ANSWER_STYLES:
        raise RaglineError(f"answer style {answer_style!r}: use {', '.join(ANSWER_STYLES)}")
    return answer_style


def system_prompt(answer_style: str = "sentence") -> str:
    """The system message for grounded, cited answers in ``answer_style``."""
    return (
        "You answer questions using only the numbered passages given with the question.\n"
        "- Use only facts stated in the passages, never outside knowledge.\n"
        "- Cite the passage that supports each claim by its number in square brackets, like "
        "[2]; cite several passages as [1][3].\n"
        f"{ANSWER_STYLES[check_answer_style(answer_style)]}\n"
        "- If the passages do not contain the answer, reply exactly: " + ABSTAIN_TEXT
    )


SYSTEM_PROMPT = system_prompt()
"""The default (``sentence``) system message."""

_PASSAGES_HEADER = "Passages:"
_QUESTION_PREFIX = "\n\nQuestion: "
_HEADER_LINE = re.compile(r"^\[(\d+)\] Title: (.*)$", re.MULTILINE)
_PIECE = re.compile(r"\w+|[^\w\s]")
_WORD_END = re.compile(r"\S+")


def approx_tokens(text: str) -> int:
    """A tokenizer-free token estimate: the larger of word/punctuation pieces and chars / 4.

    Sub-word tokenizers give about one token per four characters of English, and at least
    one per word or punctuation mark; pass a model's own counter for exact budgets.

    >>> approx_tokens("Hello, world!")
    4
    """
    return max(len(_PIECE.findall(text)), (len(text) + 3) // 4)


def _title(hit: Hit) -> str:
    title = hit.chunk.metadata.get("title") or hit.chunk.doc_id
    return " ".join(str(title).split())  # one line, so the header stays parseable


def format_passage(n: int, hit: Hit, text: str | None = None) -> str:
    """The prompt block of passage ``n``: ``[n] Title: <title>`` then its text.

    The title is the chunk's ``title`` metadata, or its document id.
    """
    return f"[{n}] Title: {_title(hit)}\n{hit.chunk.text if text is None else text}"


def _truncated(hit: Hit, n: int, count: Callable[[str], int], budget: int) -> Hit:
    """``hit`` with its text cut at a word end so that its block fits ``budget`` tokens.

    The cut keeps a prefix, so the chunk's ``text == document.text[start:end]`` still holds.
    """
    text = hit.chunk.text
    ends = [m.end() for m in _WORD_END.finditer(text)]
    lo, hi = 0, len(ends)  # number of words kept; binary search for the most that fit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(format_passage(n, hit, text[: ends[mid - 1]])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    kept = text[: ends[lo - 1]] if lo else ""
    chunk = dataclasses.replace(hit.chunk, text=kept, end=hit.chunk.start + len(kept))
    return dataclasses.replace(hit, chunk=chunk)


def _user_message(question: str, blocks: Sequence[str]) -> str:
    body = "\n\n".join(blocks) if blocks else "(no passages)"
    return f"{_PASSAGES_HEADER}\n\n{body}{_QUESTION_PREFIX}{question}"


def build_messages(
    question: str,
    passages: Sequence[Hit],
    *,
    count_tokens: Callable[[str], int] | None = None,
    context_tokens: int = 1536,
    answer_style: str = "sentence",
) -> tuple[list[Message], list[Hit]]:
    """System and user messages asking ``question`` over numbered ``passages``.

    Passages are taken in the order given (rank order) while their blocks (see
    :func:`format_passage`) fit ``context_tokens`` as counted by ``count_tokens``
    (default :func:`approx_tokens`); packing stops at the first passage that does not fit,
    so numbering always follows rank. The first passage is always kept, cut to the budget
    if it alone exceeds it (its returned hit then holds the shortened chunk).

    ``answer_style`` picks the system prompt (see :data:`ANSWER_STYLES`).
    Returns the messages and the passages used: ``[n]`` refers to ``used[n - 1]``.
    """
    system = system_prompt(answer_style)
    count = count_tokens or approx_tokens
    used: list[Hit] = []
    blocks: list[str] = []
    spent = 0
    for hit in passages:
        n = len(used) + 1
        block = format_passage(n, hit)
        cost = count(block)
        if spent + cost > context_tokens:
            if not used:
                hit = _truncated(hit, n, count, context_tokens)
                used.append(hit)
                blocks.append(format_passage(n, hit))
            break
        used.append(hit)
        blocks.append(block)
        spent += cost
    messages: list[Message] = [
        {"role": "system", "content": system},
        {"role": "user", "content": _user_message(question, blocks)},
    ]
    return messages, used


def passage_messages(
    question: str,
    passage: Hit,
    *,
    count_tokens: Callable[[str], int] | None = None,
    context_tokens: int = 1536,
    answer_style: str = "sentence",
) -> list[Message]:
    """The messages for ``question`` over one passage, numbered ``[1]``.

    RAG-Sequence and RAG-Token condition on one passage at a time; they use the same system
    prompt as :func:`build_messages`, and the passage is cut to ``context_tokens`` if needed.
    """
    messages, _ = build_messages(
        question,
        [passage],
        count_tokens=count_tokens,
        context_tokens=context_tokens,
        answer_style=answer_style,
    )
    return messages


def parse_user_message(content: str) -> tuple[str, list[tuple[str, str]]]:
    """The question and the ``(title, text)`` passages of a user message from this module.

    Passage ``n`` is ``result[1][n - 1]``. A message without the expected layout is read as
    a bare question with no passages.
    """
    head, sep, question = content.rpartition(_QUESTION_PREFIX)
    if not sep or not head.startswith(_PASSAGES_HEADER):
        return content.strip(), []
    body = head[len(_PASSAGES_HEADER) :]
    # Only headers numbered 1, 2, 3 … in sequence start a passage, so a passage text that
    # happens to hold a "[7] Title:" line is not split.
    starts: list[tuple[int, int, str]] = []
    for match in _HEADER_LINE.finditer(body):
        if int(match.group(1)) == len(starts) + 1:
            starts.append((match.start(), match.end(), match.group(2)))
    passages: list[tuple[str, str]] = []
    for i, (_, text_start, title) in enumerate(starts):
        text_end = starts[i + 1][0] if i + 1 < len(starts) else len(body)
        text = body[text_start + 1 : text_end]  # skip the header's newline
        passages.append((title, text.removesuffix("\n\n")))
    return question, passages
