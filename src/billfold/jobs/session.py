"""The `Session` a connector gets: its decrypted login, `ask()` that parks the job, progress.

A session writes as little as it can on its own: progress notes, the erasure of an
answer it took and the accounts it handed over early (`accounts_ready`) ride on its
next write, or are written as soon as the connector waits on anything (the next
turn of the event loop). A connector that goes straight from an answer to its
snapshot, as most do, therefore costs one transaction to finish and no more;
one that waits on a bank in between still shows its accounts at once.

Store calls run through `ctx.calls` (on threads on PostgreSQL), one at a time per
session: `exclusive` is how the session, and the runner on its behalf, write.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

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

log = logging.getLogger("billfold.jobs")

T = TypeVar("T")

# How often a parked session re-reads its job even without a wake-up. Wake-ups are
# not lost in practice (an answer that lands before the wait is seen by the re-read
# before it, and the PostgreSQL listener wakes everyone after a reconnect), so this is
# a last resort; it stays long because 10,000 parked jobs would make it a steady load.
RECHECK_SECONDS = 30.0
NOTE_FLUSH_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class HeldForJob:
    """What a session held back for the job's own row (see `JobSession.take_pending`)."""

    notes: list[tuple[datetime, str]]
    accounts_ready_at: datetime | None  # set when held-back accounts were stored


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
        self._calls = ctx.calls
        self._lock = asyncio.Lock()
        self._job_id = job_id
        self._connection_id = connection_id
        self._interactive = interactive
        self._credentials = credentials
        # Progress notes wait for the next write (at most NOTE_FLUSH_SECONDS), so a fast
        # connector's notes cost no transactions of their own.
        self._notes: list[tuple[datetime, str]] = []
        self._flushed_at = time.monotonic()
        # Written with the next write, or at the next turn of the event loop.
        self._taken: str | None = None  # challenge whose answer was taken, to erase
        self._ready: Snapshot | None = None  # accounts handed over early, to store
        self._ready_at: datetime | None = None
        self._write_scheduled = False
        self._deferred: asyncio.Task[None] | None = None
        self._stopped = False  # a deferred write found the job no longer running

    @property
    def accounts_ready_at(self) -> datetime | None:
        """When the connector handed over its accounts (None if it has not)."""
        return self._ready_at

    @property
    def credentials(self) -> Credentials:
        return self._credentials

    async def exclusive(self, work: Callable[[], T]) -> T:
        """Run store work for this session, after any other of its store work ends."""
        async with self._lock:
            return await self._calls.run(work)

    async def ask(self, challenge: Challenge) -> Answer:
        if not self._interactive:
            raise ConnectorError(
                ErrorCode.NEEDS_RELINK,
                "The institution asked for multi-factor authentication during a background "
                "refresh; the user must relink.",
            )
        pending = await self.exclusive(lambda: self._park(challenge))
        while True:
            # Watch before looking: the look may run on a store thread, and an answer
            # that lands meanwhile must still wake this session.
            with self._wakeups.watch(self._job_id) as watch:
                status, state, answer = await self.exclusive(lambda: self._look(pending.id))
                if answer is not None:
                    # Erased with the next write: no transaction of its own.
                    self._taken = pending.id
                    self._schedule_write()
                    return answer
                if status in (None, JobStatus.CANCELLED) or state != ChallengeState.PENDING:
                    raise JobCancelled()
                remaining = (pending.expires_at - self._ctx.clock()).total_seconds()
                if remaining > 0:
                    await watch.wait(min(remaining, RECHECK_SECONDS))
                    continue
            await self.exclusive(lambda: self._expire(pending.id))
            raise ChallengeExpired()

    def _park(self, challenge: Challenge) -> PendingChallenge:
        """Store the challenge and mark the job waiting for its answer."""
        ctx = self._ctx
        now = ctx.clock()
        with ctx.store.write() as unit:
            job = unit.jobs.lock(self._job_id)
            if job is None or job.status is not JobStatus.RUNNING:
                raise JobCancelled()
            pending = PendingChallenge(
                id=new_id(),
                job_id=job.id,
                challenge=challenge,
                created_at=now,
                expires_at=min(now + ctx.policy.challenge_ttl, job.deadline_at),
            )
            self.write_pending(unit)
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
                current=job.status,
            )
        return pending

    def _look(self, challenge_id: str) -> tuple[JobStatus | None, str | None, Answer | None]:
        """The job's status, the challenge's state, and its answer once it has one."""
        with self._ctx.store.read() as unit:
            return unit.jobs.waiting_state(self._job_id, challenge_id)

    def _expire(self, challenge_id: str) -> None:
        with self._ctx.store.write() as unit:
            unit.jobs.close_challenge(challenge_id, ChallengeState.EXPIRED)

    async def progress(self, note: str) -> None:
        self._check_live()
        self._notes.append((self._ctx.clock(), note[:500]))
        if self._write_scheduled or time.monotonic() - self._flushed_at < NOTE_FLUSH_SECONDS:
            return  # a write comes soon enough and carries the note
        await self.exclusive(self._write_running)

    def _write_running(self) -> None:
        with self._ctx.store.write() as unit:
            job = unit.jobs.lock(self._job_id)
            if job is None or job.status is not JobStatus.RUNNING:
                raise JobCancelled()
            self.write_pending(unit)

    def write_pending(
        self, unit: Unit, status: JobStatus = JobStatus.RUNNING, *, final: Snapshot | None = None
    ) -> None:
        """Write what the session holds back (see the module docstring) in the caller's
        transaction.

        `status` is the job's status under the caller's row lock (`running` unless the
        caller says otherwise). `final` is the snapshot the caller is about to store:
        accounts handed over early that it repeats unchanged are stored only once.
        """
        held = self.take_pending(unit, status, final=final)
        if held.accounts_ready_at is not None:
            unit.jobs.mark_accounts_ready(self._job_id, held.accounts_ready_at)
        unit.jobs.notes(self._job_id, held.notes, status)

    def take_pending(
        self, unit: Unit, status: JobStatus = JobStatus.RUNNING, *, final: Snapshot | None = None
    ) -> HeldForJob:
        """Like `write_pending`, but what belongs on the job's own row (notes, when the
        accounts were ready) is returned for the caller to write with its status move:
        a finish then updates the job once."""
        # This may run on a store thread while the connector goes on on the loop: take
        # what is held back first, so a note or accounts added meanwhile wait for the
        # next write instead of being cleared unwritten.
        taken, self._taken = self._taken, None
        ready, ready_at = self._ready, self._ready_at
        notes, self._notes = self._notes, []
        if taken is not None:
            unit.jobs.erase_answer(taken)
        marked = None
        if ready is not None and ready_at is not None and status is JobStatus.RUNNING:
            if final is None or not _same_accounts(ready, final):
                connection = unit.connections.get(self._connection_id)
                if connection is not None:
                    apply_accounts(unit, connection=connection, snapshot=ready, now=ready_at)
            marked = ready_at
            if self._ready is ready:
                self._ready = None
        self._flushed_at = time.monotonic()
        return HeldForJob(notes, marked)

    async def checkpoint(self, state: Mapping[str, Any]) -> None:
        self._check_live()

        def save() -> None:
            with self._ctx.store.write() as unit:
                job = unit.jobs.lock(self._job_id)
                if job is None or job.status is not JobStatus.RUNNING:
                    raise JobCancelled()
                self.write_pending(unit)
                unit.connections.save_state(self._connection_id, state)

        await self.exclusive(save)

    async def accounts_ready(self, snapshot: Snapshot) -> None:
        self._check_live()
        now = self._ctx.clock()
        self._ready, self._ready_at = snapshot, now
        # In the notes, so it keeps its place among the steps around it.
        self._notes.append((now, f"{len(snapshot.accounts)} account(s) found"))
        self._schedule_write()

    def _check_live(self) -> None:
        if self._stopped:
            raise JobCancelled()

    def _schedule_write(self) -> None:
        if self._write_scheduled:
            return
        self._write_scheduled = True
        # Starts at the next turn of the event loop: by then the connector either waits
        # on something (so write now) or has finished and its final write took it all.
        self._deferred = asyncio.get_running_loop().create_task(self._write_deferred())

    async def _write_deferred(self) -> None:
        """The connector is waiting on something (or done): write what is held back."""
        async with self._lock:
            self._write_scheduled = False
            if self._taken is None and self._ready is None:
                return
            try:
                await self._calls.run(self._write_held)
            except Exception as exc:
                # The next write of the session carries it instead.
                log.warning(
                    "job %s: deferred write failed with %s", self._job_id, type(exc).__name__
                )

    def _write_held(self) -> None:
        with self._ctx.store.write() as unit:
            job = unit.jobs.lock(self._job_id)
            if job is None or job.status is not JobStatus.RUNNING:
                self._stopped = True
                if job is not None and self._taken is not None:
                    unit.jobs.erase_answer(self._taken)  # whatever became of the job
                    self._taken = None
                return
            self.write_pending(unit)


def _same_accounts(ready: Snapshot, final: Snapshot) -> bool:
    return ready.complete == final.complete and [a.account for a in ready.accounts] == [
        a.account for a in final.accounts
    ]
