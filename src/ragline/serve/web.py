"""The web page of ``ragline serve``: ``GET /`` and its assets under ``/web/``.

The page is plain HTML, CSS and JavaScript modules shipped inside the package
(``ragline/serve/static/``), with no build step and nothing fetched from elsewhere: it
calls the collection API of the same server with the key the person types, sent as
``Authorization: Bearer``. The page and its assets answer without a key (they hold no
data); every API call still needs one. A strict Content-Security-Policy keeps the page to
its own origin.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from ragline._optional import require

require("fastapi", "serve")

from fastapi import APIRouter  # noqa: E402
from fastapi.responses import Response  # noqa: E402

from ragline.serve.errors import ApiError  # noqa: E402

ASSETS_PREFIX = "/web/"
"""Where the page's assets are served (open without a key, like ``/``)."""

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
"""Sent with the page and every asset: only this origin, never framed, revalidated."""

router = APIRouter(include_in_schema=False, tags=["web"])


def static_dir() -> Traversable:
    """The folder of the page's files inside the installed package."""
    return files("ragline.serve").joinpath("static")


@cache
def assets() -> dict[str, Traversable]:
    """The page's files by name: only these are served (never a path the client builds)."""
    return {
        item.name: item
        for item in static_dir().iterdir()
        if item.is_file() and "." + item.name.rpartition(".")[2] in MEDIA_TYPES
    }


def _asset(name: str) -> Response:
    item = assets().get(name)
    if item is None:
        raise ApiError(404, f"no web asset {name[:80]!r}")
    media_type = MEDIA_TYPES["." + name.rpartition(".")[2]]
    return Response(item.read_bytes(), media_type=media_type, headers=HEADERS)


@router.get("/")
def page() -> Response:
    """The page: collections, uploads, documents, streamed cited answers, retrieval."""
    return _asset("index.html")


@router.get(ASSETS_PREFIX + "{name}")
def asset(name: str) -> Response:
    """One of the page's scripts or style sheets."""
    return _asset(name)
