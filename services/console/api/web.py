"""The console's answers for browsers: sign-in redirects and Chinese error pages instead of
the admin APIs' JSON, and its own static assets (nothing from a CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from libs.platform.clock import CountyClock
from libs.platform.http.errors import error_body
from services.console.adapters.pages import SECURITY_HEADERS, Pages
from services.console.adapters.services import ServiceRefused
from services.console.api.deps import Forbidden, NotSignedIn, Unfit

__all__ = ["assets", "install"]

STATIC = Path(__file__).resolve().parents[1] / "static"
TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}

assets = APIRouter(tags=["console assets"], include_in_schema=False)


@assets.get("/static/{name}")
def static_file(name: str) -> Response:
    path = STATIC / name
    if "/" in name or path.suffix not in TYPES or not path.is_file():
        return Response("未找到", status_code=404, media_type="text/plain; charset=utf-8")
    headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
    return Response(path.read_bytes(), media_type=TYPES[path.suffix], headers=headers)


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    pages = Pages(CountyClock())

    def error_page(request: Request, status: int, message: str) -> Response:
        person = getattr(request.state, "person", None)
        return pages.render("error.html", status, person=person, message=message)

    @app.exception_handler(NotSignedIn)
    async def _sign_in_first(request: Request, exc: NotSignedIn) -> Response:
        if request.headers.get("x-console-live"):
            return Response(status_code=401)  # the page's poller reloads into the sign-in
        headers = {**SECURITY_HEADERS, "Location": f"/sign-in?next={exc.back_to}"}
        return Response(status_code=303, headers=headers)

    @app.exception_handler(Unfit)
    async def _unfit(request: Request, exc: Unfit) -> Response:
        return error_page(request, 422, str(exc))

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return error_page(request, 403, str(exc))

    @app.exception_handler(ServiceRefused)
    async def _refused(request: Request, exc: ServiceRefused) -> Response:
        status = exc.status if exc.status in (403, 404, 409, 422) else 502
        return error_page(request, status, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _wants_html(request):
            return error_page(request, 422, "提交的内容不完整或格式有误，请返回修改")
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return JSONResponse(error_body("invalid_input", "the request is not valid", details), 422)
