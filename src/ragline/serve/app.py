"""The HTTP API over one knowledge base, as a FastAPI app (``ragline serve`` runs it).

Routes::

    GET  /health                 liveness, never needs a key
    GET  /info                   KnowledgeBase.info(), plus the server's generator
    POST /search                 {query, k, mode, filters, fusion} -> {"query", "hits": [...]}
    POST /ask                    {question, mode, k, hops, generator, ...} -> Answer.to_dict()
    GET  /v1/models              OpenAI-compatible (see ragline.serve.openai)
    POST /v1/chat/completions    OpenAI-compatible, whole or streamed, by the server's generator

One KnowledgeBase is opened at startup and closed at shutdown; its calls block, so the
routes are plain functions that FastAPI runs in its thread pool. Every error is JSON,
``{"error": {"message": <one line>, "type": ..., "code": <status>}}``: 400 for a request
that cannot be served as asked, 401 for a missing or wrong key, 404 for an unknown route,
500 when the generator (or anything else on the server) fails; never a traceback.
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

from ragline._optional import require

require("fastapi", "serve")

from fastapi import APIRouter, Depends, FastAPI, Request  # noqa: E402
from fastapi.concurrency import run_in_threadpool  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from starlette.datastructures import Headers  # noqa: E402
from starlette.exceptions import HTTPException as StarletteHTTPException  # noqa: E402
from starlette.types import ASGIApp, Receive, Scope, Send  # noqa: E402

from ragline.errors import RaglineError  # noqa: E402
from ragline.generate.base import Generator  # noqa: E402
from ragline.kb import CONFIG_FILE, KnowledgeBase  # noqa: E402
from ragline.serve.models import (  # noqa: E402
    AskRequest,
    ErrorResponse,
    FilterSpec,
    Health,
    SearchRequest,
    SearchResponse,
)

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})
"""Routes that answer without a key even when the server has one."""

_MAX_MESSAGE = 300
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
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


class ServerState:
    """The knowledge base a server answers from, and the generators it may use.

    ``generator`` is the server's own (a name, or a Generator object); None means the
    knowledge base's configured one. ``extractive`` is built over the knowledge base's own
    encoder, which is already loaded, so it costs no second model.
    """

    def __init__(self, kb_path: Path, generator: Generator | str | None = None) -> None:
        self.kb_path = kb_path
        self._generator = generator
        self._kb: KnowledgeBase | None = None
        self._lock = threading.Lock()
        self._generators: dict[str, Generator] = {}

    def open(self) -> KnowledgeBase:
        """Open the knowledge base (once; later calls return the same instance)."""
        with self._lock:
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
        if name == "extractive":
            from ragline.generate.extractive import ExtractiveGenerator

            return ExtractiveGenerator(encoder=kb.encoder)
        from ragline.generate.registry import make_generator

        return make_generator(replace(kb.config.generate, generator=name))


def server_state(request: Request) -> ServerState:
    """The ServerState of the app handling ``request`` (a FastAPI dependency)."""
    state: ServerState = request.app.state.ragline
    return state


State = Annotated[ServerState, Depends(server_state)]


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


def _filters(spec: FilterSpec | None) -> dict[str, Any] | None:
    """Filters from a request: a dict as the library takes it, or CLI-style strings."""
    if not spec:
        return None
    if isinstance(spec, list):
        from ragline.index.filters import parse_filters

        try:
            return parse_filters(spec)
        except RaglineError as e:
            raise ApiError(400, str(e)) from e
    from ragline.index.filters import to_sql

    try:
        to_sql(spec)  # refuses unknown operators before any work is done
    except RaglineError as e:
        raise ApiError(400, str(e)) from e
    return dict(spec)


router = APIRouter()


@router.get("/health", response_model=Health)
def health() -> dict[str, str]:
    """Liveness: answers whenever the server is up, without a key."""
    return {"status": "ok"}


@router.get("/info")
def info(state: State) -> dict[str, Any]:
    """KnowledgeBase.info() (counts, embedder, index, config) and the server's generator."""
    return {**state.kb.info(), "generator": state.generator_name}


@router.post("/search", response_model=SearchResponse)
def search(body: SearchRequest, state: State) -> dict[str, Any]:
    """Top-k hits, in the shape of ``ragline search --json``."""
    filters = _filters(body.filters)
    try:
        hits = state.kb.search(
            body.query, k=body.k, mode=body.mode, fusion=body.fusion, filters=filters
        )
    except RaglineError as e:
        raise ApiError(400, str(e)) from e
    return {"query": body.query, "hits": [hit.to_dict() for hit in hits]}


@router.post("/ask")
def ask(body: AskRequest, state: State) -> dict[str, Any]:
    """A cited answer, in the shape of ``ragline ask --json``."""
    generator = state.generator(body.generator)
    filters = _filters(body.filters)
    if body.mode in ("sequence", "token"):
        from ragline.generate.scoring import TokenScorer

        if not isinstance(generator, TokenScorer):
            raise ApiError(
                400,
                f"mode {body.mode!r} needs token probabilities; generator "
                f"{generator.name!r} has none (use mode plain)",
            )
    options: dict[str, Any] = {}
    if body.max_new_tokens:
        options["max_new_tokens"] = body.max_new_tokens
    if body.follow_up:
        options["follow_up"] = body.follow_up
    if body.answer_style:
        options["answer_style"] = body.answer_style
    try:
        answer = state.kb.ask(
            body.question,
            generator=generator,
            mode=body.mode,
            k=body.k,
            hops=body.hops,
            filters=filters,
            search_mode=body.search_mode,
            **options,
        )
    except Exception as e:  # noqa: BLE001 - the request was validated: what fails is ours
        raise failure(e, "answering") from e
    return answer.to_dict()


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
    from ragline.serve.openai import router as openai_router

    app = FastAPI(
        title="ragline",
        version=__version__,
        summary="Search and cited answers over a ragline knowledge base.",
        lifespan=lifespan,
        responses={400: {"model": ErrorResponse}, 500: {"model": ErrorResponse}},
    )
    app.state.ragline = state
    app.include_router(router)
    app.include_router(openai_router)

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
