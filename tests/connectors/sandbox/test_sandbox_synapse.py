"""The Synapse sandbox bank `fake`: every documented login, the MFA loop and sync faults."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from billfold.connectors.sandbox.catalog import SYNAPSE_BANK
from billfold.domain.accounts import AccountType, Holder
from billfold.domain.challenges import ChallengeKind
from billfold.domain.errors import ConnectorError, ErrorCode
from billfold.domain.jobs import JobKind
from billfold.domain.snapshot import Snapshot

Sync = Callable[..., Awaitable[tuple[Snapshot, Any]]]  # the `sync` fixture of conftest

QUESTION = "I heard you like questions so we put a question in your question?"
VARIANTS = ["", "_one", "_checking", "_savings", "_random"]
SUFFIXES = {
    "_sync_not_allowed": ErrorCode.REFRESH_NOT_ALLOWED,
    "_needs_relink": ErrorCode.NEEDS_RELINK,
    "_sync_unknown_error": ErrorCode.UNKNOWN,
    "_sync_unavailable": ErrorCode.INSTITUTION_UNAVAILABLE,
}
MFA_ANSWERS = {"synapse_good": ["test_answer"], "synapse_nomfa": [], "synapse_code_mfa": ["123456"]}


def _balances(snapshot: Snapshot) -> list[Decimal | None]:
    return [a.account.current_balance for a in snapshot.accounts]


@pytest.mark.parametrize("user", ["synapse_good", "test_good", "synapse_nomfa"])
async def test_default_nodes_match_the_seed(sync: Sync, user: str) -> None:
    answers = [] if user == "synapse_nomfa" else ["test_answer"]
    snapshot, session = await sync(SYNAPSE_BANK, user, "test1234", answers)
    checking, savings = (a.account for a in snapshot.accounts)
    assert (checking.mask, checking.type, checking.current_balance) == (
        "8901",
        AccountType.CHECKING,
        Decimal("800.00"),
    )
    assert checking.name == "SynapsePay Test Checking Account - 8901"
    assert (savings.mask, savings.type, savings.current_balance) == (
        "8902",
        AccountType.SAVINGS,
        Decimal("750.00"),
    )
    assert savings.name == "SynapsePay Test Savings Account - 8902"
    for account in (checking, savings):
        assert account.holder is Holder.BUSINESS
        assert account.routing_number == "051405515"
        assert account.full_number is not None and len(account.full_number) == 12
        assert account.full_number.endswith(account.mask)
    kinds = [c.kind for c in session.challenges]
    assert kinds == ([] if user == "synapse_nomfa" else [ChallengeKind.QUESTIONS])


async def test_question_text(sync: Sync) -> None:
    _, session = await sync(SYNAPSE_BANK, "synapse_good", "test1234", ["test_answer"])
    assert session.challenges[0].questions == (QUESTION,)


async def test_again_asks_another_round_without_a_retry_note(sync: Sync) -> None:
    answers = ["again", "again", "test_answer"]
    snapshot, session = await sync(SYNAPSE_BANK, "synapse_good", "test1234", answers)
    assert len(session.challenges) == 3
    assert all(c.questions == (QUESTION,) and c.retry_note is None for c in session.challenges)
    assert len(snapshot.accounts) == 2


async def test_wrong_answer_is_asked_again_with_a_note(sync: Sync) -> None:
    answers = ["blue", "again", "nope", "test_answer"]
    _, session = await sync(SYNAPSE_BANK, "synapse_good", "test1234", answers)
    notes = [c.retry_note for c in session.challenges]
    assert notes[0] is None
    assert notes[1] is not None and notes[3] is not None
    assert notes[2] is None  # `again` is a fresh round, not a wrong answer


async def test_four_wrong_answers_still_pass(sync: Sync) -> None:
    answers = ["a", "b", "c", "d", "test_answer"]
    snapshot, _ = await sync(SYNAPSE_BANK, "synapse_good", "test1234", answers)
    assert snapshot.accounts


@pytest.mark.parametrize("user", ["synapse_good", "synapse_code_mfa"])
async def test_fifth_wrong_answer_fails(sync: Sync, user: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        await sync(SYNAPSE_BANK, user, "test1234", ["1", "2", "3", "4", "5"])
    assert caught.value.code is ErrorCode.INVALID_ANSWER


async def test_code_mfa(sync: Sync) -> None:
    snapshot, session = await sync(
        SYNAPSE_BANK, "synapse_code_mfa", "test1234", ["000000", "123456"]
    )
    first, second = session.challenges
    assert first.kind is ChallengeKind.CODE
    assert first.prompt == "Please enter the code sent to your device."
    assert first.retry_note is None and second.retry_note is not None
    assert [a.account.mask for a in snapshot.accounts] == ["8901", "8902"]


async def test_code_mfa_does_not_take_again(sync: Sync) -> None:
    _, session = await sync(SYNAPSE_BANK, "synapse_code_mfa", "test1234", ["again", "123456"])
    assert session.challenges[1].retry_note is not None


@pytest.mark.parametrize(
    ("user", "code"),
    [
        ("synapse_no_accounts", ErrorCode.NO_ACCOUNTS),
        ("synapse_bank_request", ErrorCode.ACTION_REQUIRED),
        ("synapse_maintenance", ErrorCode.INSTITUTION_UNAVAILABLE),
        ("someone_else", ErrorCode.INVALID_CREDENTIALS),
    ],
)
async def test_failing_usernames(sync: Sync, user: str, code: ErrorCode) -> None:
    with pytest.raises(ConnectorError) as caught:
        await sync(SYNAPSE_BANK, user, "whatever")
    assert caught.value.code is code


@pytest.mark.parametrize(
    "password", ["test12345", "Test1234", "test1234_two", "test1234_sync_balance", "", "x"]
)
@pytest.mark.parametrize("user", ["synapse_good", "synapse_nomfa", "synapse_code_mfa"])
async def test_listed_user_with_another_password(sync: Sync, user: str, password: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        await sync(SYNAPSE_BANK, user, password)
    assert caught.value.code is ErrorCode.INVALID_CREDENTIALS


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("user", sorted(MFA_ANSWERS))
async def test_every_user_and_variant_links(sync: Sync, user: str, variant: str) -> None:
    snapshot, _ = await sync(SYNAPSE_BANK, user, f"test1234{variant}", MFA_ANSWERS[user])
    types = [a.account.type for a in snapshot.accounts]
    masks = [a.account.mask for a in snapshot.accounts]
    assert masks == [str(8901 + i) for i in range(len(masks))]
    if variant in ("", "_one"):
        assert types == [AccountType.CHECKING, AccountType.SAVINGS]
    else:
        assert 1 <= len(types) <= 10
    if variant == "_checking":
        assert set(types) == {AccountType.CHECKING}
    if variant == "_savings":
        assert set(types) == {AccountType.SAVINGS}
    for snap in snapshot.accounts:
        balance = snap.account.current_balance
        assert balance is not None and Decimal("100") <= balance <= Decimal("1500")


async def test_counts_are_deterministic_and_vary_across_logins(sync: Sync) -> None:
    counts = set()
    for variant in ("_checking", "_savings", "_random"):
        first, _ = await sync(SYNAPSE_BANK, "synapse_nomfa", f"test1234{variant}")
        again, _ = await sync(SYNAPSE_BANK, "synapse_nomfa", f"test1234{variant}")
        assert first == again
        counts.add(len(first.accounts))
    random_types = {a.account.type for a in first.accounts}
    assert random_types <= {AccountType.CHECKING, AccountType.SAVINGS}
    assert len(counts) > 1


async def test_about_thirty_transactions_over_ninety_days(sync: Sync) -> None:
    snapshot, _ = await sync(SYNAPSE_BANK, "synapse_nomfa", "test1234")
    for snap in snapshot.accounts:
        assert snap.window is not None
        first, last = snap.window
        assert last - first == timedelta(days=89)
        assert 15 <= len(snap.transactions) <= 45
        assert all(first <= t.date <= last for t in snap.transactions)


@pytest.mark.parametrize("suffix", sorted(SUFFIXES))
@pytest.mark.parametrize("variant", ["", "_savings"])
async def test_sync_suffixes_fail_refresh_only(sync: Sync, suffix: str, variant: str) -> None:
    password = f"test1234{variant}{suffix}"
    linked, _ = await sync(SYNAPSE_BANK, "synapse_good", password, ["test_answer"])
    assert linked.accounts
    with pytest.raises(ConnectorError) as caught:
        await sync(SYNAPSE_BANK, "synapse_good", password, kind=JobKind.REFRESH, state=linked.state)
    assert caught.value.code is SUFFIXES[suffix]


@pytest.mark.parametrize(
    ("suffix", "low", "high"),
    [("_sync_balance_higher", "800.00", "1500.00"), ("_sync_balance_lower", "10.00", "50.00")],
)
async def test_balance_suffixes(sync: Sync, suffix: str, low: str, high: str) -> None:
    password = f"test1234{suffix}"
    linked, session = await sync(SYNAPSE_BANK, "synapse_nomfa", password)
    assert _balances(linked) == [Decimal("800.00"), Decimal("750.00")]
    state = linked.state
    seen = set()
    for _ in range(3):
        refreshed, session = await sync(
            SYNAPSE_BANK, "synapse_nomfa", password, kind=JobKind.REFRESH, state=state
        )
        assert session.challenges == []
        state = refreshed.state
        for balance in _balances(refreshed):
            assert balance is not None and Decimal(low) <= balance <= Decimal(high)
            assert balance == balance.quantize(Decimal("0.01"))
            seen.add(balance)
    assert len(seen) > 1  # a random amount, not a constant


async def test_refresh_without_suffix_keeps_balances(sync: Sync) -> None:
    linked, _ = await sync(SYNAPSE_BANK, "synapse_good", "test1234", ["test_answer"])
    refreshed, session = await sync(
        SYNAPSE_BANK, "synapse_good", "test1234", kind=JobKind.REFRESH, state=linked.state
    )
    assert session.challenges == []
    assert _balances(refreshed) == [Decimal("800.00"), Decimal("750.00")]
    assert refreshed.state == {**(linked.state or {}), "syncs": 1}
