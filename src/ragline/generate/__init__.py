"""Stage 7: generation — prompts with numbered passages, generators, cited answers."""

from __future__ import annotations

from ragline.generate.base import Generator, Message

__all__ = ["Generator", "Message"]
