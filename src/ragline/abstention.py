"""Abstentions: answers that decline to answer, recognised by their phrases.

Answering (which must not pass an abstention off as an answer) and the answer metrics
(which score abstaining on unanswerable questions) both need the same rule.
"""

from __future__ import annotations

import re

ABSTENTION_PHRASES: tuple[str, ...] = (
    "the knowledge base does not say",
    "the knowledge base doesn't say",
    "no answer",
    "cannot be answered",
    "can't be answered",
    "not in the passages",
    "not in the provided passages",
    "i don't know",
    "i do not know",
    "unanswerable",
)
"""Phrases (lower case) that mark an answer as an abstention when found in it."""

_ABSTENTION = re.compile(
    r"\b(?:" + "|".join(re.escape(p) for p in ABSTENTION_PHRASES) + r")\b", re.UNICODE
)


def is_abstention(prediction: str) -> bool:
    """Whether ``prediction`` declines to answer: empty, or holds one of
    :data:`ABSTENTION_PHRASES` (case-insensitive).

    >>> is_abstention("The knowledge base does not say."), is_abstention("Paris")
    (True, False)
    """
    text = " ".join(prediction.replace("\u2019", "'").lower().split())
    return not text or _ABSTENTION.search(text) is not None
