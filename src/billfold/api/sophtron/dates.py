"""Dates as Sophtron clients send them, and as the dialect writes them.

Accepted: `YYYY/MM/DD` (also unpadded), `YYYY-MM-DD`, ISO date-times with any
time and offset (the date part is taken as written), and US `MM/DD/YYYY`.
Written: ISO 8601 UTC with `Z`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from billfold.domain.errors import InvalidInput

_YMD = re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})(?:[T ].*)?$")
_MDY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[T ].*)?$")


def parse_date(text: str, name: str) -> date:
    value = text.strip()
    match = _YMD.match(value)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = _MDY.match(value)
        if match:
            return date(int(match[3]), int(match[1]), int(match[2]))
    except ValueError:
        pass
    raise InvalidInput(f"{name} is not a date this API understands.", code="invalid_date")


def date_range(start: str | None, end: str | None, today: date) -> tuple[date, date]:
    """Inclusive range; swapped when reversed; end defaults to today, start to end - 90 days."""
    last = parse_date(end, "EndDate") if end and end.strip() else today
    first = parse_date(start, "StartDate") if start and start.strip() else last - timedelta(days=90)
    return (last, first) if first > last else (first, last)


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{value.isoformat()}T00:00:00Z"
