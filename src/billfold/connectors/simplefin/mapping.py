"""SimpleFIN JSON -> Billfold accounts and transactions.

The protocol's quirks, resolved here in one place:

- Amounts and balances are decimal strings; they become `Decimal` (never float),
  rounded half-even to the currency's minor unit.
- A transaction's sign already matches Billfold's (negative = money out). A
  balance does not for debts: SimpleFIN shows a card owed $50 as `-50.00`,
  Billfold as `50.00` owed, so card and loan balances are negated.
- SimpleFIN has no account type; it is inferred from the account's name.
- `posted` is 0 while a transaction is pending. A pending transaction gets the
  external id `p:<id>`, its posted version `<id>` naming `p:<id>` as the pending
  one, so the core replaces the pending row when it posts under the same id.
- `currency` is an ISO code or a URL (a custom currency); custom currencies
  cannot be stored as money and their accounts are skipped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from billfold.domain.accounts import AccountData, AccountType
from billfold.domain.money import exponent, parse_amount
from billfold.domain.transactions import TransactionData, TransactionStatus

PENDING_PREFIX = "p:"
_MAX_ID = 200
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_TYPE_WORDS: tuple[tuple[AccountType, re.Pattern[str]], ...] = (
    (
        AccountType.CREDIT_CARD,
        re.compile(r"credit|card|visa|mastercard|amex|american express|discover", re.I),
    ),
    (AccountType.LOAN, re.compile(r"loan|mortgage|heloc|line of credit|lending", re.I)),
    (AccountType.SAVINGS, re.compile(r"saving|money market|\bcd\b|certificate", re.I)),
)


class MalformedData(ValueError):
    """The server sent something the protocol does not allow."""


def epoch_date(value: Any) -> date:
    """A UNIX timestamp as a UTC calendar date."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedData("a timestamp is not a number")
    try:
        seconds = int(value)
        return datetime.fromtimestamp(seconds, tz=UTC).date()
    except (ValueError, OverflowError, OSError) as exc:
        raise MalformedData("a timestamp is out of range") from exc


def amount(value: Any, currency: str) -> Decimal:
    """A protocol amount (a decimal string) as a `Decimal` in `currency`'s minor unit."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedData("an amount is not a decimal string")
    try:
        parsed = parse_amount(str(value))
    except ValueError as exc:
        raise MalformedData("an amount is not a decimal string") from exc
    return parsed.quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_EVEN)


def currency_of(raw: Mapping[str, Any]) -> str | None:
    """The ISO currency of an account, or None for a custom currency (a URL)."""
    value = str(raw.get("currency") or "USD").strip()
    return value.upper() if _CURRENCY.match(value) else None


def stable_id(value: Any) -> str:
    """The server's id, shortened by hash only when it is longer than Billfold stores."""
    text = str(value or "").strip()
    if not text:
        raise MalformedData("an object has no id")
    if len(text) <= _MAX_ID - len(PENDING_PREFIX):
        return text
    return "h:" + hashlib.sha256(text.encode()).hexdigest()


def account_type(name: str) -> AccountType:
    for kind, words in _TYPE_WORDS:
        if words.search(name):
            return kind
    return AccountType.CHECKING


def mask_of(name: str, account_id: str) -> str:
    """Last four digits shown in the name (`Checking ...1234`), else of the id."""
    digits: list[str] = re.findall(r"\d{4,}", name)
    if digits:
        return digits[-1][-4:]
    tail = re.sub(r"[^0-9A-Za-z]", "", account_id)
    return tail[-4:] or "0000"


def map_account(raw: Mapping[str, Any]) -> AccountData | None:
    """An account, or None when its currency is custom and cannot be stored."""
    currency = currency_of(raw)
    if currency is None:
        return None
    external_id = stable_id(raw.get("id"))
    org = raw.get("org")
    org_name = str(org.get("name") or "") if isinstance(org, Mapping) else ""
    name = str(raw.get("name") or "").strip() or org_name.strip() or "SimpleFIN account"
    kind = account_type(name)
    balance = amount(raw.get("balance", "0"), currency)
    available_raw = raw.get("available-balance")
    available = None if available_raw in (None, "") else amount(available_raw, currency)
    if kind in (AccountType.CREDIT_CARD, AccountType.LOAN):
        balance = -balance
    return AccountData(
        external_id=external_id,
        name=name[:300],
        type=kind,
        mask=mask_of(name, external_id),
        currency=currency,
        current_balance=balance,
        available_balance=available,
    )


def is_pending(raw: Mapping[str, Any]) -> bool:
    posted = raw.get("posted")
    return bool(raw.get("pending")) or posted in (None, 0, "0")


def map_transaction(
    raw: Mapping[str, Any], currency: str, *, fallback_day: date
) -> TransactionData:
    """One transaction; `fallback_day` dates a pending one that carries no date at all."""
    txn_id = stable_id(raw.get("id"))
    value = amount(raw.get("amount"), currency)
    description = " ".join(str(raw.get("description") or "").split())
    payee = " ".join(str(raw.get("payee") or "").split()) or None
    memo = " ".join(str(raw.get("memo") or "").split()) or None
    transacted = raw.get("transacted_at")
    transacted_day = epoch_date(transacted) if transacted not in (None, 0, "0", "") else None
    if is_pending(raw):
        return TransactionData(
            external_id=PENDING_PREFIX + txn_id,
            amount=value,
            date=transacted_day or fallback_day,
            description=(description or payee or "Pending transaction")[:500],
            status=TransactionStatus.PENDING,
            currency=currency,
            merchant=payee[:200] if payee else None,
            memo=memo[:500] if memo else None,
        )
    posted_day = epoch_date(raw.get("posted"))
    return TransactionData(
        external_id=txn_id,
        amount=value,
        date=transacted_day or posted_day,
        description=(description or payee or "Transaction")[:500],
        status=TransactionStatus.POSTED,
        currency=currency,
        posted_date=posted_day,
        merchant=payee[:200] if payee else None,
        memo=memo[:500] if memo else None,
        pending_external_id=PENDING_PREFIX + txn_id,
    )
