"""The Synapse error envelope, list envelopes and the one table of Synapse codes.

Every response is a JSON object; `error_code` and `http_code` are strings and the
HTTP status equals `int(http_code)` (spec §3, §10). Messages never echo request
values, so a password sent in the wrong field cannot come back in an error.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
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

log = logging.getLogger("billfold.api.synapse")

TRUE_FLAGS = frozenset({"yes", "true", "1"})
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


class SynapseError(Exception):
    """An error answered with the §10 envelope: HTTP status, Synapse code, English text, slug."""

    def __init__(self, status: int, error_code: str, en: str, code: str) -> None:
        super().__init__(en)
        self.status = status
        self.error_code = error_code
        self.en = en
        self.code = code


def payload_error(en: str, code: str = "invalid_payload") -> SynapseError:
    return SynapseError(400, "200", en, code)


def not_found(en: str = "Object not found.", code: str = "not_found") -> SynapseError:
    return SynapseError(404, "404", en, code)


def invalid_oauth_key() -> SynapseError:
    return SynapseError(401, "110", "Invalid/expired oauth_key.", "invalid_oauth_key")


def incorrect_values(en: str, code: str) -> SynapseError:
    return SynapseError(409, "400", en, code)


def error_body(exc: SynapseError) -> dict[str, Any]:
    return {
        "error": {"en": exc.en, "code": exc.code},
        "error_code": exc.error_code,
        "http_code": str(exc.status),
        "success": False,
    }


def error_response(exc: SynapseError) -> JSONResponse:
    return JSONResponse(error_body(exc), status_code=exc.status)


def list_envelope(
    key: str,
    count_key: str,
    items: Sequence[dict[str, Any]],
    *,
    page: int = 1,
    per_page: int | None = None,
    total: int | None = None,
) -> dict[str, Any]:
    """`{error_code, http_code, success, page, page_count, limit, <count_key>, <key>}`."""
    total = len(items) if total is None else total
    limit = per_page if per_page is not None else len(items)
    page_count = max(1, -(-total // limit)) if limit else 1
    return {
        "error_code": "0",
        "http_code": "200",
        "success": True,
        "page": page,
        "page_count": page_count,
        "limit": limit,
        count_key: total,
        key: list(items),
    }


def flag(value: str | None) -> bool:
    """Synapse boolean query flags: yes/YES/true/True/1 are true, anything else false."""
    return value is not None and value.strip().lower() in TRUE_FLAGS


def paging(page: str | None, per_page: str | None) -> tuple[int, int]:
    """1-based `page` and `per_page` (default 20, at most 100); bad values are a payload error."""
    try:
        number = int(page) if page not in (None, "") else 1
        size = int(per_page) if per_page not in (None, "") else DEFAULT_PER_PAGE
    except ValueError as exc:
        raise payload_error("page and per_page must be integers.", "invalid_paging") from exc
    if number < 1 or not 1 <= size <= MAX_PER_PAGE:
        raise payload_error(
            f"page must be 1 or more and per_page 1 to {MAX_PER_PAGE}.", "invalid_paging"
        )
    return number, size


def from_domain(exc: BillfoldError) -> SynapseError:
    """The Synapse row for a domain error a service raised."""
    if isinstance(exc, NotFound):
        return not_found(exc.message, exc.code)
    if isinstance(exc, InvalidInput):
        return payload_error(exc.message, exc.code)
    if isinstance(exc, Unauthorized):
        return SynapseError(401, "100", exc.message, exc.code)
    if isinstance(exc, Forbidden):
        return SynapseError(401, "300", exc.message, exc.code)
    if isinstance(exc, Conflict):
        return SynapseError(409, "400", exc.message, exc.code)
    return SynapseError(500, "500", "Something went wrong on our side.", "internal_error")


_STATUS_ROWS = {
    401: ("110", "unauthorized"),
    404: ("404", "not_found"),
    405: ("410", "method_not_allowed"),
    429: ("429", "too_many_requests"),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SynapseError)
    async def _synapse(_: Request, exc: SynapseError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(BillfoldError)
    async def _domain(_: Request, exc: BillfoldError) -> JSONResponse:
        return error_response(from_domain(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(payload_error("The request is not valid.", "invalid_request"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        error_code, code = _STATUS_ROWS.get(exc.status_code, ("200", "bad_request"))
        status = exc.status_code if exc.status_code in _STATUS_ROWS else 400
        en = "No such route." if exc.status_code == 404 else code.replace("_", " ").capitalize()
        return error_response(SynapseError(status, error_code, en, code))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_response(
            SynapseError(500, "500", "Something went wrong on our side.", "internal_error")
        )
