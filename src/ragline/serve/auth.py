"""API keys: a server started with a key wants it on every route but the open ones."""

from __future__ import annotations

import hmac

from ragline._optional import require

require("fastapi", "serve")

from starlette.datastructures import Headers  # noqa: E402
from starlette.types import ASGIApp, Receive, Scope, Send  # noqa: E402

from ragline.serve.errors import error_response  # noqa: E402

OPEN_PATHS = frozenset({"/health"})
"""Routes that answer without a key even when the server has one."""


class BearerAuth:
    """ASGI middleware: every path but :data:`OPEN_PATHS` needs ``Authorization: Bearer <key>``.

    The key is compared in constant time. A pure ASGI class rather than
    ``BaseHTTPMiddleware``, so streamed replies pass through untouched.
    """

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self.key = key.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            header = Headers(scope=scope).get("authorization")
            message = None
            if not header:
                message = "missing API key: send the header 'Authorization: Bearer <key>'"
            else:
                scheme, _, token = header.partition(" ")
                # Header values arrive decoded as latin-1; encoding back gives the raw bytes.
                given = token.strip().encode("latin-1", "replace")
                if scheme.lower() != "bearer" or not hmac.compare_digest(given, self.key):
                    message = "invalid API key"
            if message is not None:
                response = error_response(401, message, {"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
