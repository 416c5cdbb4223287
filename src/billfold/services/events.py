"""Events: what changed, for webhooks and for clients that poll (`GET /v1/events`).

Every event is written by `record` inside the transaction that made the change
(the outbox), so an event exists exactly when its change does. Event data holds
ids and non-secret facts only, never credentials, answers or challenge contents.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from billfold.domain.errors import InvalidInput
from billfold.services.context import ServiceContext
from billfold.services.pagination import check_limit
from billfold.store.outbox import Event
from billfold.store.store import Unit


class EventType(StrEnum):
    JOB_WAITING_FOR_ANSWER = "job.waiting_for_answer"
    JOB_SUCCEEDED = "job.succeeded"
    JOB_FAILED = "job.failed"
    CONNECTION_NEEDS_RELINK = "connection.needs_relink"
    TRANSACTIONS_UPDATED = "transactions.updated"
    ACCOUNT_BALANCE_CHANGED = "account.balance_changed"


def record(
    unit: Unit, *, client_id: str, type_: EventType, data: dict[str, Any], at: datetime
) -> str:
    return unit.outbox.emit(client_id, type_.value, data, at)


def check_event_types(types: list[str]) -> list[str]:
    known = {t.value for t in EventType}
    cleaned = [t.strip() for t in types if t.strip()]
    unknown = [t for t in cleaned if t != "*" and t not in known]
    if unknown:
        raise InvalidInput(
            f"unknown event type(s): {', '.join(unknown)}; use * or {', '.join(sorted(known))}",
            code="invalid_event_type",
        )
    if not cleaned:
        raise InvalidInput("name at least one event type (or *)", code="invalid_event_type")
    return sorted(set(cleaned))


def list_events(
    *,
    ctx: ServiceContext,
    client_id: str,
    after: int = 0,
    limit: int = 100,
    types: list[str] | None = None,
) -> list[Event]:
    """Events after the sequence number `after`, oldest first (resume from the last seq)."""
    check_limit(limit)
    if after < 0:
        raise InvalidInput("after must be 0 or a seq you received", code="invalid_after")
    wanted = check_event_types(types) if types else None
    with ctx.store.read() as unit:
        return unit.outbox.events_after(
            client_id, after, limit, None if wanted is None or "*" in wanted else wanted
        )
