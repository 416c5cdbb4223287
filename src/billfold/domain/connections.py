"""Connections: one login of one end user at one institution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from billfold.domain.errors import ErrorCode


class ConnectionStatus(StrEnum):
    PENDING = "pending"  # first link still running
    ACTIVE = "active"
    NEEDS_RELINK = "needs_relink"  # login no longer works without the person
    ERROR = "error"  # last sync failed for a reason that may go away by itself
    FAILED = "failed"  # first link never succeeded


# Failures that mean the stored login will not work again until the user acts.
RELINK_CODES = frozenset({ErrorCode.INVALID_CREDENTIALS, ErrorCode.NEEDS_RELINK})


@dataclass(frozen=True, slots=True)
class Connection:
    id: str
    client_id: str
    user_id: str
    institution_id: str
    status: ConnectionStatus
    error_code: ErrorCode | None
    created_at: datetime
    updated_at: datetime
    last_synced_at: datetime | None
    # The login name is shown back to clients (Sophtron's UserName); the password never is.
    username: str | None = None
    # Background refresh schedule (None: off).
    refresh_every_hours: int | None = 24
    next_refresh_at: datetime | None = None


def status_after_failure(connection: Connection, code: ErrorCode) -> ConnectionStatus:
    """Where a failed job leaves its connection."""
    if connection.last_synced_at is None:
        return ConnectionStatus.FAILED
    if code in RELINK_CODES:
        return ConnectionStatus.NEEDS_RELINK
    return ConnectionStatus.ERROR
