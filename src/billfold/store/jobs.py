"""Repository of jobs, their step history and their challenges (answers encrypted)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from billfold.domain.challenges import Answer, Challenge, PendingChallenge
from billfold.domain.errors import ErrorCode
from billfold.domain.jobs import Job, JobKind, JobOptions, JobStatus, JobStep, check_move
from billfold.store.encryption import KeyRing
from billfold.store.tables import ChallengeRow, JobRow, JobStepRow


def options_to_dict(options: JobOptions) -> dict[str, Any]:
    return {
        "interactive": options.interactive,
        "products": list(options.products),
        "history_days": options.history_days,
    }


def options_from_dict(data: dict[str, Any]) -> JobOptions:
    return JobOptions(
        interactive=bool(data.get("interactive", True)),
        products=tuple(data.get("products", ("aggregate",))),
        history_days=data.get("history_days"),
    )


def _answer_context(challenge_id: str) -> str:
    return f"challenge:{challenge_id}:answer"


class ChallengeState:
    PENDING = "pending"
    ANSWERED = "answered"
    USED = "used"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


class JobRepository:
    def __init__(self, session: Session, keys: KeyRing, touched: set[str] | None = None) -> None:
        self._s = session
        # Ids of jobs whose visible state this transaction changed (for view caches).
        self.touched: set[str] = touched if touched is not None else set()
        self._keys = keys

    # jobs -------------------------------------------------------------------------------

    def add(self, job: Job) -> None:
        self._s.add(
            JobRow(
                id=job.id,
                client_id=job.client_id,
                connection_id=job.connection_id,
                kind=job.kind.value,
                status=job.status.value,
                options=options_to_dict(job.options),
                created_at=job.created_at,
                updated_at=job.updated_at,
                deadline_at=job.deadline_at,
                finished_at=None,
                accounts_ready_at=None,
                error_code=None,
                error_message=None,
                challenge_id=None,
                selected_account_id=None,
                attempts=0,
            )
        )
        self.add_step(job.id, JobStep(at=job.created_at, status=job.status, note="Job created"))

    def get(
        self, job_id: str, client_id: str | None = None, *, with_steps: bool = True
    ) -> Job | None:
        row = self._s.get(JobRow, job_id)
        if row is None or (client_id is not None and row.client_id != client_id):
            return None
        return self._job(row, with_steps=with_steps)

    def lock(self, job_id: str) -> Job | None:
        """Read a job inside a write transaction, locking its row where the database can."""
        row = self._s.scalar(select(JobRow).where(JobRow.id == job_id).with_for_update())
        return None if row is None else self._job(row, with_steps=False)

    def recent(
        self,
        client_id: str,
        *,
        connection_id: str | None = None,
        statuses: Iterable[JobStatus] | None = None,
        limit: int = 50,
    ) -> list[Job]:
        query = select(JobRow).where(JobRow.client_id == client_id)
        if connection_id is not None:
            query = query.where(JobRow.connection_id == connection_id)
        if statuses is not None:
            query = query.where(JobRow.status.in_([s.value for s in statuses]))
        query = query.order_by(JobRow.created_at.desc(), JobRow.id.desc()).limit(limit)
        return [self._job(r, with_steps=False) for r in self._s.scalars(query)]

    def active_for_connection(self, connection_id: str) -> Job | None:
        live = [s.value for s in JobStatus if not s.is_terminal]
        row = self._s.scalar(
            select(JobRow)
            .where(JobRow.connection_id == connection_id, JobRow.status.in_(live))
            .order_by(JobRow.created_at.desc())
            .limit(1)
        )
        return None if row is None else self._job(row, with_steps=False)

    def latest_for_connection(self, connection_id: str) -> Job | None:
        row = self._s.scalar(
            select(JobRow)
            .where(JobRow.connection_id == connection_id)
            .order_by(JobRow.created_at.desc(), JobRow.id.desc())
            .limit(1)
        )
        return None if row is None else self._job(row, with_steps=False)

    def ids_in_status(self, statuses: Iterable[JobStatus]) -> list[str]:
        return list(
            self._s.scalars(select(JobRow.id).where(JobRow.status.in_([s.value for s in statuses])))
        )

    def set_status(
        self,
        job_id: str,
        status: JobStatus,
        at: datetime,
        *,
        note: str | None = None,
        error_code: ErrorCode | None = None,
        error_message: str | None = None,
        challenge: PendingChallenge | None = None,
        count_attempt: bool = False,
    ) -> None:
        row = self._s.get(JobRow, job_id)
        if row is None:
            return
        check_move(JobStatus(row.status), status)
        row.status = status.value
        row.updated_at = at
        row.challenge_id = challenge.id if challenge is not None else None
        if status.is_terminal:
            row.finished_at = at
        if error_code is not None:
            row.error_code = error_code.value
            row.error_message = error_message
        if count_attempt:
            row.attempts += 1
        self.add_step(
            job_id,
            JobStep(
                at=at,
                status=status,
                note=note,
                challenge_id=challenge.id if challenge else None,
                challenge_kind=challenge.challenge.kind.value if challenge else None,
                error_code=error_code.value if error_code else None,
            ),
        )

    def mark_accounts_ready(self, job_id: str, at: datetime) -> None:
        self.touched.add(job_id)
        self._s.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.accounts_ready_at.is_(None))
            .values(accounts_ready_at=at, updated_at=at)
        )

    def select_account(self, job_id: str, account_id: str, at: datetime) -> None:
        self.touched.add(job_id)
        self._s.execute(
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(selected_account_id=account_id, updated_at=at)
        )

    def add_step(self, job_id: str, step: JobStep) -> None:
        self.touched.add(job_id)
        self._s.add(
            JobStepRow(
                job_id=job_id,
                at=step.at,
                status=step.status.value,
                note=step.note,
                challenge_id=step.challenge_id,
                challenge_kind=step.challenge_kind,
                error_code=step.error_code,
            )
        )

    def note(self, job_id: str, note: str, at: datetime) -> None:
        row = self._s.get(JobRow, job_id)
        if row is not None:
            row.updated_at = at
            self.add_step(job_id, JobStep(at=at, status=JobStatus(row.status), note=note))

    def _job(self, row: JobRow, *, with_steps: bool) -> Job:
        challenge = None
        if row.challenge_id is not None:
            challenge = self.challenge(row.challenge_id)
        steps: tuple[JobStep, ...] = ()
        if with_steps:
            steps = tuple(
                JobStep(
                    at=s.at,
                    status=JobStatus(s.status),
                    note=s.note,
                    challenge_id=s.challenge_id,
                    challenge_kind=s.challenge_kind,
                    error_code=s.error_code,
                )
                for s in self._s.scalars(
                    select(JobStepRow).where(JobStepRow.job_id == row.id).order_by(JobStepRow.id)
                )
            )
        return Job(
            id=row.id,
            client_id=row.client_id,
            connection_id=row.connection_id,
            kind=JobKind(row.kind),
            status=JobStatus(row.status),
            created_at=row.created_at,
            updated_at=row.updated_at,
            deadline_at=row.deadline_at,
            options=options_from_dict(row.options),
            error_code=ErrorCode(row.error_code) if row.error_code else None,
            error_message=row.error_message,
            challenge=challenge,
            steps=steps,
            accounts_ready_at=row.accounts_ready_at,
            finished_at=row.finished_at,
            selected_account_id=row.selected_account_id,
            attempts=row.attempts,
        )

    # challenges -------------------------------------------------------------------------

    def add_challenge(self, pending: PendingChallenge) -> None:
        self.touched.add(pending.job_id)
        self._s.add(
            ChallengeRow(
                id=pending.id,
                job_id=pending.job_id,
                kind=pending.challenge.kind.value,
                payload=pending.challenge.to_dict(),
                status=ChallengeState.PENDING,
                answer=None,
                created_at=pending.created_at,
                expires_at=pending.expires_at,
                answered_at=None,
            )
        )

    def challenge(self, challenge_id: str) -> PendingChallenge | None:
        row = self._s.get(ChallengeRow, challenge_id)
        if row is None:
            return None
        return PendingChallenge(
            id=row.id,
            job_id=row.job_id,
            challenge=Challenge.from_dict(row.payload),
            created_at=row.created_at,
            expires_at=row.expires_at,
            answered=row.status != ChallengeState.PENDING,
        )

    def challenge_status(self, challenge_id: str) -> str | None:
        return self._s.scalar(select(ChallengeRow.status).where(ChallengeRow.id == challenge_id))

    def store_answer(self, challenge_id: str, answer: Answer, at: datetime) -> None:
        row = self._s.get(ChallengeRow, challenge_id)
        if row is None:
            return
        row.answer = self._keys.encrypt_json(
            list(answer.values), context=_answer_context(challenge_id)
        )
        row.status = ChallengeState.ANSWERED
        row.answered_at = at
        self.touched.add(row.job_id)

    def take_answer(self, challenge_id: str) -> Answer | None:
        """Decrypt the answer once and erase it: answers are kept no longer than needed."""
        row = self._s.get(ChallengeRow, challenge_id)
        if row is None or row.status != ChallengeState.ANSWERED or row.answer is None:
            return None
        values = self._keys.decrypt_json(row.answer, context=_answer_context(challenge_id))
        row.answer = None
        row.status = ChallengeState.USED
        self.touched.add(row.job_id)
        return Answer(tuple(str(v) for v in values))

    def close_challenge(self, challenge_id: str, state: str) -> None:
        job_id = self._s.scalar(select(ChallengeRow.job_id).where(ChallengeRow.id == challenge_id))
        if job_id is not None:
            self.touched.add(job_id)
        self._s.execute(
            update(ChallengeRow)
            .where(
                ChallengeRow.id == challenge_id,
                ChallengeRow.status.in_([ChallengeState.PENDING, ChallengeState.ANSWERED]),
            )
            .values(status=state, answer=None)
        )
