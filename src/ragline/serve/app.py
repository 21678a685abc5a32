"""The HTTP API, as a FastAPI app (``ragline serve`` runs it).

Routes (``{name}`` is a collection; every route but ``/health`` and the docs needs a key)::

    GET  /                                    the web page (its files under /web/; no key)
    GET  /health                              liveness
    GET  /docs, /openapi.json                 the API, described (Swagger UI served offline)
    GET  /metrics                             Prometheus text format
    GET|POST /collections                     list (what the key sees) | create (admin)
    GET|DELETE /collections/{name}            info | delete (admin)
    POST /collections/{name}/search           {query, k, mode, filters, fusion} -> hits
    POST /collections/{name}/ask[/stream]     cited answer, whole or as server-sent events
    POST|GET /collections/{name}/documents    add as JSON (write) | list with paging
    GET|DELETE /collections/{name}/documents/{id}   text and chunk spans | delete (write)
    POST /collections/{name}/documents/delete  by ids or filter (write)
    POST /collections/{name}/uploads          multipart files -> background job (write)
    GET|DELETE /collections/{name}/jobs/{id}  progress | cancel (write)
    GET /jobs, GET|DELETE /jobs/{id}          the same, across the collections a key sees
    GET  /v1/models, POST /v1/chat/completions, POST /v1/embeddings   OpenAI-compatible
    GET  /info, POST /search, POST /ask       the one knowledge base of a ``--kb`` server
    POST /mcp                                 MCP over streamable HTTP (:mod:`ragline.mcp.http`)

Each group of routes is an APIRouter in its own module (:data:`ROUTERS`); this module
assembles the app: routers, error handlers, and the middleware for keys
(:mod:`~ragline.serve.auth`), body size (:mod:`~ragline.serve.limits`), CORS and the
access log (:mod:`~ragline.serve.metrics`). Knowledge-base calls block, so the routes are
plain functions that FastAPI runs in its thread pool. Every error is JSON,
``{"error": {"message": <one line>, "type": ..., "code": <status>}}``: 400 for a request
that cannot be served as asked, 401 for a missing or wrong key, 403 for a key without the
role, 404 for what does not exist or the key may not see, 413 for a body too large, 500
when the generator (or anything else on the server) fails; never a traceback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ragline._optional import require

require("fastapi", "serve")

from fastapi import FastAPI, Request  # noqa: E402
from fastapi.concurrency import run_in_threadpool  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.middleware.cors import CORSMiddleware  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from starlette.exceptions import HTTPException as StarletteHTTPException  # noqa: E402

from ragline.errors import RaglineError  # noqa: E402
from ragline.generate.base import Generator  # noqa: E402
from ragline.keystore import KEYS_FILE, KeyStore  # noqa: E402
from ragline.mcp.http import mount_mcp  # noqa: E402
from ragline.registry import Registry  # noqa: E402
from ragline.serve.auth import KeyAuth, Resolver, shared_key, stored_keys  # noqa: E402
from ragline.serve.collections import Collections, check_sources  # noqa: E402
from ragline.serve.docs_ui import add_docs  # noqa: E402
from ragline.serve.errors import ApiError, error_response, failure  # noqa: E402
from ragline.serve.limits import BodyLimit  # noqa: E402
from ragline.serve.metrics import AccessLog, Metrics  # noqa: E402
from ragline.serve.models import ErrorResponse  # noqa: E402
from ragline.serve.service import Limits, Service  # noqa: E402

ROUTERS = Registry(
    "router",
    {
        "api": "ragline.serve.routes:router",
        "collections": "ragline.serve.collection_api:router",
        "documents": "ragline.serve.document_api:router",
        "jobs": "ragline.serve.job_api:router",
        "openai": "ragline.serve.openai:router",
        "metrics": "ragline.serve.metrics_api:router",
        "web": "ragline.serve.web:router",
    },
)
"""The routes an app serves, each an APIRouter in its own module (the web page is one: a
module and this one line)."""


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


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The request cannot be served as asked"},
    401: {"model": ErrorResponse, "description": "Missing or invalid API key"},
    403: {"model": ErrorResponse, "description": "The key lacks the role this needs"},
    404: {"model": ErrorResponse, "description": "No such thing, or the key may not see it"},
    413: {"model": ErrorResponse, "description": "Request body over the server's limit"},
    "4XX": {"model": ErrorResponse, "description": "Another client error (405, 409, ...)"},
    500: {"model": ErrorResponse, "description": "The server failed (a generator, a disk)"},
}
"""The error replies any route may give, declared in the API's schema (validation errors
are 400s, never FastAPI's 422); a route adds those particular to it (409 on create)."""


def create_app(
    kb_path: str | Path | None = None,
    *,
    data: str | Path | None = None,
    generator: Generator | str | None = None,
    api_key: str | None = None,
    no_auth: bool = False,
    cors_origins: Sequence[str] = (),
    limits: Limits | None = None,
    read_only: bool = False,
) -> FastAPI:
    """The API over the knowledge base at ``kb_path``, or over the collections in ``data``.

    ``generator`` overrides the knowledge bases' configured generator (a name such as
    ``"extractive"``, or a Generator object). With ``data``, every route but ``/health``
    (and the API docs) needs a key from the data directory's key store
    (:mod:`ragline.keystore`) unless ``no_auth``. With ``kb_path``, ``api_key``, when
    given, is required as ``Authorization: Bearer <key>``. ``cors_origins`` lists the
    origins browsers may call from (none by default). Knowledge bases open on first use,
    or when the app starts for ``kb_path``, and close when it stops. ``read_only`` serves
    ``kb_path`` as a search node: from its Milvus collections, without a catalog
    (:mod:`~ragline.serve.search_node`).
    """
    collections = _collections(kb_path, data, generator, read_only)
    service = Service(collections, limits or Limits())
    resolve = _resolver(data, api_key, no_auth)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.ragline is not None:
            await run_in_threadpool(app.state.ragline.open)
        try:
            yield
        finally:
            await run_in_threadpool(collections.close)

    from ragline import __version__

    app = FastAPI(
        title="ragline",
        version=__version__,
        summary="Collections, search and cited answers over ragline knowledge bases.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    app.state.service = service
    app.state.ragline = collections.get(collections.single) if collections.single else None
    app.state.metrics = Metrics(service)
    for name in ROUTERS.names():
        app.include_router(ROUTERS.load(name))
    add_docs(app)
    mount_mcp(app, loopback_only=resolve is None)
    _handle_errors(app)
    app.add_middleware(KeyAuth, resolve=resolve)
    app.add_middleware(BodyLimit, max_bytes=service.limits.max_request_bytes)
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(AccessLog, metrics=app.state.metrics)
    return app


def _collections(
    kb_path: str | Path | None,
    data: str | Path | None,
    generator: Generator | str | None,
    read_only: bool,
) -> Collections:
    check_sources(kb_path, data)
    if data is not None:
        if read_only:
            raise RaglineError("--read-only serves one knowledge base (--kb), not --data")
        return Collections(data=Path(data), generator=generator)
    return Collections(kb=Path(str(kb_path)), generator=generator, read_only=read_only)


def _resolver(data: str | Path | None, api_key: str | None, no_auth: bool) -> Resolver | None:
    if no_auth:
        return None
    if data is not None:
        return stored_keys(KeyStore(Path(data) / KEYS_FILE))
    return shared_key(api_key) if api_key else None


def _handle_errors(app: FastAPI) -> None:
    """Every error as the one-line JSON shape."""

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

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        error = failure(exc, f"{request.method} {request.url.path}")
        return error_response(error.status, error.message)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)  # anything else: the JSON 500, logged
