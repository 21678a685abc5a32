"""The HTTP API over one knowledge base, as a FastAPI app (``ragline serve`` runs it).

Routes::

    GET  /health                 liveness, never needs a key
    GET  /info                   KnowledgeBase.info(), plus the server's generator
    POST /search                 {query, k, mode, filters, fusion} -> {"query", "hits": [...]}
    POST /ask                    {question, mode, k, hops, generator, ...} -> Answer.to_dict()
    GET  /v1/models              OpenAI-compatible (see ragline.serve.openai)
    POST /v1/chat/completions    OpenAI-compatible, whole or streamed, by the server's generator

The native routes are in :mod:`ragline.serve.routes`, the OpenAI-compatible ones in
:mod:`ragline.serve.openai`; this module assembles the app. One KnowledgeBase is opened at
startup and closed at shutdown; its calls block, so the routes are plain functions that
FastAPI runs in its thread pool. Every error is JSON,
``{"error": {"message": <one line>, "type": ..., "code": <status>}}``: 400 for a request
that cannot be served as asked, 401 for a missing or wrong key, 404 for an unknown route,
500 when the generator (or anything else on the server) fails; never a traceback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from ragline._optional import require

require("fastapi", "serve")

from fastapi import FastAPI, Request  # noqa: E402
from fastapi.concurrency import run_in_threadpool  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from starlette.exceptions import HTTPException as StarletteHTTPException  # noqa: E402

from ragline.errors import RaglineError  # noqa: E402
from ragline.generate.base import Generator  # noqa: E402
from ragline.kb import CONFIG_FILE  # noqa: E402
from ragline.registry import Registry  # noqa: E402
from ragline.serve.auth import BearerAuth  # noqa: E402
from ragline.serve.errors import ApiError, error_response  # noqa: E402
from ragline.serve.models import ErrorResponse  # noqa: E402
from ragline.serve.state import ServerState  # noqa: E402

ROUTERS = Registry(
    "router",
    {
        "api": "ragline.serve.routes:router",
        "openai": "ragline.serve.openai:router",
    },
)
"""The routes an app serves, each an APIRouter in its own module (a web page would be one
more module and one more line here)."""


def _validation_message(error: RequestValidationError) -> str:
    problems = error.errors()
    if not problems:
        return "invalid request"
    first = problems[0]
    if first.get("type") == "json_invalid":
        return f"request body is not valid JSON: {first.get('ctx', {}).get('error', '')}".strip()
    loc = [str(part) for part in first.get("loc", ()) if part != "body"] or ["body"]
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return f"{'.'.join(loc)}: {first.get('msg', 'invalid')}{more}"


def create_app(
    kb_path: str | Path, *, generator: Generator | str | None = None, api_key: str | None = None
) -> FastAPI:
    """The API over the knowledge base at ``kb_path``.

    ``generator`` overrides the knowledge base's configured generator (a name such as
    ``"extractive"``, or a Generator object); ``api_key``, when given, is required as
    ``Authorization: Bearer <key>`` on every route but ``/health``. The knowledge base is
    opened when the app starts (or by ``app.state.ragline.open()``) and closed when it stops.
    """
    path = Path(kb_path)
    if not (path / CONFIG_FILE).is_file():
        raise RaglineError(f"{path}: not a ragline knowledge base (no {CONFIG_FILE})")
    state = ServerState(path, generator)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(state.open)
        try:
            yield
        finally:
            await run_in_threadpool(state.close)

    from ragline import __version__

    app = FastAPI(
        title="ragline",
        version=__version__,
        summary="Search and cited answers over a ragline knowledge base.",
        lifespan=lifespan,
        responses={400: {"model": ErrorResponse}, 500: {"model": ErrorResponse}},
    )
    app.state.ragline = state
    for name in ROUTERS.names():
        app.include_router(ROUTERS.load(name))

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.message)

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(400, _validation_message(exc))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        message = str(exc.detail)
        if exc.status_code in (404, 405):
            message = f"{message}: {request.method} {request.url.path}"
        return error_response(exc.status_code, message, getattr(exc, "headers", None))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    if api_key:
        app.add_middleware(BearerAuth, key=api_key)
    return app
