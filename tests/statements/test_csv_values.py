"""One CSV cell as money or as a date."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billfold.statements.csv_values import (
    amount_converter,
    fitting_formats,
    normalise_amount,
    parse_amount,
)


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        ("1,234.56", ".", "1234.56"),
        ("1.234,56", ",", "1234.56"),
        ("-12,50", ",", "-12.50"),
        ("12.50-", ".", "-12.50"),
        ("(12.50)", ".", "-12.50"),
        ("($1,234.50)", ".", "-1234.50"),
        ("$ 7.00", ".", "7.00"),
        ("€ -1.234,56", ",", "-1234.56"),
        ("-1 234,56 PLN", ",", "-1234.56"),
        ("1\u00a0234,56 EUR", ",", "1234.56"),
        ("12'345.60", ".", "12345.60"),
        ("£1,221.06", ".", "1221.06"),
        ("15.00 CR", ".", "15.00"),
        ("15.00 DR", ".", "-15.00"),
        ("\u22128.00", ".", "-8.00"),
        ("+7,5", ",", "7.5"),
        ("  ", ".", None),
    ],
)
def test_money_notations(text: str, decimal: str, expected: str | None) -> None:
    assert normalise_amount(text, decimal) == expected


@pytest.mark.parametrize("text", ["twelve", "Coffee shop 12", "12.50.3", "NaN", "-", "1e5x"])
def test_words_are_not_money(text: str) -> None:
    with pytest.raises(ValueError, match="is not an amount"):
        normalise_amount(text, ".")


@pytest.mark.parametrize("thousands", ["", ","])
def test_the_per_file_converter_agrees_with_the_forgiving_parse(thousands: str) -> None:
    convert = amount_converter(".", thousands)
    for text in ("-4.50", "1,200.00", "(3.00)", "USD 7.00", "", "NaN", "12.50-"):
        try:
            expected = parse_amount(text, ".")
        except ValueError:
            with pytest.raises(ValueError):
                convert(text)
            continue
        assert convert(text) == expected
    assert convert("1,200.00") == Decimal("1200.00")


def test_fitting_formats_counts_the_values_each_format_reads() -> None:
    found = dict(fitting_formats(["01/02/2024", "03/04/2024", "25/12/2024", "Total"]))
    assert found == {"%d/%m/%Y": 3, "%m/%d/%Y": 2}
    assert dict(fitting_formats(["20240115", "12345678"])) == {"%Y%m%d": 1}
    assert fitting_formats(["Closing balance", "-12.50"]) == []
