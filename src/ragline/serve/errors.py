"""Error replies of the HTTP API: one JSON shape, one line of message, never a traceback.

``{"error": {"message": <one line>, "type": ..., "code": <status>}}`` (the OpenAI error
shape, so OpenAI clients show the message).
"""

from __future__ import annotations

import logging

from ragline._optional import require

require("fastapi", "serve")

from fastapi.responses import JSONResponse  # noqa: E402

from ragline.errors import RaglineError  # noqa: E402

log = logging.getLogger(__name__)

_MAX_MESSAGE = 300
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "request_too_large",
    405: "invalid_request_error",
}


def one_line(text: object) -> str:
    """``text`` on one line, at most a few hundred characters (for error messages)."""
    line = " ".join(str(text).split())
    return line if len(line) <= _MAX_MESSAGE else line[: _MAX_MESSAGE - 1] + "…"


class ApiError(Exception):
    """An error reply: HTTP ``status`` and a one-line ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = one_line(message)


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The JSON error body every failure is reported with."""
    kind = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    body = {"error": {"message": one_line(message), "type": kind, "code": status}}
    return JSONResponse(body, status_code=status, headers=headers)


def failure(error: Exception, what: str) -> ApiError:
    """A 500 for an unexpected ``error`` while doing ``what`` (logged, no traceback sent)."""
    log.warning("%s failed: %s: %s", what, type(error).__name__, error)
    log.debug("%s failed", what, exc_info=error)
    detail = str(error) if isinstance(error, RaglineError) else f"{type(error).__name__}: {error}"
    return ApiError(500, f"{what} failed: {detail}")
