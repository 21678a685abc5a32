"""Access rules, as FastAPI dependencies: which key may do what to which collection.

A key scoped to one collection cannot see another: naming it gives the same 404 as a
collection that does not exist, so names do not leak. A key that sees a collection but
lacks the role for a route (a read key trying to write) gets a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from ragline._optional import require

require("fastapi", "serve")

from fastapi import Depends, Request  # noqa: E402

from ragline.keystore import KeyRecord  # noqa: E402
from ragline.serve.errors import ApiError  # noqa: E402
from ragline.serve.service import Service  # noqa: E402
from ragline.serve.state import ServerState  # noqa: E402


def service(request: Request) -> Service:
    """The app's :class:`Service` (a FastAPI dependency)."""
    found: Service = request.app.state.service
    return found


def principal(request: Request) -> KeyRecord:
    """The key record the auth middleware resolved for this request."""
    found: KeyRecord | None = getattr(request.state, "principal", None)
    if found is None:
        raise ApiError(401, "missing API key: send the header 'Authorization: Bearer <key>'")
    return found


Principal = Annotated[KeyRecord, Depends(principal)]
Svc = Annotated[Service, Depends(service)]


def allowed(service: Service, key: KeyRecord, name: str, role: str) -> ServerState:
    """Collection ``name`` if ``key`` may act on it as ``role``; else a 404 or a 403."""
    if not key.sees(name):
        raise ApiError(404, f"no collection {name[:80]!r}")
    state = service.collections.get(name)
    if not key.allows(name, role):
        raise ApiError(403, f"this key may not {role} collection {name!r} (its role: {key.role})")
    return state


def need(role: str) -> Callable[..., Any]:
    """A dependency giving the path's collection, checked for ``role``."""

    def dependency(name: str, key: Principal, svc: Svc) -> ServerState:
        return allowed(svc, key, name, role)

    return dependency


Readable = Annotated[ServerState, Depends(need("read"))]
Writable = Annotated[ServerState, Depends(need("write"))]
Administered = Annotated[ServerState, Depends(need("admin"))]
