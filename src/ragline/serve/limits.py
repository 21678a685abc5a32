"""Request size limits, enforced before a route reads a body."""

from __future__ import annotations

from ragline._optional import require

require("fastapi", "serve")

from starlette.datastructures import Headers  # noqa: E402
from starlette.types import ASGIApp, Message, Receive, Scope, Send  # noqa: E402

from ragline.serve.errors import ApiError, error_response  # noqa: E402


class BodyLimit:
    """ASGI middleware: a body over ``max_bytes`` is a 413, by its declared length or as
    it streams in (a chunked upload that grows too large is cut off)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        too_large = f"request body over {self.max_bytes} bytes"
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await error_response(413, too_large)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise ApiError(413, too_large)
            return message

        await self.app(scope, counted, send)
