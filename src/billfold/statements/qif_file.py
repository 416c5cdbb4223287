"""QIF statement files: Quicken's line-per-field format that many banks still export.

QIF dates have no fixed order: `01/31/2024`, `1/31'24`, `31/01/2024` and
`31.01.24` all occur, and `03/04/2024` alone cannot say which is the month.
The order is decided once for the whole file: the first date with a part above
12 settles it, so the reader looks ahead through the dates before it yields a
line. A seekable stream is read twice; any other stream is copied to a spooled
temporary file as the look-ahead goes (memory holds at most 1 MiB of it).
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import chain
from typing import IO, TextIO

from billfold.domain.accounts import AccountType
from billfold.statements.records import (
    StatementAccount,
    StatementError,
    StatementErrorCode,
    StatementFormat,
    StatementLine,
)

_SPOOL_IN_MEMORY = 1024 * 1024
_DATE = re.compile(r"^(\d{1,4})\s*[/.\-]\s*(\d{1,2})\s*([/.\-'])\s*(\d{1,4})$")
_ISO_DATE = re.compile(r"^(\d{4})\s*-\s*(\d{1,2})\s*-\s*(\d{1,2})$")
_TRANSACTION_TYPES = {
    "bank": AccountType.CHECKING.value,
    "ccard": AccountType.CREDIT_CARD.value,
    "cash": None,
    "oth a": None,
    "oth l": None,
}
_INVESTMENT_TYPES = {"invst", "port", "prices", "security"}


def _error(code: StatementErrorCode, message: str) -> StatementError:
    return StatementError(code, message)


@dataclass(slots=True)
class _Record:
    section: str
    line: int
    fields: dict[str, str] = field(default_factory=dict)
    account: str = ""
    account_type: str | None = None


@dataclass(slots=True)
class _DateOrder:
    """What the file's dates say about day-first order, learnt as they are read."""

    day_first: bool | None = None
    dotted: bool = False
    evidence: str = ""

    def learn(self, raw: str, line: int) -> bool:
        """Take one date; True once the order is settled."""
        match = _DATE.match(raw.strip())
        if match is None or len(match.group(1)) > 2:  # ISO dates say nothing about the rest
            return False
        first, second, sep = int(match.group(1)), int(match.group(2)), match.group(3)
        self.dotted = self.dotted or sep == "."
        if first > 12 and second <= 12:
            self._settle(True, raw, line)
        elif second > 12 and first <= 12:
            self._settle(False, raw, line)
        return self.day_first is not None

    def _settle(self, day_first: bool, raw: str, line: int) -> None:
        if self.day_first is None:
            self.day_first = day_first
            self.evidence = f"{raw.strip()!r} on line {line}"

    def resolved(self) -> bool:
        # Without a telling date: dots are European (day first), slashes Quicken's US order.
        return self.day_first if self.day_first is not None else self.dotted


def parse_qif_date(raw: str, *, day_first: bool) -> date:
    text = raw.strip()
    try:
        iso = _ISO_DATE.match(text)
        if iso is not None:
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        match = _DATE.match(text)
        if match is None:
            raise ValueError(text)
        first, second = int(match.group(1)), int(match.group(2))
        year_text = match.group(4)
        year = int(year_text)
        if len(year_text) <= 2:
            # Quicken writes 2000s years after an apostrophe: 1/31'24, 1/ 5' 4.
            year += 2000 if match.group(3) == "'" or year < 70 else 1900
        day, month = (first, second) if day_first else (second, first)
        return date(year, month, day)
    except ValueError:
        raise _error(
            StatementErrorCode.BAD_ROW,
            f"The QIF date {text[:40]!r} is not a date Billfold can read"
            f" ({'day' if day_first else 'month'} first, as the file's other dates are).",
        ) from None


def parse_qif_amount(raw: str) -> Decimal:
    """A QIF amount: `1,234.56`, `-12.50`, or with a decimal comma `1.234,56`."""
    text = raw.strip().replace(" ", "")
    comma, dot = text.rfind(","), text.rfind(".")
    if comma > dot:
        decimals = text[comma + 1 :]
        if dot >= 0 or len(decimals) != 3:
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    else:
        text = text.replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise _error(
            StatementErrorCode.BAD_ROW, f"The QIF amount {raw.strip()[:40]!r} is not a number."
        )
    return amount


class QifStatement:
    """A QIF bank, card or cash register. Iterate `lines()` once; then `accounts`."""

    def __init__(self, text: TextIO) -> None:
        self._text = text
        self._start: int | None = None
        try:
            if text.seekable():
                self._start = text.tell()
        except OSError:
            self._start = None
        self._accounts: dict[str, StatementAccount] = {}

    @property
    def format(self) -> StatementFormat:
        return StatementFormat.QIF

    @property
    def accounts(self) -> list[StatementAccount]:
        return list(self._accounts.values())

    @property
    def period(self) -> tuple[date, date] | None:
        return None

    def lines(self) -> Iterator[StatementLine]:
        order = _DateOrder()
        if self._start is not None:
            for record in _records(self._text):
                if "D" in record.fields and order.learn(record.fields["D"], record.line):
                    break
            self._text.seek(self._start)
            yield from self._lines(self._text, order.resolved())
            return
        with tempfile.SpooledTemporaryFile(_SPOOL_IN_MEMORY, mode="w+", newline="") as spool:
            for text_line in self._text:
                spool.write(text_line)
                if text_line[:1] == "D" and order.learn(text_line[1:], 0):
                    break
            spool.seek(0)
            yield from self._lines(chain(_read_lines(spool), self._text), order.resolved())

    def _lines(self, source: Iterable[str], day_first: bool) -> Iterator[StatementLine]:
        for record in _records(source):
            values = record.fields
            if "D" not in values:
                raise _error(
                    StatementErrorCode.BAD_ROW,
                    f"The QIF transaction ending on line {record.line} has no date (D line).",
                )
            amount_text = values.get("T") or values.get("U")
            if not amount_text:
                raise _error(
                    StatementErrorCode.BAD_ROW,
                    f"The QIF transaction ending on line {record.line} has no amount (T line).",
                )
            if record.account not in self._accounts:
                self._accounts[record.account] = StatementAccount(
                    key=record.account,
                    name=record.account or None,
                    type=record.account_type,
                )
            payee = values.get("P") or None
            memo = values.get("M") or None
            number = values.get("N")
            yield StatementLine(
                date=parse_qif_date(values["D"], day_first=day_first),
                amount=parse_qif_amount(amount_text),
                description=payee or memo or values.get("L") or "",
                payee=payee,
                memo=memo,
                # N also holds words such as ATM, EFT or Print; only numbers are checks.
                check_number=number if number and any(c.isdigit() for c in number) else None,
                account_key=record.account,
            )


def _read_lines(stream: IO[str]) -> Iterator[str]:
    yield from stream


def _records(source: Iterable[str]) -> Iterator[_Record]:
    """The file's transaction records (fields by code), with the section and account they are in.

    Records of lists (categories, classes, memorised payees) are skipped; an
    investment register is refused, since its records mean something else.
    """
    section: str | None = None
    account, account_type = "", None
    pending: dict[str, str] = {}
    number = 0
    for number, raw in enumerate(source, start=1):
        text = raw.rstrip("\r\n")
        if number == 1:
            text = text.lstrip("\ufeff")
        if not text.strip():
            continue
        code, value = text[0], text[1:].strip()
        if code == "!":
            header = value.strip().lower()
            if header.startswith("type:"):
                section = header[5:].strip()
                if section in _INVESTMENT_TYPES:
                    raise _error(
                        StatementErrorCode.UNSUPPORTED_FORMAT,
                        "The QIF file holds an investment account (!Type:"
                        f"{value.strip()[5:]}); Billfold imports bank, card and cash registers "
                        "only. Export the cash account as its own QIF file.",
                    )
            elif header == "account":
                section = "account"
            # !Option:AutoSwitch and !Clear:AutoSwitch only bracket the account list.
            pending = {}
            continue
        if code == "^":
            if section == "account":
                account = pending.get("N", "")
                account_type = _TRANSACTION_TYPES.get(pending.get("T", "").strip().lower())
            elif pending and (section is None or section in _TRANSACTION_TYPES):
                yield _Record(
                    section or "bank",
                    number,
                    pending,
                    account,
                    _section_type(section, account_type),
                )
            pending = {}
            continue
        # Split lines (S, E, $, %) are the parts of a total already on T; the first
        # occurrence of every other code is the transaction's.
        if code not in pending and code not in "SE$%":
            pending[code] = value
    if pending and section in (None, *_TRANSACTION_TYPES):
        raise _error(
            StatementErrorCode.TRUNCATED_FILE,
            f"The QIF file ends in the middle of a transaction (line {number}, no closing ^); "
            "it was cut off. Export it again.",
        )


def _section_type(section: str | None, account_type: str | None) -> str | None:
    return _TRANSACTION_TYPES.get(section or "bank") or account_type
