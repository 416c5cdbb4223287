"""The dialect's wire format: PascalCase JSON with money as two-decimal numbers.

Python's `json` writes `Decimal` only as a string and floats as `1000.0`; the
dialect's money is a JSON number with two decimals (`1000.00`), so bodies are
rendered here. Request bodies are parsed as JSON whatever their Content-Type
(v1 clients send odd or no content types).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from starlette.responses import Response

from billfold.domain.errors import InvalidInput

ZERO_GUID = "00000000-0000-0000-0000-000000000000"


def render(value: Any) -> str:
    """JSON text of dicts, lists, strings, numbers, bools, None and `Decimal` (as `1.00`)."""
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01'))}"
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}:{render(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(render(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def json_text(values: list[str]) -> str:
    """A JSON array as text, the way SecurityQuestion and TokenMethod carry it."""
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def reply(value: Any, status: int = 200) -> Response:
    return Response(render(value), status_code=status, media_type="application/json")


def parse_object(raw: bytes) -> dict[str, Any]:
    """A JSON object body (empty body: `{}`); anything else is a 400."""
    text = raw.decode("utf-8-sig", errors="replace").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput("The request body is not valid JSON.", code="invalid_json") from exc
    if not isinstance(value, dict):
        raise InvalidInput("The request body must be a JSON object.", code="invalid_json")
    return value


def clean(value: str, name: str) -> str:
    """Refuse control characters (a NUL byte is not storable in PostgreSQL text)."""
    if "\x00" in value or len(value) > 10_000:
        raise InvalidInput(f"{name} is not valid.", code="invalid_field")
    return value


class Body:
    """Case-insensitive access to a request object's fields (`UserID` = `userId`)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = {str(k).lower(): v for k, v in data.items()}

    def raw(self, name: str) -> Any:
        return self._data.get(name.lower())

    def has(self, name: str) -> bool:
        return self._data.get(name.lower()) is not None

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self._data.get(name.lower())
        if value is None or (isinstance(value, str) and not value.strip() and required):
            if required:
                raise InvalidInput(f"{name} is required.", code="missing_field")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidInput(f"{name} must be a string.", code="invalid_field")
        return clean(str(value), name)

    def guid(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        return value.strip().lower()
