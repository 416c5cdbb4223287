"""Accounts and transactions in the dialect's shape, shared by v1 and v2."""

from __future__ import annotations

from typing import Any

from billfold.api.sophtron.dates import date_range
from billfold.api.sophtron.presenters import account_out, transaction_out
from billfold.domain.accounts import Account
from billfold.domain.errors import InvalidInput
from billfold.services import connections, data, institutions, jobs
from billfold.services import sophtron as dialect
from billfold.services.context import ServiceContext


def _products(ctx: ServiceContext, client_id: str, connection_id: str) -> set[str]:
    """What the connection's jobs have gathered (full numbers and identity are asked for)."""
    recent = jobs.list_jobs(ctx=ctx, client_id=client_id, connection_id=connection_id, limit=20)
    return {p for job in recent for p in job.options.products}


def accounts_out(
    ctx: ServiceContext, client_id: str, accounts: list[Account], *, v2: bool = False
) -> list[dict[str, Any]]:
    out = []
    seen: dict[str, tuple[set[str], Any]] = {}
    names: dict[str, str] = {}
    for account in accounts:
        if account.connection_id not in seen:
            products = _products(ctx, client_id, account.connection_id)
            identity = None
            if "identity" in products:
                identity = dialect.connection_details(
                    ctx=ctx, client_id=client_id, connection_id=account.connection_id
                )[0]
            seen[account.connection_id] = (products, identity)
        products, identity = seen[account.connection_id]
        extra = None
        if v2:
            connection = connections.get_connection(
                ctx=ctx, client_id=client_id, connection_id=account.connection_id
            )
            if connection.institution_id not in names:
                names[connection.institution_id] = institutions.get_institution(
                    ctx=ctx, institution_id=connection.institution_id
                ).name
            extra = {
                "MemberID": connection.id,
                "InstitutionID": connection.institution_id,
                "InstitutionName": names[connection.institution_id],
            }
        out.append(
            account_out(
                account,
                full_numbers="verification" in products,
                identity=identity,
                extra=extra,
            )
        )
    return out


def connection_accounts(
    ctx: ServiceContext, client_id: str, connection_id: str, *, v2: bool = False
) -> list[dict[str, Any]]:
    found = data.list_accounts(
        ctx=ctx, client_id=client_id, connection_id=connection_id.lower(), sensitive=True
    )
    return accounts_out(ctx, client_id, found, v2=v2)


def one_account(
    ctx: ServiceContext, client_id: str, account_id: str, *, v2: bool = False
) -> tuple[Account, dict[str, Any]]:
    account = data.get_account(
        ctx=ctx, client_id=client_id, account_id=account_id.lower(), sensitive=True
    )
    return account, accounts_out(ctx, client_id, [account], v2=v2)[0]


def transactions_out(
    ctx: ServiceContext, client_id: str, account_id: str, start: str | None, end: str | None
) -> list[dict[str, Any]]:
    first, last = date_range(start, end, ctx.clock().date())
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = data.list_transactions(
            ctx=ctx,
            client_id=client_id,
            account_id=account_id.lower(),
            start=first,
            end=last,
            cursor=cursor,
            limit=500,
        )
        out.extend(transaction_out(t) for t in page.items)
        cursor = page.next_cursor
        if not cursor:
            return out
        if len(out) > 100_000:
            raise InvalidInput("Too many transactions; narrow the dates.", code="too_many")
