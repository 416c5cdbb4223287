"""`/subscriptions`: webhook URLs per scope, and the delivery log (spec §12)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from billfold.api.synapse.auth import Caller, Gateway
from billfold.api.synapse.envelopes import (
    incorrect_values,
    list_envelope,
    not_found,
    paging,
    payload_error,
)
from billfold.api.synapse.idempotency import idempotent, json_body, respond
from billfold.store.synapse import SynapseSubscriptionRow, new_oid

router = APIRouter()

SCOPES = {
    "USERS|POST",
    "USER|PATCH",
    "NODES|POST",
    "NODE|PATCH",
    "TRANS|POST",
    "TRAN|PATCH",
    "SUBNETS|POST",
    "SUBNET|PATCH",
}


def _url(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 1000:
        raise payload_error("url must be an http(s) URL.", "invalid_url")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise payload_error("url must be an http(s) URL.", "invalid_url")
    return value


def _scope(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(v in SCOPES for v in value):
        raise payload_error(
            f"scope must list some of {', '.join(sorted(SCOPES))}.", "invalid_scope"
        )
    return list(dict.fromkeys(value))


def _present(caller: Caller, row: SynapseSubscriptionRow) -> dict[str, Any]:
    return {
        "_id": row.id,
        "_links": {"self": {"href": f"{caller.base_url}/v3.1/subscriptions/{row.id}"}},
        "client_id": caller.gateway_id,
        "is_active": row.is_active,
        "scope": row.scope.get("scope", []),
        "url": row.url,
    }


def _check_overlap(
    rows: list[SynapseSubscriptionRow], scope: list[str], *, other_than: str | None = None
) -> None:
    for row in rows:
        if row.id == other_than or not row.is_active:
            continue
        shared = set(scope) & set(row.scope.get("scope", []))
        if shared:
            raise incorrect_values(
                f"Subscription {row.id} already covers {', '.join(sorted(shared))}.",
                "subscription_scope_taken",
            )


@router.post("/subscriptions")
async def create_subscription(request: Request, caller: Gateway) -> JSONResponse:
    async def handle() -> JSONResponse:
        body = await json_body(request)
        url, scope = _url(body.get("url")), _scope(body.get("scope"))
        with caller.repo_write() as repo:
            _check_overlap(repo.subscriptions(caller.client.id), scope)
            row = SynapseSubscriptionRow(
                id=new_oid(),
                client_id=caller.client.id,
                url=url,
                scope={"scope": scope},
                is_active=True,
                created_at=caller.ctx.clock(),
            )
            repo.add_subscription(row)
            return respond(_present(caller, row))

    return await idempotent(request, caller, handle)


@router.get("/subscriptions")
async def list_subscriptions(
    caller: Gateway, page: str | None = None, per_page: str | None = None
) -> JSONResponse:
    number, size = paging(page, per_page)
    with caller.repo_read() as repo:
        rows = repo.subscriptions(caller.client.id)
        items = [_present(caller, r) for r in rows[(number - 1) * size : number * size]]
    return respond(
        list_envelope(
            "subscriptions",
            "subscriptions_count",
            items,
            page=number,
            per_page=size,
            total=len(rows),
        )
    )


def _millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


@router.get("/subscriptions/logs")
async def delivery_logs(caller: Gateway) -> JSONResponse:
    with caller.repo_read() as repo:
        rows = repo.deliveries(caller.client.id)
        logs = [
            {
                "_id": r.id,
                "function": r.function,
                "http_response_code": r.http_response_code,
                "obj_id": f"NODE_{r.obj_id}",
                "safe_obj": True,
                "status": r.status,
                "attempts": r.attempts,
                "date": _millis(r.updated_at),
            }
            for r in rows
        ]
    return respond(list_envelope("logs", "logs_count", logs))


@router.get("/subscriptions/{subscription_id}")
async def get_subscription(caller: Gateway, subscription_id: str) -> JSONResponse:
    with caller.repo_read() as repo:
        row = repo.subscription(caller.client.id, subscription_id)
        if row is None:
            raise not_found("Subscription not found.", "subscription_not_found")
        return respond(_present(caller, row))


@router.patch("/subscriptions/{subscription_id}")
async def update_subscription(
    request: Request, caller: Gateway, subscription_id: str
) -> JSONResponse:
    body = await json_body(request)
    with caller.repo_write() as repo:
        row = repo.subscription(caller.client.id, subscription_id)
        if row is None:
            raise not_found("Subscription not found.", "subscription_not_found")
        if "url" in body:
            row.url = _url(body["url"])
        if "scope" in body:
            row.scope = {"scope": _scope(body["scope"])}
        if "is_active" in body:
            row.is_active = bool(body["is_active"])
        if row.is_active:
            _check_overlap(
                repo.subscriptions(caller.client.id), row.scope["scope"], other_than=row.id
            )
        return respond(_present(caller, row))
