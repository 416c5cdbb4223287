"""The native error envelope and the one table from domain errors to HTTP statuses.

Body: ``{"error": {"code": "<stable machine code>", "message": "<human text>"}}``
(plus ``details`` for validation errors). Nothing here ever echoes request values,
so a password sent in the wrong field cannot come back in an error.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from billfold.domain.errors import (
    BillfoldError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
)
from billfold.statements.records import StatementError, StatementErrorCode

log = logging.getLogger("billfold.api")

STATUS_BY_ERROR: dict[type[BillfoldError], int] = {
    StatementError: 422,
    NotFound: 404,
    InvalidInput: 400,
    Conflict: 409,
    Unauthorized: 401,
    Forbidden: 403,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def error_body(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


# Codes whose HTTP status is more specific than their class's.
STATUS_BY_CODE: dict[str, int] = {StatementErrorCode.FILE_TOO_LARGE.value: 413}


def status_for(exc: BillfoldError) -> int:
    if exc.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[exc.code]
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def _validation_details(exc: RequestValidationError) -> tuple[str, str, list[dict[str, Any]]]:
    details = []
    for err in exc.errors():
        location = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        details.append({"field": location or "body", "problem": str(err.get("msg", "invalid"))})
    if any(err.get("type") == "json_invalid" for err in exc.errors()):
        return "invalid_json", "The request body is not valid JSON.", details
    summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5])
    return "invalid_request", f"The request is not valid: {summary}", details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BillfoldError)
    async def _domain(_: Request, exc: BillfoldError) -> JSONResponse:
        status = status_for(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(error_body(exc.code, exc.message), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        code, message, details = _validation_details(exc)
        return JSONResponse(error_body(code, message, details), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = str(exc.detail) if exc.detail else code.replace("_", " ")
        if exc.status_code == 404:
            message = "No such route."
        return JSONResponse(
            error_body(code, message),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return JSONResponse(
            error_body("internal_error", "Something went wrong on our side."), status_code=500
        )
