"""Generated data: determinism, stable ids, pending-to-posted, consistent balances, bills."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from billfold.connectors.sandbox.catalog import (
    BILLERS,
    BILLFOLD_BANK,
    BILLFOLD_CARD,
    BILLFOLD_CREDIT_UNION,
    SANDBOX_INSTITUTIONS,
    SANDBOX_POWER,
    SOPHTRON_BANK_NOMFA,
    SYNAPSE_BANK,
)
from billfold.domain.accounts import AccountData, AccountType
from billfold.domain.institutions import Institution
from billfold.domain.jobs import JobKind
from billfold.domain.snapshot import Snapshot, StoredTransaction, diff_transactions
from billfold.domain.transactions import TransactionData, TransactionStatus

Sync = Callable[..., Awaitable[tuple[Snapshot, Any]]]  # the `sync` fixture of conftest

TODAY = date(2025, 6, 18)
# A passing login for every sandbox institution.
Answers = list[str | list[str]]
LOGINS: dict[str, tuple[str, str, Answers]] = {
    BILLFOLD_CARD.id: ("cardholder", "pw", ["123456"]),
    SYNAPSE_BANK.id: ("synapse_nomfa", "test1234_random", []),
}


def _login(institution: Institution) -> tuple[str, str, Answers]:
    if institution.id in LOGINS:
        return LOGINS[institution.id]
    if institution.name == "Sophtron Bank":
        return ("u", "p", ["ABCDE", "blue", "Text message 1 (•••) •••-0102", "1"])
    answers: dict[str, Answers] = {
        "Sophtron Bank Captcha": ["x"],
        "Sophtron Bank Token": ["xxx-xxx-1234", "1"],
        "Sophtron Bank SecurityQuestion": ["x"],
        "Sophtron Bank SecurityQuestion Multiple": [["x", "y", "z"]],
        "Sophtron Bank TokenRead": ["done"],
    }
    return ("user_good", "pw", answers.get(institution.name, []))


def _pending(txns: tuple[TransactionData, ...]) -> list[TransactionData]:
    return [t for t in txns if t.status is TransactionStatus.PENDING]


@pytest.mark.parametrize("institution", SANDBOX_INSTITUTIONS, ids=lambda i: i.name)
async def test_every_institution_is_deterministic_and_well_formed(
    sync: Sync, institution: Institution
) -> None:
    username, password, answers = _login(institution)
    first, _ = await sync(institution, username, password, answers)
    second, _ = await sync(institution, username, password, answers)
    assert first == second
    assert first.complete and first.state is not None
    account_ids = [a.account.external_id for a in first.accounts]
    assert len(set(account_ids)) == len(account_ids)
    for snap in first.accounts:
        ids = [t.external_id for t in snap.transactions]
        assert len(set(ids)) == len(ids), "external ids must be unique within an account"
        assert snap.window is not None
        assert all(snap.window[0] <= t.date <= snap.window[1] for t in snap.transactions)
        for txn in snap.transactions:
            assert isinstance(txn.amount, Decimal) and txn.amount.as_tuple().exponent == -2
            assert txn.amount != 0
        for value in (snap.account.current_balance, snap.account.available_balance):
            assert value is None or value.as_tuple().exponent == -2


async def test_later_as_of_keeps_earlier_days(sync: Sync) -> None:
    early, _ = await sync(BILLFOLD_BANK, "user_good", "pw", today=TODAY)
    late, _ = await sync(BILLFOLD_BANK, "user_good", "pw", today=TODAY + timedelta(days=45))
    for before, after in zip(early.accounts, late.accounts, strict=True):
        assert before.account.external_id == after.account.external_id
        assert before.window is not None and after.window is not None
        start, as_of = after.window[0], before.window[1]
        later = {t.external_id: t for t in after.transactions}
        kept = [t for t in before.transactions if start <= t.date and t.date < as_of - timedelta(1)]
        assert kept
        for txn in kept:
            assert later[txn.external_id] == txn
        for txn in _pending(before.transactions):
            posted = later[txn.external_id.removeprefix("p-")]
            assert posted.pending_external_id == txn.external_id
            assert posted.amount == txn.amount and posted.date == txn.date


async def test_link_state_starts_three_days_back(sync: Sync) -> None:
    linked, _ = await sync(BILLFOLD_BANK, "user_good", "pw")
    assert linked.state == {"anchor": (TODAY - timedelta(days=3)).isoformat(), "syncs": 0}
    assert linked.accounts[0].window == (TODAY - timedelta(days=732), TODAY - timedelta(days=3))
    refreshed, _ = await sync(
        BILLFOLD_BANK, "user_good", "pw", kind=JobKind.REFRESH, state=linked.state
    )
    assert refreshed.state == {**linked.state, "syncs": 1}
    assert refreshed.accounts[0].window is not None
    assert refreshed.accounts[0].window[1] == TODAY - timedelta(days=2)


async def test_as_of_never_passes_today(sync: Sync) -> None:
    state = {"anchor": (TODAY - timedelta(days=3)).isoformat(), "syncs": 9}
    snapshot, _ = await sync(BILLFOLD_BANK, "user_good", "pw", kind=JobKind.REFRESH, state=state)
    assert snapshot.accounts[0].window is not None
    assert snapshot.accounts[0].window[1] == TODAY


async def test_card_purchases_of_the_last_two_days_are_pending(sync: Sync) -> None:
    pending = 0
    for institution in (BILLFOLD_BANK, BILLFOLD_CARD, BILLFOLD_CREDIT_UNION):
        for username in ("user_good", "someone", "someone-else"):
            answers = ["123456"] if institution is BILLFOLD_CARD else []
            snapshot, _ = await sync(institution, username, "pw", answers)
            for snap in snapshot.accounts:
                assert snap.window is not None
                pending += _check_pending_rule(snap.transactions, snap.window[1])
    assert pending


def _check_pending_rule(txns: tuple[TransactionData, ...], as_of: date) -> int:
    """Card purchases pend on as_of and the day before, and post one or two days later."""
    pending = 0
    for txn in txns:
        authorised = txn.external_id.startswith("p-") or txn.pending_external_id is not None
        if not authorised:
            assert txn.status is TransactionStatus.POSTED and txn.posted_date == txn.date
        elif txn.date >= as_of - timedelta(days=1):
            assert txn.status is TransactionStatus.PENDING and txn.posted_date is None
            pending += 1
        else:
            assert txn.status is TransactionStatus.POSTED
            assert txn.posted_date is not None
            assert txn.date < txn.posted_date <= min(as_of, txn.date + timedelta(days=2))
    return pending


async def test_pending_purchases_post_on_the_next_syncs(sync: Sync) -> None:
    link, _ = await sync(BILLFOLD_CARD, "cardholder", "pw", ["123456"])
    state = link.state
    stored = [StoredTransaction(f"b-{i}", t) for i, t in enumerate(link.accounts[0].transactions)]
    pending = _pending(link.accounts[0].transactions)
    assert pending, "the last two days of card purchases are pending at the link"
    assert all(t.external_id.startswith("p-") and t.posted_date is None for t in pending)
    replaced: dict[str, str] = {}
    for _ in range(2):
        snapshot, _ = await sync(
            BILLFOLD_CARD, "cardholder", "pw", kind=JobKind.REFRESH, state=state
        )
        state = snapshot.state
        incoming = snapshot.accounts[0].transactions
        diff = diff_transactions(stored, incoming, snapshot.accounts[0].window)
        replaced.update(diff.replaces)
        stored = [StoredTransaction(f"c-{i}", t) for i, t in enumerate(incoming)]
    by_id = {s.data.external_id: s.data for s in stored}
    for txn in pending:
        posted = by_id[txn.external_id.removeprefix("p-")]
        assert posted.status is TransactionStatus.POSTED
        assert posted.pending_external_id == txn.external_id
        assert posted.posted_date is not None and txn.date < posted.posted_date
    assert len(replaced) >= len(pending)


def _owed(account: AccountData) -> Decimal:
    """What a card owes, pending included (limit minus available credit)."""
    assert account.credit_limit is not None and account.available_balance is not None
    return account.credit_limit - account.available_balance


@pytest.mark.parametrize("institution", [BILLFOLD_BANK, BILLFOLD_CREDIT_UNION])
async def test_balances_move_with_the_transactions(sync: Sync, institution: Institution) -> None:
    # 40 syncs a day apart cross month ends, savings interest, card statements and payments.
    today = TODAY + timedelta(days=60)
    state: dict[str, Any] = {"anchor": TODAY.isoformat(), "syncs": 0}
    previous, _ = await sync(
        institution, "user_good", "pw", kind=JobKind.REFRESH, state=state, today=today
    )
    for _ in range(40):
        current, _ = await sync(
            institution, "user_good", "pw", kind=JobKind.REFRESH, state=previous.state, today=today
        )
        for old, new in zip(previous.accounts, current.accounts, strict=True):
            assert old.window is not None and new.window is not None
            new_days = [t for t in new.transactions if old.window[1] < t.date <= new.window[1]]
            moved = sum((t.amount for t in new_days), Decimal("0.00"))
            account, before = new.account, old.account
            pending = sum((t.amount for t in _pending(new.transactions)), Decimal("0.00"))
            if account.type.is_deposit:
                assert account.available_balance is not None
                assert account.current_balance is not None
                assert before.available_balance is not None
                assert account.available_balance - before.available_balance == moved
                assert account.available_balance - account.current_balance == pending
            elif account.type is AccountType.CREDIT_CARD:
                assert _owed(before) - _owed(account) == moved
                assert account.current_balance is not None
                assert _owed(account) - account.current_balance == -pending
            else:
                assert account.current_balance is not None and before.current_balance is not None
                assert before.current_balance - account.current_balance == moved
        previous = current


async def test_checking_never_runs_far_negative(sync: Sync) -> None:
    snapshot, _ = await sync(BILLFOLD_BANK, "user_good", "pw")
    checking = snapshot.accounts[0]
    assert checking.account.available_balance is not None
    balance = checking.account.available_balance
    # Walk back through history from today's balance.
    for txn in reversed(checking.transactions):
        balance -= txn.amount
        assert balance > Decimal("-2500.00")


async def test_account_level_refresh(sync: Sync) -> None:
    linked, _ = await sync(BILLFOLD_BANK, "user_good", "pw")
    savings_id = linked.accounts[1].account.external_id
    refreshed, session = await sync(
        BILLFOLD_BANK,
        "user_good",
        "pw",
        kind=JobKind.REFRESH,
        state=linked.state,
        account_ids=[savings_id],
    )
    assert [a.account.external_id for a in refreshed.accounts] == [savings_id]
    assert refreshed.complete is False
    assert session.ready[0].complete is False


async def test_card_and_loan_signs(sync: Sync) -> None:
    snapshot, _ = await sync(BILLFOLD_BANK, "user_good", "pw")
    checking, _, card, loan = snapshot.accounts
    card_payments = [t for t in card.transactions if t.category == "Credit Card Payment"]
    assert card_payments and all(t.amount > 0 for t in card_payments)
    # Each card payment leaves checking on the same day with the same amount.
    checking_out = {(t.date, -t.amount) for t in checking.transactions}
    assert all((t.date, t.amount) in checking_out for t in card_payments)
    assert all(t.amount > 0 for t in loan.transactions if t.category == "Loan Payment")
    assert loan.account.current_balance is not None and loan.account.current_balance > 0
    paychecks = [t for t in checking.transactions if t.category == "Paycheck"]
    assert 50 <= len(paychecks) <= 54 and len({t.merchant for t in paychecks}) == 1


@pytest.mark.parametrize("biller", BILLERS, ids=lambda b: b.name)
async def test_billers(sync: Sync, biller: Institution) -> None:
    assert [f.key for f in biller.login_fields] == ["username", "password"]
    snapshot, _ = await sync(biller, "me@example.com", "pw")
    (bill,) = snapshot.accounts
    account = bill.account
    assert account.type in (AccountType.UTILITY, AccountType.PHONE, AccountType.INTERNET)
    assert account.amount_due is not None and account.minimum_payment is not None
    assert account.current_balance == account.amount_due
    assert account.due_date is not None and bill.window is not None
    assert account.due_date > bill.window[1]
    charges = [t for t in bill.transactions if t.amount < 0]
    payments = [t for t in bill.transactions if t.amount > 0]
    assert 23 <= len(charges) <= 25 and 22 <= len(payments) <= 25


async def test_bill_amount_due_follows_payment(sync: Sync) -> None:
    seen_due, seen_paid = False, False
    for day in range(0, 40, 3):
        today = TODAY + timedelta(days=day)
        snapshot, _ = await sync(SANDBOX_POWER, "me@example.com", "pw", today=today)
        (bill,) = snapshot.accounts
        due = bill.account.amount_due
        assert due is not None
        if due > 0:
            seen_due = True
            latest = [t for t in bill.transactions if t.amount < 0][-1]
            assert due == -latest.amount
        else:
            seen_paid = True
    assert seen_due and seen_paid


async def test_electricity_is_seasonal(sync: Sync) -> None:
    snapshot, _ = await sync(SANDBOX_POWER, "me@example.com", "pw")
    charges = [t for t in snapshot.accounts[0].transactions if t.amount < 0]
    summer = [-t.amount for t in charges if t.date.month in (8, 9)]
    spring = [-t.amount for t in charges if t.date.month in (4, 5)]
    assert min(summer) > max(spring)


async def test_link_is_fast(sync: Sync) -> None:
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        await sync(BILLFOLD_BANK, "user_good", "pw")
        timings.append(time.perf_counter() - started)
    # The target is well under 10 ms; the bound leaves room for slow, shared CI machines.
    assert min(timings) < 0.05


async def test_sophtron_window_is_2021(sync: Sync) -> None:
    snapshot, _ = await sync(SOPHTRON_BANK_NOMFA, "asdf", "asdf")
    assert snapshot.state == {"anchor": "2021-12-31", "syncs": 0}
