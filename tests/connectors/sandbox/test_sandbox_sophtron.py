"""The Sophtron sandbox banks: exact MFA sequences, failure triggers and 2021 data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billfold.connectors.sandbox.catalog import (
    SOPHTRON_BANK,
    SOPHTRON_BANK_BUSINESS,
    SOPHTRON_BANK_CAPTCHA,
    SOPHTRON_BANK_NOMFA,
    SOPHTRON_BANK_QUESTION,
    SOPHTRON_BANK_QUESTIONS,
    SOPHTRON_BANK_TOKEN,
    SOPHTRON_BANK_TOKEN_READ,
    SOPHTRON_BANKS,
)
from billfold.domain.accounts import AccountType, Holder
from billfold.domain.challenges import ChallengeKind
from billfold.domain.errors import ConnectorError, ErrorCode
from billfold.domain.institutions import Institution
from billfold.domain.jobs import JobKind
from billfold.domain.snapshot import Snapshot
from billfold.domain.transactions import TransactionStatus

Sync = Callable[..., Awaitable[tuple[Snapshot, Any]]]  # the `sync` fixture of conftest

COLOR = "What is your favorite color?"
THREE = (COLOR, "What is the name of your first pet?", "In what city were you born?")
PHONE = "Text message 1 (•••) •••-0102"

# bank -> the answers that pass its whole sequence
PASSING: dict[str, list[str | list[str]]] = {
    SOPHTRON_BANK.id: ["X7K2P", "blue", PHONE, "123"],
    SOPHTRON_BANK_CAPTCHA.id: ["anything"],
    SOPHTRON_BANK_TOKEN.id: ["xxx-xxx-5678", "4444"],
    SOPHTRON_BANK_NOMFA.id: [],
    SOPHTRON_BANK_QUESTION.id: ["green"],
    SOPHTRON_BANK_QUESTIONS.id: [["red", "Rex", "Boston"]],
    SOPHTRON_BANK_TOKEN_READ.id: ["done"],
    SOPHTRON_BANK_BUSINESS.id: [],
}
KINDS = {
    SOPHTRON_BANK.id: [
        ChallengeKind.CAPTCHA,
        ChallengeKind.QUESTIONS,
        ChallengeKind.CHOICE,
        ChallengeKind.CODE,
    ],
    SOPHTRON_BANK_CAPTCHA.id: [ChallengeKind.CAPTCHA],
    SOPHTRON_BANK_TOKEN.id: [ChallengeKind.CHOICE, ChallengeKind.CODE],
    SOPHTRON_BANK_NOMFA.id: [],
    SOPHTRON_BANK_QUESTION.id: [ChallengeKind.QUESTIONS],
    SOPHTRON_BANK_QUESTIONS.id: [ChallengeKind.QUESTIONS],
    SOPHTRON_BANK_TOKEN_READ.id: [ChallengeKind.APPROVE],
    SOPHTRON_BANK_BUSINESS.id: [],
}


@pytest.mark.parametrize("bank", SOPHTRON_BANKS, ids=lambda b: b.name)
async def test_each_bank_asks_its_documented_sequence(sync: Sync, bank: Institution) -> None:
    snapshot, session = await sync(bank, "asdfg12X", "asdfg12X", PASSING[bank.id])
    assert [c.kind for c in session.challenges] == KINDS[bank.id]
    assert snapshot.accounts
    assert len(session.ready) == 1


async def test_sophtron_bank_texts_and_labels(sync: Sync) -> None:
    _, session = await sync(SOPHTRON_BANK, "asdfg12X", "asdfg12X", PASSING[SOPHTRON_BANK.id])
    captcha, question, method, token = session.challenges
    assert captcha.image_png is not None and captcha.image_png.startswith(b"\x89PNG")
    assert question.questions == (COLOR,)
    assert [o.label for o in method.options] == [PHONE]
    assert token.code_label == "Token"


async def test_token_bank_offers_two_numbers(sync: Sync) -> None:
    _, session = await sync(SOPHTRON_BANK_TOKEN, "u", "p", ["xxx-xxx-1234", "1"])
    method, token = session.challenges
    assert [o.label for o in method.options] == ["xxx-xxx-1234", "xxx-xxx-5678"]
    assert token.code_label == "Token"


async def test_question_banks_ask_the_documented_questions(sync: Sync) -> None:
    _, one = await sync(SOPHTRON_BANK_QUESTION, "u", "p", ["blue"])
    assert one.challenges[0].questions == (COLOR,)
    _, three = await sync(SOPHTRON_BANK_QUESTIONS, "u", "p", [["a", "b", "c"]])
    assert len(three.challenges) == 1
    assert three.challenges[0].questions == THREE


async def test_token_read_shows_the_code(sync: Sync) -> None:
    _, session = await sync(SOPHTRON_BANK_TOKEN_READ, "u", "p", ["done"])
    assert session.challenges[0].approve_code == "123456"


@pytest.mark.parametrize(
    "answers",
    [["fail"], ["X7K2P", "Fail"], ["X7K2P", "blue", PHONE, " FAIL "]],
    ids=["captcha", "question", "token"],
)
async def test_fail_at_any_step_of_sophtron_bank(sync: Sync, answers: list[str]) -> None:
    with pytest.raises(ConnectorError) as caught:
        await sync(SOPHTRON_BANK, "asdfg12X", "asdfg12X", answers)
    assert caught.value.code is ErrorCode.INVALID_ANSWER


async def test_fail_as_any_of_several_answers(sync: Sync) -> None:
    with pytest.raises(ConnectorError) as caught:
        await sync(SOPHTRON_BANK_QUESTIONS, "u", "p", [["red", "fail", "Boston"]])
    assert caught.value.code is ErrorCode.INVALID_ANSWER


@pytest.mark.parametrize(("username", "password"), [("u", "invalid"), ("u", ""), ("", "p")])
async def test_bad_logins_fail_before_any_challenge(
    sync: Sync, username: str, password: str
) -> None:
    with pytest.raises(ConnectorError) as caught:
        await sync(SOPHTRON_BANK, username, password)
    assert caught.value.code is ErrorCode.INVALID_CREDENTIALS


async def test_refresh_asks_nothing(sync: Sync) -> None:
    snapshot, session = await sync(SOPHTRON_BANK, "asdfg12X", "asdfg12X", kind=JobKind.REFRESH)
    assert session.challenges == []
    assert snapshot.accounts


async def test_nomfa_data(sync: Sync) -> None:
    snapshot, session = await sync(SOPHTRON_BANK_NOMFA, "asdf", "asdf")
    checking, savings = (a.account for a in snapshot.accounts)
    assert (checking.name, checking.mask, checking.type) == (
        "Primary Checking",
        "1234",
        AccountType.CHECKING,
    )
    assert checking.current_balance == Decimal("1000.00")
    assert (savings.name, savings.mask, savings.type) == (
        "Primary Savings",
        "5678",
        AccountType.SAVINGS,
    )
    for account in (checking, savings):
        assert account.full_number is not None and account.full_number.endswith(account.mask)
        assert 10 <= len(account.full_number) <= 12
        assert account.routing_number == SOPHTRON_BANK_NOMFA.routing_numbers[0]
        assert account.owner_name
    for snap in snapshot.accounts:
        assert snap.transactions
        assert all(t.date.year == 2021 for t in snap.transactions)
        assert snap.window == (date(2021, 1, 1), date(2021, 12, 31))
    text = " ".join(t.description for t in snapshot.accounts[0].transactions)
    for activity in ("PAYROLL", "RENT", "TRANSFER TO SAVINGS", "SANDBOX POWER"):
        assert activity in text
    # A year of checking activity, not a token handful.
    assert len(snapshot.accounts[0].transactions) > 300
    assert session.notes[0] == "Logging in"
    assert [a.transactions for a in session.ready[0].accounts] == [(), ()]


async def test_nomfa_pending_posts_on_the_next_sync(sync: Sync) -> None:
    first, _ = await sync(SOPHTRON_BANK_NOMFA, "asdf", "asdf")
    pending = [t for t in first.accounts[0].transactions if t.status is TransactionStatus.PENDING]
    assert pending
    assert {t.date for t in pending} <= {date(2021, 12, 30), date(2021, 12, 31)}
    checking = first.accounts[0].account
    assert checking.current_balance == Decimal("1000.00")
    assert checking.available_balance == Decimal("1000.00") + sum(t.amount for t in pending)

    second, _ = await sync(
        SOPHTRON_BANK_NOMFA, "asdf", "asdf", kind=JobKind.REFRESH, state=first.state
    )
    by_id = {t.external_id: t for t in second.accounts[0].transactions}
    assert not [t for t in by_id.values() if t.status is TransactionStatus.PENDING]
    for old in pending:
        posted = by_id[old.external_id.removeprefix("p-")]
        assert posted.pending_external_id == old.external_id
        assert posted.status is TransactionStatus.POSTED
        assert posted.date == old.date and posted.amount == old.amount
        assert posted.posted_date is not None and posted.posted_date.year == 2022
        assert posted.posted_date.month == 1
    refreshed = second.accounts[0].account
    assert refreshed.current_balance == refreshed.available_balance == Decimal("1000.00")


async def test_business_bank_has_business_accounts(sync: Sync) -> None:
    snapshot, _ = await sync(SOPHTRON_BANK_BUSINESS, "asdf", "asdf")
    accounts = [a.account for a in snapshot.accounts]
    assert accounts[0].type is AccountType.CHECKING
    assert accounts[0].mask == "1234"
    assert all(a.holder is Holder.BUSINESS for a in accounts)
    assert snapshot.identity is not None and len(snapshot.identity.names) == 2
    assert all(t.date.year == 2021 for a in snapshot.accounts for t in a.transactions)
