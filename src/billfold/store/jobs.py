"""Repository of jobs, their step history and their challenges (answers encrypted).

Every method here runs once or several times per job for thousands of jobs at a
time (link, answer, resume, finish), so it speaks SQLAlchemy Core (`store.core`)
rather than loading ORM objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, and_, bindparam, insert, select, update
from sqlalchemy.orm import Session

from billfold.domain.challenges import Answer, Challenge, PendingChallenge
from billfold.domain.errors import ErrorCode
from billfold.domain.jobs import Job, JobKind, JobOptions, JobStatus, JobStep, check_move
from billfold.store.core import execute, table, update_row
from billfold.store.encryption import KeyRing
from billfold.store.tables import ChallengeRow, JobRow, JobStepRow

JOBS = table(JobRow)
STEPS = table(JobStepRow)
CHALLENGES = table(ChallengeRow)


class ChallengeState:
    PENDING = "pending"
    ANSWERED = "answered"
    USED = "used"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


# Built once: building a Core statement costs more than running it (see `store.core`).
_GET = select(JOBS).where(JOBS.c.id == bindparam("job_id"))
_LOCK = _GET.with_for_update()
_STATUS = select(JOBS.c.status).where(JOBS.c.id == bindparam("job_id"))
_COUNT_ATTEMPT = (
    update(JOBS).where(JOBS.c.id == bindparam("job_id")).values(attempts=JOBS.c.attempts + 1)
)
_MARK_READY = (
    update(JOBS)
    .where(JOBS.c.id == bindparam("job_id"), JOBS.c.accounts_ready_at.is_(None))
    .values(
        accounts_ready_at=bindparam("at", type_=JOBS.c.updated_at.type),
        updated_at=bindparam("at", type_=JOBS.c.updated_at.type),
    )
)
_STEPS = select(STEPS).where(STEPS.c.job_id == bindparam("job_id")).order_by(STEPS.c.id)
_ADD_STEP = insert(STEPS)
_ADD_JOB = insert(JOBS)
_ADD_CHALLENGE = insert(CHALLENGES)
_CHALLENGE = select(
    CHALLENGES.c.id,
    CHALLENGES.c.job_id,
    CHALLENGES.c.payload,
    CHALLENGES.c.status,
    CHALLENGES.c.created_at,
    CHALLENGES.c.expires_at,
).where(CHALLENGES.c.id == bindparam("challenge_id"))
_ERASE_ANSWER = (
    update(CHALLENGES)
    .where(
        CHALLENGES.c.id == bindparam("challenge_id"),
        CHALLENGES.c.status == ChallengeState.ANSWERED,
    )
    .values(answer=None, status=ChallengeState.USED)
)
_WAITING_STATE = (
    select(
        JOBS.c.status,
        CHALLENGES.c.status.label("challenge_status"),
        CHALLENGES.c.answer,
    )
    .select_from(
        JOBS.outerjoin(
            CHALLENGES,
            and_(CHALLENGES.c.id == bindparam("challenge_id"), CHALLENGES.c.job_id == JOBS.c.id),
        )
    )
    .where(JOBS.c.id == bindparam("job_id"))
)


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


def _step_values(job_id: str, step: JobStep) -> dict[str, Any]:
    return {
        "job_id": job_id,
        "at": step.at,
        "status": step.status.value,
        "note": step.note,
        "challenge_id": step.challenge_id,
        "challenge_kind": step.challenge_kind,
        "error_code": step.error_code,
    }


def _pending(row: RowMapping) -> PendingChallenge:
    return PendingChallenge(
        id=row["id"],
        job_id=row["job_id"],
        challenge=Challenge.from_dict(row["payload"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        answered=row["status"] != ChallengeState.PENDING,
    )


class JobRepository:
    def __init__(self, session: Session, keys: KeyRing, touched: set[str] | None = None) -> None:
        self._s = session
        # Ids of jobs whose visible state this transaction changed (for view caches).
        self.touched: set[str] = touched if touched is not None else set()
        self._keys = keys

    # jobs -------------------------------------------------------------------------------

    def add(self, job: Job) -> None:
        execute(
            self._s,
            _ADD_JOB,
            {
                "id": job.id,
                "client_id": job.client_id,
                "connection_id": job.connection_id,
                "kind": job.kind.value,
                "status": job.status.value,
                "options": options_to_dict(job.options),
                "created_at": job.created_at,
                "updated_at": job.updated_at,
                "deadline_at": job.deadline_at,
                "finished_at": None,
                "accounts_ready_at": None,
                "error_code": None,
                "error_message": None,
                "challenge_id": None,
                "selected_account_id": None,
                "attempts": 0,
            },
        )
        self.add_step(job.id, JobStep(at=job.created_at, status=job.status, note="Job created"))

    def get(
        self, job_id: str, client_id: str | None = None, *, with_steps: bool = True
    ) -> Job | None:
        row = execute(self._s, _GET, {"job_id": job_id}).mappings().first()
        if row is None or (client_id is not None and row["client_id"] != client_id):
            return None
        return self._job(row, with_steps=with_steps)

    def lock(self, job_id: str, *, with_steps: bool = False) -> Job | None:
        """Read a job inside a write transaction, locking its row where the database can."""
        row = execute(self._s, _LOCK, {"job_id": job_id}).mappings().first()
        return None if row is None else self._job(row, with_steps=with_steps)

    def recent(
        self,
        client_id: str,
        *,
        connection_id: str | None = None,
        statuses: Iterable[JobStatus] | None = None,
        limit: int = 50,
    ) -> list[Job]:
        query = select(JOBS).where(JOBS.c.client_id == client_id)
        if connection_id is not None:
            query = query.where(JOBS.c.connection_id == connection_id)
        if statuses is not None:
            query = query.where(JOBS.c.status.in_([s.value for s in statuses]))
        query = query.order_by(JOBS.c.created_at.desc(), JOBS.c.id.desc()).limit(limit)
        rows = execute(self._s, query).mappings().all()
        return [self._job(r, with_steps=False) for r in rows]

    def active_for_connection(self, connection_id: str) -> Job | None:
        live = [s.value for s in JobStatus if not s.is_terminal]
        row = (
            execute(
                self._s,
                select(JOBS)
                .where(JOBS.c.connection_id == connection_id, JOBS.c.status.in_(live))
                .order_by(JOBS.c.created_at.desc())
                .limit(1),
            )
            .mappings()
            .first()
        )
        return None if row is None else self._job(row, with_steps=False)

    def latest_for_connection(self, connection_id: str) -> Job | None:
        row = (
            execute(
                self._s,
                select(JOBS)
                .where(JOBS.c.connection_id == connection_id)
                .order_by(JOBS.c.created_at.desc(), JOBS.c.id.desc())
                .limit(1),
            )
            .mappings()
            .first()
        )
        return None if row is None else self._job(row, with_steps=False)

    def ids_in_status(self, statuses: Iterable[JobStatus]) -> list[str]:
        query = select(JOBS.c.id).where(JOBS.c.status.in_([s.value for s in statuses]))
        return list(execute(self._s, query).scalars())

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
        current: JobStatus | None = None,
        accounts_ready_at: datetime | None = None,
        notes: Sequence[tuple[datetime, str]] = (),
    ) -> None:
        """Move a job and add the step that says so.

        `current` is the status the caller read under the row lock in this transaction
        (saves reading it again); `accounts_ready_at` also marks the accounts ready;
        `notes` are progress notes made in the `current` status, written as steps
        before the move (as `notes` writes them, without statements of their own).
        """
        if current is None:
            found = execute(self._s, _STATUS, {"job_id": job_id}).scalar()
            if found is None:
                return
            current = JobStatus(found)
        check_move(current, status)
        values: dict[str, Any] = {
            "status": status.value,
            "updated_at": at,
            "challenge_id": challenge.id if challenge is not None else None,
        }
        if status.is_terminal:
            values["finished_at"] = at
        if error_code is not None:
            values["error_code"] = error_code.value
            values["error_message"] = error_message
        if accounts_ready_at is not None:
            values["accounts_ready_at"] = accounts_ready_at
        update_row(self._s, JOBS, "id", job_id, **values)
        if count_attempt:
            execute(self._s, _COUNT_ATTEMPT, {"job_id": job_id})
        step = JobStep(
            at=at,
            status=status,
            note=note,
            challenge_id=challenge.id if challenge else None,
            challenge_kind=challenge.challenge.kind.value if challenge else None,
            error_code=error_code.value if error_code else None,
        )
        self.touched.add(job_id)
        steps = [_step_values(job_id, JobStep(at=t, status=current, note=n)) for t, n in notes]
        steps.append(_step_values(job_id, step))
        execute(self._s, _ADD_STEP, steps if len(steps) > 1 else steps[0])

    def mark_accounts_ready(self, job_id: str, at: datetime) -> None:
        self.touched.add(job_id)
        execute(self._s, _MARK_READY, {"job_id": job_id, "at": at})

    def select_account(self, job_id: str, account_id: str, at: datetime) -> None:
        self.touched.add(job_id)
        execute(
            self._s,
            update(JOBS)
            .where(JOBS.c.id == job_id)
            .values(selected_account_id=account_id, updated_at=at),
        )

    def add_step(self, job_id: str, step: JobStep) -> None:
        self.touched.add(job_id)
        execute(self._s, _ADD_STEP, _step_values(job_id, step))

    def note(self, job_id: str, note: str, at: datetime) -> None:
        self.notes(job_id, [(at, note)])

    def notes(
        self, job_id: str, notes: Sequence[tuple[datetime, str]], status: JobStatus | None = None
    ) -> None:
        """Add progress notes as steps in the job's `status` (read when not given)."""
        if not notes:
            return
        if status is None:
            found = execute(self._s, _STATUS, {"job_id": job_id}).scalar()
            if found is None:
                return
            status = JobStatus(found)
        self.touched.add(job_id)
        update_row(self._s, JOBS, "id", job_id, updated_at=max(at for at, _ in notes))
        steps = [_step_values(job_id, JobStep(at=at, status=status, note=n)) for at, n in notes]
        execute(self._s, _ADD_STEP, steps)

    def steps(self, job_id: str) -> tuple[JobStep, ...]:
        rows = execute(self._s, _STEPS, {"job_id": job_id}).mappings()
        return tuple(
            JobStep(
                at=s["at"],
                status=JobStatus(s["status"]),
                note=s["note"],
                challenge_id=s["challenge_id"],
                challenge_kind=s["challenge_kind"],
                error_code=s["error_code"],
            )
            for s in rows
        )

    def _job(self, row: RowMapping, *, with_steps: bool) -> Job:
        challenge = None
        if row["challenge_id"] is not None:
            challenge = self.challenge(row["challenge_id"])
        return Job(
            id=row["id"],
            client_id=row["client_id"],
            connection_id=row["connection_id"],
            kind=JobKind(row["kind"]),
            status=JobStatus(row["status"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            deadline_at=row["deadline_at"],
            options=options_from_dict(row["options"]),
            error_code=ErrorCode(row["error_code"]) if row["error_code"] else None,
            error_message=row["error_message"],
            challenge=challenge,
            steps=self.steps(row["id"]) if with_steps else (),
            accounts_ready_at=row["accounts_ready_at"],
            finished_at=row["finished_at"],
            selected_account_id=row["selected_account_id"],
            attempts=row["attempts"],
        )

    # challenges -------------------------------------------------------------------------

    def add_challenge(self, pending: PendingChallenge) -> None:
        self.touched.add(pending.job_id)
        execute(
            self._s,
            _ADD_CHALLENGE,
            {
                "id": pending.id,
                "job_id": pending.job_id,
                "kind": pending.challenge.kind.value,
                "payload": pending.challenge.to_dict(),
                "status": ChallengeState.PENDING,
                "answer": None,
                "created_at": pending.created_at,
                "expires_at": pending.expires_at,
                "answered_at": None,
            },
        )

    def challenge(self, challenge_id: str) -> PendingChallenge | None:
        row = execute(self._s, _CHALLENGE, {"challenge_id": challenge_id}).mappings().first()
        return None if row is None else _pending(row)

    def challenge_status(self, challenge_id: str) -> str | None:
        query = select(CHALLENGES.c.status).where(CHALLENGES.c.id == challenge_id)
        return execute(self._s, query).scalar()

    def waiting_state(
        self, job_id: str, challenge_id: str
    ) -> tuple[JobStatus | None, str | None, Answer | None]:
        """The job's status, its challenge's state and, once the job is live and the
        challenge answered, the answer: a parked session's check, in one query."""
        params = {"job_id": job_id, "challenge_id": challenge_id}
        row = execute(self._s, _WAITING_STATE, params).mappings().first()
        if row is None:
            return None, None, None
        status, state = JobStatus(row["status"]), row["challenge_status"]
        answer = None
        if status is not JobStatus.CANCELLED and state == ChallengeState.ANSWERED:
            answer = self._answer(challenge_id, row["answer"])
        return status, state, answer

    def store_answer(self, pending: PendingChallenge, answer: Answer, at: datetime) -> bool:
        """Keep an answer (encrypted) for the session to take; False if it was not pending."""
        blob = self._keys.encrypt_json(list(answer.values), context=_answer_context(pending.id))
        result = execute(
            self._s,
            update(CHALLENGES)
            .where(CHALLENGES.c.id == pending.id, CHALLENGES.c.status == ChallengeState.PENDING)
            .values(answer=blob, status=ChallengeState.ANSWERED, answered_at=at),
        )
        self.touched.add(pending.job_id)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def _answer(self, challenge_id: str, blob: bytes | None) -> Answer | None:
        if blob is None:
            return None
        values = self._keys.decrypt_json(blob, context=_answer_context(challenge_id))
        return Answer(tuple(str(v) for v in values))

    def erase_answer(self, challenge_id: str) -> None:
        """Answers are kept no longer than needed: erased once the session has taken them."""
        execute(self._s, _ERASE_ANSWER, {"challenge_id": challenge_id})

    def close_challenge(self, challenge_id: str, state: str) -> None:
        query = select(CHALLENGES.c.job_id).where(CHALLENGES.c.id == challenge_id)
        job_id = execute(self._s, query).scalar()
        if job_id is not None:
            self.touched.add(job_id)
        execute(
            self._s,
            update(CHALLENGES)
            .where(
                CHALLENGES.c.id == challenge_id,
                CHALLENGES.c.status.in_([ChallengeState.PENDING, ChallengeState.ANSWERED]),
            )
            .values(status=state, answer=None),
        )
