"""The one list of failure codes, and the exceptions services raise.

Every face (native API, dialects, widget, CLI) maps these to its own shape in one
table; nothing below the API layer knows about HTTP statuses.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Why a job failed or a connection is unhealthy. Stable machine codes."""

    INVALID_CREDENTIALS = "invalid_credentials"
    INVALID_ANSWER = "invalid_answer"
    ANSWER_TIMEOUT = "answer_timeout"
    NEEDS_RELINK = "needs_relink"
    INSTITUTION_UNAVAILABLE = "institution_unavailable"
    REFRESH_NOT_ALLOWED = "refresh_not_allowed"
    NO_ACCOUNTS = "no_accounts"
    ACTION_REQUIRED = "action_required"
    JOB_TIMEOUT = "job_timeout"
    INTERRUPTED = "interrupted"
    UNKNOWN = "unknown"


ERROR_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.INVALID_CREDENTIALS: "The institution did not accept the login.",
    ErrorCode.INVALID_ANSWER: "The institution did not accept the answer.",
    ErrorCode.ANSWER_TIMEOUT: "No answer arrived before the challenge expired.",
    ErrorCode.NEEDS_RELINK: "The login is no longer valid; the user must link again.",
    ErrorCode.INSTITUTION_UNAVAILABLE: "The institution is unavailable; try again later.",
    ErrorCode.REFRESH_NOT_ALLOWED: "The institution does not allow a refresh of this login now.",
    ErrorCode.NO_ACCOUNTS: "The login has no accounts that can be linked.",
    ErrorCode.ACTION_REQUIRED: "The institution wants the user to act on its own site first.",
    ErrorCode.JOB_TIMEOUT: "The job ran past its deadline.",
    ErrorCode.INTERRUPTED: "The service stopped while the job ran and it could not be resumed.",
    ErrorCode.UNKNOWN: "The institution failed in an unexpected way.",
}


class BillfoldError(Exception):
    """Base of every error a service raises on purpose: a stable code and a human message."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(BillfoldError):
    """The object does not exist, or belongs to another client (indistinguishable on purpose)."""

    code = "not_found"


class InvalidInput(BillfoldError):
    """The request is well-formed but its values are not acceptable."""

    code = "invalid_request"


class Conflict(BillfoldError):
    """The object is not in a state that allows the operation."""

    code = "conflict"


class Unauthorized(BillfoldError):
    """The caller could not be identified."""

    code = "unauthorized"


class Forbidden(BillfoldError):
    """The caller is known but may not do this."""

    code = "forbidden"


class ConnectorError(Exception):
    """Raised by a connector to end a job with one of the codes of `ErrorCode`."""

    def __init__(self, code: ErrorCode, message: str | None = None) -> None:
        super().__init__(message or ERROR_MESSAGES[code])
        self.code = code
        self.message = message or ERROR_MESSAGES[code]
