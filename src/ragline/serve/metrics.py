"""Prometheus metrics and the access log: one line and one observation per request.

Each app has its own registry (so several apps in one process do not collide). The log
line names the method, the route template (not the raw path, so ids do not explode the
label space), the status, the milliseconds and the key's id, never the key.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ragline._optional import require

require("fastapi", "serve")
prometheus = require("prometheus_client", "serve")

from starlette.types import ASGIApp, Message, Receive, Scope, Send  # noqa: E402

from ragline.serve.service import Service  # noqa: E402

access_log = logging.getLogger("ragline.serve.access")


class Metrics:
    """The counters and histograms of one app, and the gauges read when scraped."""

    def __init__(self, service: Service) -> None:
        self.registry = prometheus.CollectorRegistry()
        self.requests = prometheus.Counter(
            "ragline_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = prometheus.Histogram(
            "ragline_request_seconds", "Request latency", ["route"], registry=self.registry
        )
        self.documents = prometheus.Gauge(
            "ragline_documents",
            "Documents per open collection",
            ["collection"],
            registry=self.registry,
        )
        self.chunks = prometheus.Gauge(
            "ragline_chunks", "Chunks per open collection", ["collection"], registry=self.registry
        )
        self.jobs = prometheus.Gauge(
            "ragline_jobs_running", "Upload jobs running", registry=self.registry
        )
        self.service = service

    def render(self) -> bytes:
        """The metrics in Prometheus' text format, with the gauges read now."""
        self.documents.clear()  # a deleted collection is no longer reported
        self.chunks.clear()
        for name, state in self.service.collections.opened():
            documents, chunks = state.kb.catalog.counts()
            self.documents.labels(name).set(documents)
            self.chunks.labels(name).set(chunks)
        self.jobs.set(self.service.jobs.counts())
        data: bytes = prometheus.generate_latest(self.registry)
        return data


def _route(scope: Scope) -> str:
    route: Any = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


class AccessLog:
    """ASGI middleware: observe and log every request once it has answered."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            route = _route(scope)
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(route).observe(seconds)
            principal = scope.get("state", {}).get("principal")
            access_log.info(
                "%s %s %d %.1fms key=%s",
                scope["method"],
                route,
                status,
                seconds * 1000,
                getattr(principal, "id", "-"),
            )
