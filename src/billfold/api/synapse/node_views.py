"""Nodes: the accounts of a bank login, each with a 24-hex node id, rendered as Synapse nodes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from billfold.api.synapse.auth import Caller
from billfold.api.synapse.envelopes import list_envelope
from billfold.api.synapse.presenters import node_object
from billfold.domain.errors import NotFound
from billfold.services import connections as connection_service
from billfold.services import data as data_service
from billfold.services import institutions as institution_service
from billfold.store.synapse import SynapseNodeRow, new_oid

TRANSACTIONS_SHOWN = 500


def sync_nodes(caller: Caller, *, synapse_user_id: str, connection_id: str) -> list[SynapseNodeRow]:
    """Give every active account of the login a node (new accounts get new ids); active nodes."""
    accounts = data_service.list_accounts(
        ctx=caller.ctx, client_id=caller.client.id, connection_id=connection_id
    )
    now = caller.ctx.clock()
    with caller.repo_write() as repo:
        for i, account in enumerate(accounts):
            if repo.node_for_account(account.id) is None:
                repo.add_node(
                    SynapseNodeRow(
                        id=new_oid(),
                        client_id=caller.client.id,
                        synapse_user_id=synapse_user_id,
                        account_id=account.id,
                        connection_id=connection_id,
                        is_active=True,
                        allowed="CREDIT-AND-DEBIT",
                        supp_id="",
                        # Distinct times keep the bank's account order in every list.
                        created_at=now + timedelta(milliseconds=i),
                        updated_at=now,
                    )
                )
        repo.s.flush()
        return repo.nodes(caller.client.id, connection_id=connection_id)


def present_nodes(
    caller: Caller, nodes: list[SynapseNodeRow], *, full: bool = False
) -> list[dict[str, Any]]:
    codes: dict[str, str | None] = {}
    logins: dict[str, str] = {}
    with caller.repo_read() as repo:
        for node in nodes:
            if node.connection_id not in logins:
                login = repo.login(node.connection_id)
                logins[node.connection_id] = login.login_id if login else ""
    rendered = []
    for node in nodes:
        if node.connection_id not in codes:
            codes[node.connection_id] = _bank_code(caller, node.connection_id)
        try:
            account = data_service.get_account(
                ctx=caller.ctx,
                client_id=caller.client.id,
                account_id=node.account_id,
                sensitive=True,
            )
        except NotFound:
            continue
        identity = None
        transactions = None
        if full:
            with caller.ctx.store.read() as unit:
                identity = unit.connections.identity(node.connection_id)
            transactions = data_service.list_transactions(
                ctx=caller.ctx,
                client_id=caller.client.id,
                account_id=account.id,
                limit=TRANSACTIONS_SHOWN,
            ).items
        rendered.append(
            node_object(
                node,
                account,
                client=caller.client,
                gateway_id=caller.gateway_id,
                base_url=caller.base_url,
                login_id=logins[node.connection_id],
                bank_code=codes[node.connection_id],
                full_dehydrate=full,
                identity=identity,
                transactions=transactions,
            )
        )
    return rendered


def _bank_code(caller: Caller, connection_id: str) -> str | None:
    try:
        connection = connection_service.get_connection(
            ctx=caller.ctx, client_id=caller.client.id, connection_id=connection_id
        )
        institution = institution_service.get_institution(
            ctx=caller.ctx, institution_id=connection.institution_id
        )
    except NotFound:
        return None
    return institution.code or institution.id


def nodes_envelope(
    items: list[dict[str, Any]],
    *,
    page: int = 1,
    per_page: int | None = None,
    total: int | None = None,
) -> dict[str, Any]:
    return list_envelope("nodes", "node_count", items, page=page, per_page=per_page, total=total)
