"""Webhook endpoints and delivery: signed per Standard Webhooks, retried, logged, replayable.

Deliveries come from the outbox (one row per endpoint and event, written with the
event). Each attempt is a task on the `webhooks` queue; a failed attempt is retried
on a growing schedule; an endpoint failing for longer than `disable_after` is
disabled. The `webhook-id` header is the event id, the same on every retry and
replay, so receivers can de-duplicate.
"""

from __future__ import annotations

import json
import random
import secrets as secret_tokens
from base64 import b64encode
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

from billfold import __version__
from billfold.domain.errors import InvalidInput, NotFound
from billfold.domain.jobs import JobQueue
from billfold.jobs.backend import TaskCall
from billfold.services.context import ServiceContext
from billfold.services.events import check_event_types
from billfold.store.ids import new_id
from billfold.store.outbox import Attempt, Delivery, Endpoint
from billfold.webhooks.sender import WebhookSender

DELIVER_WEBHOOK = "deliver_webhook"


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    # Seconds to wait after the 1st, 2nd, ... failed attempt; then the delivery fails.
    retry_schedule: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800)
    disable_after: timedelta = timedelta(days=3)
    rotation_grace: timedelta = timedelta(hours=24)
    jitter: float = 0.1


@dataclass(frozen=True, slots=True)
class CreatedEndpoint:
    endpoint: Endpoint
    secret: str  # shown once


def _new_secret() -> str:
    return "whsec_" + b64encode(secret_tokens.token_bytes(24)).decode()


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise InvalidInput("url must be an absolute http(s) URL", code="invalid_url")
    return url


def create_endpoint(
    *, ctx: ServiceContext, client_id: str, url: str, event_types: list[str]
) -> CreatedEndpoint:
    now = ctx.clock()
    endpoint = Endpoint(
        id=new_id(),
        client_id=client_id,
        url=_check_url(url),
        event_types=tuple(check_event_types(event_types)),
        enabled=True,
        disabled_reason=None,
        failing_since=None,
        created_at=now,
        updated_at=now,
    )
    secret = _new_secret()
    with ctx.store.write() as unit:
        unit.outbox.add_endpoint(endpoint, secret)
    return CreatedEndpoint(endpoint, secret)


def get_endpoint(*, ctx: ServiceContext, client_id: str, endpoint_id: str) -> Endpoint:
    with ctx.store.read() as unit:
        endpoint = unit.outbox.endpoint(endpoint_id, client_id)
    if endpoint is None:
        raise NotFound("No such webhook endpoint.", code="webhook_not_found")
    return endpoint


def list_endpoints(*, ctx: ServiceContext, client_id: str) -> list[Endpoint]:
    with ctx.store.read() as unit:
        return unit.outbox.endpoints(client_id)


def update_endpoint(
    *,
    ctx: ServiceContext,
    client_id: str,
    endpoint_id: str,
    url: str | None = None,
    event_types: list[str] | None = None,
    enabled: bool | None = None,
) -> Endpoint:
    values: dict[str, object] = {}
    if url is not None:
        values["url"] = _check_url(url)
    if event_types is not None:
        values["event_types"] = check_event_types(event_types)
    if enabled is not None:
        values["enabled"] = enabled
        if enabled:  # a client re-enabling an endpoint starts its failure clock afresh
            values["disabled_reason"] = None
            values["failing_since"] = None
    with ctx.store.write() as unit:
        if unit.outbox.endpoint(endpoint_id, client_id) is None:
            raise NotFound("No such webhook endpoint.", code="webhook_not_found")
        unit.outbox.update_endpoint(endpoint_id, ctx.clock(), **values)
    return get_endpoint(ctx=ctx, client_id=client_id, endpoint_id=endpoint_id)


def delete_endpoint(*, ctx: ServiceContext, client_id: str, endpoint_id: str) -> None:
    with ctx.store.write() as unit:
        if unit.outbox.endpoint(endpoint_id, client_id) is None:
            raise NotFound("No such webhook endpoint.", code="webhook_not_found")
        unit.outbox.delete_endpoint(endpoint_id)


def rotate_secret(
    *, ctx: ServiceContext, client_id: str, endpoint_id: str, policy: WebhookPolicy
) -> str:
    """A new signing secret (shown once); the old one keeps signing for the grace period."""
    now = ctx.clock()
    secret = _new_secret()
    with ctx.store.write() as unit:
        if unit.outbox.endpoint(endpoint_id, client_id) is None:
            raise NotFound("No such webhook endpoint.", code="webhook_not_found")
        unit.outbox.rotate_secret(endpoint_id, secret, now + policy.rotation_grace, now)
    return secret


def list_deliveries(
    *,
    ctx: ServiceContext,
    client_id: str,
    endpoint_id: str,
    status: str | None = None,
    limit: int = 50,
) -> list[Delivery]:
    if status is not None and status not in ("pending", "succeeded", "failed"):
        raise InvalidInput("status must be pending, succeeded or failed", code="invalid_status")
    with ctx.store.read() as unit:
        if unit.outbox.endpoint(endpoint_id, client_id) is None:
            raise NotFound("No such webhook endpoint.", code="webhook_not_found")
        return unit.outbox.deliveries(endpoint_id, limit, status)


def get_delivery(
    *, ctx: ServiceContext, client_id: str, endpoint_id: str, delivery_id: str
) -> Delivery:
    with ctx.store.read() as unit:
        endpoint = unit.outbox.endpoint(endpoint_id, client_id)
        delivery = unit.outbox.delivery(delivery_id, history=True) if endpoint else None
    if delivery is None or delivery.endpoint_id != endpoint_id:
        raise NotFound("No such delivery.", code="delivery_not_found")
    return delivery


def replay_delivery(
    *, ctx: ServiceContext, client_id: str, endpoint_id: str, delivery_id: str
) -> Delivery:
    """Send a delivery again (same webhook-id), whatever its status."""
    get_delivery(ctx=ctx, client_id=client_id, endpoint_id=endpoint_id, delivery_id=delivery_id)
    with ctx.store.write() as unit:
        unit.outbox.rearm(delivery_id, ctx.clock())
    return get_delivery(
        ctx=ctx, client_id=client_id, endpoint_id=endpoint_id, delivery_id=delivery_id
    )


@dataclass
class WebhookDispatcher:
    """Runs delivery attempts (the `deliver_webhook` task) and the sweeper."""

    ctx: ServiceContext
    sender: WebhookSender
    policy: WebhookPolicy = field(default_factory=WebhookPolicy)

    def queue(self, delivery_ids: set[str] | list[tuple[str, int]]) -> None:
        """Queue one attempt per delivery (called after the outbox commit)."""
        items = [(i, 0) for i in delivery_ids] if isinstance(delivery_ids, set) else delivery_ids
        with self.ctx.store.read() as unit:
            attempts = {i: (d.attempts if (d := unit.outbox.delivery(i)) else n) for i, n in items}
        for delivery_id, count in attempts.items():
            self._enqueue(delivery_id, count, None)

    def _enqueue(self, delivery_id: str, attempts: int, run_at: datetime | None) -> None:
        self.ctx.jobs.enqueue(
            TaskCall(
                DELIVER_WEBHOOK,
                {"delivery_id": delivery_id},
                queue=JobQueue.WEBHOOKS,
                run_at=run_at,
                dedupe_key=f"{DELIVER_WEBHOOK}:{delivery_id}:{attempts}",
            )
        )

    async def sweep(self) -> None:
        """Queue deliveries that are due but have no task (a crash after the commit)."""
        with self.ctx.store.read() as unit:
            due = unit.outbox.due_deliveries(self.ctx.clock(), 500)
        for delivery_id, attempts in due:
            self._enqueue(delivery_id, attempts, None)

    async def deliver(self, delivery_id: str) -> None:
        now = self.ctx.clock()
        with self.ctx.store.read() as unit:
            delivery = unit.outbox.delivery(delivery_id)
            endpoint = unit.outbox.endpoint(delivery.endpoint_id) if delivery else None
            signing = unit.outbox.signing_secrets(endpoint.id, now) if endpoint else []
        if delivery is None or endpoint is None or delivery.status != "pending":
            return
        if not endpoint.enabled:
            return
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            self._enqueue(delivery_id, delivery.attempts, delivery.next_attempt_at)
            return
        event = delivery.event
        body = json.dumps(
            {
                "type": event.type,
                "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
                "data": {**event.data, "event_id": event.id, "seq": event.seq},
            },
            separators=(",", ":"),
        )
        signatures = " ".join(Webhook(s).sign(event.id, now, body) for s in signing)
        headers = {
            "content-type": "application/json",
            "user-agent": f"Billfold-Webhooks/{__version__}",
            "webhook-id": event.id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signatures,
        }
        result = await self.sender.send(endpoint.url, headers, body.encode())
        self._record(
            delivery,
            endpoint,
            Attempt(now, result.status_code, result.error, result.duration_ms),
            result.ok,
        )

    def _record(self, delivery: Delivery, endpoint: Endpoint, attempt: Attempt, ok: bool) -> None:
        now = attempt.at
        schedule = self.policy.retry_schedule
        next_at: datetime | None = None
        if ok:
            status = "succeeded"
        elif delivery.attempts < len(schedule):
            delay = schedule[delivery.attempts]
            delay *= 1 + random.uniform(-self.policy.jitter, self.policy.jitter)
            next_at = now + timedelta(seconds=delay)
            status = "pending"
        else:
            status = "failed"
        with self.ctx.store.write() as unit:
            unit.outbox.record_attempt(delivery.id, attempt, status=status, next_attempt_at=next_at)
            if ok:
                if endpoint.failing_since is not None:
                    unit.outbox.update_endpoint(endpoint.id, now, failing_since=None)
            else:
                failing_since = endpoint.failing_since or now
                if now - failing_since >= self.policy.disable_after:
                    reason = f"disabled after failing since {failing_since.isoformat()}"
                    unit.outbox.update_endpoint(
                        endpoint.id, now, enabled=False, disabled_reason=reason
                    )
                    unit.outbox.fail_pending(endpoint.id, "endpoint disabled", now)
                    next_at = None
                elif endpoint.failing_since is None:
                    unit.outbox.update_endpoint(endpoint.id, now, failing_since=now)
        if next_at is not None:
            self._enqueue(delivery.id, delivery.attempts + 1, next_at)
