"""Scheduled background refreshes: each connection refreshes every N hours (default 24).

One periodic tick enqueues the refreshes that are due, at most `per_institution` per
institution per tick so a popular bank is not hammered, and never a second job for
a connection that already has one. A scheduled refresh never waits on a person: if
the institution asks for multi-factor authentication the job fails with
`needs_relink` and the connection says so (and a webhook tells the client).
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from billfold.domain.connections import Connection
from billfold.domain.errors import Conflict, InvalidInput, NotFound
from billfold.services.connections import get_connection, refresh_connection, require_login
from billfold.services.context import ServiceContext
from billfold.store.store import Unit

JITTER = 0.1


def next_refresh_at(hours: int | None, now: datetime) -> datetime | None:
    if not hours:
        return None
    return now + timedelta(hours=hours * (1 + random.uniform(-JITTER, JITTER)))


def schedule_next_refresh(unit: Unit, connection_id: str, now: datetime) -> None:
    hours = unit.connections.refresh_every_hours(connection_id)
    unit.connections.set_next_refresh(connection_id, next_refresh_at(hours, now))


def set_refresh_schedule(
    *, ctx: ServiceContext, client_id: str, connection_id: str, every_hours: int | None
) -> Connection:
    """Refresh every `every_hours` hours (1 to 720), or never (None)."""
    if every_hours is not None and not 1 <= every_hours <= 720:
        raise InvalidInput(
            "refresh_every_hours must be between 1 and 720, or null", code="invalid_schedule"
        )
    now = ctx.clock()
    with ctx.store.write() as unit:
        connection = unit.connections.get(connection_id, client_id)
        if connection is None:
            raise NotFound("No such connection.", code="connection_not_found")
        if every_hours is not None:
            require_login(unit, connection_id)
        unit.connections.set_refresh_every(connection_id, every_hours)
        base = connection.last_synced_at or now
        unit.connections.set_next_refresh(connection_id, next_refresh_at(every_hours, base))
    return get_connection(ctx=ctx, client_id=client_id, connection_id=connection_id)


def enqueue_due_refreshes(
    *, ctx: ServiceContext, per_institution: int = 50, limit: int = 1000
) -> int:
    """Start the background refreshes that are due; returns how many started."""
    now = ctx.clock()
    with ctx.store.read() as unit:
        due = unit.connections.due_for_refresh(now, limit)
    per_bank: Counter[str] = Counter()
    started = 0
    for connection in due:
        if per_bank[connection.institution_id] >= per_institution:
            continue  # stays due: the next tick takes it
        per_bank[connection.institution_id] += 1
        try:
            refresh_connection(
                ctx=ctx,
                client_id=connection.client_id,
                connection_id=connection.id,
                interactive=False,
            )
            started += 1
        except (Conflict, NotFound):
            pass  # a job is running, the login needs relinking, or it was just deleted
        with ctx.store.write() as unit:
            schedule_next_refresh(unit, connection.id, now)
    return started
