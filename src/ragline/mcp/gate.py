"""Which knowledge bases an MCP caller may use, and how: the one rule the tools and
resources go through, whatever the transport."""

from __future__ import annotations

from typing import Protocol

from ragline.errors import RaglineError
from ragline.mcp.tools import Target


class Gate(Protocol):
    """What one caller may do: the collections it sees, and a target for a role."""

    def collections(self) -> list[str]:
        """The collections this caller may know of."""
        ...

    def may_write(self) -> bool:
        """Whether this caller may write to any of them (else it is shown no write tools)."""
        ...

    def target(self, collection: str | None, role: str) -> Target:
        """The collection to act on as ``role`` (None: the only one the caller sees);
        RaglineError naming the reason when the caller may not."""
        ...


def only_collection(names: list[str]) -> str:
    """The collection a call that names none acts on: the only one there is."""
    if len(names) == 1:
        return names[0]
    if not names:
        raise RaglineError("no collection is open to this client")
    raise RaglineError(f"give 'collection': one of {', '.join(names)}")


class LocalGate:
    """One knowledge base, served to the one client of a ``ragline mcp`` process: it may
    read, and write only when the server was started with ``--allow-write``."""

    def __init__(self, name: str, target: Target, *, allow_write: bool = False) -> None:
        self.name = name
        self._target = target
        self.allow_write = allow_write

    def collections(self) -> list[str]:
        return [self.name]

    def may_write(self) -> bool:
        return self.allow_write

    def target(self, collection: str | None, role: str) -> Target:
        if collection not in (None, self.name):
            raise RaglineError(f"no collection {collection[:80]!r} (this server has {self.name!r})")
        if role != "read" and not self.allow_write:
            raise RaglineError("this server is read-only (start it with --allow-write to write)")
        return self._target
