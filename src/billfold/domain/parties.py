"""Who owns data: clients (API tenants) and their end users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Client:
    """An application that uses Billfold. Every object belongs to exactly one client."""

    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EndUser:
    """A person using the client's app. `external_id` is the client's own id for them."""

    id: str
    client_id: str
    external_id: str | None
    name: str | None
    created_at: datetime
