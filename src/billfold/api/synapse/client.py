"""Client-level reads: the client (and its field-encryption key), all nodes, institutions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from billfold.api.synapse.auth import Gateway
from billfold.api.synapse.envelopes import flag, list_envelope, paging
from billfold.api.synapse.fields import KEY_LIFETIME, issue_key
from billfold.api.synapse.idempotency import respond
from billfold.api.synapse.node_views import nodes_envelope, present_nodes
from billfold.domain.institutions import InstitutionKind
from billfold.services import institutions as institution_service

router = APIRouter()

BANK_KINDS = [InstitutionKind.BANK.value, InstitutionKind.CREDIT_UNION.value]


@router.get("/client")
async def get_client(
    caller: Gateway,
    issue_public_key: str | None = None,
    scope: list[str] = Query(default_factory=list),  # noqa: B008
) -> JSONResponse:
    if not flag(issue_public_key):
        return respond({"_id": caller.gateway_id, "name": caller.client.name, "is_active": True})
    scopes = [s.strip() for item in scope for s in item.split(",") if s.strip()]
    with caller.repo_write() as repo:
        row = issue_key(repo, ctx=caller.ctx, client_id=caller.client.id, scope=scopes)
        body = {
            "client_obj_id": caller.gateway_id,
            "expires_at": str(int(row.expires_at.timestamp())),
            "expires_in": str(int(KEY_LIFETIME.total_seconds())),
            "public_key": row.public_key,
            "scope": scopes,
        }
    return respond({"public_key_obj": body})


@router.get("/nodes")
async def all_nodes(
    caller: Gateway, page: str | None = None, per_page: str | None = None
) -> JSONResponse:
    number, size = paging(page, per_page)
    with caller.repo_read() as repo:
        nodes = repo.nodes(caller.client.id)
    items = present_nodes(caller, nodes[(number - 1) * size : number * size])
    return respond(nodes_envelope(items, page=number, per_page=size, total=len(nodes)))


@router.get("/trans")
async def all_trans(
    caller: Gateway, page: str | None = None, per_page: str | None = None
) -> JSONResponse:
    number, size = paging(page, per_page)
    return respond(list_envelope("trans", "trans_count", [], page=number, per_page=size))


@router.get("/institutions")
async def institutions(caller: Gateway) -> JSONResponse:
    banks: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        found = institution_service.search_institutions(
            ctx=caller.ctx, kinds=BANK_KINDS, cursor=cursor, limit=500
        )
        for inst in found.items:
            banks.append(
                {
                    "bank_code": inst.code or inst.id,
                    "bank_name": inst.name,
                    "logo": inst.logo_url,
                    "features": ["CREDIT", "DEBIT"],
                    "tx_history_months": 24,
                }
            )
        if found.next_cursor is None:
            break
        cursor = found.next_cursor
    return respond({"banks": banks, "error_code": "0", "http_code": "200", "success": True})
