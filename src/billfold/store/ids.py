"""Identifiers and clock: lower-case GUID strings (what every dialect can carry) and UTC now."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)
