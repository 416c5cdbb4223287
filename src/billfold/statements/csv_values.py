"""Reading one CSV cell as money or as a date, in whatever local convention the bank used.

Layout inference tries these parsers on sample cells. The reader reads money the cheap way
in the file's own convention (a `str.replace` and a `Decimal()`) and falls back to the
forgiving parser here only for the odd cell (a currency symbol, parentheses, a trailing
minus).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

# Formats that differ only in day/month order are told apart by the values and the file's
# other conventions (csv_columns), not by their order here.
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%d-%m-%y",
    "%m-%d-%y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%d/%b/%Y",
    "%Y%m%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d.%m.%Y %H:%M",
)

# Years outside this range are a number that happens to fit a date format (an account
# number read as %Y%m%d), not a transaction date.
_MIN_YEAR = 1970
_MAX_YEAR = 2100

_MINUS_SIGNS = "\u2212\u2012\u2013"  # typographic minus, figure dash, en dash
_SPACES = " \u00a0\u202f\u2009"  # space, no-break space, narrow no-break space, thin space
_KEEP = frozenset("0123456789.,-+()'" + _SPACES + _MINUS_SIGNS)
# What else may stand beside a number in a money cell: a currency sign or code, or the
# CR/DR suffix some card exports use. Anything else (a word) means the cell is not money.
_CURRENCY_TOKENS = frozenset(
    ("", "$", "US$", "€", "£", "¥", "EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN",
     "CZK", "HUF", "CAD", "AUD", "NZD", "JPY", "KR", "ZŁ", "ZL", "FR", "FR.", "SFR", "CR", "DR")
)  # fmt: skip


def parse_date(text: str, fmt: str) -> date:
    """Parse `text` with a strptime format; raise ValueError on anything else."""
    value = datetime.strptime(text.strip(), fmt).date()
    if not _MIN_YEAR <= value.year <= _MAX_YEAR:
        raise ValueError(f"{text!r}: year {value.year} is not a plausible transaction year")
    return value


# A cheap shape test before any strptime: digits-sep-digits-sep-digits, day-month name-
# year, month name-day-year or eight digits, each with an optional time.
_DATE_SHAPE = re.compile(
    r"\s*(\d{1,4}[./-]\d{1,2}[./-]\d{2,4}"
    r"|\d{1,2}[ ./-]?[^\W\d_]{3,9}\.?[ ./-]\d{2,4}"
    r"|[^\W\d_]{3,9}\.? \d{1,2},? \d{4}"
    r"|\d{8})([ T]\d{1,2}:\d{2}(:\d{2})?)?\s*$"
)


def looks_like_date(text: str) -> bool:
    """Whether `text` has the shape of a date in one of `DATE_FORMATS` (not that it is one)."""
    return _DATE_SHAPE.match(text) is not None


def _punctuation(text: str) -> tuple[frozenset[str], bool]:
    """A date's separators, and whether it spells a month name."""
    marks = frozenset(ch for ch in text if not ch.isalnum())
    return marks, any(ch.isalpha() and ch != "T" for ch in text)


def _format_punctuation(fmt: str) -> tuple[frozenset[str], bool]:
    literal = re.sub(r"%[a-zA-Z]", "", fmt).replace("T", "")
    return frozenset(literal), "%b" in fmt or "%B" in fmt


# Each format's separators: a value is only tried against formats punctuated like it.
_FORMAT_PUNCTUATION = {fmt: _format_punctuation(fmt) for fmt in DATE_FORMATS}


def fitting_formats(values: list[str]) -> list[tuple[str, int]]:
    """The date formats that read at least one value, with how many values each reads."""
    values = [v.strip() for v in values if looks_like_date(v)]
    found: list[tuple[str, int]] = []
    if not values:
        return found
    shapes = {_punctuation(v) for v in values}
    for fmt in DATE_FORMATS:
        if _FORMAT_PUNCTUATION[fmt] not in shapes:
            continue
        count = 0
        for value in values:
            try:
                parse_date(value, fmt)
            except ValueError:
                continue
            count += 1
        if count:
            found.append((fmt, count))
    return found


def is_day_first(fmt: str) -> bool | None:
    """Whether a numeric format puts the day before the month; None if it cannot be confused."""
    if "%b" in fmt or "%B" in fmt or fmt.startswith("%Y"):
        return None
    return fmt.index("%d") < fmt.index("%m")


def swap_day_month(fmt: str) -> str:
    """The same format with day and month exchanged (`%d/%m/%Y` <-> `%m/%d/%Y`)."""
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def normalise_amount(text: str, decimal_separator: str) -> str | None:
    """Rewrite a money cell as a plain `Decimal` string; None when the cell is blank.

    Understands thousands separators (`,` `.` space `'`), currency symbols and codes, a
    leading or trailing minus, parentheses for negatives and a trailing `CR`/`DR`.
    Raises ValueError when what is left is not a number.
    """
    stripped = text.strip().strip(_SPACES)
    if not stripped:
        return None
    upper = stripped.upper()
    negative = False
    if upper.endswith("DR"):
        negative = True
    kept = "".join(ch for ch in stripped if ch in _KEEP).strip(_SPACES)
    dropped = "".join(ch for ch in upper if ch not in _KEEP)
    if dropped not in _CURRENCY_TOKENS and not (
        dropped.endswith(("CR", "DR")) and dropped[:-2] in _CURRENCY_TOKENS
    ):
        raise ValueError(f"{text!r} is not an amount")
    if not kept or not any(ch.isdigit() for ch in kept):
        raise ValueError(f"{text!r} is not an amount")
    for minus in _MINUS_SIGNS:
        kept = kept.replace(minus, "-")
    if kept.startswith("(") and kept.endswith(")"):
        negative = not negative
        kept = kept[1:-1].strip(_SPACES)
    if kept.endswith("-"):
        negative = not negative
        kept = kept[:-1].strip(_SPACES)
    elif kept.endswith("+"):
        kept = kept[:-1].strip(_SPACES)
    if kept.startswith("-"):
        negative = not negative
        kept = kept[1:].strip(_SPACES)
    elif kept.startswith("+"):
        kept = kept[1:].strip(_SPACES)
    thousands = "." if decimal_separator == "," else ","
    for ch in (thousands, "'", *_SPACES):
        kept = kept.replace(ch, "")
    if decimal_separator == ",":
        kept = kept.replace(",", ".")
    if not kept or kept.count(".") > 1 or not kept.replace(".", "").isdigit():
        raise ValueError(f"{text!r} is not an amount")
    return "-" + kept if negative else kept


@lru_cache(maxsize=8192)
def reads_as_amount(text: str) -> bool:
    """Whether a cell is a money amount in some notation (memoised for layout inference)."""
    try:
        return normalise_amount(text, ".") is not None
    except ValueError:
        return False


def parse_amount(text: str, decimal_separator: str) -> Decimal | None:
    """The forgiving parse: any notation `normalise_amount` knows; None for a blank cell."""
    plain = normalise_amount(text, decimal_separator)
    return None if plain is None else Decimal(plain)


def amount_converter(
    decimal_separator: str, thousands_separator: str
) -> Callable[[str], Decimal | None]:
    """A per-file converter: the cheap path for cells written in the file's own convention.

    A cell the cheap path cannot read (a symbol, parentheses, a stray separator) goes to
    `parse_amount`, which raises ValueError if it really is not money.
    """
    slow = parse_amount
    new = Decimal
    dec = decimal_separator
    thou = thousands_separator
    # Decimal() itself accepts "NaN" and "Infinity", which no bank writes as money; those
    # go the slow way, which refuses them.

    def plain(text: str) -> Decimal | None:
        if text.isspace() or not text:
            return None
        try:
            value = new(text)
        except InvalidOperation:
            return slow(text, dec)
        if value.is_finite():
            return value
        return slow(text, dec)

    def with_separators(text: str) -> Decimal | None:
        if text.isspace() or not text:
            return None
        cleaned = text.replace(thou, "") if thou else text
        if dec == ",":
            cleaned = cleaned.replace(",", ".")
        try:
            value = new(cleaned)
        except InvalidOperation:
            return slow(text, dec)
        if value.is_finite():
            return value
        return slow(text, dec)

    if dec == "." and not thou:
        return plain
    return with_separators
