"""`/v1/users`: the client's end users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from billfold.api.native.auth import Ctx, CurrentClient
from billfold.api.native.schemas import CreateUser, UserOut, UserPage
from billfold.services import users

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", response_model=UserOut, status_code=201)
async def create(body: CreateUser, ctx: Ctx, client: CurrentClient) -> UserOut:
    user = users.create_user(
        ctx=ctx, client_id=client.id, external_id=body.external_id, name=body.name
    )
    return UserOut.of(user)


@router.get("", response_model=UserPage)
async def list_(
    ctx: Ctx,
    client: CurrentClient,
    external_id: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> UserPage:
    page = users.list_users(
        ctx=ctx, client_id=client.id, cursor=cursor, limit=limit, external_id=external_id
    )
    return UserPage(data=[UserOut.of(u) for u in page.items], next_cursor=page.next_cursor)


@router.get("/{user_id}", response_model=UserOut)
async def get(user_id: str, ctx: Ctx, client: CurrentClient) -> UserOut:
    return UserOut.of(users.get_user(ctx=ctx, client_id=client.id, user_id=user_id))


@router.delete("/{user_id}", status_code=204)
async def delete(user_id: str, ctx: Ctx, client: CurrentClient) -> Response:
    users.delete_user(ctx=ctx, client_id=client.id, user_id=user_id)
    return Response(status_code=204)
