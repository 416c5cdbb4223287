"""What a resumed job writes, and when: the answer path stays at two write transactions
(the answer, the finish), the taken answer is erased, and accounts handed over early
show at once when the connector then waits on the bank. All of it holds whether the
job's store calls run on the event loop or on threads (as scale-out workers run them)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from billfold.connectors.base import Session, SyncRequest
from billfold.container import Container
from billfold.domain.accounts import AccountData, AccountType
from billfold.domain.challenges import Challenge
from billfold.domain.errors import ConnectorError, ErrorCode
from billfold.domain.institutions import Institution, InstitutionKind
from billfold.domain.jobs import Job, JobStatus
from billfold.domain.snapshot import AccountSnapshot, Snapshot
from billfold.domain.transactions import TransactionData
from billfold.services.clients import create_client
from billfold.services.connections import create_connection
from billfold.services.jobs import answer_challenge, get_job
from billfold.services.users import create_user
from billfold.store.store import Store, Unit
from billfold.store.tables import AccountRow, ChallengeRow
from conftest import make_settings

INSTITUTION = Institution(
    id="00000000-0000-4000-8000-00000000beef",
    name="Two Step Bank",
    kind=InstitutionKind.BANK,
    connector="two_step",
)


class TwoStepConnector:
    """Asks a code, hands over one account, then (user `slow`) waits for `release` or
    (user `broken`) fails."""

    kind = "two_step"

    def __init__(self) -> None:
        self.release = asyncio.Event()

    def catalog(self) -> list[Institution]:
        return [INSTITUTION]

    async def sync(self, session: Session, request: SyncRequest) -> Snapshot:
        await session.ask(Challenge.enter_code("Enter the code", label="Code"))
        await session.progress("Reading accounts")
        account = AccountData(
            external_id="acc-1",
            name="Checking",
            type=AccountType.CHECKING,
            mask="0001",
            current_balance=Decimal("10.50"),
        )
        await session.accounts_ready(Snapshot(accounts=(AccountSnapshot(account),)))
        if session.credentials.username == "broken":
            raise ConnectorError(ErrorCode.INSTITUTION_UNAVAILABLE, "The bank fell over")
        if session.credentials.username == "slow":
            await self.release.wait()
        txn = TransactionData(
            external_id="t-1",
            amount=Decimal("-3.25"),
            date=__import__("datetime").date(2024, 1, 2),
            description="Coffee",
        )
        return Snapshot(accounts=(AccountSnapshot(account, (txn,)),))


@asynccontextmanager
async def _container(
    tmp_path: Path, database_url: str, store_threads: int
) -> AsyncIterator[tuple[Container, str, str]]:
    connector = TwoStepConnector()
    container = Container(
        make_settings(tmp_path, database_url, store_threads=store_threads),
        connectors={connector.kind: connector},
    )
    await container.start()
    try:
        ctx = container.ctx
        client_id = create_client(ctx=ctx, name="Test").client.id
        user_id = create_user(ctx=ctx, client_id=client_id).id
        yield container, client_id, user_id
    finally:
        await container.stop()


@pytest.fixture(params=[0, 4], ids=["inline", "threads"])
async def started(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[Container, str, str]]:
    async with _container(tmp_path, database_url, request.param) as started:
        yield started


@pytest.fixture
async def started_inline(
    tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[Container, str, str]]:
    """Store calls on the event loop: statements counted between awaits are all the job's."""
    async with _container(tmp_path, database_url, 0) as started:
        yield started


async def _parked(container: Container, client_id: str, user_id: str, username: str) -> Job:
    _, job = create_connection(
        ctx=container.ctx,
        client_id=client_id,
        user_id=user_id,
        institution_id=INSTITUTION.id,
        credentials={"username": username, "password": "pw"},
    )
    return await _until(container, client_id, job.id, {JobStatus.WAITING_FOR_ANSWER})


async def _until(
    container: Container, client_id: str, job_id: str, statuses: set[JobStatus]
) -> Job:
    for _ in range(1000):
        job = get_job(ctx=container.ctx, client_id=client_id, job_id=job_id)
        if job.status in statuses:
            return job
        await asyncio.sleep(0.01)
    raise AssertionError(f"job stayed {job.status}")


@contextmanager
def _recorded_statements(container: Container) -> Iterator[_Statements]:
    statements = _Statements()

    def record(
        _connection: Any, _cursor: Any, sql: str, _params: Any, _context: Any, many: bool
    ) -> None:
        # Transaction control, and the embedded job backend's own queue, are not the job's.
        if not statements.paused and not sql.startswith("BEGIN") and " tasks" not in sql:
            statements.sql.append(" ".join(sql.split())[:60] + (" (many)" if many else ""))

    engine = container.store.database.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


class _Statements:
    def __init__(self) -> None:
        self.sql: list[str] = []
        self.paused = False


@contextmanager
def _counted_writes(store: Store) -> Iterator[list[int]]:
    count = [0]
    original = store.write

    @contextmanager
    def counting() -> Iterator[Unit]:
        count[0] += 1
        with original() as unit:
            yield unit

    store.write = counting  # type: ignore[method-assign]
    try:
        yield count
    finally:
        store.write = original  # type: ignore[method-assign]


def _answer(container: Container, client_id: str, job: Job) -> None:
    assert job.challenge is not None
    answer_challenge(
        ctx=container.ctx,
        client_id=client_id,
        job_id=job.id,
        challenge_id=job.challenge.id,
        values=["123456"],
    )


async def _answered_until(
    container: Container, client_id: str, job: Job, status: JobStatus
) -> tuple[Job, int]:
    """Answer, wait for `status`; the job then, and how many write transactions it took."""
    with _counted_writes(container.store) as writes:
        _answer(container, client_id, job)
        ended = await _until(container, client_id, job.id, {status})
        await asyncio.sleep(0.05)  # a stray deferred write would land here
    return ended, writes[0]


def _challenge_rows(container: Container, job_id: str) -> list[Any]:
    with container.store.read() as unit:
        return list(
            unit.session.execute(
                select(ChallengeRow.status, ChallengeRow.answer).where(
                    ChallengeRow.job_id == job_id
                )
            )
        )


async def test_an_answered_job_finishes_in_two_write_transactions(
    started: tuple[Container, str, str],
) -> None:
    container, client_id, user_id = started
    job = await _parked(container, client_id, user_id, "quick")
    done, writes = await _answered_until(container, client_id, job, JobStatus.SUCCEEDED)
    assert writes == 2  # the answer, then the finish (accounts, notes, erasure ride on it)
    assert done.accounts_ready_at is not None
    notes = [s.note for s in done.steps]
    assert notes.index("Reading accounts") < notes.index("1 account(s) found") < len(notes) - 1
    assert done.steps[-1].status is JobStatus.SUCCEEDED
    assert _challenge_rows(container, job.id) == [("used", None)]
    with container.store.read() as unit:
        assert len(unit.accounts.for_client(client_id)) == 1


async def test_the_answer_and_the_finish_take_few_statements(
    started_inline: tuple[Container, str, str], database_url: str
) -> None:
    """A job's answer-to-finish path runs once per job for thousands of jobs at a time:
    each statement it saves is CPU saved in the worker, the API and the database."""
    container, client_id, user_id = started_inline
    job = await _parked(container, client_id, user_id, "quick")
    with _recorded_statements(container) as answer:
        _answer(container, client_id, job)
    with _recorded_statements(container) as finish:
        for _ in range(1000):
            finish.paused = True
            done = get_job(ctx=container.ctx, client_id=client_id, job_id=job.id)
            finish.paused = False
            if done.status is JobStatus.SUCCEEDED:
                break
            await asyncio.sleep(0.01)
    postgres = database_url.startswith("postgresql")
    # The answer: lock the job, its challenge, store the answer, move the job, add its
    # step, read the job back with its steps (+ on PostgreSQL the NOTIFYs of the job's
    # change and of the session's wake-up).
    assert len(answer.sql) <= 7 + 2 * postgres, answer.sql
    # The finish: one look, then one transaction: the job, the connection, the erased
    # answer, the accounts (read, insert, deactivate), the stored transactions (read,
    # insert), the connection's sync, the job's move with its steps, 2 events and the
    # endpoints that want them (+ on PostgreSQL the events lock and the job-change NOTIFY).
    assert len(finish.sql) <= 15 + 2 * postgres, finish.sql


async def test_accounts_handed_over_early_show_while_the_connector_waits(
    started: tuple[Container, str, str],
) -> None:
    container, client_id, user_id = started
    job = await _parked(container, client_id, user_id, "slow")
    _answer(container, client_id, job)
    for _ in range(500):
        running = get_job(ctx=container.ctx, client_id=client_id, job_id=job.id)
        if running.accounts_ready_at is not None:
            break
        await asyncio.sleep(0.01)
    assert running.status is JobStatus.RUNNING and running.accounts_ready_at is not None
    # The answer is erased with that write, while the connector still runs.
    assert _challenge_rows(container, job.id) == [("used", None)]
    with container.store.read() as unit:
        rows = unit.session.execute(select(AccountRow.external_id)).scalars().all()
    assert rows == ["acc-1"]
    connector = container.connectors["two_step"]
    assert isinstance(connector, TwoStepConnector)
    connector.release.set()
    done = await _until(container, client_id, job.id, {JobStatus.SUCCEEDED})
    assert done.accounts_ready_at == running.accounts_ready_at
    assert [s.note for s in done.steps].count("1 account(s) found") == 1
    with container.store.read() as unit:
        assert len(unit.accounts.for_client(client_id)) == 1


async def test_a_job_that_fails_after_handing_over_accounts_keeps_them(
    started: tuple[Container, str, str],
) -> None:
    container, client_id, user_id = started
    job = await _parked(container, client_id, user_id, "broken")
    failed, writes = await _answered_until(container, client_id, job, JobStatus.FAILED)
    assert writes == 2  # the answer, then the failure carrying what was held back
    assert failed.error_code == ErrorCode.INSTITUTION_UNAVAILABLE
    assert failed.accounts_ready_at is not None
    notes = [(s.status, s.note) for s in failed.steps]
    assert notes[-3:] == [
        (JobStatus.RUNNING, "Reading accounts"),
        (JobStatus.RUNNING, "1 account(s) found"),
        (JobStatus.FAILED, "The bank fell over"),
    ]
    assert _challenge_rows(container, job.id) == [("used", None)]
    with container.store.read() as unit:
        assert len(unit.accounts.for_client(client_id)) == 1
