"""Jobs seen from outside: start, read, answer a challenge, cancel."""

from __future__ import annotations

import asyncio

from billfold.domain.challenges import Answer
from billfold.domain.connections import Connection, ConnectionStatus
from billfold.domain.errors import Conflict, NotFound
from billfold.domain.jobs import Job, JobKind, JobOptions, JobQueue, JobStatus
from billfold.jobs.backend import TaskCall
from billfold.services.context import ServiceContext
from billfold.store.ids import new_id
from billfold.store.jobs import ChallengeState
from billfold.store.store import Unit

RUN_JOB = "run_job"


def new_job(
    unit: Unit, *, ctx: ServiceContext, connection: Connection, kind: JobKind, options: JobOptions
) -> Job:
    """Create a queued job row (inside the caller's write transaction)."""
    active = unit.jobs.active_for_connection(connection.id)
    if active is not None:
        raise Conflict(
            f"connection already has a {active.status} job: {active.id}", code="job_in_progress"
        )
    now = ctx.clock()
    job = Job(
        id=new_id(),
        client_id=connection.client_id,
        connection_id=connection.id,
        kind=kind,
        status=JobStatus.QUEUED,
        created_at=now,
        updated_at=now,
        deadline_at=now + ctx.policy.job_deadline,
        options=options,
    )
    unit.jobs.add(job)
    return job


def job_key(job_id: str) -> str:
    """The dedupe key of the task that runs a job: one task per job at a time."""
    return f"{RUN_JOB}:{job_id}"


def enqueue_job(*, ctx: ServiceContext, job: Job) -> None:
    """Hand a committed job to the backend (idempotent: the dedupe key is the job id)."""
    queue = JobQueue.INTERACTIVE if job.options.interactive else JobQueue.REFRESH
    ctx.jobs.enqueue(TaskCall(RUN_JOB, {"job_id": job.id}, queue=queue, dedupe_key=job_key(job.id)))


def get_job(*, ctx: ServiceContext, client_id: str, job_id: str) -> Job:
    with ctx.store.read() as unit:
        job = unit.jobs.get(job_id, client_id)
    if job is None:
        raise NotFound("No such job.", code="job_not_found")
    return job


async def wait_for_job(
    *,
    ctx: ServiceContext,
    client_id: str,
    job_id: str,
    until: frozenset[JobStatus] | set[JobStatus],
    timeout: float,
) -> Job:
    """Return the job once its status is in `until`, or as it stands when `timeout` passes.

    For faces that answer synchronously (a dialect whose link call returns the MFA
    prompt or the accounts in one response). Wakes on the store's commit hook, and
    re-reads at least every second in case a notification was missed.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        job = get_job(ctx=ctx, client_id=client_id, job_id=job_id)
        remaining = deadline - loop.time()
        if job.status in until or remaining <= 0:
            return job
        if ctx.job_changes is None:
            await asyncio.sleep(min(remaining, 0.02))
        else:
            await ctx.job_changes.wait(job_id, min(remaining, 1.0))


def list_jobs(
    *, ctx: ServiceContext, client_id: str, connection_id: str | None = None, limit: int = 50
) -> list[Job]:
    with ctx.store.read() as unit:
        return unit.jobs.recent(client_id, connection_id=connection_id, limit=limit)


def answer_challenge(
    *, ctx: ServiceContext, client_id: str, job_id: str, challenge_id: str | None, values: list[str]
) -> Job:
    """Record an answer to the job's current challenge and wake the session waiting on it.

    The state change is committed before this returns, so the next poll shows the
    job `running` again. `challenge_id` guards against answering a prompt that was
    replaced in the meantime; None means "the current one".
    """
    now = ctx.clock()
    with ctx.store.write() as unit:
        job = unit.jobs.lock(job_id)
        if job is None or job.client_id != client_id:
            raise NotFound("No such job.", code="job_not_found")
        if job.status is not JobStatus.WAITING_FOR_ANSWER or job.challenge is None:
            raise Conflict(
                f"the job is {job.status}, not waiting for an answer", code="job_not_waiting"
            )
        pending = job.challenge
        if challenge_id is not None and challenge_id != pending.id:
            raise Conflict("that challenge is no longer the current one", code="challenge_mismatch")
        if pending.answered:
            raise Conflict("the challenge was already answered", code="challenge_answered")
        if pending.is_expired(now):
            raise Conflict("the challenge has expired", code="challenge_expired")
        answer: Answer = pending.challenge.normalize_answer(values)
        unit.jobs.store_answer(pending, answer, now)
        unit.jobs.set_status(
            job.id,
            JobStatus.RUNNING,
            now,
            note=f"Answer received ({pending.challenge.kind})",
            current=job.status,
        )
        # Read back inside the transaction: the caller gets what it committed, without
        # a second transaction per answer.
        answered = unit.jobs.get(job_id)
        unit.wake(job_id)
    assert answered is not None  # the row is locked: it cannot vanish mid-transaction
    return answered


def cancel_job(*, ctx: ServiceContext, client_id: str, job_id: str) -> Job:
    now = ctx.clock()
    with ctx.store.write() as unit:
        job = unit.jobs.lock(job_id)
        if job is None or job.client_id != client_id:
            raise NotFound("No such job.", code="job_not_found")
        if job.is_finished:
            raise Conflict(f"the job already ended ({job.status})", code="job_finished")
        if job.challenge is not None:
            unit.jobs.close_challenge(job.challenge.id, ChallengeState.SUPERSEDED)
        unit.jobs.set_status(job.id, JobStatus.CANCELLED, now, note="Cancelled by the client")
        connection = unit.connections.get(job.connection_id)
        if connection is not None and connection.last_synced_at is None:
            unit.connections.set_status(connection.id, ConnectionStatus.FAILED, None, now)
        unit.wake(job_id)
    return get_job(ctx=ctx, client_id=client_id, job_id=job_id)
