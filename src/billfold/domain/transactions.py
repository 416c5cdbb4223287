"""Transactions with stable ids and one sign convention.

Sign: a positive amount is money into the account (a deposit, a refund, a
payment towards a card or bill); a negative amount is money out (a purchase,
a withdrawal, a new charge on a bill). `direction` gives the FDX-style flag.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class TransactionStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"


class Direction(StrEnum):
    CREDIT = "credit"
    DEBIT = "debit"


@dataclass(frozen=True, slots=True)
class TransactionData:
    """A transaction as a connector reports it.

    `external_id` is the institution's stable id (OFX FITID and the like).
    A posted transaction that was pending before names it in `pending_external_id`.
    """

    external_id: str
    amount: Decimal
    date: dt.date
    description: str
    status: TransactionStatus = TransactionStatus.POSTED
    currency: str = "USD"
    posted_date: dt.date | None = None
    merchant: str | None = None
    category: str | None = None
    memo: str | None = None
    check_number: str | None = None
    pending_external_id: str | None = None

    @property
    def direction(self) -> Direction:
        return Direction.CREDIT if self.amount > 0 else Direction.DEBIT


@dataclass(frozen=True, slots=True)
class Transaction:
    id: str
    client_id: str
    account_id: str
    data: TransactionData
    created_at: dt.datetime
    updated_at: dt.datetime
    # Billfold id of the pending transaction this posted one replaced.
    pending_transaction_id: str | None = None
