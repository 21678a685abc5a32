"""``GET /metrics``: Prometheus' text format (any valid key may read it)."""

from __future__ import annotations

from ragline._optional import require

require("fastapi", "serve")

from fastapi import APIRouter, Request  # noqa: E402
from fastapi.responses import Response  # noqa: E402

from ragline.serve.access import Principal  # noqa: E402

router = APIRouter(tags=["service"])


@router.get("/metrics", response_class=Response)
def metrics(request: Request, key: Principal) -> Response:
    """Requests, latency per route, documents and chunks per open collection, jobs."""
    body = request.app.state.metrics.render()
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")
