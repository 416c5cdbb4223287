"""The dialect's error envelope: `{"Message": "...", "Code": "..."}` (ASP.NET-style).

401 only for bad credentials (some clients report every 401 as "Invalid Sophtron
User ID or Access Key"), 403 for a foreign `UserID` in a body, 404 for unknown or
foreign ids, 400 for malformed input, 409 for a wrong state. Nothing here echoes a
request value, so a secret sent in the wrong field cannot come back.
"""

from __future__ import annotations

from starlette.responses import Response

from billfold.api.sophtron.wire import reply
from billfold.domain.errors import (
    BillfoldError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthorized,
)

_STATUS: dict[type[BillfoldError], int] = {
    NotFound: 404,
    InvalidInput: 400,
    Conflict: 409,
    Unauthorized: 401,
    Forbidden: 403,
}


def status_for(exc: BillfoldError) -> int:
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 400


def error_response(status: int, code: str, message: str) -> Response:
    response = reply({"Message": message, "Code": code}, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = "FIApiAUTH, Bearer"
    return response


def from_error(exc: BillfoldError) -> Response:
    return error_response(status_for(exc), exc.code, exc.message)
