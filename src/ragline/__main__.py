"""``python -m ragline``: the command line, as the ``ragline`` script runs it."""

from ragline.cli import main

main()
