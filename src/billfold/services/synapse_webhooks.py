"""Synapse webhook deliveries: one task per subscription and event, signed, retried, logged.

Deliveries run on the job backend's `webhooks` queue. A non-2xx answer (or no
answer) raises, so the backend retries with growing intervals; every attempt
updates the delivery row that `GET /subscriptions/logs` shows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from billfold.domain.jobs import JobQueue
from billfold.jobs.backend import TaskCall
from billfold.services.context import ServiceContext
from billfold.store.synapse import SynapseDeliveryRow, SynapseRepository, new_oid

log = logging.getLogger("billfold.synapse.webhooks")

DELIVER_TASK = "synapse_webhook"
MAX_ATTEMPTS = 5
TIMEOUT_SECONDS = 10.0


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx; the backend retries the task."""


def signatures(*, oid: str, client_id: str, client_secret: str, body: bytes) -> dict[str, str]:
    """The §12 headers: HMAC-SHA1/SHA256 of `<oid>+<client_id>`, and HMAC-SHA256 of the body."""
    key = client_secret.encode()
    message = f"{oid}+{client_id}".encode()
    return {
        "X-Synapse-Signature": hmac.new(key, message, hashlib.sha1).hexdigest(),
        "X-Synapse-Signature-Sha256": hmac.new(key, message, hashlib.sha256).hexdigest(),
        "X-Synapse-Signature-SHA256-FullBody": hmac.new(key, body, hashlib.sha256).hexdigest(),
    }


def queue_events(
    *,
    ctx: ServiceContext,
    client_id: str,
    function: str,
    objects: Sequence[tuple[str, Mapping[str, Any]]],
    updated_by: str = "SELF",
) -> int:
    """Record one delivery per active subscription whose scope has `function`, then enqueue."""
    now = ctx.clock()
    created: list[str] = []
    with ctx.store.write() as unit:
        repo = SynapseRepository(unit.session, ctx.store.keys)
        subscriptions = [
            s
            for s in repo.subscriptions(client_id)
            if s.is_active and function in s.scope.get("scope", [])
        ]
        for subscription in subscriptions:
            for oid, rest in objects:
                delivery_id = new_oid()
                payload = {
                    "_id": {"$oid": oid},
                    "_rest": dict(rest),
                    "webhook_meta": {
                        "function": function,
                        "log_id": delivery_id,
                        "updated_by": updated_by,
                        "date": {"$date": int(now.timestamp() * 1000)},
                    },
                }
                repo.add_delivery(
                    SynapseDeliveryRow(
                        id=delivery_id,
                        client_id=client_id,
                        subscription_id=subscription.id,
                        function=function,
                        obj_id=oid,
                        payload=payload,
                        status="pending",
                        attempts=0,
                        http_response_code=None,
                        created_at=now,
                        updated_at=now,
                    )
                )
                created.append(delivery_id)
    for delivery_id in created:
        ctx.jobs.enqueue(
            TaskCall(
                DELIVER_TASK,
                {"delivery_id": delivery_id},
                queue=JobQueue.WEBHOOKS,
                dedupe_key=f"{DELIVER_TASK}:{delivery_id}",
            )
        )
    return len(created)


async def deliver(*, ctx: ServiceContext, delivery_id: str) -> None:
    """POST one delivery; raise `DeliveryFailed` on a non-2xx answer so the backend retries."""
    with ctx.store.read() as unit:
        repo = SynapseRepository(unit.session, ctx.store.keys)
        delivery = repo.delivery(delivery_id)
        if delivery is None or delivery.status == "delivered":
            return
        subscription = repo.subscription(delivery.client_id, delivery.subscription_id)
        credential = repo.credential_for_client(delivery.client_id)
        payload = dict(delivery.payload)
        oid = delivery.obj_id
    if subscription is None or credential is None or not subscription.is_active:
        return
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        **signatures(
            oid=oid,
            client_id=credential.gateway_id,
            client_secret=credential.secret,
            body=body,
        ),
    }
    code: int | None = None
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
            response = await http.post(subscription.url, content=body, headers=headers)
        code = response.status_code
    except httpx.HTTPError as exc:
        log.info("webhook %s: %s", delivery_id, type(exc).__name__)
    ok = code is not None and 200 <= code < 300
    with ctx.store.write() as unit:
        row = SynapseRepository(unit.session, ctx.store.keys).delivery(delivery_id)
        if row is not None:
            row.attempts += 1
            row.http_response_code = code
            row.updated_at = ctx.clock()
            if ok:
                row.status = "delivered"
            elif row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
    if not ok:
        raise DeliveryFailed(f"webhook delivery {delivery_id} answered {code}")


def install_synapse_tasks(ctx: ServiceContext) -> None:
    """Register the delivery task with the job backend (where the job runner is installed)."""

    async def _handle(args: Mapping[str, str]) -> None:
        await deliver(ctx=ctx, delivery_id=args["delivery_id"])

    ctx.jobs.register(DELIVER_TASK, _handle)
