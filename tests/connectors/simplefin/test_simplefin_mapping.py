"""SimpleFIN JSON -> accounts and transactions: Decimal amounts, signs, dates, pending ids."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billfold.connectors.simplefin.mapping import (
    MalformedData,
    account_type,
    amount,
    map_account,
    map_transaction,
    mask_of,
    stable_id,
)
from billfold.domain.accounts import AccountType
from billfold.domain.transactions import Direction, TransactionStatus
from simplefin_server import at_noon

DAY = date(2025, 3, 14)


def test_amounts_are_decimals_rounded_to_the_currency() -> None:
    assert amount("-12.30", "USD") == Decimal("-12.30")
    assert isinstance(amount("1", "USD"), Decimal)
    assert amount("0.125", "USD") == Decimal("0.12")  # half-even, never float
    assert amount("1000", "JPY") == Decimal("1000")
    for bad in ("abc", "NaN", "Infinity", 1.5, None, True):
        with pytest.raises(MalformedData):
            amount(bad, "USD")


def test_account_types_masks_and_debt_balances() -> None:
    assert account_type("Everyday Checking") is AccountType.CHECKING
    assert account_type("High Yield Savings") is AccountType.SAVINGS
    assert account_type("Rewards Visa") is AccountType.CREDIT_CARD
    assert account_type("Auto Loan") is AccountType.LOAN
    assert mask_of("Checking ...6789", "x") == "6789"
    assert mask_of("Checking", "ACT-ab-12") == "ab12"

    card = map_account(
        {"id": "c1", "name": "Rewards Visa 4321", "currency": "USD", "balance": "-250.50",
         "available-balance": "4749.50", "balance-date": at_noon(DAY), "org": {"name": "X"}}
    )  # fmt: skip
    assert card is not None
    assert card.type is AccountType.CREDIT_CARD
    assert card.current_balance == Decimal("250.50")  # owed, positive in Billfold
    assert card.available_balance == Decimal("4749.50")
    assert card.mask == "4321"

    checking = map_account({"id": "a1", "name": "Checking", "balance": "-3.00", "currency": "usd"})
    assert checking is not None
    assert checking.current_balance == Decimal("-3.00")  # overdrawn stays negative
    assert checking.currency == "USD"
    assert checking.available_balance is None


def test_custom_currency_accounts_are_skipped_and_names_fall_back() -> None:
    assert map_account({"id": "p", "name": "Points", "balance": "10",
                        "currency": "https://points.example/currency"}) is None  # fmt: skip
    unnamed = map_account({"id": "u1", "balance": "1", "org": {"name": "Example Bank"}})
    assert unnamed is not None and unnamed.name == "Example Bank"


def test_posted_transaction_keeps_the_sign_and_names_its_pending_id() -> None:
    txn = map_transaction(
        {"id": "t1", "posted": at_noon(DAY), "amount": "-82.13", "description": "GROCERY  #12",
         "payee": "Grocer", "memo": "card", "transacted_at": at_noon(date(2025, 3, 12))},
        "USD",
        fallback_day=DAY,
    )  # fmt: skip
    assert txn.external_id == "t1"
    assert txn.amount == Decimal("-82.13") and txn.direction is Direction.DEBIT
    assert txn.status is TransactionStatus.POSTED
    assert txn.date == date(2025, 3, 12) and txn.posted_date == DAY
    assert txn.description == "GROCERY #12" and txn.merchant == "Grocer" and txn.memo == "card"
    assert txn.pending_external_id == "p:t1"

    deposit = map_transaction(
        {"id": "t2", "posted": at_noon(DAY), "amount": "2500.00", "description": "PAY"},
        "USD",
        fallback_day=DAY,
    )
    assert deposit.direction is Direction.CREDIT and deposit.date == DAY


def test_pending_transactions() -> None:
    flagged = map_transaction(
        {"id": "t3", "posted": 0, "amount": "-4.75", "description": "COFFEE", "pending": True,
         "transacted_at": at_noon(DAY)},
        "USD",
        fallback_day=date(2025, 3, 20),
    )  # fmt: skip
    assert flagged.status is TransactionStatus.PENDING
    assert flagged.external_id == "p:t3" and flagged.date == DAY and flagged.posted_date is None
    undated = map_transaction(
        {"id": "t4", "posted": 0, "amount": "-1.00", "description": ""}, "USD", fallback_day=DAY
    )
    assert undated.status is TransactionStatus.PENDING and undated.date == DAY
    assert undated.description == "Pending transaction"


def test_ids_are_kept_or_hashed_and_bad_rows_are_refused() -> None:
    assert stable_id("abc") == "abc"
    long = stable_id("x" * 500)
    assert long.startswith("h:") and len(long) <= 200 and long == stable_id("x" * 500)
    with pytest.raises(MalformedData):
        stable_id("")
    with pytest.raises(MalformedData):
        map_transaction({"id": "t", "posted": "soon", "amount": "1"}, "USD", fallback_day=DAY)
