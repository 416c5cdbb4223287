from __future__ import annotations

from decimal import Decimal

import pytest

from billfold.domain.money import from_minor, parse_amount, to_minor


def test_round_trip_keeps_every_cent_of_large_amounts() -> None:
    amount = Decimal("92233720368547758.07")
    assert from_minor(to_minor(amount, "USD"), "USD") == amount


@pytest.mark.parametrize(
    ("currency", "amount", "minor"),
    [
        ("USD", "12.34", 1234),
        ("JPY", "1234", 1234),
        ("KWD", "1.234", 1234),
        ("usd", "-0.01", -1),
    ],
)
def test_currency_exponents(currency: str, amount: str, minor: int) -> None:
    assert to_minor(Decimal(amount), currency) == minor
    assert from_minor(minor, currency) == Decimal(amount)


def test_refuses_sub_minor_precision() -> None:
    with pytest.raises(ValueError):
        to_minor(Decimal("0.001"), "USD")


@pytest.mark.parametrize("text", ["abc", "NaN", "Infinity", ""])
def test_parse_amount_rejects_non_amounts(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)
