"""The OFX connector end to end against the local OFX server, with a recording session:
1.x and 2.x, MFA with an ACCESSKEY, the CLIENTUID kept per connection, statement
windows, the protocol's failures as error codes, and secrets kept out of messages."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from billfold.connectors.base import Credentials, SyncRequest
from billfold.connectors.ofx import OfxConnector, OfxHttpClient
from billfold.connectors.ofx.directory import load_servers_file
from billfold.connectors.ofx.mapping import external_id
from billfold.connectors.ofx.protocol import AccountRef
from billfold.domain.accounts import AccountType
from billfold.domain.challenges import Answer, Challenge, ChallengeKind
from billfold.domain.errors import ConnectorError, ErrorCode
from billfold.domain.institutions import Institution
from billfold.domain.jobs import JobKind, JobOptions
from billfold.domain.snapshot import Snapshot
from ofx_server import ANSWERS, BANK_ID, CARD_ID, CHECKING_ID, PASSWORD, PHRASES, USER, OfxServer


class RecordingSession:
    def __init__(
        self,
        password: str = PASSWORD,
        answers: Mapping[str, str] | None = None,
        *,
        user: str = USER,
    ) -> None:
        self._credentials = Credentials({"username": user, "password": password})
        self.answers = dict(answers if answers is not None else ANSWERS)
        self.interactive = True
        self.asked: list[Challenge] = []
        self.notes: list[str] = []
        self.checkpoints: list[dict[str, Any]] = []

    @property
    def credentials(self) -> Credentials:
        return self._credentials

    async def ask(self, challenge: Challenge) -> Answer:
        if not self.interactive:
            raise ConnectorError(ErrorCode.NEEDS_RELINK)
        self.asked.append(challenge)
        return Answer(tuple(self.answers[o.id] for o in challenge.options))

    async def progress(self, note: str) -> None:
        self.notes.append(note)

    async def checkpoint(self, state: Mapping[str, Any]) -> None:
        self.checkpoints.append(dict(state))

    async def accounts_ready(self, snapshot: Snapshot) -> None:
        raise AssertionError("not used")


@pytest.fixture
def bank() -> Iterator[OfxServer]:
    with OfxServer() as server:
        yield server


def institution(bank: OfxServer, version: int, tmp_path: Any, **extra: Any) -> Institution:
    path = tmp_path / f"servers-{version}.json"
    path.write_text(
        json.dumps([bank.server_entry(f"t{version}", f"Test {version}", version, **extra)])
    )
    (found,) = load_servers_file(path)
    return found


async def run(
    inst: Institution,
    session: RecordingSession | None = None,
    *,
    kind: JobKind = JobKind.LINK,
    state: Mapping[str, Any] | None = None,
    connector: OfxConnector | None = None,
    products: tuple[str, ...] = ("aggregate",),
    **options: Any,
) -> tuple[Snapshot, RecordingSession]:
    session = session or RecordingSession()
    request = SyncRequest(
        connection_id="conn-1",
        institution=inst,
        kind=kind,
        options=JobOptions(products=products, history_days=options.pop("history_days", None)),
        state=state,
        **options,
    )
    connector = connector or OfxConnector(with_ofxtools_directory=False)
    return await connector.sync(session, request), session


@pytest.mark.parametrize("version", [102, 103, 220])
async def test_link_reads_accounts_and_statements(
    bank: OfxServer, tmp_path: Any, version: int
) -> None:
    snapshot, session = await run(institution(bank, version, tmp_path))
    assert session.asked == []
    checking, card = snapshot.accounts
    assert (checking.account.name, checking.account.type) == (
        "Everyday Checking",
        AccountType.CHECKING,
    )
    assert checking.account.mask == "6789" and checking.account.currency == "USD"
    assert checking.account.current_balance == Decimal("1520.07")
    assert checking.account.available_balance == Decimal("1500.07")
    assert checking.account.full_number is None
    # The card owes 250.50: negative in OFX, positive in Billfold.
    assert (card.account.type, card.account.mask) == (AccountType.CREDIT_CARD, "4321")
    assert card.account.current_balance == Decimal("250.50")
    assert card.account.available_balance == Decimal("4749.50")

    today = bank.today
    assert len(checking.transactions) == 27
    pay = next(t for t in checking.transactions if t.external_id == "CHK-PAY-0")
    assert (pay.amount, pay.date, pay.description) == (
        Decimal("2500.00"),
        today - timedelta(days=3),
        "PAYROLL ACME",
    )
    rent = next(t for t in checking.transactions if t.external_id == "CHK-RENT-0")
    assert rent.amount == Decimal("-1200.00") and rent.memo == "Unit 4"
    check = next(t for t in checking.transactions if t.check_number)
    assert (check.check_number, check.amount) == ("1234", Decimal("-75.00"))
    grocery = next(t for t in card.transactions if t.external_id == "CC-GROC")
    assert grocery.amount == Decimal("-82.13")
    assert (grocery.date, grocery.posted_date) == (
        today - timedelta(days=4),
        today - timedelta(days=2),
    )
    payment = next(t for t in card.transactions if t.external_id == "CC-PAY")
    assert payment.amount == Decimal("300.00") and payment.merchant == "Payment Thank You"
    assert payment.description == "Payment Thank You"

    # Two years asked for, the window is what the statement covered.
    (chk_id, start, end), (card_id, _, _) = bank.statement_asks
    assert (chk_id, card_id) == (CHECKING_ID, CARD_ID)
    assert start is not None and end is not None
    assert abs((end - start) - timedelta(days=730)) < timedelta(seconds=1)
    assert checking.window == (start.date(), end.date())

    seen = bank.signons[0]
    assert (seen.version, seen.userid, seen.xml) == (version, USER, version >= 200)
    assert seen.content_type == "application/x-ofx"
    # 1.x goes as SGML without leaf end tags; CLIENTUID only from 1.0.3 on.
    assert seen.closed_leaves is (version >= 200)
    clientuid = snapshot.state["clientuid"] if snapshot.state else None
    assert seen.clientuid == (clientuid if version >= 103 else None)
    # The CLIENTUID was saved before anything was sent.
    assert session.checkpoints[0] == {"clientuid": clientuid}
    assert snapshot.complete


async def test_mfa_once_then_the_accesskey(bank: OfxServer, tmp_path: Any) -> None:
    bank.mfa = True
    inst = institution(bank, 220, tmp_path)
    linked, session = await run(inst)
    (challenge,) = session.asked
    assert challenge.kind is ChallengeKind.QUESTIONS
    assert challenge.questions == tuple(label for _, label in PHRASES)
    assert [o.id for o in challenge.options] == [pid for pid, _ in PHRASES]
    assert len(linked.accounts) == 2
    state = linked.state or {}
    assert state["accesskey"] in bank.access_keys
    # The key was saved as soon as it came, not only with the snapshot.
    assert any(c.get("accesskey") == state["accesskey"] for c in session.checkpoints)

    bank.account(CHECKING_ID).transactions[0].amount = "2600.00"
    asks = len(bank.statement_asks)
    refreshed, again = await run(inst, kind=JobKind.REFRESH, state=linked.state)
    assert again.asked == [] and again.checkpoints == []
    assert {s.clientuid for s in bank.signons} == {state["clientuid"]}
    assert bank.signons[-1].accesskey == state["accesskey"]
    # A refresh starts where the last statement ended, less a week of overlap.
    last_end = datetime.fromisoformat(state["synced"][refreshed.accounts[0].account.external_id])
    _, start, _ = bank.statement_asks[asks]
    assert start is not None and abs(start - (last_end - timedelta(days=7))) < timedelta(seconds=1)
    pay = next(t for t in refreshed.accounts[0].transactions if t.external_id == "CHK-PAY-0")
    assert pay.amount == Decimal("2600.00")


async def test_wrong_answers_and_background_mfa(bank: OfxServer, tmp_path: Any) -> None:
    bank.mfa = True
    inst = institution(bank, 103, tmp_path)
    with pytest.raises(ConnectorError) as caught:
        await run(inst, RecordingSession(answers={"MFA16": "Smith", "MFA6": "Rex"}))
    assert caught.value.code is ErrorCode.INVALID_ANSWER
    assert "Smith" not in caught.value.message
    background = RecordingSession()
    background.interactive = False
    with pytest.raises(ConnectorError) as caught:
        await run(inst, background, kind=JobKind.REFRESH, state={"clientuid": "X"})
    assert caught.value.code is ErrorCode.NEEDS_RELINK
    # A stale key is dropped once the questions had to be answered again.
    snapshot, _ = await run(inst, state={"clientuid": "X", "accesskey": "stale"})
    assert snapshot.state is not None and snapshot.state["accesskey"] != "stale"


async def test_new_clientuid_must_be_approved(bank: OfxServer, tmp_path: Any) -> None:
    bank.clientuid_required = True
    inst = institution(bank, 102, tmp_path, clientuid_required=True)
    session = RecordingSession()
    with pytest.raises(ConnectorError) as caught:
        await run(inst, session)
    assert caught.value.code is ErrorCode.ACTION_REQUIRED
    assert "approve" in caught.value.message
    (saved,) = session.checkpoints
    assert bank.unapproved == {saved["clientuid"]}
    bank.approve(saved["clientuid"])
    snapshot, again = await run(inst, state=saved)
    assert len(snapshot.accounts) == 2 and again.checkpoints == []
    assert bank.signons[-1].clientuid == saved["clientuid"]


async def test_sign_on_failures(bank: OfxServer, tmp_path: Any) -> None:
    inst = institution(bank, 220, tmp_path)
    cases = [
        (None, RecordingSession(password="wrong"), ErrorCode.INVALID_CREDENTIALS),
        (None, RecordingSession(user=""), ErrorCode.INVALID_CREDENTIALS),
        ("500", None, ErrorCode.INSTITUTION_UNAVAILABLE),
        ("2000", None, ErrorCode.INSTITUTION_UNAVAILABLE),
        ("garbage", None, ErrorCode.INSTITUTION_UNAVAILABLE),
    ]
    for mode, session, code in cases:
        bank.mode = mode
        with pytest.raises(ConnectorError) as caught:
            await run(inst, session)
        assert caught.value.code is code, (mode, caught.value)
        assert PASSWORD not in caught.value.message
    bank.mode = "slow"
    slow = OfxConnector(with_ofxtools_directory=False, client=OfxHttpClient(timeout=0.2))
    with pytest.raises(ConnectorError) as caught:
        await run(inst, connector=slow)
    assert caught.value.code is ErrorCode.INSTITUTION_UNAVAILABLE
    assert "in time" in caught.value.message


async def test_unreachable_and_plain_http_servers(bank: OfxServer, tmp_path: Any) -> None:
    inst = institution(bank, 220, tmp_path)
    for url, words in (
        ("http://127.0.0.1:9/ofx", "could not be reached"),
        ("http://bank.example/ofx", "must use https"),
    ):
        moved = Institution(**{**vars_of(inst), "settings": {**inst.settings, "url": url}})
        with pytest.raises(ConnectorError) as caught:
            await run(moved)
        assert caught.value.code is ErrorCode.INSTITUTION_UNAVAILABLE
        assert words in caught.value.message
    assert bank.signons == []


def vars_of(inst: Institution) -> dict[str, Any]:
    return {name: getattr(inst, name) for name in Institution.__dataclass_fields__}


async def test_account_refresh_since_and_verification(bank: OfxServer, tmp_path: Any) -> None:
    inst = institution(bank, 220, tmp_path)
    linked, _ = await run(inst, products=("verification",), history_days=40)
    checking = linked.accounts[0].account
    assert (checking.full_number, checking.routing_number) == (CHECKING_ID, BANK_ID)
    assert linked.accounts[1].account.full_number == CARD_ID
    assert len(linked.accounts[0].transactions) == 5  # two months of pay and rent, one check

    card_id = external_id(AccountRef(kind="card", acctid=CARD_ID, description=""))
    asks = len(bank.statement_asks)
    partial, _ = await run(inst, kind=JobKind.REFRESH, state=linked.state, account_ids=(card_id,))
    assert [a.account.external_id for a in partial.accounts] == [card_id]
    assert [a[0] for a in bank.statement_asks[asks:]] == [CARD_ID]
    assert partial.complete is False
    # The other account's resume point is kept for its next refresh.
    assert partial.state is not None and linked.state is not None
    assert (
        partial.state["synced"][checking.external_id]
        == linked.state["synced"][checking.external_id]
    )

    since = bank.today - timedelta(days=3)
    asks = len(bank.statement_asks)
    await run(inst, since=since)
    _, start, _ = bank.statement_asks[asks]
    assert start == datetime(since.year, since.month, since.day, tzinfo=UTC)


async def test_no_accounts_and_statement_errors(bank: OfxServer, tmp_path: Any) -> None:
    inst = institution(bank, 102, tmp_path)
    accounts = bank.accounts
    bank.accounts = []
    with pytest.raises(ConnectorError) as caught:
        await run(inst)
    assert caught.value.code is ErrorCode.NO_ACCOUNTS
    # The card vanishes between discovery and statement: the checking account still syncs.
    bank.accounts = accounts
    original = bank._acctinfors

    def drop_card_after_discovery() -> Any:
        listed = original()
        bank.accounts = [a for a in accounts if not a.card]
        return listed

    bank._acctinfors = drop_card_after_discovery  # type: ignore[method-assign]
    snapshot, session = await run(inst)
    assert [a.account.type for a in snapshot.accounts] == [AccountType.CHECKING]
    assert snapshot.complete is False
    assert any("status 2003" in n for n in session.notes)
