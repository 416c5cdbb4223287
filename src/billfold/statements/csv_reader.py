"""A CSV statement streamed row by row with a `CsvMapping`, inferred from its start if not given.

A million-row export must import in seconds, so all the thinking (which columns, which
date format, which separators) happens once per file in `infer_mapping` and in the
converters built here; the per-row loop is a split, a cached date lookup and a `Decimal()`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import chain
from typing import Any, TextIO

from billfold.statements.csv_columns import AmountMode, normalise_header
from billfold.statements.csv_layout import CsvMapping, infer_mapping
from billfold.statements.csv_values import (
    amount_converter,
    looks_like_date,
    parse_amount,
    parse_date,
)
from billfold.statements.drafts import CAN_PROMOTE, DraftLine
from billfold.statements.records import (
    StatementAccount,
    StatementError,
    StatementErrorCode,
    StatementFormat,
    StatementLine,
)

_ZERO = Decimal(0)


class _Source:
    """Where `lines()` gets its rows: raw lines to split, or csv.reader's rows.

    A file that quotes most lines is read by csv.reader whole (`split_lines` false). Other
    files are split line by line in `lines()`, which is several times faster, and only a
    line holding the quote character is handed to `quoted_row`.
    """

    def __init__(self, it: Iterator[str], mapping: CsvMapping, head: str) -> None:
        self._it = it
        self._base = mapping.skip_lines
        self._header = 1 if mapping.has_header else 0
        quote, delimiter = mapping.quote_char, mapping.delimiter
        sample = head.splitlines()[self._base : self._base + 101]
        self.split_lines = not (sample and sum(quote in x for x in sample) * 2 > len(sample))
        self._pending: list[str] = []
        self._pulled = 0
        self.extra = 0  # lines taken by quoted line breaks so far
        self._extra_before = 0  # the same, before the last quoted row
        self._last_quoted: str | None = None
        if self.split_lines:
            self._reader = csv.reader(self._feed(), delimiter=delimiter, quotechar=quote)
            self.items: Iterator[Any] = it
        else:
            self._reader = csv.reader(it, delimiter=delimiter, quotechar=quote)
            self.items = self._guarded(self._reader)

    def quoted_row(self, raw: str) -> list[str]:
        self._pending.append(raw)
        self._pulled = 0
        try:
            row: list[str] = next(self._reader)
        except (csv.Error, StopIteration):
            row = [raw]  # reported as a bad row with one field
        self._last_quoted, self._extra_before = raw, self.extra
        self.extra += self._pulled
        return row

    def line(self, number: int, item: Any) -> int:
        """The file line (from 1) where the `number`th data row (from 0) starts."""
        if not self.split_lines:
            return self._base + self._reader.line_num
        extra = self._extra_before if item is self._last_quoted else self.extra
        return self._base + self._header + number + 1 + extra

    def _feed(self) -> Iterator[str]:
        while True:
            if self._pending:
                yield self._pending.pop()
                continue
            following = next(self._it, None)
            if following is None:
                return
            self._pulled += 1
            yield following

    def _guarded(self, rows: Iterator[list[str]]) -> Iterator[list[str]]:
        """csv.reader's own errors (a NUL byte, a runaway quoted field) as BAD_ROW."""
        try:
            yield from rows
        except csv.Error as exc:
            raise StatementError(
                StatementErrorCode.BAD_ROW, f"line {self._base + self._reader.line_num}: {exc}"
            ) from None


class _NoAmount(ValueError):
    """A dated row with every amount cell blank (BofA's "Beginning balance" row): not a
    transaction, skipped wherever it is."""


class CsvStatement:
    """A CSV statement file: `lines()` streams it once; then `accounts` is complete."""

    def __init__(
        self, text: TextIO, mapping: CsvMapping | None = None, *, sample_chars: int = 65536
    ) -> None:
        head = text.read(sample_chars)
        if len(head) >= sample_chars and not head.endswith(("\n", "\r")):
            head += text.readline()  # inference sees whole lines only
        self._head = head.lstrip("\ufeff")
        self._text = text
        self.mapping = mapping if mapping is not None else infer_mapping(self._head)
        self._accounts: list[StatementAccount] = []
        self._started = False

    @property
    def format(self) -> StatementFormat:
        return StatementFormat.CSV

    @property
    def accounts(self) -> list[StatementAccount]:
        return list(self._accounts)

    @property
    def period(self) -> tuple[date, date] | None:
        return None

    def lines(self) -> Iterator[StatementLine]:
        """Every transaction row, in file order. Raise StatementError(BAD_ROW) on a bad one.

        Rows that do not read at the very end of the file (totals, a closing balance, a
        footer) are skipped; a bad row followed by good ones is an error naming its line.
        """
        if self._started:
            raise RuntimeError("lines() reads the file once")
        self._started = True
        m = self.mapping
        it = iter(chain(io.StringIO(self._head, newline=""), self._text))
        for _ in range(m.skip_lines):
            if next(it, None) is None:
                return
        source = _Source(it, m, self._head)
        items, split_lines, quote, delimiter = (
            source.items,
            source.split_lines,
            m.quote_char,
            m.delimiter,
        )
        if m.has_header:
            header = next(items, None)
            if split_lines and header is not None and quote in header:
                source.quoted_row(header)

        read_amount = amount_converter(m.decimal_separator, m.thousands_separator)
        fmt, dec = m.date_format, m.decimal_separator
        thousands, comma = m.thousands_separator, m.decimal_separator == ","
        dates: dict[str, date] = {}
        cached_date = dates.get
        new_decimal = Decimal
        di = m.date_column
        signed = m.amount_mode is AmountMode.SIGNED
        ai = m.amount_column if m.amount_column is not None else 0
        negate = m.negate
        other_amount = self._amount_reader(read_amount)
        bi, desc_i, pi, mi = m.balance_column, m.description_column, m.payee_column, m.memo_column
        ci, ki = m.check_number_column, m.currency_column
        extras = any(c is not None for c in (pi, mi, ci, ki))
        payee = memo = check = currency = None
        draft, line_type, promote = DraftLine, StatementLine, CAN_PROMOTE
        line: Any

        # For `accounts`: the balance of the latest day's last row (first row, if the file
        # runs newest first).
        first_day: date | None = None
        last_day: date | None = None
        latest: date | None = None
        first_at_latest: Decimal | None = None
        last_at_latest: Decimal | None = None
        first_bad: int | None = None
        first_bad_row: list[str] = []
        row: list[str] = []
        for number, item in enumerate(items):
            try:
                # Lines holding the quote character go through csv.reader, which may pull
                # more lines for a quoted line break; the rest are split directly, several
                # times faster. The line break stays on the last cell: every use of a cell
                # strips it or, like Decimal(), ignores surrounding whitespace.
                if not split_lines:
                    row = item
                elif quote in item:
                    row = source.quoted_row(item)
                else:
                    row = item.split(delimiter)
                # The per-row work is inlined: at a million rows every call counts.
                cell = row[di]
                day = cached_date(cell)
                if day is None:
                    day = parse_date(cell, fmt)
                    if len(dates) < 100_000:
                        dates[cell] = day
                if signed:
                    cell = row[ai]
                    if thousands:
                        cell = cell.replace(thousands, "")
                    if comma:
                        cell = cell.replace(",", ".")
                    try:
                        amount = new_decimal(cell)
                        if not amount.is_finite():
                            raise InvalidOperation
                    except InvalidOperation:
                        slow = parse_amount(row[ai], dec)
                        if slow is None:
                            raise _NoAmount from None
                        amount = slow
                    if negate:
                        amount = -amount
                else:
                    amount = other_amount(row)
                if bi is None:
                    balance = None
                else:
                    cell = row[bi]
                    if thousands:
                        cell = cell.replace(thousands, "")
                    if comma:
                        cell = cell.replace(",", ".")
                    try:
                        balance = new_decimal(cell)
                        if not balance.is_finite():
                            raise InvalidOperation
                    except InvalidOperation:
                        balance = parse_amount(row[bi], dec)
                description = row[desc_i].strip() if desc_i is not None else ""
                if extras:
                    payee = (row[pi].strip() or None) if pi is not None else None
                    memo = (row[mi].strip() or None) if mi is not None else None
                    check = (row[ci].strip() or None) if ci is not None else None
                    currency = (row[ki].strip().upper() or None) if ki is not None else None
            except _NoAmount:
                continue
            except (ValueError, IndexError, InvalidOperation):
                if not any(field.strip() for field in row):
                    continue  # a blank line
                if first_bad is None:
                    first_bad = source.line(number, item)
                    first_bad_row = [field.strip() for field in row]
                continue
            if first_bad is not None:
                self._bad_row(first_bad, first_bad_row)
            if bi is not None:
                last_day = day
                if latest is None or day > latest:
                    if first_day is None:
                        first_day = day
                    latest, first_at_latest, last_at_latest = day, balance, balance
                elif day == latest:
                    last_at_latest = balance
            if promote:
                line = draft()
                line.date = day
                line.amount = amount
                line.description = description
                line.payee = payee
                line.memo = memo
                line.check_number = check
                line.reference = None
                line.balance = balance
                line.currency = currency
                line.account_key = ""
                line.pending = False
                line.__class__ = line_type
                yield line
            else:
                yield line_type(
                    day, amount, description, payee, memo, check, None, balance, currency
                )

        if first_bad is not None and looks_like_date(
            first_bad_row[di] if di < len(first_bad_row) else ""
        ):
            # A footer has no date; a last row with a mistyped one is a transaction lost.
            self._bad_row(first_bad, first_bad_row)
        if latest is not None and first_day is not None and last_day is not None:
            newest_first = first_day > last_day
            closing = first_at_latest if newest_first else last_at_latest
            self._accounts = [StatementAccount(key="", ledger_balance=closing, balance_date=latest)]

    def _amount_reader(
        self, read_amount: Callable[[str], Decimal | None]
    ) -> Callable[[list[str]], Decimal]:
        """The signed amount of a row in debit/credit or indicator mode."""
        m = self.mapping
        if m.amount_mode is AmountMode.SIGNED:

            def unused(row: list[str]) -> Decimal:
                raise AssertionError("signed amounts are read inline")

            return unused
        if m.amount_mode is AmountMode.DEBIT_CREDIT:
            debit_i, credit_i = m.debit_column, m.credit_column
            assert debit_i is not None and credit_i is not None  # CsvMapping guarantees

            def debit_credit(row: list[str]) -> Decimal:
                # Debits are money out whichever sign the bank wrote; credits likewise in.
                debit = read_amount(row[debit_i])
                credit = read_amount(row[credit_i])
                if debit is None and credit is None:
                    raise _NoAmount
                total = abs(credit) if credit is not None else _ZERO
                return total - abs(debit) if debit is not None else total

            return debit_credit

        amount_i, flag_i = m.amount_column, m.indicator_column
        assert amount_i is not None and flag_i is not None  # CsvMapping guarantees
        signs: dict[str, int] = {}
        for marker in m.debit_markers:
            signs[marker] = -1
        for marker in m.credit_markers:
            signs[marker] = 1

        def indicated(row: list[str]) -> Decimal:
            amount = read_amount(row[amount_i])
            if amount is None:
                raise _NoAmount
            flag = row[flag_i]
            sign = signs.get(flag)
            if sign is None:
                sign = signs.get(normalise_header(flag))
                if sign is None:
                    raise ValueError(f"unknown debit/credit mark {flag!r}")
                signs[flag] = sign
            return abs(amount) if sign > 0 else -abs(amount)

        return indicated

    def _bad_row(self, lineno: int, row: list[str]) -> None:
        """Raise BAD_ROW saying which cell of the row could not be read, and why."""
        m = self.mapping

        def name(index: int) -> str:
            if index < len(m.headers) and m.headers[index]:
                return f"column {m.headers[index]!r}"
            return f"column {index + 1}"

        width = max(
            c for c in (m.date_column, m.amount_column, m.debit_column, m.credit_column,
                        m.indicator_column, m.balance_column, m.description_column,
                        m.payee_column, m.memo_column, m.check_number_column,
                        m.currency_column) if c is not None
        )  # fmt: skip
        if len(row) <= width:
            reason = f"has {len(row)} fields, expected at least {width + 1}"
        else:
            reason = self._bad_cell(row, name)
        raise StatementError(StatementErrorCode.BAD_ROW, f"line {lineno}: {reason}")

    def _bad_cell(self, row: list[str], name: Callable[[int], str]) -> str:
        m = self.mapping
        try:
            parse_date(row[m.date_column], m.date_format)
        except ValueError:
            return (
                f"{row[m.date_column]!r} in {name(m.date_column)} could not be read as a date "
                f"({m.date_format})"
            )
        read_amount = amount_converter(m.decimal_separator, m.thousands_separator)
        money = [m.amount_column, m.debit_column, m.credit_column, m.balance_column]
        for index in money:
            if index is None:
                continue
            try:
                read_amount(row[index])
            except (ValueError, InvalidOperation):
                return f"{row[index]!r} in {name(index)} could not be read as an amount"
        if m.amount_mode is AmountMode.INDICATOR and m.indicator_column is not None:
            flag = row[m.indicator_column]
            return f"{flag!r} in {name(m.indicator_column)} is not a known debit/credit mark"
        return "the row has no amount"
