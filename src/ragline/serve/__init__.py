"""Serving: an HTTP API over a knowledge base, with OpenAI-compatible chat routes.

Needs the ``serve`` extra (FastAPI, uvicorn); importing this package does not import them.
``create_app(kb_path)`` (from :mod:`ragline.serve.app`) builds the app that
``ragline serve`` runs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `import ragline.serve` stays free of FastAPI until the app is wanted.
    if name == "create_app":
        from ragline.serve.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
