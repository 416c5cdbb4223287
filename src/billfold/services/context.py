"""What services need from the outside world, assembled once in the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from billfold.jobs.backend import JobBackend, Wakeups
from billfold.jobs.store_calls import InlineStoreCalls, StoreCalls
from billfold.store.ids import utcnow
from billfold.store.store import Store


@dataclass(frozen=True, slots=True)
class JobPolicy:
    challenge_ttl: timedelta = timedelta(minutes=5)
    job_deadline: timedelta = timedelta(minutes=15)
    max_attempts: int = 3


@dataclass(slots=True)
class ServiceContext:
    store: Store
    jobs: JobBackend
    wakeups: Wakeups
    # Notified (by job id) after every commit that changed a job; see services.jobs.wait_for_job.
    job_changes: Wakeups | None = None
    policy: JobPolicy = field(default_factory=JobPolicy)
    clock: Callable[[], datetime] = utcnow
    # Where async callers (job runs, the API's busiest routes) run store work: threads
    # on PostgreSQL, so one caller's waits on the database do not stall the others.
    calls: StoreCalls = field(default_factory=InlineStoreCalls)
