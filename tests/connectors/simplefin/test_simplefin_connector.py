"""The SimpleFIN connector end to end against the local server, with a recording session:
claim once, read history in windows, pending -> posted, messages, failures, state."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from billfold.connectors.base import Credentials, SyncRequest
from billfold.connectors.simplefin import SIMPLEFIN_INSTITUTION, SimpleFinConnector
from billfold.connectors.simplefin.client import epoch
from billfold.domain.challenges import Answer, Challenge
from billfold.domain.errors import ConnectorError, ErrorCode
from billfold.domain.jobs import JobKind, JobOptions
from billfold.domain.snapshot import Snapshot, StoredTransaction, diff_transactions
from billfold.domain.transactions import TransactionStatus
from simplefin_server import NOTICE, REAUTH, SimpleFinServer


class RecordingSession:
    def __init__(self, token: str) -> None:
        self._credentials = Credentials({"setup_token": token})
        self.notes: list[str] = []
        self.ready: list[Snapshot] = []
        self.checkpoints: list[dict[str, Any]] = []

    @property
    def credentials(self) -> Credentials:
        return self._credentials

    async def ask(self, challenge: Challenge) -> Answer:
        raise AssertionError("SimpleFIN never asks")

    async def progress(self, note: str) -> None:
        self.notes.append(note)

    async def checkpoint(self, state: Mapping[str, Any]) -> None:
        self.checkpoints.append(dict(state))

    async def accounts_ready(self, snapshot: Snapshot) -> None:
        self.ready.append(snapshot)


@pytest.fixture
def sfin() -> Iterator[SimpleFinServer]:
    with SimpleFinServer() as server:
        yield server


async def run(
    sfin: SimpleFinServer,
    token: str,
    *,
    kind: JobKind = JobKind.LINK,
    state: Mapping[str, Any] | None = None,
    connector: SimpleFinConnector | None = None,
    **options: Any,
) -> tuple[Snapshot, RecordingSession]:
    session = RecordingSession(token)
    request = SyncRequest(
        connection_id="conn-1",
        institution=SIMPLEFIN_INSTITUTION,
        kind=kind,
        options=JobOptions(history_days=options.pop("history_days", None)),
        state=state,
        **options,
    )
    connector = connector or SimpleFinConnector(today=lambda: sfin.today)
    return await connector.sync(session, request), session


def spans(sfin: SimpleFinServer) -> list[tuple[int, int]]:
    return [(int(q["start-date"][0]), int(q["end-date"][0])) for q in sfin.account_calls()]


async def test_link_reads_two_years_in_90_day_windows(sfin: SimpleFinServer) -> None:
    snapshot, session = await run(sfin, sfin.setup_token())
    windows = spans(sfin)
    end = epoch(sfin.today + timedelta(days=1))
    start = epoch(sfin.today - timedelta(days=729))
    assert windows[0][1] == end and windows[-1][0] == start
    assert all(b - a <= 90 * 86400 for a, b in windows)
    assert all(windows[i][0] == windows[i + 1][1] for i in range(len(windows) - 1))
    assert [q.get("pending") for q in sfin.account_calls()] == [["1"]] + [None] * (len(windows) - 1)

    checking, card = snapshot.accounts
    assert checking.account.name == "Everyday Checking 6789"
    assert checking.account.current_balance == Decimal("1520.07")
    assert card.account.current_balance == Decimal("250.50")
    assert checking.window == (sfin.today - timedelta(days=729), sfin.today)
    ids = [t.external_id for t in checking.transactions]
    assert len(ids) == len(set(ids)) == 27
    assert "p:chk-coffee" in ids and "chk-pay-12" in ids
    grocery = next(t for t in card.transactions if t.external_id == "card-groc")
    assert grocery.amount == Decimal("-82.13") and grocery.date == sfin.today - timedelta(days=4)
    assert [len(s.accounts) for s in session.ready] == [2]
    assert snapshot.state is not None and snapshot.state["synced_through"] == sfin.today.isoformat()


async def test_refresh_reuses_access_and_posts_pending(sfin: SimpleFinServer) -> None:
    token = sfin.setup_token()
    linked, _ = await run(sfin, token)
    claims = sum(1 for path, _ in sfin.requests if path.startswith("/claim"))
    stored = [StoredTransaction(f"b{i}", t) for i, t in enumerate(linked.accounts[1].transactions)]
    sfin.today += timedelta(days=1)
    sfin.post("ACT-card-1", "card-book")
    calls = len(spans(sfin))
    refreshed, _ = await run(sfin, token, kind=JobKind.REFRESH, state=linked.state)
    assert sum(1 for path, _ in sfin.requests if path.startswith("/claim")) == claims
    # One window: the last sync minus the overlap (7 days), up to today.
    assert spans(sfin)[calls:] == [
        (epoch(sfin.today - timedelta(days=8)), epoch(sfin.today + timedelta(days=1)))
    ]
    card = refreshed.accounts[1]
    posted = next(t for t in card.transactions if t.external_id == "card-book")
    assert posted.status is TransactionStatus.POSTED and posted.pending_external_id == "p:card-book"
    diff = diff_transactions(stored, card.transactions, card.window)
    pending_row = next(s.id for s in stored if s.data.external_id == "p:card-book")
    assert diff.replaces == {"card-book": pending_row}
    assert [t.external_id for t in diff.added] == ["card-book"]
    assert diff.removed == [pending_row] and diff.changed == []


async def test_a_shorter_server_limit_halves_the_window(sfin: SimpleFinServer) -> None:
    sfin.max_days = 60
    snapshot, session = await run(sfin, sfin.setup_token(), history_days=200)
    assert any("refused 90 days" in n for n in session.notes)
    good = [(a, b) for a, b in spans(sfin) if b - a <= 60 * 86400]
    assert good[-1][0] == epoch(sfin.today - timedelta(days=199))
    assert snapshot.accounts[0].window == (sfin.today - timedelta(days=199), sfin.today)


async def test_messages_are_surfaced_and_reauth_means_relink(sfin: SimpleFinServer) -> None:
    token = sfin.setup_token()
    sfin.mode = "errors"
    snapshot, session = await run(sfin, token, history_days=30)
    assert session.notes.count(f"SimpleFIN: {NOTICE}") == 1
    assert len(snapshot.accounts) == 2
    sfin.mode = "reauth"
    with pytest.raises(ConnectorError) as caught:
        await run(sfin, token, kind=JobKind.REFRESH, state=snapshot.state)
    assert caught.value.code is ErrorCode.NEEDS_RELINK and REAUTH in caught.value.message


async def test_claim_failures(sfin: SimpleFinServer) -> None:
    token = sfin.setup_token()
    await run(sfin, token, history_days=10)
    with pytest.raises(ConnectorError) as caught:
        await run(sfin, token)  # a new connection with a used token
    assert caught.value.code is ErrorCode.INVALID_CREDENTIALS
    with pytest.raises(ConnectorError) as caught:
        await run(sfin, "")
    assert caught.value.code is ErrorCode.INVALID_CREDENTIALS

    # /accounts failing right after a claim is retried; the message says the token is spent.
    fresh = sfin.setup_token()
    sfin.mode = "slow"
    connector = SimpleFinConnector(today=lambda: sfin.today, claim_retry_delays=(0.01,))
    connector._client = type(connector._client)(timeout=0.3)
    with pytest.raises(ConnectorError) as caught:
        await run(sfin, fresh, connector=connector)
    assert caught.value.code is ErrorCode.INSTITUTION_UNAVAILABLE
    assert "already claimed" in caught.value.message


async def test_account_refresh_and_new_token_on_relink(sfin: SimpleFinServer) -> None:
    token = sfin.setup_token()
    linked, _ = await run(sfin, token, history_days=30)
    partial, _ = await run(
        sfin, token, kind=JobKind.REFRESH, state=linked.state, account_ids=("ACT-card-1",)
    )
    assert partial.complete is False
    assert [a.account.external_id for a in partial.accounts] == ["ACT-card-1"]
    assert sfin.account_calls()[-1]["account"] == ["ACT-card-1"]
    sfin.revoke_all()
    with pytest.raises(ConnectorError) as caught:
        await run(sfin, token, kind=JobKind.REFRESH, state=linked.state)
    assert caught.value.code is ErrorCode.NEEDS_RELINK
    relinked, _ = await run(sfin, sfin.setup_token(), state=linked.state, history_days=30)
    assert relinked.state is not None and linked.state is not None
    assert relinked.state["access"] != linked.state["access"]


async def test_no_accounts(sfin: SimpleFinServer) -> None:
    sfin.accounts = []
    with pytest.raises(ConnectorError) as caught:
        await run(sfin, sfin.setup_token(), history_days=10)
    assert caught.value.code is ErrorCode.NO_ACCOUNTS


async def test_a_spent_token_survives_a_failed_first_read(sfin: SimpleFinServer) -> None:
    """The access a claim bought is checkpointed at once: the retry reuses it."""
    token = sfin.setup_token()
    sfin.mode = "402"  # the claim works, the first read fails
    connector = SimpleFinConnector(today=lambda: sfin.today, claim_retry_delays=())
    session = RecordingSession(token)
    request = SyncRequest(
        connection_id="conn-1",
        institution=SIMPLEFIN_INSTITUTION,
        kind=JobKind.LINK,
        options=JobOptions(history_days=10),
    )
    with pytest.raises(ConnectorError):
        await connector.sync(session, request)
    assert len(session.checkpoints) == 1
    saved = session.checkpoints[0]
    assert saved["access"]["password"] and saved["token"] != token
    sfin.mode = None
    snapshot, _ = await run(sfin, token, state=saved, history_days=10)
    assert len(snapshot.accounts) == 2  # no second claim of the spent token was needed
