"""Who is asking: every request but the open ones must carry a key in ``Authorization``.

The middleware turns ``Authorization: Bearer <key>`` into a :class:`~ragline.keystore.KeyRecord`
(the *principal*) stored on the request; routes then check it against the collection and
role they need (:mod:`ragline.serve.access`). Only that header is honoured: a key in a
query string or another header is ignored, as if absent.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

from ragline._optional import require

require("fastapi", "serve")

from starlette.concurrency import run_in_threadpool  # noqa: E402
from starlette.datastructures import Headers  # noqa: E402
from starlette.types import ASGIApp, Receive, Scope, Send  # noqa: E402

from ragline.keystore import ALL, KeyRecord, KeyStore  # noqa: E402
from ragline.serve.errors import error_response  # noqa: E402

OPEN_PATHS = frozenset({"/health", "/docs", "/openapi.json", "/"})
"""Routes that answer without a key (liveness, the API's own description, the web page)."""

OPEN_PREFIXES = ("/docs/assets/", "/web/")

Resolver = Callable[[str], KeyRecord | None]
"""A presented key -> its record, or None when it is not valid."""


def _everyone(key_id: str) -> KeyRecord:
    return KeyRecord(key_id, ALL, "admin", time.time(), None, "", "")


def shared_key(key: str) -> Resolver:
    """The resolver of a server started with one shared key (``--api-key-env``): admin on all."""
    expected = key.encode("utf-8")
    record = _everyone("shared")

    def resolve(given: str) -> KeyRecord | None:
        ok = hmac.compare_digest(given.encode("latin-1", "replace"), expected)
        return record if ok else None

    return resolve


def stored_keys(store: KeyStore) -> Resolver:
    """The resolver of a data directory's key store (re-read when the file changes)."""
    return store.verify


NO_AUTH = _everyone("no-auth")
"""The principal of every request to a server started with ``--no-auth``."""


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


class KeyAuth:
    """ASGI middleware: resolves the key of each request, or answers 401.

    A pure ASGI class rather than ``BaseHTTPMiddleware``, so streamed replies pass through
    untouched. ``resolve`` None means no authentication (``--no-auth``).
    """

    def __init__(self, app: ASGIApp, resolve: Resolver | None) -> None:
        self.app = app
        self.resolve = resolve

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if self.resolve is None:
            state["principal"] = NO_AUTH
        elif not is_open(scope["path"]):
            header = Headers(scope=scope).get("authorization")
            principal, message = (
                None,
                "missing API key: send the header 'Authorization: Bearer <key>'",
            )
            if header:
                scheme, _, token = header.partition(" ")
                token = token.strip()
                if scheme.lower() == "bearer" and token:
                    # Checking a key can take a scrypt hash: off the event loop.
                    principal = await run_in_threadpool(self.resolve, token)
                message = "invalid API key"
            if principal is None:
                response = error_response(401, message, {"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
            state["principal"] = principal
        await self.app(scope, receive, send)
