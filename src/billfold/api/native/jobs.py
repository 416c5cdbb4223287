"""`/v1/jobs`: poll a job, answer its challenge, cancel it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from billfold.api.native.auth import Ctx, CurrentClient
from billfold.api.native.job_views import render_job
from billfold.api.native.schemas import AnswerChallenge, JobList, JobOut
from billfold.services import jobs

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("", response_model=JobList)
async def list_(
    ctx: Ctx,
    client: CurrentClient,
    connection_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JobList:
    found = jobs.list_jobs(ctx=ctx, client_id=client.id, connection_id=connection_id, limit=limit)
    return JobList(data=[JobOut.of(j) for j in found])


@router.get("/{job_id}", response_model=JobOut)
async def get(job_id: str, request: Request, client: CurrentClient) -> Response:
    """The job's status, its current challenge (if waiting), its steps and its error."""
    # Served by the lean route of `job_views` ahead of this one; kept for the docs.
    body = render_job(request.app.state.container, client.id, job_id)
    return Response(body, media_type="application/json")


@router.post("/{job_id}/answer", response_model=JobOut)
async def answer(job_id: str, body: AnswerChallenge, ctx: Ctx, client: CurrentClient) -> JobOut:
    """Answer the current challenge: `answers` (one per question) or `answer`."""
    values = body.values()
    answered = await ctx.calls.run(
        lambda: jobs.answer_challenge(
            ctx=ctx,
            client_id=client.id,
            job_id=job_id,
            challenge_id=body.challenge_id,
            values=values,
        )
    )
    return JobOut.of(answered)


@router.post("/{job_id}/cancel", response_model=JobOut)
async def cancel(job_id: str, ctx: Ctx, client: CurrentClient) -> JobOut:
    cancelled = await ctx.calls.run(
        lambda: jobs.cancel_job(ctx=ctx, client_id=client.id, job_id=job_id)
    )
    return JobOut.of(cancelled)
