"""OFX statements -> Billfold accounts and transactions.

The protocol's conventions, resolved in one place:

- TRNAMT is already signed as Billfold signs money (positive = money in), for
  bank accounts and cards alike.
- A card's LEDGERBAL is negative while money is owed; Billfold shows a card's
  balance positive while owed, so it is negated (so is a CREDITLINE's). A card's
  AVAILBAL is the credit still available and keeps its sign.
- A transaction's date is when the person made it (DTUSER) when the bank gives
  one no later than the posting, else DTPOSTED; `posted_date` is always DTPOSTED.
- An account's external id is a hash of the bank's routing id and account
  number, so full numbers stay out of ids; the number itself is handed out only
  when a job asked for `verification`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from billfold.connectors.ofx.protocol import AccountRef
from billfold.domain.accounts import AccountData, AccountType
from billfold.domain.money import exponent
from billfold.domain.transactions import TransactionData, TransactionStatus

_BANK_TYPES = {
    "CHECKING": AccountType.CHECKING,
    "SAVINGS": AccountType.SAVINGS,
    "MONEYMRKT": AccountType.SAVINGS,
    "CD": AccountType.SAVINGS,
    "CREDITLINE": AccountType.LOAN,
}
_TYPE_NAMES = {
    "CHECKING": "Checking",
    "SAVINGS": "Savings",
    "MONEYMRKT": "Money Market",
    "CD": "Certificate of Deposit",
    "CREDITLINE": "Line of Credit",
    "CREDITCARD": "Credit Card",
}
_MAX_ID = 200


def external_id(account: AccountRef) -> str:
    return "ofx-" + hashlib.sha256(account.key.encode()).hexdigest()[:32]


def account_type(account: AccountRef) -> AccountType:
    if account.kind == "card":
        return AccountType.CREDIT_CARD
    return _BANK_TYPES.get(account.accttype, AccountType.CHECKING)


def mask(acctid: str) -> str:
    digits = re.sub(r"[^0-9A-Za-z]", "", acctid)
    return digits[-4:] or "0000"


def _money(value: Any, currency: str) -> Decimal:
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError("an OFX amount is not a number")
    return amount.quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_EVEN)


def _clean(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text[:limit] or None


def map_account(account: AccountRef, statement: Any, *, with_numbers: bool = False) -> AccountData:
    """An account with its balances from one STMTRS / CCSTMTRS."""
    currency = str(statement.curdef).upper()
    kind = account_type(account)
    type_name = _TYPE_NAMES.get(account.accttype, "Account")
    name = account.description or f"{type_name} ...{mask(account.acctid)}"
    ledger = statement.ledgerbal
    current = _money(ledger.balamt, currency) if ledger is not None else None
    if current is not None and kind in (AccountType.CREDIT_CARD, AccountType.LOAN):
        current = -current
    avail = statement.availbal
    available = _money(avail.balamt, currency) if avail is not None else None
    return AccountData(
        external_id=external_id(account),
        name=name[:300],
        type=kind,
        mask=mask(account.acctid),
        currency=currency,
        current_balance=current,
        available_balance=available,
        full_number=account.acctid if with_numbers else None,
        routing_number=(account.bankid or None) if with_numbers and account.bankid else None,
    )


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return None


def _fitid(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        raise ValueError("an OFX transaction has no FITID")
    if len(text) <= _MAX_ID:
        return text
    return "h:" + hashlib.sha256(text.encode()).hexdigest()


def map_transaction(txn: Any, currency: str) -> TransactionData:
    """One STMTTRN."""
    posted = _day(txn.dtposted)
    if posted is None:
        raise ValueError("an OFX transaction has no DTPOSTED")
    user_day = _day(txn.dtuser)
    payee = getattr(txn.payee, "name", None) if txn.payee is not None else None
    name = _clean(txn.name, 200) or _clean(payee, 200)
    memo = _clean(txn.memo, 500)
    description = name or memo or _clean(txn.trntype, 50) or "Transaction"
    return TransactionData(
        external_id=_fitid(txn.fitid),
        amount=_money(txn.trnamt, currency),
        date=user_day if user_day is not None and user_day <= posted else posted,
        description=description[:500],
        status=TransactionStatus.POSTED,
        currency=currency,
        posted_date=posted,
        merchant=_clean(payee, 200) or name,
        memo=memo,
        check_number=_clean(txn.checknum, 50),
    )


def statement_window(statement: Any, fallback: tuple[date, date]) -> tuple[date, date]:
    """The dates the statement's transaction list covers (DTSTART..DTEND)."""
    tranlist = statement.banktranlist
    if tranlist is None:
        return fallback
    start = _day(tranlist.dtstart) or fallback[0]
    end = _day(tranlist.dtend) or fallback[1]
    return (start, end) if start <= end else fallback


def transactions_of(statement: Any, currency: str) -> list[TransactionData]:
    tranlist = statement.banktranlist
    if tranlist is None:
        return []
    return [map_transaction(t, currency) for t in tranlist]
