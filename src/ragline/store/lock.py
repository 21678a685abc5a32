"""The write lock of a knowledge base: one writing process at a time, readers never wait."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from ragline.errors import KnowledgeBaseLockedError


class WriteLock:
    """An exclusive ``flock`` on ``path``, taken on the first write and held until
    :meth:`release`; the file holds the writer's process id for whoever finds it taken."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> None:
        """Take the lock (no-op when held); ``KnowledgeBaseLockedError`` if another
        process has it."""
        if self._handle is not None:
            return
        handle = open(self.path, "a+")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            handle.close()
            raise KnowledgeBaseLockedError(
                f"{self.path.parent}: another process is writing to this knowledge base"
            ) from e
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None
