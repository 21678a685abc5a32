"""The collections a server holds: one knowledge base each, under a data directory.

``ragline serve --data DIR`` serves every knowledge base directly under ``DIR`` (a folder
with a ``ragline.toml``) under its folder name; ``--kb DIR`` serves one, named after its
folder. Each collection's knowledge base is opened on first use and kept open.
"""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

from ragline._optional import require

require("fastapi", "serve")

from ragline.config import Config  # noqa: E402
from ragline.errors import RaglineError  # noqa: E402
from ragline.generate.base import Generator  # noqa: E402
from ragline.kb import CONFIG_FILE, KnowledgeBase  # noqa: E402
from ragline.serve.errors import ApiError  # noqa: E402
from ragline.serve.state import ServerState  # noqa: E402

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
"""A collection name: lower-case letters, digits, ``-`` and ``_`` (it is a folder name)."""

DEFAULT_NAME = "default"
"""The name of a ``--kb`` collection whose folder name is not a valid collection name."""


def check_name(name: str) -> str:
    """``name`` if it is a valid collection name, else a 400."""
    if not NAME.match(name):
        raise ApiError(
            400, f"invalid collection name {name[:80]!r}: use a-z, 0-9, '-' and '_' (max 63)"
        )
    return name


def check_sources(kb: str | Path | None, data: str | Path | None) -> None:
    """Refuse (RaglineError) anything but one knowledge base or one data directory."""
    if (kb is None) == (data is None):
        raise RaglineError("serve either one knowledge base (--kb) or a data directory (--data)")
    if data is not None and not Path(data).is_dir():
        raise RaglineError(f"{data}: no such directory")
    if kb is not None and not (Path(kb) / CONFIG_FILE).is_file():
        raise RaglineError(f"{kb}: not a ragline knowledge base (no {CONFIG_FILE})")


class Collections:
    """Name -> :class:`ServerState`, for a data directory (``data``) or one knowledge base."""

    def __init__(
        self,
        *,
        data: Path | None = None,
        kb: Path | None = None,
        generator: Generator | str | None = None,
        read_only: bool = False,
    ) -> None:
        self.data = data
        self.generator = generator
        self._lock = threading.Lock()
        self._states: dict[str, ServerState] = {}
        if kb is not None:
            name = kb.resolve().name.lower()
            self.single: str | None = name if NAME.match(name) else DEFAULT_NAME
            self._states[self.single] = ServerState(kb, generator, read_only=read_only)
        else:
            self.single = None

    def names(self) -> list[str]:
        """Every collection, sorted."""
        if self.data is None:
            return sorted(self._states)
        found = {
            p.name
            for p in self.data.iterdir()
            if NAME.match(p.name) and (p / CONFIG_FILE).is_file()
        }
        return sorted(found)

    def get(self, name: str) -> ServerState:
        """The collection called ``name``, or a 404."""
        with self._lock:
            state = self._states.get(name)
            if state is None and self.data is not None and name in self.names():
                state = self._states[name] = ServerState(self.data / name, self.generator)
        if state is None:
            raise ApiError(404, f"no collection {name[:80]!r}")
        return state

    def create(self, name: str, config: Config) -> ServerState:
        """A new, empty collection built with ``config``."""
        check_name(name)
        if self.data is None:
            raise ApiError(400, "this server serves one knowledge base (--kb); use --data")
        with self._lock:
            if name in self._states or (self.data / name).exists():
                raise ApiError(409, f"collection {name!r} exists")
            try:
                KnowledgeBase.create(self.data / name, config).close()
            except Exception:
                # A collection that could not be built leaves nothing behind.
                shutil.rmtree(self.data / name, ignore_errors=True)
                raise
            state = self._states[name] = ServerState(self.data / name, self.generator)
        return state

    def delete(self, name: str) -> None:
        """Close collection ``name`` and remove its folder."""
        state = self.get(name)
        if self.data is None:
            raise ApiError(400, "this server serves one knowledge base (--kb); use --data")
        with self._lock:
            self._states.pop(name, None)
        state.close()
        shutil.rmtree(state.kb_path)

    def opened(self) -> list[tuple[str, ServerState]]:
        """The collections opened so far."""
        with self._lock:
            return sorted(self._states.items())

    def close(self) -> None:
        """Close every open knowledge base."""
        for _, state in self.opened():
            state.close()
