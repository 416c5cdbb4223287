"""Reading accounts and transactions."""

from __future__ import annotations

from datetime import date

from billfold.domain.accounts import Account
from billfold.domain.errors import InvalidInput, NotFound
from billfold.domain.transactions import Transaction, TransactionStatus
from billfold.services.context import ServiceContext
from billfold.services.pagination import Page, check_limit, decode_cursor, encode_cursor


def list_accounts(
    *,
    ctx: ServiceContext,
    client_id: str,
    user_id: str | None = None,
    connection_id: str | None = None,
    include_inactive: bool = False,
    sensitive: bool = False,
) -> list[Account]:
    with ctx.store.read() as unit:
        if user_id is not None and unit.users.get(client_id, user_id) is None:
            raise NotFound("No such user.", code="user_not_found")
        if connection_id is not None and unit.connections.get(connection_id, client_id) is None:
            raise NotFound("No such connection.", code="connection_not_found")
        return unit.accounts.for_client(
            client_id,
            user_id=user_id,
            connection_id=connection_id,
            include_inactive=include_inactive,
            sensitive=sensitive,
        )


def get_account(
    *, ctx: ServiceContext, client_id: str, account_id: str, sensitive: bool = False
) -> Account:
    with ctx.store.read() as unit:
        account = unit.accounts.get(account_id, client_id, sensitive=sensitive)
    if account is None:
        raise NotFound("No such account.", code="account_not_found")
    return account


def list_transactions(
    *,
    ctx: ServiceContext,
    client_id: str,
    account_id: str | None = None,
    user_id: str | None = None,
    connection_id: str | None = None,
    start: date | None = None,
    end: date | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[Transaction]:
    """Transactions newest first, by account, connection or user, in an inclusive date range."""
    check_limit(limit)
    if start is not None and end is not None and start > end:
        raise InvalidInput("start_date is after end_date", code="invalid_date_range")
    wanted_status = None
    if status is not None:
        try:
            wanted_status = TransactionStatus(status.lower())
        except ValueError as exc:
            raise InvalidInput("status must be pending or posted", code="invalid_status") from exc
    after = None
    if cursor:
        day, last_id = decode_cursor(cursor, 2)
        try:
            after = (date.fromisoformat(day), last_id)
        except ValueError as exc:
            raise InvalidInput("The cursor is not valid.", code="invalid_cursor") from exc
    with ctx.store.read() as unit:
        account_ids: list[str] | None = None
        if account_id is not None:
            if unit.accounts.get(account_id, client_id) is None:
                raise NotFound("No such account.", code="account_not_found")
            account_ids = [account_id]
        elif connection_id is not None or user_id is not None:
            accounts = unit.accounts.for_client(
                client_id, user_id=user_id, connection_id=connection_id, include_inactive=True
            )
            account_ids = [a.id for a in accounts]
        rows = unit.transactions.page(
            client_id,
            account_ids=account_ids,
            start=start,
            end=end,
            after=after,
            limit=limit + 1,
            status=wanted_status,
        )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1].data.date.isoformat(), rows[-1].id) if more else None
    return Page(rows, next_cursor)
