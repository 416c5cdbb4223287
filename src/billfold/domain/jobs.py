"""Jobs: one run of a connector for one connection, and the state machine it follows.

queued -> running -> waiting_for_answer <-> running -> succeeded | failed | expired | cancelled
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from billfold.domain.challenges import PendingChallenge
from billfold.domain.errors import Conflict, ErrorCode


class JobKind(StrEnum):
    LINK = "link"
    REFRESH = "refresh"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    WAITING_FOR_ANSWER = "waiting_for_answer"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.EXPIRED, JobStatus.CANCELLED}
)

_ALLOWED: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELLED}),
    # running -> running is a resume after a restart.
    JobStatus.RUNNING: frozenset(
        {JobStatus.RUNNING, JobStatus.QUEUED, JobStatus.WAITING_FOR_ANSWER, *TERMINAL_STATUSES}
    ),
    JobStatus.WAITING_FOR_ANSWER: frozenset(
        {
            JobStatus.RUNNING,
            JobStatus.QUEUED,
            JobStatus.FAILED,
            JobStatus.EXPIRED,
            JobStatus.CANCELLED,
        }
    ),
}


def can_move(current: JobStatus, to: JobStatus) -> bool:
    return to in _ALLOWED.get(current, frozenset())


def check_move(current: JobStatus, to: JobStatus) -> None:
    if not can_move(current, to):
        raise Conflict(f"a {current} job cannot become {to}", code="invalid_job_transition")


class JobQueue(StrEnum):
    """Separate queues so a refresh storm never starves a person waiting on a screen."""

    INTERACTIVE = "interactive"
    REFRESH = "refresh"
    WEBHOOKS = "webhooks"


@dataclass(frozen=True, slots=True)
class JobStep:
    """One time-stamped entry of a job's history."""

    at: datetime
    status: JobStatus
    note: str | None = None
    challenge_id: str | None = None
    challenge_kind: str | None = None
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class JobOptions:
    """What the caller asked the job to gather, beyond accounts and balances.

    `products` uses the normalized tokens of the Sophtron dialect
    (`verification`, `identity`, `aggregate`, `history`); `interactive` says
    whether a person is there to answer challenges (background refreshes are not).
    """

    interactive: bool = True
    products: tuple[str, ...] = ("aggregate",)
    history_days: int | None = None


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    client_id: str
    connection_id: str
    kind: JobKind
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    deadline_at: datetime
    options: JobOptions = field(default_factory=JobOptions)
    error_code: ErrorCode | None = None
    error_message: str | None = None
    challenge: PendingChallenge | None = None
    steps: tuple[JobStep, ...] = ()
    # Set once accounts are stored, before transactions finish (Sophtron's "AccountsReady").
    accounts_ready_at: datetime | None = None
    finished_at: datetime | None = None
    selected_account_id: str | None = None
    attempts: int = 0

    @property
    def is_finished(self) -> bool:
        return self.status.is_terminal
