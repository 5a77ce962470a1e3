"""The interactive API page (``/docs``) served from the service itself.

FastAPI's default page loads Swagger UI's script and stylesheet from a CDN: without internet
(a county's intranet, mainland China's unreliable routes to it) the page stays blank. The
files come from the ``swagger-ui-py`` package instead (Swagger UI 5, which reads the
OpenAPI 3.1 documents FastAPI writes) and are served under ``/docs/static``.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["DOCS_STATIC", "install_api_docs"]

#: Swagger UI's distribution files, as the package ships them.
SWAGGER_UI_FILES = str(files("swagger_ui") / "static")
DOCS_STATIC = "/docs/static"


def install_api_docs(app: FastAPI) -> None:
    """``/docs`` and its files on ``app`` (created with ``docs_url=None``)."""
    app.mount(DOCS_STATIC, StaticFiles(directory=SWAGGER_UI_FILES), name="swagger-ui")
    redirect = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger_page() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC}/favicon-32x32.png",
            oauth2_redirect_url=redirect,
        )

    @app.get(redirect, include_in_schema=False)
    def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
