"""Runs one job: loads the login, runs the connector, stores the snapshot, ends the job.

A run that finds its job already `running` or `waiting_for_answer` is a resume
after a crash or restart (cold): the pending challenge is superseded and the
connector starts again from its checkpoint, asking again where it must. After
`max_attempts` such resumes the job ends `failed` with `interrupted`.

Every store call of a run goes through `ctx.calls`, so on PostgreSQL one job's
database waits never hold up the others in the same worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billfold.connectors.base import Connector, Credentials, SyncRequest
from billfold.domain.connections import Connection, ConnectionStatus, status_after_failure
from billfold.domain.errors import ERROR_MESSAGES, ConnectorError, ErrorCode
from billfold.domain.institutions import Institution
from billfold.domain.jobs import Job, JobKind, JobStatus
from billfold.domain.snapshot import Snapshot
from billfold.jobs.backend import Wakeups
from billfold.jobs.session import ChallengeExpired, JobCancelled, JobSession
from billfold.services.context import ServiceContext
from billfold.services.events import EventType, record
from billfold.services.jobs import RUN_JOB, enqueue_job, job_key
from billfold.services.schedules import next_refresh_at
from billfold.services.sync import apply_snapshot
from billfold.store.jobs import ChallengeState
from billfold.store.store import Unit

log = logging.getLogger("billfold.jobs")

DEADLINE_GRACE_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class _Start:
    """What a run needs from the store once it has marked its job running."""

    job: Job
    connection: Connection
    institution: Institution
    credentials: Credentials
    state: Mapping[str, Any] | None
    refresh_accounts: list[str]


class JobRunner:
    def __init__(
        self,
        *,
        ctx: ServiceContext,
        wakeups: Wakeups,
        connectors: Mapping[str, Connector],
    ) -> None:
        self._ctx = ctx
        self._wakeups = wakeups
        self._connectors = dict(connectors)
        self._calls = ctx.calls

    def install(self) -> None:
        self._ctx.jobs.register(RUN_JOB, self._handle)

    async def _handle(self, args: Mapping[str, str]) -> None:
        await self.run(args["job_id"])

    async def run(self, job_id: str) -> None:
        start = await self._calls.run(lambda: self._start(job_id))
        if start is None:
            return
        job, connection, institution = start.job, start.connection, start.institution
        connector = self._connectors.get(institution.connector)
        if connector is None:
            await self._calls.run(
                lambda: self._finish_failed(
                    job_id,
                    ErrorCode.INSTITUTION_UNAVAILABLE,
                    f"connector {institution.connector!r} is not installed",
                )
            )
            return
        session = JobSession(
            ctx=self._ctx,
            wakeups=self._wakeups,
            job_id=job_id,
            connection_id=connection.id,
            interactive=job.options.interactive,
            credentials=start.credentials,
        )
        request = SyncRequest(
            connection_id=connection.id,
            institution=institution,
            kind=job.kind,
            options=job.options,
            state=start.state,
            account_ids=tuple(start.refresh_accounts) if job.kind is JobKind.REFRESH else (),
        )
        snapshot = await self._sync(connector, session, request, job)
        if snapshot is not None:
            await session.exclusive(lambda: self._finish_succeeded(job_id, snapshot, session))

    def _start(self, job_id: str) -> _Start | None:
        """Mark the job running (or end it, after too many resumes) and load its login."""
        ctx = self._ctx
        now = ctx.clock()
        with ctx.store.write() as unit:
            job = unit.jobs.lock(job_id)
            if job is None or job.is_finished:
                return None
            resumed = job.status in (JobStatus.RUNNING, JobStatus.WAITING_FOR_ANSWER)
            connection = unit.connections.get(job.connection_id)
            institution = unit.institutions.get(connection.institution_id) if connection else None
            if connection is None or institution is None:
                return None
            if resumed and job.challenge is not None:
                unit.jobs.close_challenge(job.challenge.id, ChallengeState.SUPERSEDED)
            if resumed and job.attempts >= ctx.policy.max_attempts:
                self._fail(
                    unit, job_id, connection.id, ErrorCode.INTERRUPTED, None, current=job.status
                )
                return None
            unit.jobs.set_status(
                job_id,
                JobStatus.RUNNING,
                now,
                count_attempt=True,
                note="Resumed after a restart" if resumed else "Started",
                current=job.status,
            )
            return _Start(
                job=job,
                connection=connection,
                institution=institution,
                credentials=Credentials(unit.connections.credentials(connection.id)),
                state=unit.connections.state(connection.id),
                refresh_accounts=unit.connections.attributes(connection.id).get(
                    "refresh_accounts", []
                ),
            )

    async def _sync(
        self, connector: Connector, session: JobSession, request: SyncRequest, job: Job
    ) -> Snapshot | None:
        """Run the connector; on any way it fails, end the job and return None."""
        job_id = job.id
        ctx = self._ctx
        remaining = max((job.deadline_at - ctx.clock()).total_seconds(), 0.001)
        try:
            # A challenge expires at the deadline at the latest; the grace lets a parked
            # session report that (answer_timeout) rather than a bare job timeout. A timeout
            # scope, not wait_for: the connector runs in this task, so a session's deferred
            # write (see `jobs.session`) finds the job already finished by this one.
            async with asyncio.timeout(remaining + DEADLINE_GRACE_SECONDS):
                return await connector.sync(session, request)
        except ConnectorError as exc:
            failure: tuple[ErrorCode, str | None, JobStatus] = (
                exc.code,
                exc.message,
                JobStatus.FAILED,
            )
        except ChallengeExpired:
            failure = (ErrorCode.ANSWER_TIMEOUT, None, JobStatus.EXPIRED)
        except JobCancelled:
            return None
        except TimeoutError:
            failure = (ErrorCode.JOB_TIMEOUT, None, JobStatus.FAILED)
        except Exception as exc:
            # Never log the message or locals: a connector's exception may quote a login.
            log.error("job %s: connector %s raised %s", job_id, connector.kind, type(exc).__name__)
            failure = (ErrorCode.UNKNOWN, None, JobStatus.FAILED)
        code, message, status = failure
        await session.exclusive(
            lambda: self._finish_failed(job_id, code, message, status, session=session)
        )
        return None

    def _finish_succeeded(self, job_id: str, snapshot: Snapshot, session: JobSession) -> None:
        ctx = self._ctx
        now = ctx.clock()
        with ctx.store.write() as unit:
            job = unit.jobs.lock(job_id)
            connection = unit.connections.get(job.connection_id) if job else None
            if job is None or connection is None or job.status is not JobStatus.RUNNING:
                return
            held = session.take_pending(unit, final=snapshot)
            summary = apply_snapshot(
                unit,
                connection=connection,
                snapshot=snapshot,
                now=now,
                next_refresh_at=next_refresh_at(connection.refresh_every_hours, now),
            )
            if job.kind is JobKind.REFRESH:
                unit.connections.set_attributes(connection.id, {"refresh_accounts": []})
            unit.jobs.set_status(
                job_id,
                JobStatus.SUCCEEDED,
                now,
                note=(
                    f"{len(snapshot.accounts)} account(s); {summary.transactions_added} new, "
                    f"{summary.transactions_changed} changed, {summary.transactions_removed} "
                    "removed transaction(s)"
                ),
                current=job.status,
                accounts_ready_at=job.accounts_ready_at or session.accounts_ready_at or now,
                notes=held.notes,
            )
            base = {"connection_id": connection.id, "user_id": connection.user_id}
            record(
                unit,
                client_id=job.client_id,
                type_=EventType.JOB_SUCCEEDED,
                at=now,
                data={**base, "job_id": job_id, "kind": job.kind.value},
            )
            changed = (
                summary.transactions_added,
                summary.transactions_changed,
                summary.transactions_removed,
            )
            if any(changed):
                record(
                    unit,
                    client_id=job.client_id,
                    type_=EventType.TRANSACTIONS_UPDATED,
                    at=now,
                    data={
                        **base,
                        "added": summary.transactions_added,
                        "changed": summary.transactions_changed,
                        "removed": summary.transactions_removed,
                    },
                )
            for account_id in summary.balances_changed:
                record(
                    unit,
                    client_id=job.client_id,
                    type_=EventType.ACCOUNT_BALANCE_CHANGED,
                    at=now,
                    data={**base, "account_id": account_id},
                )

    def _finish_failed(
        self,
        job_id: str,
        code: ErrorCode,
        message: str | None,
        status: JobStatus = JobStatus.FAILED,
        session: JobSession | None = None,
    ) -> None:
        with self._ctx.store.write() as unit:
            job = unit.jobs.lock(job_id)
            if job is None or job.is_finished:
                return
            held = None if session is None else session.take_pending(unit, job.status)
            # Accounts the session stored early count as ready, as they do on success.
            ready_at = None if held is None else (job.accounts_ready_at or held.accounts_ready_at)
            if job.challenge is not None:
                unit.jobs.close_challenge(job.challenge.id, ChallengeState.EXPIRED)
            self._fail(
                unit,
                job_id,
                job.connection_id,
                code,
                message,
                status,
                job.status,
                notes=held.notes if held is not None else (),
                accounts_ready_at=ready_at,
            )

    def _fail(
        self,
        unit: Unit,
        job_id: str,
        connection_id: str,
        code: ErrorCode,
        message: str | None,
        status: JobStatus = JobStatus.FAILED,
        current: JobStatus | None = None,
        *,
        notes: Sequence[tuple[datetime, str]] = (),
        accounts_ready_at: datetime | None = None,
    ) -> None:
        now = self._ctx.clock()
        connection = unit.connections.get(connection_id)
        unit.jobs.set_status(
            job_id,
            status,
            now,
            note=message or ERROR_MESSAGES[code],
            error_code=code,
            error_message=message or ERROR_MESSAGES[code],
            current=current,
            notes=notes,
            accounts_ready_at=accounts_ready_at,
        )
        if connection is None:
            return
        after = status_after_failure(connection, code)
        unit.connections.set_status(connection_id, after, code, now)
        base = {"connection_id": connection_id, "user_id": connection.user_id}
        record(
            unit,
            client_id=connection.client_id,
            type_=EventType.JOB_FAILED,
            at=now,
            data={**base, "job_id": job_id, "status": status.value, "error_code": code.value},
        )
        if after is ConnectionStatus.NEEDS_RELINK and connection.status is not after:
            record(
                unit,
                client_id=connection.client_id,
                type_=EventType.CONNECTION_NEEDS_RELINK,
                at=now,
                data={**base, "error_code": code.value},
            )

    async def recover(self) -> int:
        """Re-queue live jobs that no task will run (a crash between commit and enqueue,
        or a worker that stopped while a session was parked); returns how many."""
        return await self._calls.run(self._recover)

    def _recover(self) -> int:
        live = [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.WAITING_FOR_ANSWER]
        with self._ctx.store.read() as unit:
            ids = unit.jobs.ids_in_status(live)
        if not ids:
            return 0
        keys = {job_key(i): i for i in ids}
        orphans = [keys[k] for k in set(keys) - self._ctx.jobs.live_keys(list(keys))]
        for job_id in orphans:
            with self._ctx.store.read() as unit:
                job = unit.jobs.get(job_id, with_steps=False)
            if job is not None and not job.is_finished:
                enqueue_job(ctx=self._ctx, job=job)
        return len(orphans)
