"""Pieces of text as a blocking library call produces them, for streamed replies.

The library reports pieces through a callback (``on_token``); here the call runs on a
worker thread and the pieces come out of an iterator, then the call's result. Closing the
iterator makes the next callback raise, which ends the call's work.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Finished(Generic[T]):
    """The result of the call, after its last piece."""

    def __init__(self, value: T) -> None:
        self.value = value


class Abandoned(Exception):
    """Raised into a call whose pieces nobody reads any more."""


def relayed(call: Callable[[Callable[[str], None]], T]) -> Iterator[str | Finished[T]]:
    """Run ``call(on_token)`` on a thread; yield its pieces, then ``Finished(result)``.

    A failure of the call is re-raised here.
    """
    items: queue.Queue[str | Finished[T] | BaseException] = queue.Queue()
    closed = threading.Event()

    def on_token(piece: str) -> None:
        if closed.is_set():
            raise Abandoned
        items.put(piece)

    def run() -> None:
        try:
            items.put(Finished(call(on_token)))
        except BaseException as e:  # noqa: BLE001 - handed to the reading side
            items.put(e)

    threading.Thread(target=run, name="ragline-stream", daemon=True).start()
    try:
        while True:
            item = items.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if isinstance(item, Finished):
                return
    finally:
        closed.set()


def sse(event: str, data: Any) -> str:
    """One server-sent event named ``event`` carrying ``data`` as JSON."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
