"""`wait_for_job` returns as soon as a commit moves the job, or when time runs out."""

from __future__ import annotations

import asyncio
import time

import pytest

from billfold.domain.jobs import JobStatus
from billfold.services.jobs import answer_challenge, wait_for_job
from conftest import RunningServer
from flows import start_link, wait_job


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_waits_for_the_answer_to_take_the_job_to_success(server: RunningServer) -> None:
    ctx = server.container.ctx
    with server.client(server.new_api_key()) as api:
        job = wait_job(
            api, start_link(api, "Sophtron Bank SecurityQuestion", "a", "b")["job"]["id"]
        )
        client_id = server.container.api_keys.verify(api.headers["authorization"][7:]).id

    async def scenario() -> tuple[JobStatus, float, JobStatus]:
        started = time.monotonic()
        timed_out = await wait_for_job(
            ctx=ctx, client_id=client_id, job_id=job["id"], until={JobStatus.SUCCEEDED}, timeout=0.2
        )
        answer_challenge(
            ctx=ctx, client_id=client_id, job_id=job["id"], challenge_id=None, values=["blue"]
        )
        done = await wait_for_job(
            ctx=ctx,
            client_id=client_id,
            job_id=job["id"],
            until={JobStatus.SUCCEEDED, JobStatus.FAILED},
            timeout=10,
        )
        return timed_out.status, time.monotonic() - started, done.status

    loop = server.container.backend._loop
    assert loop is not None
    status, elapsed, final = asyncio.run_coroutine_threadsafe(scenario(), loop).result(15)
    assert status is JobStatus.WAITING_FOR_ANSWER
    assert final is JobStatus.SUCCEEDED
    assert elapsed < 3
