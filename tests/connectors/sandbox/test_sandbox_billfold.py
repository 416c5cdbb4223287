"""Billfold's own sandbox bank, credit union and card: logins, MFA and live-dated data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from billfold.connectors.sandbox.catalog import BILLFOLD_BANK, BILLFOLD_CARD, BILLFOLD_CREDIT_UNION
from billfold.domain.accounts import AccountType
from billfold.domain.challenges import Challenge, ChallengeKind
from billfold.domain.errors import ConnectorError, ErrorCode
from billfold.domain.institutions import Institution
from billfold.domain.jobs import JobKind
from billfold.domain.snapshot import Snapshot

Sync = Callable[..., Awaitable[tuple[Snapshot, Any]]]  # the `sync` fixture of conftest


async def test_user_good_has_four_accounts_and_two_years(sync: Sync) -> None:
    snapshot, session = await sync(BILLFOLD_BANK, "user_good", "secret")
    assert session.challenges == []
    types = [a.account.type for a in snapshot.accounts]
    assert types == [
        AccountType.CHECKING,
        AccountType.SAVINGS,
        AccountType.CREDIT_CARD,
        AccountType.LOAN,
    ]
    checking = snapshot.accounts[0]
    assert checking.window is not None
    first, last = checking.window
    assert last - first == timedelta(days=729)
    assert min(t.date for t in checking.transactions) <= first + timedelta(days=3)
    per_day = len(checking.transactions) / 730
    assert 0.8 <= per_day <= 2.0
    masks = [a.account.mask for a in snapshot.accounts]
    assert len(set(masks)) == 4


async def test_other_usernames_are_other_people(sync: Sync) -> None:
    one, _ = await sync(BILLFOLD_BANK, "alice", "pw")
    two, _ = await sync(BILLFOLD_BANK, "bob", "pw")
    assert len(one.accounts) == len(two.accounts) == 4
    assert one.identity != two.identity
    assert one.accounts[0].account.external_id != two.accounts[0].account.external_id


@pytest.mark.parametrize("institution", [BILLFOLD_BANK, BILLFOLD_CREDIT_UNION, BILLFOLD_CARD])
@pytest.mark.parametrize("password", ["invalid", "INVALID", ""])
async def test_invalid_password(sync: Sync, institution: Institution, password: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        await sync(institution, "user_good", password)
    assert caught.value.code is ErrorCode.INVALID_CREDENTIALS


async def test_user_mfa_choice_then_code(sync: Sync) -> None:
    snapshot, session = await sync(BILLFOLD_BANK, "user_mfa", "pw", ["sms", "111111", "123456"])
    choice, code, retry = session.challenges
    assert choice.kind is ChallengeKind.CHOICE and len(choice.options) == 3
    assert code.kind is ChallengeKind.CODE and code.retry_note is None
    assert retry.retry_note is not None
    assert len(snapshot.accounts) == 4


async def test_user_mfa_three_wrong_codes_fail(sync: Sync) -> None:
    with pytest.raises(ConnectorError) as caught:
        await sync(BILLFOLD_BANK, "user_mfa", "pw", ["email", "1", "2", "3"])
    assert caught.value.code is ErrorCode.INVALID_ANSWER


async def test_user_questions(sync: Sync) -> None:
    _, session = await sync(BILLFOLD_BANK, "user_questions", "pw", [["Honda", "Smith"]])
    (challenge,) = session.challenges
    assert challenge.kind is ChallengeKind.QUESTIONS and len(challenge.questions) == 2
    with pytest.raises(ConnectorError) as caught:
        await sync(BILLFOLD_BANK, "user_questions", "pw", [["Honda", "fail"]])
    assert caught.value.code is ErrorCode.INVALID_ANSWER


def _pick(label_start: str) -> Callable[[Challenge], list[str]]:
    def pick(challenge: Challenge) -> list[str]:
        assert challenge.kind is ChallengeKind.ACCOUNT_SELECT
        return [next(o.label for o in challenge.options if o.label.startswith(label_start))]

    return pick


async def test_user_select_links_only_the_chosen_account(sync: Sync) -> None:
    linked, session = await sync(BILLFOLD_BANK, "user_select", "pw", [_pick("High Yield")])
    (challenge,) = session.challenges
    assert len(challenge.options) == 4
    (only,) = linked.accounts
    assert only.account.type is AccountType.SAVINGS
    assert only.account.external_id == challenge.options[1].id
    assert [a.account.external_id for a in session.ready[0].accounts] == [challenge.options[1].id]

    refreshed, again = await sync(
        BILLFOLD_BANK, "user_select", "pw", kind=JobKind.REFRESH, state=linked.state
    )
    assert again.challenges == []
    assert [a.account.external_id for a in refreshed.accounts] == [only.account.external_id]


async def test_refresh_asks_nothing(sync: Sync) -> None:
    linked, _ = await sync(BILLFOLD_BANK, "user_mfa", "pw", ["sms", "123456"])
    refreshed, session = await sync(
        BILLFOLD_BANK, "user_mfa", "pw", kind=JobKind.REFRESH, state=linked.state
    )
    assert session.challenges == []
    assert len(refreshed.accounts) == 4


async def test_credit_union(sync: Sync) -> None:
    snapshot, session = await sync(BILLFOLD_CREDIT_UNION, "member", "pw")
    assert session.challenges == []
    types = [a.account.type for a in snapshot.accounts]
    assert types == [AccountType.CHECKING, AccountType.SAVINGS, AccountType.LOAN]
    loan = snapshot.accounts[2].account
    assert loan.amount_due is not None and loan.amount_due > 0
    assert loan.due_date is not None and loan.minimum_payment == loan.amount_due


async def test_card_issuer_asks_a_code(sync: Sync) -> None:
    snapshot, session = await sync(BILLFOLD_CARD, "cardholder", "pw", ["123456"])
    (challenge,) = session.challenges
    assert challenge.kind is ChallengeKind.CODE
    (card,) = snapshot.accounts
    account = card.account
    assert account.type is AccountType.CREDIT_CARD
    assert account.credit_limit is not None and account.current_balance is not None
    assert account.due_date is not None and account.minimum_payment is not None
    purchases = [t for t in card.transactions if t.category not in ("Credit Card Payment",)]
    payments = [t for t in card.transactions if t.category == "Credit Card Payment"]
    assert payments and all(t.amount > 0 for t in payments)
    assert sum(1 for t in purchases if t.amount < 0) > 0.9 * len(purchases)


async def test_identity_is_returned(sync: Sync) -> None:
    snapshot, _ = await sync(BILLFOLD_BANK, "user_good", "pw", products=("identity",))
    identity = snapshot.identity
    assert identity is not None
    assert identity.names and identity.addresses and identity.phones and identity.emails
    assert "@" in identity.emails[0]
