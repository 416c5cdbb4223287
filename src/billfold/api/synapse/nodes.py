"""Node reads and changes: list, get (with `full_dehydrate` / `force_refresh`), patch, delete.

Bank transactions live only in `extra.other.transactions` (full dehydrate); the
`/trans` routes list Synapse payment transactions, which a bank-login node has none of.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from billfold.api.synapse import links
from billfold.api.synapse.auth import Caller, Gateway, authorize_user
from billfold.api.synapse.envelopes import (
    flag,
    list_envelope,
    not_found,
    paging,
    payload_error,
)
from billfold.api.synapse.idempotency import json_body, respond
from billfold.api.synapse.node_views import nodes_envelope, present_nodes
from billfold.services.synapse_webhooks import queue_events
from billfold.store.synapse import SynapseNodeRow

router = APIRouter()

ALLOWED_VALUES = {"CREDIT-AND-DEBIT", "CREDIT", "DEBIT", "LOCKED", "INACTIVE"}


def _node(caller: Caller, user_id: str, node_id: str) -> SynapseNodeRow:
    with caller.repo_read() as repo:
        user = authorize_user(caller, repo, user_id)
        node = repo.node(caller.client.id, node_id)
    if node is None or node.synapse_user_id != user.id:
        raise not_found("Node not found.", "node_not_found")
    return node


def _one(caller: Caller, node: SynapseNodeRow, *, full: bool = False) -> dict[str, Any]:
    rendered = present_nodes(caller, [node], full=full)
    if not rendered:
        raise not_found("Node not found.", "node_not_found")
    return rendered[0]


def _notify(caller: Caller, item: dict[str, Any]) -> None:
    queue_events(
        ctx=caller.ctx,
        client_id=caller.client.id,
        function="NODE|PATCH",
        objects=[(item["_id"], item)],
    )


@router.get("/users/{user_id}/nodes")
async def list_nodes(
    caller: Gateway,
    user_id: str,
    page: str | None = None,
    per_page: str | None = None,
    type: str | None = None,
) -> JSONResponse:
    number, size = paging(page, per_page)
    with caller.repo_read() as repo:
        user = authorize_user(caller, repo, user_id)
        nodes = repo.nodes(caller.client.id, synapse_user_id=user.id)
    if type is not None and type != "ACH-US":
        nodes = []
    chosen = nodes[(number - 1) * size : number * size]
    items = present_nodes(caller, chosen)
    return respond(nodes_envelope(items, page=number, per_page=size, total=len(nodes)))


@router.get("/users/{user_id}/nodes/{node_id}")
async def get_node(
    caller: Gateway,
    user_id: str,
    node_id: str,
    full_dehydrate: str | None = None,
    force_refresh: str | None = None,
) -> JSONResponse:
    node = _node(caller, user_id, node_id)
    if flag(force_refresh):
        try:
            await links.force_refresh(caller, node)
        finally:
            _notify(caller, _one(caller, node))
        node = _node(caller, user_id, node_id)
    return respond(_one(caller, node, full=flag(full_dehydrate)))


@router.patch("/users/{user_id}/nodes/{node_id}")
async def update_node(
    request: Request, caller: Gateway, user_id: str, node_id: str
) -> JSONResponse:
    body = await json_body(request)
    if flag(request.query_params.get("resend_micro")):
        raise payload_error("Micro-deposits apply to account/routing nodes only.", "not_micro")
    node = _node(caller, user_id, node_id)
    with caller.repo_write() as repo:
        row = repo.node(caller.client.id, node.id)
        assert row is not None
        if "allowed" in body:
            if body["allowed"] not in ALLOWED_VALUES:
                raise payload_error("allowed is not a known value.", "invalid_allowed")
            row.allowed = str(body["allowed"])
        if "supp_id" in body:
            row.supp_id = str(body["supp_id"])[:200]
        if body.get("is_active") is False:
            row.is_active = False
        row.updated_at = caller.ctx.clock()
        repo.s.flush()
        node = row
    item = _one(caller, node)
    _notify(caller, item)
    return respond(item)


@router.delete("/users/{user_id}/nodes/{node_id}")
async def delete_node(caller: Gateway, user_id: str, node_id: str) -> JSONResponse:
    node = _node(caller, user_id, node_id)
    with caller.repo_write() as repo:
        row = repo.node(caller.client.id, node.id)
        assert row is not None
        row.is_active = False
        row.updated_at = caller.ctx.clock()
        repo.s.flush()
        node = row
    item = _one(caller, node)
    _notify(caller, item)
    return respond(item)


@router.get("/users/{user_id}/nodes/{node_id}/trans")
async def node_trans(
    caller: Gateway,
    user_id: str,
    node_id: str,
    page: str | None = None,
    per_page: str | None = None,
) -> JSONResponse:
    number, size = paging(page, per_page)
    _node(caller, user_id, node_id)
    return respond(list_envelope("trans", "trans_count", [], page=number, per_page=size))


@router.get("/users/{user_id}/nodes/{node_id}/statements")
async def node_statements(
    caller: Gateway,
    user_id: str,
    node_id: str,
    page: str | None = None,
    per_page: str | None = None,
) -> JSONResponse:
    number, size = paging(page, per_page)
    _node(caller, user_id, node_id)
    return respond(list_envelope("statements", "statements_count", [], page=number, per_page=size))


@router.get("/users/{user_id}/trans")
async def user_trans(
    caller: Gateway, user_id: str, page: str | None = None, per_page: str | None = None
) -> JSONResponse:
    number, size = paging(page, per_page)
    with caller.repo_read() as repo:
        authorize_user(caller, repo, user_id)
    return respond(list_envelope("trans", "trans_count", [], page=number, per_page=size))


@router.get("/users/{user_id}/statements")
async def user_statements(
    caller: Gateway, user_id: str, page: str | None = None, per_page: str | None = None
) -> JSONResponse:
    number, size = paging(page, per_page)
    with caller.repo_read() as repo:
        authorize_user(caller, repo, user_id)
    return respond(list_envelope("statements", "statements_count", [], page=number, per_page=size))
