"""``/docs`` served offline: Swagger UI's files come from the app, not from a CDN.

The files are those of the ``swagger-ui-bundle`` package (part of the ``serve`` extra),
mounted at ``/docs/assets``; ``/docs``, its assets and ``/openapi.json`` need no key, so a
browser can open them.
"""

from __future__ import annotations

from ragline._optional import require

require("fastapi", "serve")

from fastapi import FastAPI  # noqa: E402
from fastapi.openapi.docs import get_swagger_ui_html  # noqa: E402
from fastapi.responses import HTMLResponse  # noqa: E402
from fastapi.staticfiles import StaticFiles  # noqa: E402

ASSETS = "/docs/assets"


def add_docs(app: FastAPI) -> None:
    """Add ``/docs`` and its assets to ``app`` (created with ``docs_url=None``)."""
    bundle = require("swagger_ui_bundle", "serve")
    app.mount(ASSETS, StaticFiles(directory=bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
