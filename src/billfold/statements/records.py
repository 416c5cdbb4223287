"""What every statement file format reads into: lines, accounts, and one error type.

Each format module (CSV, OFX/QFX, QIF, CAMT.053) streams `StatementLine`s so a
file of a million rows never sits in memory; the import service turns them into
transactions. Nothing here knows about HTTP or SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from billfold.domain.errors import InvalidInput


class StatementFormat(StrEnum):
    CSV = "csv"
    OFX = "ofx"  # QFX is OFX with an Intuit header; it reads the same
    QIF = "qif"
    CAMT053 = "camt053"


class StatementErrorCode(StrEnum):
    """Stable machine codes for a file that cannot be imported."""

    EMPTY_FILE = "empty_file"
    BINARY_FILE = "binary_file"
    UNSUPPORTED_FORMAT = "unsupported_format"
    TRUNCATED_FILE = "truncated_file"
    BAD_ENCODING = "bad_encoding"
    FILE_TOO_LARGE = "file_too_large"
    UNRECOGNISED_LAYOUT = "unrecognised_layout"
    BAD_MAPPING = "bad_mapping"
    BAD_ROW = "bad_row"
    NO_TRANSACTIONS = "no_transactions"


class StatementError(InvalidInput):
    """A file that cannot be imported; raised before anything is stored."""

    def __init__(self, code: StatementErrorCode, message: str) -> None:
        super().__init__(message, code=code.value)
        self.statement_code = code


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One transaction as the file states it, in Billfold's sign (positive = money in)."""

    date: date
    amount: Decimal
    description: str
    payee: str | None = None
    memo: str | None = None
    check_number: str | None = None
    # The file's own stable id when it has one (OFX FITID, CAMT AcctSvcrRef/NtryRef);
    # None for CSV and QIF, whose lines are matched by content instead.
    reference: str | None = None
    # Running balance after this line, when the file gives one.
    balance: Decimal | None = None
    currency: str | None = None
    # Which account of a multi-account file (OFX, CAMT) the line belongs to; "" if one.
    account_key: str = ""
    pending: bool = False


@dataclass(frozen=True, slots=True)
class StatementAccount:
    """An account a file names, with the balances it states (complete after reading lines)."""

    key: str
    number: str | None = None
    name: str | None = None
    # One of billfold.domain.accounts.AccountType's values, when the file says.
    type: str | None = None
    currency: str | None = None
    ledger_balance: Decimal | None = None
    available_balance: Decimal | None = None
    balance_date: date | None = None


class StatementReader(Protocol):
    """A file opened in one format. Iterate `lines()` once; then `accounts` is complete."""

    @property
    def format(self) -> StatementFormat: ...

    def lines(self) -> Iterator[StatementLine]: ...

    @property
    def accounts(self) -> list[StatementAccount]: ...

    @property
    def period(self) -> tuple[date, date] | None:
        """The dates the file declares it covers completely (OFX DTSTART/DTEND, CAMT FrToDt)."""
        ...
