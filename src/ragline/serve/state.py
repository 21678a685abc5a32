"""One collection of a server: the knowledge base it answers from and the generators it
made (:class:`~ragline.serve.collections.Collections` holds one per collection)."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path

from ragline._optional import require

require("fastapi", "serve")


from ragline.generate.base import Generator  # noqa: E402
from ragline.kb import KnowledgeBase  # noqa: E402
from ragline.serve.errors import ApiError, failure  # noqa: E402

log = logging.getLogger(__name__)


class ServerState:
    """The knowledge base a server answers from, and the generators it may use.

    ``generator`` is the server's own (a name, or a Generator object); None means the
    knowledge base's configured one. ``extractive`` is built over the knowledge base's own
    encoder, which is already loaded, so it costs no second model.
    """

    def __init__(
        self, kb_path: Path, generator: Generator | str | None = None, *, read_only: bool = False
    ) -> None:
        self.kb_path = kb_path
        self._generator = generator
        self.read_only = read_only
        self._kb: KnowledgeBase | None = None
        self._lock = threading.Lock()
        self._generators: dict[str, Generator] = {}

    def open(self) -> KnowledgeBase:
        """Open the knowledge base (once; later calls return the same instance)."""
        with self._lock:
            if self._kb is None and self.read_only:
                from ragline.serve.search_node import SearchNode

                self._kb = SearchNode.open(self.kb_path)  # type: ignore[assignment]
            if self._kb is None:
                self._kb = KnowledgeBase.open(self.kb_path)
                log.info("serving %s", self.kb_path)
            return self._kb

    def close(self) -> None:
        with self._lock:
            if self._kb is not None:
                self._kb.close()
                self._kb = None
                log.info("closed %s", self.kb_path)

    @property
    def kb(self) -> KnowledgeBase:
        return self._kb if self._kb is not None else self.open()

    @property
    def generator_name(self) -> str:
        """The name of the server's generator (what /v1/chat/completions uses)."""
        if self._generator is None:
            return self.kb.config.generate.generator
        if isinstance(self._generator, str):
            return self._generator
        return self._generator.name

    def offered(self) -> list[str]:
        """Generator names a request may choose: the server's, the KB's, and extractive."""
        names = [self.generator_name, self.kb.config.generate.generator, "extractive"]
        return list(dict.fromkeys(names))

    def generator(self, name: str | None = None) -> Generator:
        """The generator called ``name`` (default: the server's), made on first use and kept.

        Names outside :meth:`offered` are refused with a 400: a request must not make the
        server load an arbitrary model path or send its API key to an arbitrary URL.
        """
        name = name or self.generator_name
        if name not in self.offered():
            raise ApiError(
                400, f"generator {name!r} is not offered here (use {', '.join(self.offered())})"
            )
        own = self._generator
        if own is not None and not isinstance(own, str) and name == own.name:
            return own
        kb = self.kb
        with self._lock:
            made = self._generators.get(name)
            if made is None:
                try:
                    made = self._make(kb, name)
                except Exception as e:  # noqa: BLE001 - a misconfigured server is a 500
                    raise failure(e, f"generator {name!r}") from e
                self._generators[name] = made
            return made

    @staticmethod
    def _make(kb: KnowledgeBase, name: str) -> Generator:
        from ragline.generate.registry import make_generator

        return make_generator(replace(kb.config.generate, generator=name), encoder=kb.encoder)
