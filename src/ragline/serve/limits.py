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
        seen, over, answered = 0, False, False

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                over = True
                raise ApiError(413, too_large)
            return message

        async def replying(message: Message) -> None:
            # Whatever the app made of the cut-off body (often a 400), the answer is a 413.
            nonlocal answered
            if not over:
                await send(message)
            elif not answered:
                answered = True
                await error_response(413, too_large)(scope, receive, send)

        await self.app(scope, counted, replying)
