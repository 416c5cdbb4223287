"""`POST /v1/connect_tokens`: the client's backend opens the widget for one of its users."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request

from billfold.api.connect.schemas import ConnectTokenOut, CreateConnectToken
from billfold.api.native.auth import Ctx, CurrentClient
from billfold.services import connect

router = APIRouter(prefix="/connect_tokens", tags=["connect"])


@router.post("", response_model=ConnectTokenOut, status_code=201)
async def create(
    body: CreateConnectToken, request: Request, ctx: Ctx, client: CurrentClient
) -> ConnectTokenOut:
    """A short-lived, single-use token for Billfold Connect. Keep your API key on your server."""
    issued = connect.create_connect_token(
        ctx=ctx,
        client_id=client.id,
        user_id=body.user_id,
        institution_id=body.institution_id,
        connection_id=body.connection_id,
        allowed_origins=body.allowed_origins,
        expires_in=timedelta(seconds=body.expires_in) if body.expires_in else None,
    )
    record = issued.record
    url = str(request.base_url).rstrip("/") + "/connect?" + urlencode({"token": issued.token})
    return ConnectTokenOut(
        token=issued.token,
        expires_at=record.expires_at,
        url=url,
        user_id=record.user_id,
        institution_id=record.institution_id,
        connection_id=record.connection_id,
        allowed_origins=list(record.allowed_origins),
    )
