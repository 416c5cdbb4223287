"""What a resumed job writes, and when: the answer path stays at two write transactions
(the answer, the finish), the taken answer is erased, and accounts handed over early
show at once when the connector then waits on the bank. All of it holds whether the
job's store calls run on the event loop or on threads (as scale-out workers run them)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from billfold.connectors.base import Session, SyncRequest
from billfold.container import Container
from billfold.domain.accounts import AccountData, AccountType
from billfold.domain.challenges import Challenge
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
    """Asks a code, hands over one account, then (user `slow`) waits for `release`."""

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
        if session.credentials.username == "slow":
            await self.release.wait()
        txn = TransactionData(
            external_id="t-1",
            amount=Decimal("-3.25"),
            date=__import__("datetime").date(2024, 1, 2),
            description="Coffee",
        )
        return Snapshot(accounts=(AccountSnapshot(account, (txn,)),))


@pytest.fixture(params=[0, 4], ids=["inline", "threads"])
async def started(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[Container, str, str]]:
    connector = TwoStepConnector()
    container = Container(
        make_settings(tmp_path, database_url, store_threads=request.param),
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
    with _counted_writes(container.store) as writes:
        _answer(container, client_id, job)
        done = await _until(container, client_id, job.id, {JobStatus.SUCCEEDED})
        await asyncio.sleep(0.05)  # a stray deferred write would land here
    assert writes[0] == 2  # the answer, then the finish (accounts, notes, erasure ride on it)
    assert done.accounts_ready_at is not None
    notes = [s.note for s in done.steps]
    assert notes.index("Reading accounts") < notes.index("1 account(s) found") < len(notes) - 1
    assert done.steps[-1].status is JobStatus.SUCCEEDED
    assert _challenge_rows(container, job.id) == [("used", None)]
    with container.store.read() as unit:
        assert len(unit.accounts.for_client(client_id)) == 1


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
