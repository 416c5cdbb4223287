"""Opaque cursors for keyset pagination."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

from billfold.domain.errors import InvalidInput

T = TypeVar("T")

MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode("\x1f".join(parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, count: int) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput("The cursor is not valid.", code="invalid_cursor") from exc
    parts = raw.split("\x1f")
    if len(parts) != count:
        raise InvalidInput("The cursor is not valid.", code="invalid_cursor")
    return parts


def check_limit(limit: int) -> int:
    if limit < 1 or limit > MAX_PAGE_SIZE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE_SIZE}", code="invalid_limit")
    return limit
