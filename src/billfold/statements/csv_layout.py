"""How a bank's CSV export is laid out, and how to work that out from a sample with no template.

Every bank invents its own CSV: delimiter, preamble lines, header language, date order,
decimal comma, one signed amount or separate debit/credit columns, a Soll/Haben flag.
`infer_mapping` reads a sample and returns a `CsvMapping`, which a client may inspect and
correct (`with_overrides`) before the reader streams the whole file with it.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from functools import lru_cache
from typing import Any

from billfold.statements.csv_columns import (
    CREDIT_MARKERS,
    DEBIT_MARKERS,
    AmountMode,
    assign_columns,
    header_roles,
    normalise_header,
)
from billfold.statements.csv_values import (
    fitting_formats,
    looks_like_date,
    parse_date,
    reads_as_amount,
)
from billfold.statements.records import StatementError, StatementErrorCode

__all__ = ["AmountMode", "CsvMapping", "infer_mapping"]


_DECIMAL_SEPARATORS = (".", ",")
_THOUSANDS_SEPARATORS = ("", ",", ".", " ", "'", "\u00a0")
_COLUMN_FIELDS = (
    "date_column", "amount_column", "debit_column", "credit_column", "indicator_column",
    "balance_column", "description_column", "payee_column", "memo_column",
    "check_number_column", "currency_column", "value_date_column",
)  # fmt: skip


def _bad(message: str) -> StatementError:
    return StatementError(StatementErrorCode.BAD_MAPPING, message)


@dataclass(frozen=True)
class CsvMapping:
    """Everything needed to read one CSV layout. Column numbers count from 0.

    `skip_lines` counts physical lines before the header (or before the first data row
    when `has_header` is false). `headers` is for display only; columns are read by number.
    """

    date_column: int
    date_format: str
    amount_mode: AmountMode = AmountMode.SIGNED
    amount_column: int | None = None
    debit_column: int | None = None
    credit_column: int | None = None
    indicator_column: int | None = None
    debit_markers: tuple[str, ...] = DEBIT_MARKERS
    credit_markers: tuple[str, ...] = CREDIT_MARKERS
    delimiter: str = ","
    quote_char: str = '"'
    skip_lines: int = 0
    has_header: bool = True
    headers: tuple[str, ...] = ()
    decimal_separator: str = "."
    thousands_separator: str = ""
    # Card exports that write purchases as positive numbers; see `infer_mapping`.
    negate: bool = False
    balance_column: int | None = None
    description_column: int | None = None
    payee_column: int | None = None
    memo_column: int | None = None
    check_number_column: int | None = None
    currency_column: int | None = None
    value_date_column: int | None = None

    def __post_init__(self) -> None:
        self._validate()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict that `from_dict` turns back into an equal mapping."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, AmountMode):
                value = value.value
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CsvMapping:
        """Build and validate a mapping; raise StatementError(BAD_MAPPING) naming the bad key."""
        if not isinstance(data, Mapping):
            raise _bad("the mapping must be an object")
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise _bad(f"unknown mapping key {key!r}")
        for key in ("date_column", "date_format"):
            if key not in data:
                raise _bad(f"{key!r} is required")
        values: dict[str, Any] = {}
        for key, value in data.items():
            values[key] = _coerce(key, value)
        return cls(**values)

    def with_overrides(self, overrides: Mapping[str, Any]) -> CsvMapping:
        """This mapping with some keys replaced by a client, validated like `from_dict`."""
        if not isinstance(overrides, Mapping):
            raise _bad("the mapping overrides must be an object")
        return CsvMapping.from_dict({**self.to_dict(), **overrides})

    def _validate(self) -> None:
        for name in _COLUMN_FIELDS:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise _bad(f"{name!r} must be a column number (0 or more) or null")
            if self.headers and value >= len(self.headers):
                raise _bad(f"{name!r} is column {value} but the file has {len(self.headers)}")
        _check_char("delimiter", self.delimiter)
        _check_char("quote_char", self.quote_char)
        if self.delimiter == self.quote_char:
            raise _bad("'delimiter' and 'quote_char' must differ")
        if isinstance(self.skip_lines, bool) or not isinstance(self.skip_lines, int):
            raise _bad("'skip_lines' must be a whole number")
        if self.skip_lines < 0:
            raise _bad("'skip_lines' must not be negative")
        for name in ("has_header", "negate"):
            if not isinstance(getattr(self, name), bool):
                raise _bad(f"{name!r} must be true or false")
        if self.decimal_separator not in _DECIMAL_SEPARATORS:
            raise _bad("'decimal_separator' must be '.' or ','")
        if self.thousands_separator not in _THOUSANDS_SEPARATORS:
            raise _bad("'thousands_separator' must be one of '', ',', '.', ' ', \"'\"")
        if self.thousands_separator == self.decimal_separator:
            raise _bad("'thousands_separator' must differ from 'decimal_separator'")
        _check_date_format(self.date_format)
        if not isinstance(self.amount_mode, AmountMode):
            raise _bad("'amount_mode' must be 'signed', 'debit_credit' or 'indicator'")
        needed = {
            AmountMode.SIGNED: ("amount_column",),
            AmountMode.DEBIT_CREDIT: ("debit_column", "credit_column"),
            AmountMode.INDICATOR: ("amount_column", "indicator_column"),
        }[self.amount_mode]
        for name in needed:
            if getattr(self, name) is None:
                raise _bad(f"{name!r} is required when 'amount_mode' is {self.amount_mode.value!r}")
            if getattr(self, name) == self.date_column:
                raise _bad(f"{name!r} and 'date_column' are the same column")
        for name in ("debit_markers", "credit_markers"):
            markers = getattr(self, name)
            if not markers or not all(isinstance(m, str) and m.strip() for m in markers):
                raise _bad(f"{name!r} must be a non-empty list of non-empty strings")
        if not all(isinstance(h, str) for h in self.headers):
            raise _bad("'headers' must be a list of strings")


def _check_char(name: str, value: object) -> None:
    if not isinstance(value, str) or len(value) != 1 or value in "\r\n":
        raise _bad(f"{name!r} must be a single character other than a line break")


def _check_date_format(fmt: object) -> None:
    if not isinstance(fmt, str) or not fmt.strip():
        raise _bad("'date_format' must be a strptime format such as '%d.%m.%Y'")
    # A format that cannot write and read back a date with day, month and year all
    # distinct would silently misread every row.
    probe = date(2031, 11, 27)
    try:
        back = parse_date(probe.strftime(fmt), fmt)
    except ValueError:
        back = None
    if back != probe:
        raise _bad(f"'date_format' {fmt!r} does not read a day, a month and a year")


def _coerce(key: str, value: Any) -> Any:
    """JSON shapes to field types; anything odd is left for `_validate` to name."""
    if key == "amount_mode":
        try:
            return AmountMode(value)
        except ValueError:
            raise _bad("'amount_mode' must be 'signed', 'debit_credit' or 'indicator'") from None
    if key in ("debit_markers", "credit_markers", "headers"):
        if not isinstance(value, list | tuple):
            raise _bad(f"{key!r} must be a list of strings")
        if key == "headers":
            return tuple(value)
        return tuple(normalise_header(v) if isinstance(v, str) else v for v in value)
    return value


_DELIMITERS = (",", ";", "\t", "|")
_MAX_RECORDS = 600


def _records(sample: str, delimiter: str, quote: str) -> list[tuple[int, list[str]]]:
    """Each record of the sample with the physical line it starts on (0-based)."""
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, quotechar=quote)
    out: list[tuple[int, list[str]]] = []
    start = 0
    try:
        for row in reader:
            out.append((start, row))
            start = reader.line_num
    except csv.Error:
        pass  # an unclosed quote at the end of a cut sample; the rows before it suffice
    return out


def _choose_delimiter(sample: str) -> str:
    best, best_score = ",", -1.0
    for delimiter in _DELIMITERS:
        counts = Counter(len(r) for _, r in _records(sample, delimiter, '"') if len(r) > 1)
        if not counts:
            continue
        width, rows = counts.most_common(1)[0]
        score = rows * (width - 1)
        if score > best_score:
            best, best_score = delimiter, score
    return best


@lru_cache(maxsize=4096)
def _is_date(cell: str) -> bool:
    # Statements repeat dates, so most cells are answered from the cache.
    return looks_like_date(cell) and bool(fitting_formats([cell]))


def _looks_like_data(row: list[str]) -> bool:
    has_date = has_number = False
    for cell in row:
        cell = cell.strip()
        if not cell or len(cell) > 40:
            continue
        if not has_date and _is_date(cell):
            has_date = True
            continue
        if not has_number and reads_as_amount(cell):
            has_number = True
    return has_date and has_number


def infer_mapping(sample: str) -> CsvMapping:
    """Work out a CSV layout from the start of a file.

    Raises StatementError(UNRECOGNISED_LAYOUT) when no date column and no money column can
    be found, saying what was found instead.

    The sign of a single amount column (`negate`) is decided, in order, by:

    1. the running balance, when there is one: if it moves by minus the amount
       (balance - previous balance == -amount) the amounts are written as money out, if
       by the amount they are kept. This takes the balance to be the holder's money, as
       bank accounts show it; card exports, whose balance would be what is owed, rarely
       carry a running balance;
    2. a header saying the column holds charges or purchases;
    3. the Amex/Discover pattern: rows whose description reads as a payment to the card
       ("payment", "thank you", "autopay", "Zahlung", "credit", "refund" ...) are mostly
       negative while the other rows are mostly positive.

    Failing all three the amounts are taken as written (negative = money out), which is
    right for bank accounts and for card exports such as Chase's.
    """
    text = sample.lstrip("\ufeff")
    if not text.strip():
        raise StatementError(StatementErrorCode.UNRECOGNISED_LAYOUT, "the file has no rows")
    delimiter = _choose_delimiter(text)
    quote = '"'
    # A few hundred rows settle every question; more only cost time on a large sample.
    records = _records(text, delimiter, quote)[:_MAX_RECORDS]
    widths = Counter(len(r) for _, r in records if len(r) > 1)
    width = widths.most_common(1)[0][0] if widths else 1
    data_flags = [len(r) >= max(2, width - 1) and _looks_like_data(r) for _, r in records]
    # Data starts at the first data-looking row shaped like most of them (same width, date
    # in the same column), so a preamble line holding a date and a number
    # ("Datum:";"31.01.2024";"BLZ:";"12345678") is not taken for the first transaction.
    shapes = [_shape(r) if flag else None for (_, r), flag in zip(records, data_flags, strict=True)]
    common = Counter(s for s in shapes if s is not None).most_common(1)
    first = shapes.index(common[0][0]) if common else None

    header_at: int | None = None
    if first is None:
        header_at = _best_header(records)
        if header_at is None:
            raise StatementError(
                StatementErrorCode.UNRECOGNISED_LAYOUT,
                f"no row has both a date and an amount, and no header names them "
                f"(read {len(records)} rows split on {delimiter!r})",
            )
        data: list[list[str]] = []
    else:
        last = max(i for i, flag in enumerate(data_flags) if flag)
        data = [r for _, r in records[first : last + 1] if any(c.strip() for c in r)]
        previous = next((i for i in range(first - 1, -1, -1) if any(records[i][1])), None)
        if previous is not None and _is_header(records[previous][1], width):
            header_at = previous
    header = (
        [h.strip().lstrip("\ufeff") for h in records[header_at][1]] if header_at is not None else []
    )
    skip = records[header_at][0] if header_at is not None else records[first or 0][0]
    roles = assign_columns(header, data, delimiter)
    width = max([len(header), *(len(r) for r in data)])
    return CsvMapping(
        delimiter=delimiter,
        quote_char=quote,
        skip_lines=skip,
        has_header=bool(header),
        headers=tuple(header) + ("",) * (width - len(header)) if header else (),
        **roles,
    )


def _shape(row: list[str]) -> tuple[int, int]:
    """A data row's width and the column of its first date."""
    where = next((i for i, c in enumerate(row) if _is_date(c.strip())), -1)
    return len(row), where


def _is_header(row: list[str], width: int) -> bool:
    cells = [c for c in row if c.strip()]
    hits = sum(1 for c in cells if header_roles(c))
    if hits >= 2:
        return True
    return len(row) >= max(2, width - 1) and not any(_is_date(c.strip()) for c in cells)


def _best_header(records: list[tuple[int, list[str]]]) -> int | None:
    best, best_hits = None, 1
    for i, (_, row) in enumerate(records):
        roles = {role for cell in row for role in header_roles(cell)}
        if "date" in roles and roles & {"amount", "debit", "credit"} and len(roles) > best_hits:
            best, best_hits = i, len(roles)
    return best
