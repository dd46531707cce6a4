"""The interactive API docs at /api/docs, served from local files so they work offline.

FastAPI's default page loads Swagger UI from a CDN; we serve `swagger-ui-dist` from npm (installed
by the bootstrap) instead, and fall back to the CDN only when it is missing.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_DIST = Path(__file__).resolve().parents[2] / "node_modules" / "swagger-ui-dist"
STATIC_PREFIX = "/api/docs-static"


def install_docs(app: FastAPI, *, title: str, openapi_url: str) -> None:
    local = (SWAGGER_DIST / "swagger-ui-bundle.js").exists()
    if local:
        app.mount(STATIC_PREFIX, StaticFiles(directory=SWAGGER_DIST), name="swagger-ui")

    @app.get("/api/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        if not local:
            return get_swagger_ui_html(openapi_url=openapi_url, title=title)
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{STATIC_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_PREFIX}/favicon-32x32.png",
        )
