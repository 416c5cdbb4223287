"""CsvMapping as a client sees it (serialise, override, validate) and how the reader fails."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billfold.statements import csv_reader
from billfold.statements.csv_layout import CsvMapping, infer_mapping
from billfold.statements.csv_reader import CsvStatement
from billfold.statements.records import StatementError, StatementErrorCode, StatementLine

CORPUS_DIR = Path(__file__).parent / "csv_corpus"
AMBIGUOUS = """Date,Description,Amount
01/02/2024,GROCERY OUTLET,-54.20
03/04/2024,PAYROLL ACME,1500.00
05/06/2024,GAS STATION,-38.75
"""


def read(text: str, mapping: CsvMapping | None = None, **kwargs: Any) -> list[StatementLine]:
    return list(CsvStatement(io.StringIO(text), mapping, **kwargs).lines())


def statement_error(text: str) -> StatementError:
    with pytest.raises(StatementError) as caught:
        read(text)
    return caught.value


def test_ambiguous_us_dates_are_month_first_and_an_override_makes_them_day_first() -> None:
    inferred = infer_mapping(AMBIGUOUS)
    assert inferred.date_format == "%m/%d/%Y"
    assert [line.date for line in read(AMBIGUOUS)] == [
        date(2024, 1, 2), date(2024, 3, 4), date(2024, 5, 6),
    ]  # fmt: skip

    day_first = inferred.with_overrides({"date_format": "%d/%m/%Y"})
    assert [line.date for line in read(AMBIGUOUS, day_first)] == [
        date(2024, 2, 1), date(2024, 4, 3), date(2024, 6, 5),
    ]  # fmt: skip


def test_ambiguous_dates_in_a_decimal_comma_file_are_day_first() -> None:
    text = (
        "Datum;Omschrijving;Bedrag\n01-02-2024;Albert Heijn;-12,50\n03-04-2024;Salaris;1.500,00\n"
    )
    assert infer_mapping(text).date_format == "%d-%m-%Y"
    assert [line.date for line in read(text)] == [date(2024, 2, 1), date(2024, 4, 3)]


def test_one_day_past_twelve_settles_the_order_for_the_whole_file() -> None:
    text = "Date,Description,Amount\n01/02/2024,A,-1.00\n25/02/2024,B,-2.00\n"
    assert infer_mapping(text).date_format == "%d/%m/%Y"


def test_to_dict_from_dict_round_trip_through_json() -> None:
    mapping = infer_mapping(AMBIGUOUS).with_overrides({"negate": True, "memo_column": 1})
    data = json.loads(json.dumps(mapping.to_dict()))
    assert CsvMapping.from_dict(data) == mapping
    assert data["amount_mode"] == "signed" and data["headers"] == ["Date", "Description", "Amount"]


def test_an_explicit_mapping_is_used_as_given() -> None:
    text = "x|y|z\n2024-01-15|-5.00|Coffee\n2024-01-16|7.25|Refund\n"
    mapping = CsvMapping.from_dict(
        {"delimiter": "|", "date_column": 0, "date_format": "%Y-%m-%d", "amount_column": 1,
         "description_column": 2, "has_header": True}
    )  # fmt: skip
    lines = read(text, mapping)
    assert [(x.date, x.amount, x.description) for x in lines] == [
        (date(2024, 1, 15), Decimal("-5.00"), "Coffee"),
        (date(2024, 1, 16), Decimal("7.25"), "Refund"),
    ]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"date_column": -1}, "date_column"),
        ({"date_column": "first"}, "date_column"),
        ({"amount_column": 7}, "amount_column"),  # the file has three columns
        ({"delimiter": ";;"}, "delimiter"),
        ({"quote_char": ""}, "quote_char"),
        ({"decimal_separator": "·"}, "decimal_separator"),
        ({"thousands_separator": "."}, "thousands_separator"),  # also the decimal separator
        ({"date_format": "%d/%m"}, "date_format"),
        ({"date_format": "not a date"}, "date_format"),
        ({"amount_mode": "both"}, "amount_mode"),
        ({"amount_mode": "debit_credit"}, "debit_column"),
        ({"negate": "yes"}, "negate"),
        ({"skip_lines": -2}, "skip_lines"),
        ({"colour": "blue"}, "colour"),
        ({"debit_markers": []}, "debit_markers"),
    ],
)
def test_bad_mapping_values_name_the_key(overrides: dict[str, Any], named: str) -> None:
    mapping = infer_mapping(AMBIGUOUS)
    with pytest.raises(StatementError) as caught:
        mapping.with_overrides(overrides)
    assert caught.value.statement_code is StatementErrorCode.BAD_MAPPING
    assert named in caught.value.message


def test_from_dict_requires_the_date_and_refuses_non_objects() -> None:
    for bad in ({"date_format": "%Y-%m-%d", "amount_column": 1}, ["date_column"]):
        with pytest.raises(StatementError) as caught:
            CsvMapping.from_dict(bad)  # type: ignore[arg-type]
        assert caught.value.statement_code is StatementErrorCode.BAD_MAPPING


def test_a_bad_row_in_the_middle_names_its_line_and_why() -> None:
    rows = [f"01/{d:02d}/2024,SHOP {d},-{d}.00" for d in range(1, 28)]
    rows[10] = "01/3l/2024,SHOP TYPO,-5.00"  # file line 12 (the header is line 1)
    error = statement_error("Date,Description,Amount\n" + "\n".join(rows) + "\n")
    assert error.statement_code is StatementErrorCode.BAD_ROW
    assert error.message.startswith("line 12: ")
    assert "'01/3l/2024'" in error.message and "could not be read as a date" in error.message


def test_a_bad_row_in_a_fully_quoted_file_names_its_line() -> None:
    rows = [f'"{d:02d}.01.2024";"Laden {d}";"-{d},00"' for d in range(1, 28)]
    rows[20] = '"21.01.2024";"Laden 21";"zwölf"'  # file line 23: a preamble line, the header
    text = '"Konto";"DE12"\n"Buchungstag";"Verwendungszweck";"Betrag"\n' + "\n".join(rows)
    error = statement_error(text + "\n")
    assert error.statement_code is StatementErrorCode.BAD_ROW
    assert error.message == "line 23: 'zwölf' in column 'Betrag' could not be read as an amount"


def test_a_bad_amount_in_the_middle_names_the_column() -> None:
    text = "Date,Description,Amount\n01/02/2024,A,-1.00\n01/03/2024,B,twelve\n01/04/2024,C,-3.00\n"
    error = statement_error(text)
    assert error.statement_code is StatementErrorCode.BAD_ROW
    assert error.message == "line 3: 'twelve' in column 'Amount' could not be read as an amount"


def test_a_short_row_in_the_middle_is_a_bad_row() -> None:
    text = "Date,Description,Amount\n01/02/2024,A,-1.00\n01/03/2024\n01/04/2024,C,-3.00\n"
    error = statement_error(text)
    assert error.message == "line 3: has 1 fields, expected at least 3"


def test_an_unknown_debit_credit_mark_in_the_middle_is_a_bad_row() -> None:
    rows = [f"{d:02d}.01.2024;Shop {d};{d},00;{'D' if d % 3 else 'C'}" for d in range(1, 20)]
    rows[5] = "06.01.2024;Shop 6;6,00;X"
    error = statement_error("Date;Text;Amount;D/C\n" + "\n".join(rows) + "\n")
    assert error.statement_code is StatementErrorCode.BAD_ROW
    assert error.message == "line 7: 'X' in column 'D/C' is not a known debit/credit mark"


def test_trailing_totals_and_footers_are_skipped() -> None:
    text = (
        "Buchungstag;Verwendungszweck;Betrag\n"
        "02.01.2024;Miete;-800,00\n"
        "15.01.2024;Gehalt;2.100,00\n"
        "\n"
        "Total;;1.300,00\n"
        "Closing balance;;4.300,00\n"
        "Exported by Example Bank\n"
    )
    lines = read(text)
    assert [line.amount for line in lines] == [Decimal("-800.00"), Decimal("2100.00")]


def test_a_last_row_with_an_impossible_date_is_an_error_not_a_footer() -> None:
    text = "Date,Description,Amount\n01/02/2024,A,-1.00\n01/03/2024,B,-2.00\n02/30/2024,C,-3.00\n"
    error = statement_error(text)
    assert error.statement_code is StatementErrorCode.BAD_ROW
    assert error.message.startswith("line 4: '02/30/2024' in column 'Date'")


def test_a_row_in_the_middle_with_no_amount_at_all_is_not_a_transaction() -> None:
    text = (
        "Date,Description,Amount,Running Bal.\n"
        '01/01/2024,Beginning balance as of 01/01/2024,,"1,000.00"\n'
        "01/02/2024,COFFEE,-4.50,995.50\n"
    )
    assert [line.description for line in read(text)] == ["COFFEE"]


def test_no_recognisable_columns_is_an_unrecognised_layout() -> None:
    text = "Name,Colour,Size\nApple,red,small\nPear,green,medium\nPlum,purple,small\n"
    error = statement_error(text)
    assert error.statement_code is StatementErrorCode.UNRECOGNISED_LAYOUT
    assert "no row has both a date and an amount" in error.message


def test_dates_without_amounts_is_an_unrecognised_layout_naming_the_date_column() -> None:
    text = "Date,Event\n01/02/2024,Opened\n01/03/2024,Closed\n"
    error = statement_error(text)
    assert error.statement_code is StatementErrorCode.UNRECOGNISED_LAYOUT
    with pytest.raises(StatementError) as caught:
        infer_mapping("Date,Memo,Code\n01/02/2024,Opened,12\n01/03/2024,Closed,13\n")
    assert "'date'" in caught.value.message and "no column of amounts" in caught.value.message


def test_a_header_only_file_has_a_mapping_and_no_lines() -> None:
    text = "Buchungstag;Verwendungszweck;Betrag;Saldo\n"
    statement = CsvStatement(io.StringIO(text))
    assert statement.mapping.amount_column == 2 and statement.mapping.balance_column == 3
    assert list(statement.lines()) == []
    assert statement.accounts == []


def test_a_leading_bom_is_ignored() -> None:
    text = "\ufeffDate,Description,Amount\n01/15/2024,COFFEE,-4.50\n"
    statement = CsvStatement(io.StringIO(text))
    assert statement.mapping.headers[0] == "Date"
    assert [line.amount for line in statement.lines()] == [Decimal("-4.50")]


def test_amount_notations() -> None:
    text = (
        "Date\tDescription\tAmount\n"
        "2024-01-02\tparentheses\t($1,234.50)\n"
        "2024-01-03\ttrailing minus\t12.50-\n"
        "2024-01-04\tcurrency code\tUSD 7.00\n"
        "2024-01-05\tplain\t3.25\n"
        "2024-01-06\tunicode minus\t\u22128.00\n"
        "2024-01-07\tcard credit\t15.00 CR\n"
    )
    amounts = [line.amount for line in read(text)]
    assert amounts == [
        Decimal("-1234.50"), Decimal("-12.50"), Decimal("7.00"), Decimal("3.25"),
        Decimal("-8.00"), Decimal("15.00"),
    ]  # fmt: skip


def test_european_notations() -> None:
    text = (
        "Datum;Text;Betrag\n"
        "02.01.2024;a;-1.234,56 €\n"
        "03.01.2024;b;12,50-\n"
        "04.01.2024;c;EUR 1.000\n"
        "05.01.2024;d;+7,5\n"
    )
    amounts = [line.amount for line in read(text)]
    assert amounts == [Decimal("-1234.56"), Decimal("-12.50"), Decimal("1000"), Decimal("7.5")]


def test_a_balance_that_falls_by_the_amount_means_the_amounts_are_money_out() -> None:
    text = (
        "Date,Description,Amount,Balance\n"
        "01/02/2024,BOOKSHOP,20.00,80.00\n"
        "01/03/2024,CAFE,5.00,75.00\n"
        "01/04/2024,REFUND BOOKSHOP,-10.00,85.00\n"
    )
    mapping = infer_mapping(text)
    assert mapping.negate
    assert [line.amount for line in read(text)] == [
        Decimal("-20.00"), Decimal("-5.00"), Decimal("10.00"),
    ]  # fmt: skip


def test_a_balance_that_moves_with_the_amount_keeps_the_signs() -> None:
    text = (
        "Date,Description,Amount,Balance\n"
        "01/02/2024,PAYROLL,2000.00,2100.00\n"
        "01/03/2024,RENT,-900.00,1200.00\n"
        "01/04/2024,PAYMENT THANK YOU,-100.00,1100.00\n"
        "01/05/2024,INTEREST,1.00,1101.00\n"
    )
    assert not infer_mapping(text).negate


def test_a_charges_header_means_positive_is_money_out() -> None:
    text = "Date,Merchant,Charges\n2024-01-02,BOOKSHOP,20.00\n2024-01-03,CAFE,5.00\n"
    assert infer_mapping(text).negate


def test_a_checking_account_keeps_its_signs() -> None:
    text = "Date,Description,Amount\n2024-01-02,PAYROLL,2000.00\n2024-01-03,RENT,-900.00\n"
    assert not infer_mapping(text).negate


def test_quoted_line_breaks_and_delimiters_inside_fields() -> None:
    text = (
        "Date,Description,Amount\n"
        '01/02/2024,"ACME, INC",-1.00\n'
        '01/03/2024,"TWO\nLINES",-2.00\n'
        "01/04/2024,PLAIN,-3.00\n"
        "01/0x/2024,BAD,-4.00\n"
        "01/06/2024,AFTER,-5.00\n"
    )
    with pytest.raises(StatementError) as caught:
        read(text)
    assert caught.value.message.startswith("line 6: ")  # the quoted break used lines 3-4
    good = text.replace("01/0x/2024,BAD,-4.00\n", "")
    assert [line.description for line in read(good)] == [
        "ACME, INC",
        "TWO\nLINES",
        "PLAIN",
        "AFTER",
    ]


def test_the_file_is_streamed_not_read_whole() -> None:
    rows = "".join(f"01/{d % 28 + 1:02d}/2024,SHOP {d},-{d}.00\n" for d in range(5000))
    handle = io.StringIO("Date,Description,Amount\n" + rows)
    statement = CsvStatement(handle, sample_chars=2000)
    assert handle.tell() < 2100
    lines: Iterator[StatementLine] = statement.lines()
    for _ in range(200):
        next(lines)
    assert handle.tell() < len(handle.getvalue()) // 4
    assert len(list(lines)) == 4800


def test_a_sample_cut_mid_line_reads_the_same_as_a_whole_sample() -> None:
    rows = "".join(f"{d % 28 + 1:02d}.01.2024;Laden {d};-{d},{d % 100:02d}\n" for d in range(300))
    text = "Buchungstag;Verwendungszweck;Betrag\n" + rows
    whole = read(text, sample_chars=1_000_000)
    for cut in (37, 500, 1001):
        assert read(text, sample_chars=cut) == whole


def test_lines_can_be_read_once() -> None:
    statement = CsvStatement(io.StringIO(AMBIGUOUS))
    list(statement.lines())
    with pytest.raises(RuntimeError):
        list(statement.lines())


def test_lines_are_plain_statement_lines() -> None:
    [line, *_] = read(AMBIGUOUS)
    assert type(line) is StatementLine
    assert line == StatementLine(date(2024, 1, 2), Decimal("-54.20"), "GROCERY OUTLET")
    assert hash(line) == hash(StatementLine(date(2024, 1, 2), Decimal("-54.20"), "GROCERY OUTLET"))
    with pytest.raises(AttributeError):
        line.amount = Decimal(0)  # type: ignore[misc]


def test_lines_are_the_same_when_built_with_the_plain_constructor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = (CORPUS_DIR / "us_chase_checking.csv").read_text(encoding="utf-8")
    fast = read(text)
    monkeypatch.setattr(csv_reader, "CAN_PROMOTE", False)
    assert read(text) == fast
