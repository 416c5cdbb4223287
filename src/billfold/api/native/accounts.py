"""`/v1/accounts` and `/v1/transactions`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from billfold.api.native.auth import Ctx, CurrentClient
from billfold.api.native.schemas import AccountList, AccountOut, TransactionOut, TransactionPage
from billfold.services import data

router = APIRouter(tags=["accounts"])

Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=500)]
Id = Annotated[str | None, Query(max_length=64)]


@router.get("/accounts", response_model=AccountList)
async def list_accounts(
    ctx: Ctx,
    client: CurrentClient,
    user_id: Id = None,
    connection_id: Id = None,
    include_inactive: bool = False,
) -> AccountList:
    found = data.list_accounts(
        ctx=ctx,
        client_id=client.id,
        user_id=user_id,
        connection_id=connection_id,
        include_inactive=include_inactive,
    )
    return AccountList(data=[AccountOut.of(a) for a in found])


@router.get("/accounts/{account_id}", response_model=AccountOut)
async def get_account(account_id: str, ctx: Ctx, client: CurrentClient) -> AccountOut:
    return AccountOut.of(data.get_account(ctx=ctx, client_id=client.id, account_id=account_id))


@router.get("/accounts/{account_id}/details", response_model=AccountOut)
async def get_account_details(account_id: str, ctx: Ctx, client: CurrentClient) -> AccountOut:
    """The account with its full number, routing number and owner, where the source gave them."""
    account = data.get_account(ctx=ctx, client_id=client.id, account_id=account_id, sensitive=True)
    return AccountOut.of(account, sensitive=True)


def _page(
    ctx: Ctx,
    client_id: str,
    *,
    account_id: str | None,
    user_id: str | None,
    connection_id: str | None,
    start_date: date | None,
    end_date: date | None,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> TransactionPage:
    page = data.list_transactions(
        ctx=ctx,
        client_id=client_id,
        account_id=account_id,
        user_id=user_id,
        connection_id=connection_id,
        start=start_date,
        end=end_date,
        status=status,
        cursor=cursor,
        limit=limit,
    )
    return TransactionPage(
        data=[TransactionOut.of(t) for t in page.items], next_cursor=page.next_cursor
    )


@router.get("/accounts/{account_id}/transactions", response_model=TransactionPage)
async def account_transactions(
    account_id: str,
    ctx: Ctx,
    client: CurrentClient,
    start_date: date | None = None,
    end_date: date | None = None,
    status: Annotated[str | None, Query(max_length=10)] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> TransactionPage:
    """Newest first; `start_date`/`end_date` inclusive; follow `next_cursor` for more."""
    return _page(
        ctx,
        client.id,
        account_id=account_id,
        user_id=None,
        connection_id=None,
        start_date=start_date,
        end_date=end_date,
        status=status,
        cursor=cursor,
        limit=limit,
    )


@router.get("/transactions", response_model=TransactionPage)
async def transactions(
    ctx: Ctx,
    client: CurrentClient,
    account_id: Id = None,
    user_id: Id = None,
    connection_id: Id = None,
    start_date: date | None = None,
    end_date: date | None = None,
    status: Annotated[str | None, Query(max_length=10)] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> TransactionPage:
    return _page(
        ctx,
        client.id,
        account_id=account_id,
        user_id=user_id,
        connection_id=connection_id,
        start_date=start_date,
        end_date=end_date,
        status=status,
        cursor=cursor,
        limit=limit,
    )
