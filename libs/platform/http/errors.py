"""One JSON error shape for every admin API: ``{"error": code, "message": text, "details": ...}``.

Use cases raise a :class:`~libs.platform.refusals.Refusal` (its kind decides the status);
routers raise :class:`ApiError` for what only HTTP knows (a missing parameter, a caller's
facility); validation errors and unexpected exceptions are turned into the same shape (never
a stack trace, never a 500 for input the client could have got right).
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from libs.events.outbox.staging import RecordTooLarge
from libs.platform.http.idempotency import KeyInUse
from libs.platform.refusals import Refusal

__all__ = ["ApiError", "install_error_handlers"]

log = structlog.get_logger("http")

_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    503: "unavailable",
}


class ApiError(Exception):
    """An error the client should see, with its HTTP status and a stable code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": message}
    if details is not None:
        body["details"] = jsonable_encoder(details)
    return body


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), exc.status, headers=exc.headers
        )

    @app.exception_handler(Refusal)
    async def _refused(_: Request, exc: Refusal) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return JSONResponse(
            error_body(_CODES.get(exc.status_code, "error"), message),
            exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type")}
            for err in exc.errors()
        ]
        return JSONResponse(error_body("invalid_input", "the request is not valid", details), 422)

    @app.exception_handler(RecordTooLarge)
    async def _too_large(_: Request, exc: RecordTooLarge) -> JSONResponse:
        # What the request would publish could never be sent: nothing was written.
        return JSONResponse(error_body("too_large_to_publish", exc.detail), 413)

    @app.exception_handler(KeyInUse)
    async def _key_in_use(_: Request, exc: KeyInUse) -> JSONResponse:
        message = "another request with this Idempotency-Key was applied first"
        return JSONResponse(error_body("idempotency_key_in_use", message), 409)

    @app.exception_handler(DataError)
    async def _refused_value(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value the request carried (a NUL character in text, a
        # number out of its column's range): the client's input, and nothing was written.
        log.warning("database refused a value", path=request.url.path, error=str(exc.orig)[:300])
        message = f"the database refused a value: {str(exc.orig).splitlines()[0][:200]}"
        return JSONResponse(error_body("invalid_value", message), 422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path, error=repr(exc)[:500])
        return JSONResponse(error_body("internal_error", "internal error"), 500)
