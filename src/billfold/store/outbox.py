"""The outbox: events written in the same transaction as the change they describe,
and the webhook endpoints and deliveries that carry them to clients.

A delivery row per (endpoint, event) is created with the event, so a crash after
the commit loses nothing: a sweeper re-queues deliveries that are due.

Clients page through events by `seq` (`GET /v1/events?after=`), so a client's
events must become visible in `seq` order. SQLite has one writer at a time, so they
do. On PostgreSQL concurrent transactions would not: one that drew a lower seq may
commit after one that drew a higher seq, and a reader that already moved past the
higher one would never see the lower. So on PostgreSQL a transaction takes a lock
per client (an advisory transaction lock) before its first event for that client;
it holds it to its commit, and draws seqs only under it. Events are recorded at the
end of a transaction's work, so the lock is held for little more than the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    bindparam,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from billfold.store.core import execute, table
from billfold.store.encryption import KeyRing
from billfold.store.ids import new_id
from billfold.store.tables import Base


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_client_seq", "client_id", "seq"),)
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(String(40), unique=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class WebhookEndpointRow(Base):
    __tablename__ = "webhook_endpoints"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    secrets: Mapped[bytes]  # encrypted JSON list of {secret, expires_at}; first signs
    enabled: Mapped[bool]
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    failing_since: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookDeliveryRow(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))  # pending, succeeded, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebhookAttemptRow(Base):
    __tablename__ = "webhook_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
    duration_ms: Mapped[int] = mapped_column(Integer)


EVENTS = table(EventRow)
ENDPOINTS = table(WebhookEndpointRow)
DELIVERIES = table(WebhookDeliveryRow)
_ADD_EVENT = insert(EVENTS)
_LOCK_CLIENT_EVENTS = text(
    "SELECT pg_advisory_xact_lock(hashtextextended('billfold.events:' || :client_id, 0))"
)
_ADD_DELIVERY = insert(DELIVERIES)
_ENABLED_ENDPOINTS = select(ENDPOINTS.c.id, ENDPOINTS.c.event_types).where(
    ENDPOINTS.c.client_id == bindparam("client_id"), ENDPOINTS.c.enabled.is_(True)
)


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    seq: int
    client_id: str
    type: str
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    client_id: str
    url: str
    event_types: tuple[str, ...]
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types


@dataclass(frozen=True, slots=True)
class Attempt:
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    endpoint_id: str
    event: Event
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    history: tuple[Attempt, ...] = ()


def _secrets_context(endpoint_id: str) -> str:
    return f"webhook:{endpoint_id}:secrets"


def _event(row: EventRow) -> Event:
    return Event(row.id, row.seq, row.client_id, row.type, dict(row.data), row.created_at)


def _endpoint(row: WebhookEndpointRow) -> Endpoint:
    return Endpoint(
        row.id,
        row.client_id,
        row.url,
        tuple(row.event_types),
        row.enabled,
        row.disabled_reason,
        row.failing_since,
        row.created_at,
        row.updated_at,
    )


class OutboxRepository:
    def __init__(self, session: Session, keys: KeyRing, new_deliveries: set[str]) -> None:
        self._s = session
        self._keys = keys
        # Ids of deliveries this transaction created or re-armed (queued after commit).
        self.new_deliveries = new_deliveries
        self._endpoints: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        self._serialize_events = session.get_bind().dialect.name == "postgresql"
        self._events_locked: set[str] = set()

    # events ---------------------------------------------------------------------------

    def emit(self, client_id: str, type_: str, data: dict[str, Any], at: datetime) -> str:
        """Record an event and a pending delivery for every enabled endpoint that wants it."""
        event_id = new_id()
        if self._serialize_events and client_id not in self._events_locked:
            # Held to commit: this client's events become visible in seq order.
            execute(self._s, _LOCK_CLIENT_EVENTS, {"client_id": client_id})
            self._events_locked.add(client_id)
        execute(
            self._s,
            _ADD_EVENT,
            {"id": event_id, "client_id": client_id, "type": type_, "data": data, "created_at": at},
        )
        deliveries = []
        for endpoint_id, event_types in self._enabled_endpoints(client_id):
            if "*" in event_types or type_ in event_types:
                delivery_id = new_id()
                deliveries.append(
                    {
                        "id": delivery_id,
                        "endpoint_id": endpoint_id,
                        "event_id": event_id,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": at,
                        "last_status_code": None,
                        "last_error": None,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                self.new_deliveries.add(delivery_id)
        if deliveries:
            execute(self._s, _ADD_DELIVERY, deliveries)
        return event_id

    def _enabled_endpoints(self, client_id: str) -> list[tuple[str, tuple[str, ...]]]:
        """(id, event types) of the client's enabled endpoints, read once per transaction:
        a job's finish emits several events, thousands of jobs finish together."""
        found = self._endpoints.get(client_id)
        if found is None:
            rows = execute(self._s, _ENABLED_ENDPOINTS, {"client_id": client_id}).mappings()
            found = [(str(r["id"]), tuple(r["event_types"])) for r in rows]
            self._endpoints[client_id] = found
        return found

    def events_after(
        self, client_id: str, after: int, limit: int, types: Sequence[str] | None = None
    ) -> list[Event]:
        query = select(EventRow).where(EventRow.client_id == client_id, EventRow.seq > after)
        if types:
            query = query.where(EventRow.type.in_(list(types)))
        return [_event(r) for r in self._s.scalars(query.order_by(EventRow.seq).limit(limit))]

    def event(self, event_id: str) -> Event | None:
        row = self._s.scalar(select(EventRow).where(EventRow.id == event_id))
        return None if row is None else _event(row)

    # endpoints ------------------------------------------------------------------------

    def add_endpoint(self, endpoint: Endpoint, secret: str) -> None:
        self._endpoints.clear()
        self._s.add(
            WebhookEndpointRow(
                id=endpoint.id,
                client_id=endpoint.client_id,
                url=endpoint.url,
                event_types=list(endpoint.event_types),
                secrets=self._keys.encrypt_json(
                    [{"secret": secret, "expires_at": None}], context=_secrets_context(endpoint.id)
                ),
                enabled=endpoint.enabled,
                disabled_reason=None,
                failing_since=None,
                created_at=endpoint.created_at,
                updated_at=endpoint.updated_at,
            )
        )

    def endpoint(self, endpoint_id: str, client_id: str | None = None) -> Endpoint | None:
        row = self._s.get(WebhookEndpointRow, endpoint_id)
        if row is None or (client_id is not None and row.client_id != client_id):
            return None
        return _endpoint(row)

    def endpoints(self, client_id: str) -> list[Endpoint]:
        rows = self._s.scalars(
            select(WebhookEndpointRow)
            .where(WebhookEndpointRow.client_id == client_id)
            .order_by(WebhookEndpointRow.created_at)
        )
        return [_endpoint(r) for r in rows]

    def update_endpoint(self, endpoint_id: str, at: datetime, **values: Any) -> None:
        self._endpoints.clear()
        row = self._s.get(WebhookEndpointRow, endpoint_id)
        if row is None:
            return
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = at

    def delete_endpoint(self, endpoint_id: str) -> None:
        self._endpoints.clear()
        row = self._s.get(WebhookEndpointRow, endpoint_id)
        if row is not None:
            self._s.delete(row)

    def signing_secrets(self, endpoint_id: str, now: datetime) -> list[str]:
        """Secrets that sign a delivery now: the newest, plus rotated ones still in grace."""
        row = self._s.get(WebhookEndpointRow, endpoint_id)
        if row is None:
            return []
        entries = self._keys.decrypt_json(row.secrets, context=_secrets_context(endpoint_id))
        return [
            e["secret"]
            for e in entries
            if e["expires_at"] is None or datetime.fromisoformat(e["expires_at"]) > now
        ]

    def rotate_secret(
        self, endpoint_id: str, secret: str, old_valid_until: datetime, now: datetime
    ) -> None:
        row = self._s.get(WebhookEndpointRow, endpoint_id)
        if row is None:
            return
        entries = self._keys.decrypt_json(row.secrets, context=_secrets_context(endpoint_id))
        kept = [
            {"secret": e["secret"], "expires_at": e["expires_at"] or old_valid_until.isoformat()}
            for e in entries
            if e["expires_at"] is None or datetime.fromisoformat(e["expires_at"]) > now
        ]
        row.secrets = self._keys.encrypt_json(
            [{"secret": secret, "expires_at": None}, *kept], context=_secrets_context(endpoint_id)
        )
        row.updated_at = now

    # deliveries -----------------------------------------------------------------------

    def delivery(self, delivery_id: str, *, history: bool = False) -> Delivery | None:
        row = self._s.get(WebhookDeliveryRow, delivery_id)
        if row is None:
            return None
        event = self.event(row.event_id)
        if event is None:
            return None
        attempts: tuple[Attempt, ...] = ()
        if history:
            attempts = tuple(
                Attempt(a.at, a.status_code, a.error, a.duration_ms)
                for a in self._s.scalars(
                    select(WebhookAttemptRow)
                    .where(WebhookAttemptRow.delivery_id == delivery_id)
                    .order_by(WebhookAttemptRow.id)
                )
            )
        return Delivery(
            row.id,
            row.endpoint_id,
            event,
            row.status,
            row.attempts,
            row.next_attempt_at,
            row.last_status_code,
            row.last_error,
            row.created_at,
            row.updated_at,
            attempts,
        )

    def deliveries(self, endpoint_id: str, limit: int, status: str | None = None) -> list[Delivery]:
        query = select(WebhookDeliveryRow.id).where(WebhookDeliveryRow.endpoint_id == endpoint_id)
        if status is not None:
            query = query.where(WebhookDeliveryRow.status == status)
        ids = self._s.scalars(query.order_by(WebhookDeliveryRow.created_at.desc()).limit(limit))
        found = [self.delivery(i) for i in ids]
        return [d for d in found if d is not None]

    def due_deliveries(self, now: datetime, limit: int) -> list[tuple[str, int]]:
        """(delivery id, attempts so far) of pending deliveries whose time has come."""
        rows = self._s.execute(
            select(WebhookDeliveryRow.id, WebhookDeliveryRow.attempts)
            .where(
                WebhookDeliveryRow.status == "pending",
                WebhookDeliveryRow.next_attempt_at <= now,
            )
            .order_by(WebhookDeliveryRow.next_attempt_at)
            .limit(limit)
        )
        return [(str(i), int(a)) for i, a in rows]

    def record_attempt(
        self, delivery_id: str, attempt: Attempt, *, status: str, next_attempt_at: datetime | None
    ) -> None:
        self._s.add(
            WebhookAttemptRow(
                delivery_id=delivery_id,
                at=attempt.at,
                status_code=attempt.status_code,
                error=attempt.error,
                duration_ms=attempt.duration_ms,
            )
        )
        row = self._s.get(WebhookDeliveryRow, delivery_id)
        if row is not None:
            row.attempts += 1
            row.status = status
            row.next_attempt_at = next_attempt_at
            row.last_status_code = attempt.status_code
            row.last_error = attempt.error
            row.updated_at = attempt.at

    def rearm(self, delivery_id: str, at: datetime) -> None:
        self._s.execute(
            update(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.id == delivery_id)
            .values(status="pending", next_attempt_at=at, updated_at=at)
        )
        self.new_deliveries.add(delivery_id)

    def fail_pending(self, endpoint_id: str, reason: str, at: datetime) -> None:
        self._s.execute(
            update(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.endpoint_id == endpoint_id,
                WebhookDeliveryRow.status == "pending",
            )
            .values(status="failed", next_attempt_at=None, last_error=reason, updated_at=at)
        )
