"""``python -m ragline.cli``: the ``ragline`` command."""

from __future__ import annotations

from ragline.cli import main

main()
