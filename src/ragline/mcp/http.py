"""The MCP server inside ``ragline serve``: streamable HTTP at ``/mcp``, under the service's
own keys and collection scoping (:mod:`ragline.serve.access`).

The key middleware has resolved each request's key before the MCP transport sees it; a
request's gate is that key: it lists the collections the key sees, offers the write tools
only to a key that may write to one of them, and refuses a collection it may not see as
if the collection did not exist. The transport is stateless (every POST carries its own
key, and nothing is kept between requests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ragline._optional import is_available, require

require("fastapi", "serve")

from fastapi import FastAPI  # noqa: E402

from ragline.errors import RaglineError  # noqa: E402
from ragline.generate.base import Generator  # noqa: E402
from ragline.keystore import KeyRecord  # noqa: E402
from ragline.mcp.gate import only_collection  # noqa: E402
from ragline.mcp.tools import Target  # noqa: E402
from ragline.serve.access import allowed  # noqa: E402
from ragline.serve.errors import ApiError  # noqa: E402
from ragline.serve.service import Service  # noqa: E402
from ragline.serve.state import ServerState  # noqa: E402

PATH = "/mcp"


class KeyGate:
    """What one API key may do, as a :class:`~ragline.mcp.gate.Gate`."""

    def __init__(self, service: Service, key: KeyRecord) -> None:
        self.service = service
        self.key = key

    def collections(self) -> list[str]:
        return [name for name in self.service.collections.names() if self.key.sees(name)]

    def may_write(self) -> bool:
        return any(self.key.allows(name, "write") for name in self.collections())

    def target(self, collection: str | None, role: str) -> Target:
        name = collection or only_collection(self.collections())
        try:
            state = allowed(self.service, self.key, name, role)
        except ApiError as e:
            raise RaglineError(e.message) from e
        return Target(state.kb, lambda: _generator(state))


def _generator(state: ServerState) -> Generator:
    """The server's generator for this collection; a failure to make it as a RaglineError."""
    try:
        return state.generator()
    except ApiError as e:
        raise RaglineError(e.message) from e


def _key(ctx: Any) -> KeyRecord:
    """The key the middleware resolved for the HTTP request behind ``ctx``."""
    key: KeyRecord | None = getattr(ctx.request.state, "principal", None)
    if key is None:  # the middleware answers 401 first; this is a guard, not a path
        raise RaglineError("missing API key")
    return key


def _named(route: Any, endpoint: Any) -> Any:
    """``endpoint`` with its route put on the request scope, as FastAPI's routes do, so the
    access log and the metrics name it ``/mcp``."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope["route"] = route
        await endpoint(scope, receive, send)

    return app


def mount_mcp(app: FastAPI, *, loopback_only: bool = False) -> None:
    """Serve MCP at ``/mcp`` of ``app`` (when the ``mcp`` package is installed), its
    session manager running for the app's lifetime. ``loopback_only`` (a server without
    keys) turns on the SDK's DNS-rebinding protection: only loopback Host and Origin."""
    if not is_available("mcp"):
        return
    from mcp.server.transport_security import TransportSecuritySettings

    from ragline.mcp.server import build_server

    service: Service = app.state.service
    server = build_server(lambda ctx: KeyGate(service, _key(ctx)))
    # None: the SDK's loopback-only defaults; with keys, any Host may call (a key is needed)
    security = (
        None if loopback_only else TransportSecuritySettings(enable_dns_rebinding_protection=False)
    )

    def transport() -> list[Any]:
        """Routes over a new session manager (``server.session_manager`` from then on)."""
        return list(
            server.streamable_http_app(
                streamable_http_path=PATH,
                stateless_http=True,
                json_response=True,
                transport_security=security,
            ).routes
        )

    routes = transport()
    endpoints = [route.app for route in routes if hasattr(route.app, "session_manager")]
    for route in routes:
        route.app = _named(route, route.app)
    app.router.routes.extend(routes)
    outer = app.router.lifespan_context
    runs = 0

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        nonlocal runs
        if runs:  # a session manager runs once; an app may start again (tests start it twice)
            transport()
            for endpoint in endpoints:
                endpoint.session_manager = server.session_manager
        runs += 1
        async with server.session_manager.run(), outer(application) as state:
            yield state

    app.router.lifespan_context = lifespan
