"""The `Session` a connector gets: its decrypted login, `ask()` that parks the job, progress."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from billfold.connectors.base import Credentials
from billfold.domain.challenges import Answer, Challenge, PendingChallenge
from billfold.domain.errors import ConnectorError, ErrorCode
from billfold.domain.jobs import JobStatus
from billfold.domain.snapshot import Snapshot
from billfold.jobs.backend import Wakeups
from billfold.services.context import ServiceContext
from billfold.services.events import EventType, record
from billfold.services.sync import apply_accounts
from billfold.store.ids import new_id
from billfold.store.jobs import ChallengeState
from billfold.store.store import Unit

# How often a parked session re-reads its job even without a wake-up. Wake-ups are
# not lost in practice (an answer that lands before the wait is seen by the re-read
# before it, and the PostgreSQL listener wakes everyone after a reconnect), so this is
# a last resort; it stays long because 10,000 parked jobs would make it a steady load.
RECHECK_SECONDS = 30.0
NOTE_FLUSH_SECONDS = 1.0


class JobCancelled(Exception):
    """The job was cancelled or its connection deleted while the connector ran."""


class ChallengeExpired(Exception):
    """Nobody answered the challenge in time."""


class JobSession:
    def __init__(
        self,
        *,
        ctx: ServiceContext,
        wakeups: Wakeups,
        job_id: str,
        connection_id: str,
        interactive: bool,
        credentials: Credentials,
    ) -> None:
        self._ctx = ctx
        self._wakeups = wakeups
        self._job_id = job_id
        self._connection_id = connection_id
        self._interactive = interactive
        self._credentials = credentials
        # Progress notes wait for the next write (at most NOTE_FLUSH_SECONDS), so a fast
        # connector's notes cost no transactions of their own.
        self._notes: list[tuple[datetime, str]] = []
        self._flushed_at = time.monotonic()

    @property
    def credentials(self) -> Credentials:
        return self._credentials

    async def ask(self, challenge: Challenge) -> Answer:
        if not self._interactive:
            raise ConnectorError(
                ErrorCode.NEEDS_RELINK,
                "The institution asked for multi-factor authentication during a background "
                "refresh; the user must relink.",
            )
        ctx = self._ctx
        now = ctx.clock()
        with ctx.store.write() as unit:
            job = unit.jobs.lock(self._job_id)
            if job is None or job.status is not JobStatus.RUNNING:
                raise JobCancelled()
            expires_at = min(now + ctx.policy.challenge_ttl, job.deadline_at)
            pending = PendingChallenge(
                id=new_id(),
                job_id=job.id,
                challenge=challenge,
                created_at=now,
                expires_at=expires_at,
            )
            self.write_notes(unit)
            unit.jobs.add_challenge(pending)
            record(
                unit,
                client_id=job.client_id,
                type_=EventType.JOB_WAITING_FOR_ANSWER,
                at=now,
                data={
                    "job_id": job.id,
                    "connection_id": job.connection_id,
                    "challenge_id": pending.id,
                    "challenge_kind": challenge.kind.value,
                },
            )
            unit.jobs.set_status(
                job.id,
                JobStatus.WAITING_FOR_ANSWER,
                now,
                note=f"Waiting for an answer ({challenge.kind})",
                challenge=pending,
            )
        while True:
            with ctx.store.read() as unit:
                state = unit.jobs.challenge_status(pending.id)
                job = unit.jobs.get(self._job_id, with_steps=False)
            if job is None or job.status is JobStatus.CANCELLED or state is None:
                raise JobCancelled()
            if state == ChallengeState.ANSWERED:
                with ctx.store.write() as unit:
                    answer = unit.jobs.take_answer(pending.id)
                if answer is not None:
                    return answer
                continue
            if state != ChallengeState.PENDING:
                raise JobCancelled()
            remaining = (expires_at - ctx.clock()).total_seconds()
            if remaining <= 0:
                with ctx.store.write() as unit:
                    unit.jobs.close_challenge(pending.id, ChallengeState.EXPIRED)
                raise ChallengeExpired()
            await self._wakeups.wait(self._job_id, min(remaining, RECHECK_SECONDS))

    async def progress(self, note: str) -> None:
        self._notes.append((self._ctx.clock(), note[:500]))
        if time.monotonic() - self._flushed_at < NOTE_FLUSH_SECONDS:
            return
        with self._ctx.store.write() as unit:
            job = unit.jobs.lock(self._job_id)
            if job is None or job.status is not JobStatus.RUNNING:
                raise JobCancelled()
            self.write_notes(unit)

    def write_notes(self, unit: Unit) -> None:
        """Write the buffered progress notes inside the caller's transaction."""
        for at, note in self._notes:
            unit.jobs.note(self._job_id, note, at)
        self._notes.clear()
        self._flushed_at = time.monotonic()

    async def checkpoint(self, state: Mapping[str, Any]) -> None:
        with self._ctx.store.write() as unit:
            job = unit.jobs.lock(self._job_id)
            if job is None or job.status is not JobStatus.RUNNING:
                raise JobCancelled()
            self.write_notes(unit)
            unit.connections.save_state(self._connection_id, state)

    async def accounts_ready(self, snapshot: Snapshot) -> None:
        now = self._ctx.clock()
        with self._ctx.store.write() as unit:
            job = unit.jobs.lock(self._job_id)
            connection = unit.connections.get(self._connection_id)
            if job is None or connection is None or job.status is not JobStatus.RUNNING:
                raise JobCancelled()
            self.write_notes(unit)
            apply_accounts(unit, connection=connection, snapshot=snapshot, now=now)
            unit.jobs.mark_accounts_ready(self._job_id, now)
            unit.jobs.note(self._job_id, f"{len(snapshot.accounts)} account(s) found", now)
