"""QIF registers: date order learnt from the whole file, amounts, splits, accounts, bad files."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from billfold.statements.qif_file import QifStatement, parse_qif_amount, parse_qif_date
from billfold.statements.records import (
    StatementAccount,
    StatementError,
    StatementErrorCode,
    StatementLine,
)

SAMPLES = Path(__file__).parent / "samples"


class _OneWay(io.StringIO):
    """A text stream that cannot be rewound, like an upload read straight off the socket."""

    def seekable(self) -> bool:
        return False

    def seek(self, *args: object) -> int:
        raise io.UnsupportedOperation("not seekable")


def read(text: str, *, seekable: bool = True) -> tuple[list[StatementLine], QifStatement]:
    stream = io.StringIO(text, newline="") if seekable else _OneWay(text, newline="")
    statement = QifStatement(stream)
    return list(statement.lines()), statement


BANK_LINES = [
    StatementLine(
        date(2024, 1, 3),
        Decimal("-1250.00"),
        "Landlord Ltd",
        payee="Landlord Ltd",
        memo="Rent March",
        check_number="1043",
    ),
    StatementLine(date(2024, 1, 5), Decimal("2845.17"), "Acme Payroll", payee="Acme Payroll"),
    # The split lines ($-50.00, $-14.90) do not replace the total.
    StatementLine(
        date(2024, 1, 8),
        Decimal("-64.90"),
        "Tesco Stores 2291",
        payee="Tesco Stores 2291",
        memo="Groceries",
    ),
    # "ATM" in N is not a check number.
    StatementLine(
        date(2024, 1, 13), Decimal("-20.00"), "Cash Machine High St", payee="Cash Machine High St"
    ),
    StatementLine(date(2024, 1, 31), Decimal("-3.50"), "Monthly Fee", payee="Monthly Fee"),
]


@pytest.mark.parametrize("seekable", [True, False])
def test_bank_file_with_day_first_dates_learnt_from_a_later_date(seekable: bool) -> None:
    text = (SAMPLES / "bank_day_first.qif").read_bytes().decode("cp1252")
    lines, statement = read(text, seekable=seekable)
    # 03/01/2024 alone could be March 1st; 13/01/2024 further down settles it.
    assert lines == BANK_LINES
    assert statement.accounts == [StatementAccount(key="", type="checking")]
    assert statement.period is None


def test_card_file_with_quicken_apostrophe_years_and_an_account_list() -> None:
    text = (SAMPLES / "card_quicken.qif").read_text(encoding="utf-8")
    lines, statement = read(text)
    assert [(line.date, line.amount, line.description, line.account_key) for line in lines] == [
        (date(2024, 1, 31), Decimal("-45.99"), "Amazon Marketplace", "Visa Gold"),
        (date(2024, 2, 1), Decimal("-12.00"), "Netflix.com", "Visa Gold"),
        (date(2024, 2, 15), Decimal("500.00"), "Payment - Thank You", "Visa Gold"),
    ]
    assert statement.accounts == [
        StatementAccount(key="Visa Gold", name="Visa Gold", type="credit_card")
    ]


def test_two_accounts_in_one_file() -> None:
    text = (
        "!Account\nNEveryday\nTBank\n^\n!Type:Bank\nD2024-03-01\nT-5.00\nPBakery\n^\n"
        "!Account\nNRainy Day\nTBank\n^\n!Type:Bank\nD2024-03-02\nT100.00\nPTransfer in\n^\n"
    )
    lines, statement = read(text)
    assert [(line.account_key, line.date, line.amount) for line in lines] == [
        ("Everyday", date(2024, 3, 1), Decimal("-5.00")),
        ("Rainy Day", date(2024, 3, 2), Decimal("100.00")),
    ]
    assert [account.key for account in statement.accounts] == ["Everyday", "Rainy Day"]


def test_category_lists_are_not_transactions() -> None:
    text = (
        "!Type:Cat\nNGroceries\nDFood bought for home\nE\n^\n"
        "!Type:Bank\nD02/03/2024\nT-1.00\nPShop\n^\n"
    )
    lines, _ = read(text)
    assert [(line.date, line.description) for line in lines] == [(date(2024, 2, 3), "Shop")]


def test_dotted_dates_default_to_day_first() -> None:
    lines, _ = read("!Type:Cash\nD01.02.24\nT-2,50\nMCoffee\n^\n")
    assert [(line.date, line.amount, line.description) for line in lines] == [
        (date(2024, 2, 1), Decimal("-2.50"), "Coffee")
    ]


def test_slashed_dates_default_to_month_first() -> None:
    lines, _ = read("!Type:Bank\nD01/02/2024\nT-2.00\nPX\n^\n")
    assert lines[0].date == date(2024, 1, 2)


def test_a_date_that_contradicts_the_learnt_order_is_a_bad_row() -> None:
    with pytest.raises(StatementError) as caught:
        read("!Type:Bank\nD31/01/2024\nT-1\nPX\n^\nD01/31/2024\nT-1\nPY\n^\n")
    assert caught.value.statement_code is StatementErrorCode.BAD_ROW
    assert "01/31/2024" in caught.value.message


def test_an_investment_register_is_unsupported() -> None:
    text = "!Type:Invst\nD1/2/24\nNBuy\nYACME\nI10.00\nQ5\nT50.00\n^\n"
    with pytest.raises(StatementError) as caught:
        read(text)
    assert caught.value.statement_code is StatementErrorCode.UNSUPPORTED_FORMAT
    assert "investment" in caught.value.message


@pytest.mark.parametrize("seekable", [True, False])
def test_a_cut_off_file_is_truncated(seekable: bool) -> None:
    with pytest.raises(StatementError) as caught:
        read("!Type:Bank\nD1/2/24\nT-1.00\nPX\n^\nD1/3/24\nT-2.0", seekable=seekable)
    assert caught.value.statement_code is StatementErrorCode.TRUNCATED_FILE


def test_a_record_without_an_amount_is_a_bad_row() -> None:
    with pytest.raises(StatementError) as caught:
        read("!Type:Bank\nD1/2/24\nPX\n^\n")
    assert caught.value.statement_code is StatementErrorCode.BAD_ROW


def test_a_long_one_way_stream_reads_whole() -> None:
    # All dates ambiguous until the very last one: the look-ahead spans the file.
    records = "".join(
        f"D{1 + i % 12:02d}/{1 + i % 12:02d}/2023\nT-{i}.00\nPShop {i}\n^\n" for i in range(20000)
    )
    text = "!Type:Bank\n" + records + "D25/12/2023\nT-1.00\nPLast\n^\n"
    lines, _ = read(text, seekable=False)
    assert len(lines) == 20001
    assert lines[0].date == date(2023, 1, 1)
    assert lines[13].date == date(2023, 2, 2)
    assert lines[-1].date == date(2023, 12, 25)
    assert lines[19999].amount == Decimal("-19999.00")


@pytest.mark.parametrize(
    ("raw", "day_first", "expected"),
    [
        ("01/31/2024", False, date(2024, 1, 31)),
        ("1/31'24", False, date(2024, 1, 31)),
        (" 1/ 5' 4", False, date(2004, 1, 5)),
        ("31/01/2024", True, date(2024, 1, 31)),
        ("31.01.24", True, date(2024, 1, 31)),
        ("2024-01-31", True, date(2024, 1, 31)),
        ("2024-01-31", False, date(2024, 1, 31)),
        ("12/31/97", False, date(1997, 12, 31)),
    ],
)
def test_qif_dates(raw: str, day_first: bool, expected: date) -> None:
    assert parse_qif_date(raw, day_first=day_first) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("-1,234.56", "-1234.56"),
        ("1,234", "1234"),
        ("-12,50", "-12.50"),
        ("1.234,56", "1234.56"),
        ("500", "500"),
    ],
)
def test_qif_amounts(raw: str, expected: str) -> None:
    assert parse_qif_amount(raw) == Decimal(expected)


def test_a_bad_amount_is_refused() -> None:
    with pytest.raises(StatementError):
        parse_qif_amount("twelve")
