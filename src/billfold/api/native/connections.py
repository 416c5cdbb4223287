"""`/v1/connections`: link a login, read it, refresh, relink, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from billfold.api.native.auth import Ctx, CurrentClient
from billfold.api.native.schemas import (
    ConnectionList,
    ConnectionOut,
    CreateConnection,
    JobOut,
    LinkOut,
    Refresh,
    Relink,
    UpdateConnection,
    UpdateCredentials,
)
from billfold.services import connections, jobs, schedules

router = APIRouter(prefix="/connections", tags=["connections"])


@router.post("", response_model=LinkOut, status_code=202)
async def create(body: CreateConnection, ctx: Ctx, client: CurrentClient) -> LinkOut:
    """Store the login (encrypted) and start the job that links it. Poll the job."""

    def link() -> LinkOut:
        connection, job = connections.create_connection(
            ctx=ctx,
            client_id=client.id,
            user_id=body.user_id,
            institution_id=body.institution_id,
            credentials=body.credentials,
            products=body.products,
        )
        job = jobs.get_job(ctx=ctx, client_id=client.id, job_id=job.id)
        return LinkOut(connection=ConnectionOut.of(connection), job=JobOut.of(job))

    return await ctx.calls.run(link)


@router.get("", response_model=ConnectionList)
async def list_(
    ctx: Ctx, client: CurrentClient, user_id: Annotated[str | None, Query(max_length=64)] = None
) -> ConnectionList:
    found = connections.list_connections(ctx=ctx, client_id=client.id, user_id=user_id)
    return ConnectionList(data=[ConnectionOut.of(c) for c in found])


@router.get("/{connection_id}", response_model=ConnectionOut)
async def get(connection_id: str, ctx: Ctx, client: CurrentClient) -> ConnectionOut:
    return ConnectionOut.of(
        connections.get_connection(ctx=ctx, client_id=client.id, connection_id=connection_id)
    )


@router.patch("/{connection_id}", response_model=ConnectionOut)
async def update(
    connection_id: str, body: UpdateConnection, ctx: Ctx, client: CurrentClient
) -> ConnectionOut:
    """Set the background refresh schedule (`refresh_every_hours`, null: off)."""
    return ConnectionOut.of(
        schedules.set_refresh_schedule(
            ctx=ctx,
            client_id=client.id,
            connection_id=connection_id,
            every_hours=body.refresh_every_hours,
        )
    )


@router.delete("/{connection_id}", status_code=204)
async def delete(connection_id: str, ctx: Ctx, client: CurrentClient) -> Response:
    """Delete the connection with its accounts and transactions; a running job stops."""
    connections.delete_connection(ctx=ctx, client_id=client.id, connection_id=connection_id)
    return Response(status_code=204)


@router.post("/{connection_id}/refresh", response_model=JobOut, status_code=202)
async def refresh(
    connection_id: str, ctx: Ctx, client: CurrentClient, body: Refresh | None = None
) -> JobOut:
    """Fetch fresh balances and transactions with the stored login."""
    job = connections.refresh_connection(
        ctx=ctx,
        client_id=client.id,
        connection_id=connection_id,
        products=body.products if body else None,
    )
    return JobOut.of(jobs.get_job(ctx=ctx, client_id=client.id, job_id=job.id))


@router.post("/{connection_id}/relink", response_model=JobOut, status_code=202)
async def relink(
    connection_id: str, ctx: Ctx, client: CurrentClient, body: Relink | None = None
) -> JobOut:
    """Log in again, with new credentials if given, answering challenges like a link."""
    job = connections.relink_connection(
        ctx=ctx,
        client_id=client.id,
        connection_id=connection_id,
        credentials=body.credentials if body else None,
        products=body.products if body else None,
    )
    return JobOut.of(jobs.get_job(ctx=ctx, client_id=client.id, job_id=job.id))


@router.put("/{connection_id}/credentials", response_model=ConnectionOut)
async def update_credentials(
    connection_id: str, body: UpdateCredentials, ctx: Ctx, client: CurrentClient
) -> ConnectionOut:
    """Replace stored credentials without starting a job."""
    return ConnectionOut.of(
        connections.update_credentials(
            ctx=ctx, client_id=client.id, connection_id=connection_id, credentials=body.credentials
        )
    )
