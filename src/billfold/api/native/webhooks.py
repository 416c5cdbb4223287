"""`/v1/webhooks` (endpoints, delivery log, replay, secret rotation) and `/v1/events`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from billfold.api.native.auth import Ctx, CurrentClient
from billfold.api.native.schemas import CreateWebhook, UpdateWebhook
from billfold.services import events, webhooks
from billfold.store.outbox import Delivery, Endpoint, Event

router = APIRouter(tags=["webhooks"])


class WebhookOut(BaseModel):
    id: str
    url: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime
    secret: str | None = None  # only when created or rotated

    @classmethod
    def of(cls, e: Endpoint, secret: str | None = None) -> WebhookOut:
        return cls(
            id=e.id,
            url=e.url,
            event_types=list(e.event_types),
            enabled=e.enabled,
            disabled_reason=e.disabled_reason,
            failing_since=e.failing_since,
            created_at=e.created_at,
            updated_at=e.updated_at,
            secret=secret,
        )


class EventOut(BaseModel):
    id: str
    seq: int
    type: str
    created_at: datetime
    data: dict[str, Any]

    @classmethod
    def of(cls, e: Event) -> EventOut:
        return cls(id=e.id, seq=e.seq, type=e.type, created_at=e.created_at, data=e.data)


class AttemptOut(BaseModel):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    id: str
    webhook_id: str
    event: EventOut
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    history: list[AttemptOut]

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(
            id=d.id,
            webhook_id=d.endpoint_id,
            event=EventOut.of(d.event),
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            created_at=d.created_at,
            updated_at=d.updated_at,
            history=[
                AttemptOut(
                    at=a.at, status_code=a.status_code, error=a.error, duration_ms=a.duration_ms
                )
                for a in d.history
            ],
        )


class WebhookList(BaseModel):
    data: list[WebhookOut]


class DeliveryList(BaseModel):
    data: list[DeliveryOut]


class EventPage(BaseModel):
    data: list[EventOut]
    next_after: int


@router.post("/webhooks", response_model=WebhookOut, status_code=201)
async def create(body: CreateWebhook, ctx: Ctx, client: CurrentClient) -> WebhookOut:
    """Register an endpoint; the signing `secret` (Standard Webhooks) is shown only now."""
    created = webhooks.create_endpoint(
        ctx=ctx, client_id=client.id, url=body.url, event_types=body.event_types
    )
    return WebhookOut.of(created.endpoint, created.secret)


@router.get("/webhooks", response_model=WebhookList)
async def list_(ctx: Ctx, client: CurrentClient) -> WebhookList:
    return WebhookList(
        data=[WebhookOut.of(e) for e in webhooks.list_endpoints(ctx=ctx, client_id=client.id)]
    )


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut)
async def get(webhook_id: str, ctx: Ctx, client: CurrentClient) -> WebhookOut:
    return WebhookOut.of(
        webhooks.get_endpoint(ctx=ctx, client_id=client.id, endpoint_id=webhook_id)
    )


@router.patch("/webhooks/{webhook_id}", response_model=WebhookOut)
async def update(
    webhook_id: str, body: UpdateWebhook, ctx: Ctx, client: CurrentClient
) -> WebhookOut:
    """Change the URL or event types, or enable/disable (re-enabling resets the failure clock)."""
    return WebhookOut.of(
        webhooks.update_endpoint(
            ctx=ctx,
            client_id=client.id,
            endpoint_id=webhook_id,
            url=body.url,
            event_types=body.event_types,
            enabled=body.enabled,
        )
    )


@router.delete("/webhooks/{webhook_id}", status_code=204)
async def delete(webhook_id: str, ctx: Ctx, client: CurrentClient) -> Response:
    webhooks.delete_endpoint(ctx=ctx, client_id=client.id, endpoint_id=webhook_id)
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/rotate_secret", response_model=WebhookOut)
async def rotate(webhook_id: str, request: Request, ctx: Ctx, client: CurrentClient) -> WebhookOut:
    """A new secret, shown once; the old one also signs for 24 hours (two signatures)."""
    policy = request.app.state.container.webhooks.policy
    secret = webhooks.rotate_secret(
        ctx=ctx, client_id=client.id, endpoint_id=webhook_id, policy=policy
    )
    endpoint = webhooks.get_endpoint(ctx=ctx, client_id=client.id, endpoint_id=webhook_id)
    return WebhookOut.of(endpoint, secret)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryList)
async def deliveries(
    webhook_id: str,
    ctx: Ctx,
    client: CurrentClient,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DeliveryList:
    """The delivery log, newest first."""
    found = webhooks.list_deliveries(
        ctx=ctx, client_id=client.id, endpoint_id=webhook_id, status=status, limit=limit
    )
    return DeliveryList(data=[DeliveryOut.of(d) for d in found])


@router.get("/webhooks/{webhook_id}/deliveries/{delivery_id}", response_model=DeliveryOut)
async def delivery(
    webhook_id: str, delivery_id: str, ctx: Ctx, client: CurrentClient
) -> DeliveryOut:
    """One delivery with every attempt."""
    return DeliveryOut.of(
        webhooks.get_delivery(
            ctx=ctx, client_id=client.id, endpoint_id=webhook_id, delivery_id=delivery_id
        )
    )


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    response_model=DeliveryOut,
    status_code=202,
)
async def replay(webhook_id: str, delivery_id: str, ctx: Ctx, client: CurrentClient) -> DeliveryOut:
    """Send it again now, with the same webhook-id."""
    return DeliveryOut.of(
        webhooks.replay_delivery(
            ctx=ctx, client_id=client.id, endpoint_id=webhook_id, delivery_id=delivery_id
        )
    )


@router.get("/events", response_model=EventPage, tags=["events"])
async def list_events(
    ctx: Ctx,
    client: CurrentClient,
    after: Annotated[int, Query(ge=0, description="Last seq you saw")] = 0,
    type: Annotated[list[str] | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventPage:
    """Events oldest first after `after`; poll with `after=next_after` (no webhooks needed)."""
    found = await ctx.calls.run(
        lambda: events.list_events(
            ctx=ctx, client_id=client.id, after=after, limit=limit, types=type
        )
    )
    return EventPage(
        data=[EventOut.of(e) for e in found], next_after=found[-1].seq if found else after
    )
