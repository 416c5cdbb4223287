"""Accounts: deposit, card, loan and billing accounts with balances and amounts due.

Balance convention: for deposit accounts a balance is money held; for credit
cards, loans and bills it is money owed (positive while something is owed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class AccountType(StrEnum):
    CHECKING = "checking"
    SAVINGS = "savings"
    CREDIT_CARD = "credit_card"
    LOAN = "loan"
    UTILITY = "utility"
    PHONE = "phone"
    INTERNET = "internet"
    OTHER_BILL = "other_bill"

    @property
    def is_deposit(self) -> bool:
        return self in {AccountType.CHECKING, AccountType.SAVINGS}

    @property
    def is_bill(self) -> bool:
        return self in {
            AccountType.UTILITY,
            AccountType.PHONE,
            AccountType.INTERNET,
            AccountType.OTHER_BILL,
        }


class Holder(StrEnum):
    PERSONAL = "personal"
    BUSINESS = "business"


@dataclass(frozen=True, slots=True)
class AccountData:
    """An account as a connector reports it. `external_id` is stable across syncs."""

    external_id: str
    name: str
    type: AccountType
    mask: str
    currency: str = "USD"
    holder: Holder = Holder.PERSONAL
    current_balance: Decimal | None = None
    available_balance: Decimal | None = None
    credit_limit: Decimal | None = None
    amount_due: Decimal | None = None
    minimum_payment: Decimal | None = None
    due_date: date | None = None
    # Sensitive details, returned only when the job asked for `verification`.
    full_number: str | None = None
    routing_number: str | None = None
    owner_name: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    client_id: str
    user_id: str
    connection_id: str
    data: AccountData
    created_at: datetime
    updated_at: datetime
    balance_updated_at: datetime | None
    is_active: bool = True
