"""Real-world CSV layouts read with no mapping: every file in csv_corpus against expected.json.

expected.json was written from the transactions each file was made from (date, amount in
Billfold's sign, description), not from what the reader returns: for each file the count,
the sum, and a handful of rows (first, last, a debit, a credit, a day past the 12th, a
thousand-separated amount).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billfold.statements.csv_layout import AmountMode
from billfold.statements.csv_reader import CsvStatement
from billfold.statements.records import StatementFormat, StatementLine

CORPUS = Path(__file__).parent / "csv_corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (CORPUS / "expected.json").read_text(encoding="utf-8")
)


def read(name: str) -> tuple[CsvStatement, list[StatementLine]]:
    # The front end decodes; a BOM, if any, is left in on purpose (utf-8, not utf-8-sig).
    with (CORPUS / name).open(encoding="utf-8", newline="") as handle:
        statement = CsvStatement(handle)
        return statement, list(statement.lines())


def test_the_corpus_is_complete() -> None:
    files = sorted(p.name for p in CORPUS.iterdir() if p.name != "expected.json")
    assert files == sorted(EXPECTED)
    assert len(files) >= 18
    for name in files:
        rows = EXPECTED[name]["count"]
        assert 15 <= rows <= 40, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reads_with_no_mapping(name: str) -> None:
    expected = EXPECTED[name]
    statement, lines = read(name)

    assert statement.format is StatementFormat.CSV
    assert statement.period is None
    assert len(lines) == expected["count"]
    assert sum((line.amount for line in lines), Decimal(0)) == Decimal(expected["sum"])
    for row in expected["rows"]:
        line = lines[row["index"]]
        assert (line.date, line.amount, line.description) == (
            date.fromisoformat(row["date"]),
            Decimal(row["amount"]),
            row["description"],
        ), f"{name} row {row['index']}"
    if expected["ledger_balance"] is None:
        assert statement.accounts == []
    else:
        [account] = statement.accounts
        assert account.key == ""
        assert account.ledger_balance == Decimal(expected["ledger_balance"])


@pytest.mark.parametrize(
    ("name", "mode", "negate"),
    [
        ("us_amex_card.csv", AmountMode.SIGNED, True),
        ("us_discover_card.csv", AmountMode.SIGNED, True),
        ("us_chase_credit_card.csv", AmountMode.SIGNED, False),
        ("us_chase_checking.csv", AmountMode.SIGNED, False),
        ("us_citi_debit_credit_card.csv", AmountMode.DEBIT_CREDIT, False),
        ("ch_postfinance.csv", AmountMode.DEBIT_CREDIT, False),
        ("de_soll_haben.csv", AmountMode.INDICATOR, False),
        ("nl_ing_af_bij.csv", AmountMode.INDICATOR, False),
        ("us_capital_one_360_indicator.csv", AmountMode.INDICATOR, False),
    ],
)
def test_sign_conventions(name: str, mode: AmountMode, negate: bool) -> None:
    mapping = read(name)[0].mapping
    assert (mapping.amount_mode, mapping.negate) == (mode, negate)


def test_chase_checking_columns() -> None:
    statement, lines = read("us_chase_checking.csv")
    m = statement.mapping
    assert (m.date_column, m.description_column, m.amount_column, m.balance_column) == (1, 2, 3, 5)
    assert m.check_number_column == 6
    [check] = [line for line in lines if line.check_number]
    assert (check.check_number, check.amount) == ("1043", Decimal("-1250.00"))
    assert all(line.check_number is None for line in lines if line is not check)


def test_european_layout_details() -> None:
    sparkasse, lines = read("de_sparkasse_semicolon_decimal_comma.csv")
    m = sparkasse.mapping
    assert (m.delimiter, m.decimal_separator, m.thousands_separator) == (";", ",", ".")
    assert m.date_format == "%d.%m.%y"
    assert m.headers[m.date_column] == "Buchungstag"
    assert m.headers[m.description_column or 0] == "Verwendungszweck"
    assert m.headers[m.payee_column or 0] == "Beguenstigter/Zahlungspflichtiger"
    assert {line.currency for line in lines} == {"EUR"}
    assert {line.payee for line in lines} == {"Gegenpartei GmbH"}

    dkb = read("de_dkb_preamble.csv")[0].mapping
    assert dkb.skip_lines == 6 and dkb.has_header

    mbank = read("pl_mbank_space_thousands.csv")[0].mapping
    assert (mbank.decimal_separator, mbank.thousands_separator) == (",", " ")

    ing = read("nl_ing_af_bij.csv")[0].mapping
    assert (ing.delimiter, ing.date_format, ing.decimal_separator) == (",", "%Y%m%d", ",")


def test_monzo_payee_and_description_are_separate() -> None:
    statement, lines = read("uk_monzo.csv")
    m = statement.mapping
    assert m.headers[m.payee_column or 0] == "Name"
    assert m.headers[m.description_column or 0] == "Description"
    assert m.date_format == "%d/%m/%Y"
    first = lines[0]
    assert first.payee is not None and first.currency == "GBP"


def test_files_with_no_header_are_read_by_content() -> None:
    wells, _ = read("us_wells_fargo_no_header.csv")
    assert not wells.mapping.has_header and wells.mapping.skip_lines == 0
    assert wells.mapping.description_column == 4
    pipe = read("pipe_separated_no_header.txt")[0].mapping
    assert (pipe.delimiter, pipe.has_header) == ("|", False)
