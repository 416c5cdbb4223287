"""OFX 1.x SGML, OFX 2.x XML and QFX files read to exact lines, accounts, balances and periods."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from billfold.statements import ofx_file
from billfold.statements.ofx_file import OfxStatement, parse_ofx_amount, parse_ofx_date
from billfold.statements.records import (
    StatementAccount,
    StatementError,
    StatementErrorCode,
    StatementLine,
)

SAMPLES = Path(__file__).parent / "samples"


def read(data: bytes) -> tuple[list[StatementLine], OfxStatement]:
    statement = OfxStatement(io.BytesIO(data))
    return list(statement.lines()), statement


def read_sample(name: str) -> tuple[list[StatementLine], OfxStatement]:
    return read((SAMPLES / name).read_bytes())


def test_ofx102_sgml_checking_statement() -> None:
    lines, statement = read_sample("ofx102_checking.ofx")
    key = "000123456789"
    assert lines == [
        StatementLine(
            date(2024, 1, 3),
            Decimal("-42.17"),
            "WHOLE FOODS #10234",
            payee="WHOLE FOODS #10234",
            memo="POS PURCHASE",
            reference="202401030001",
            currency="USD",
            account_key=key,
        ),
        StatementLine(
            date(2024, 1, 5),
            Decimal("2500.00"),
            "ACME CORP PAYROLL",
            payee="ACME CORP PAYROLL",
            memo="DIRECT DEP",
            reference="202401050001",
            currency="USD",
            account_key=key,
        ),
        StatementLine(
            date(2024, 1, 8),
            Decimal("-150.00"),
            "CHECK 1042",
            payee="CHECK 1042",
            check_number="1042",
            reference="202401080001",
            currency="USD",
            account_key=key,
        ),
        # Decimal comma, a Windows-1252 "É" and an SGML entity.
        StatementLine(
            date(2024, 1, 10),
            Decimal("-9.99"),
            "CAFÉ NOIR",
            payee="CAFÉ NOIR",
            memo="B&N REF 8841",
            reference="202401100001",
            currency="USD",
            account_key=key,
        ),
        # A PAYEE aggregate instead of NAME.
        StatementLine(
            date(2024, 1, 15),
            Decimal("-61.40"),
            "CITY WATER DEPT",
            payee="CITY WATER DEPT",
            memo="ACCT 5512-01",
            reference="202401150001",
            currency="USD",
            account_key=key,
        ),
        # No NAME or MEMO: the transaction type is the description.
        StatementLine(
            date(2024, 1, 31),
            Decimal("-5.00"),
            "Service charge",
            reference="202401310001",
            currency="USD",
            account_key=key,
        ),
    ]
    assert statement.accounts == [
        StatementAccount(
            key=key,
            number=key,
            type="checking",
            currency="USD",
            ledger_balance=Decimal("3210.55"),
            available_balance=Decimal("3180.55"),
            balance_date=date(2024, 1, 31),
        )
    ]
    assert statement.period == (date(2024, 1, 1), date(2024, 1, 31))


def test_ofx22_xml_credit_card_keeps_the_files_signs() -> None:
    lines, statement = read_sample("ofx22_creditcard.ofx")
    assert [(line.date, line.amount, line.description, line.memo) for line in lines] == [
        (date(2024, 2, 2), Decimal("-23.45"), "SQ *BLUE BOTTLE COFFEE", None),
        (date(2024, 2, 9), Decimal("-89.90"), "MÜLLER BUCHHANDLUNG", "FOREIGN TRANSACTION"),
        (date(2024, 2, 15), Decimal("500.00"), "PAYMENT THANK YOU", None),
        (date(2024, 2, 28), Decimal("-1621.11"), "DELTA AIR LINES", None),
    ]
    assert [line.reference for line in lines] == [
        "2024020224692163102102800000123",
        "2024020924692163102102800000456",
        "2024021500000000000000000000789",
        "2024022824692163102102800000999",
    ]
    assert {line.account_key for line in lines} == {"4111XXXXXXXX1111"}
    assert {line.currency for line in lines} == {"USD"}
    assert statement.accounts == [
        StatementAccount(
            key="4111XXXXXXXX1111",
            number="4111XXXXXXXX1111",
            type="credit_card",
            currency="USD",
            ledger_balance=Decimal("-1234.56"),
            available_balance=Decimal("8765.44"),
            balance_date=date(2024, 2, 29),
        )
    ]
    assert statement.period == (date(2024, 2, 1), date(2024, 2, 29))


def test_qfx_with_intuit_elements_reads_like_ofx() -> None:
    lines, statement = read_sample("quicken.qfx")
    assert [(line.date, line.amount, line.description, line.reference) for line in lines] == [
        (date(2024, 3, 29), Decimal("3.12"), "INTEREST PAYMENT", "98765432120240329INT"),
        (
            date(2024, 3, 12),
            Decimal("-200.00"),
            "ONLINE TRANSFER TO CHK ...6789",
            "98765432120240312X01",
        ),
    ]
    assert lines[1].memo == "TRANSFER"
    assert statement.accounts == [
        StatementAccount(
            key="987654321",
            number="987654321",
            type="savings",
            currency="USD",
            ledger_balance=Decimal("10203.12"),
            available_balance=Decimal("10203.12"),
            balance_date=date(2024, 4, 1),
        )
    ]
    assert statement.period == (date(2024, 3, 1), date(2024, 4, 1))


def test_multi_account_file_gives_one_account_per_statement() -> None:
    lines, statement = read_sample("multi_account.ofx")
    assert [(line.account_key, line.date, line.amount, line.reference) for line in lines] == [
        ("1111000011", date(2024, 5, 2), Decimal("-12.00"), "C-0502-1"),
        ("1111000011", date(2024, 5, 15), Decimal("1200.00"), "C-0515-1"),
        ("2222000022", date(2024, 4, 30), Decimal("4.05"), "S-0430-1"),
        ("5500000000000004", date(2024, 5, 20), Decimal("-64.30"), "CC-0520-1"),
    ]
    assert [(a.key, a.type, a.ledger_balance, a.balance_date) for a in statement.accounts] == [
        ("1111000011", "checking", Decimal("2042.10"), date(2024, 5, 31)),
        ("2222000022", "savings", Decimal("15004.05"), date(2024, 5, 31)),
        ("5500000000000004", "credit_card", Decimal("-64.30"), date(2024, 6, 9)),
    ]
    # The union of the three statements' periods.
    assert statement.period == (date(2024, 4, 15), date(2024, 6, 9))


def _transaction(i: int) -> tuple[str, StatementLine]:
    """Transaction `i` of a long file, in one of several shapes, and the line it must read to."""
    day = date(2023, 1 + i % 12, 1 + i % 28)
    amount = Decimal(i % 5000 - 2500) / 100
    posted = f"{day:%Y%m%d}120000.000[-5:EST]"
    shape = i % 7
    if shape == 3:  # a check
        text = (
            f"<STMTTRN>\n<TRNTYPE>CHECK\n<DTPOSTED>{posted}\n<TRNAMT>{amount}\n"
            f"<FITID>F{i}\n<CHECKNUM>{i}\n<NAME>CHECK {i}\n</STMTTRN>\n"
        )
        line = StatementLine(day, amount, f"CHECK {i}", f"CHECK {i}", None, str(i), f"F{i}")
    elif shape == 5:  # a PAYEE aggregate: the slow path, in the middle of fast ones
        text = (
            f"<STMTTRN>\n<TRNTYPE>PAYMENT\n<DTPOSTED>{posted}\n<TRNAMT>{amount}\n"
            f"<FITID>F{i}\n<PAYEE>\n<NAME>PAYEE {i}\n<ADDR1>1 MAIN ST\n</PAYEE>\n"
            f"<MEMO>BILL {i}\n</STMTTRN>\n"
        )
        line = StatementLine(day, amount, f"PAYEE {i}", f"PAYEE {i}", f"BILL {i}", None, f"F{i}")
    elif shape == 6:  # no memo, a user date
        text = (
            f"<STMTTRN>\n<TRNTYPE>DEBIT\n<DTPOSTED>{posted}\n<DTUSER>{posted}\n"
            f"<TRNAMT>{amount}\n<FITID>F{i}\n<NAME>SHOP {i} &amp; CO\n</STMTTRN>\n"
        )
        line = StatementLine(day, amount, f"SHOP {i} & CO", f"SHOP {i} & CO", None, None, f"F{i}")
    else:
        text = (
            f"<STMTTRN>\n<TRNTYPE>DEBIT\n<DTPOSTED>{posted}\n<TRNAMT>{amount}\n"
            f"<FITID>F{i}\n<NAME>MERCHANT {i}\n<MEMO>POS {i}\n</STMTTRN>\n"
        )
        line = StatementLine(
            day, amount, f"MERCHANT {i}", f"MERCHANT {i}", f"POS {i}", None, f"F{i}"
        )
    return text, line


def _long_file(count: int) -> tuple[bytes, list[StatementLine]]:
    texts, expected = [], []
    for i in range(count):
        text, line = _transaction(i)
        texts.append(text)
        expected.append(
            StatementLine(
                line.date,
                line.amount,
                line.description,
                line.payee,
                line.memo,
                line.check_number,
                line.reference,
                currency="EUR",
                account_key="DE-1",
            )
        )
    body = (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nENCODING:USASCII\nCHARSET:1252\n\n"
        "<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>EUR<BANKACCTFROM><BANKID>1"
        "<ACCTID>DE-1<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST>"
        "<DTSTART>20230101<DTEND>20231231\n"
        + "".join(texts)
        + "</BANKTRANLIST><LEDGERBAL><BALAMT>1.00<DTASOF>20231231</LEDGERBAL>"
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    )
    return body.encode("cp1252"), expected


def test_a_long_file_with_mixed_shapes_reads_every_line_in_order_across_chunks() -> None:
    data, expected = _long_file(6000)
    assert len(data) > 8 * 64 * 1024  # several chunks, so transactions straddle their edges
    lines, statement = read(data)
    assert lines == expected
    assert statement.period == (date(2023, 1, 1), date(2023, 12, 31))


def test_the_plain_constructor_gives_the_same_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    data, expected = _long_file(300)
    monkeypatch.setattr(ofx_file, "CAN_PROMOTE", False)
    assert read(data)[0] == expected


def test_built_lines_are_real_frozen_statement_lines() -> None:
    line = read_sample("quicken.qfx")[0][0]
    assert type(line) is StatementLine
    with pytest.raises(AttributeError):
        line.amount = Decimal(0)  # type: ignore[misc]
    assert hash(line) == hash(StatementLine(**{f: getattr(line, f) for f in line.__slots__}))


def test_sgml_without_closing_stmttrn_tags_still_reads() -> None:
    data = (
        b"OFXHEADER:100\nDATA:OFXSGML\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>CAD"
        b"<BANKACCTFROM><ACCTID>7<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST>"
        b"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240102<TRNAMT>-1.50<FITID>a<NAME>ONE"
        b"<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240103<TRNAMT>2.25<FITID>b<NAME>TWO"
        b"</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    )
    lines, _ = read(data)
    assert [(line.amount, line.description, line.currency) for line in lines] == [
        (Decimal("-1.50"), "ONE", "CAD"),
        (Decimal("2.25"), "TWO", "CAD"),
    ]


def test_lower_case_tags_read_the_same() -> None:
    data = (SAMPLES / "quicken.qfx").read_bytes()
    head, _, body = data.partition(b"<OFX>")
    lines, statement = read(head + b"<ofx>" + body.lower().replace(b"</ofx>", b"</ofx>"))
    assert [(line.amount, line.reference) for line in lines] == [
        (Decimal("3.12"), "98765432120240329int"),
        (Decimal("-200.00"), "98765432120240312x01"),
    ]
    assert statement.accounts[0].ledger_balance == Decimal("10203.12")


def test_a_foreign_currency_transaction_takes_its_currency() -> None:
    data = (
        b"<OFX><CREDITCARDMSGSRSV1><CCSTMTTRNRS><CCSTMTRS><CURDEF>USD<CCACCTFROM><ACCTID>9"
        b"</CCACCTFROM><BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240102<TRNAMT>-10.00"
        b"<FITID>x<NAME>HOTEL<CURRENCY><CURRATE>1.08<CURSYM>EUR</CURRENCY></STMTTRN>"
        b"</BANKTRANLIST></CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>"
    )
    assert [line.currency for line in read(data)[0]] == ["EUR"]


def test_a_hold_is_pending() -> None:
    data = (
        b"<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD<BANKACCTFROM><ACCTID>1"
        b"</BANKACCTFROM><BANKTRANLIST><STMTTRN><TRNTYPE>HOLD<DTPOSTED>20240102"
        b"<TRNAMT>-80.00<FITID>h1<NAME>GAS STATION PREAUTH</STMTTRN></BANKTRANLIST>"
        b"</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    )
    assert [line.pending for line in read(data)[0]] == [True]


def _cut(data: bytes, marker: bytes, offset: int = 0) -> bytes:
    return data[: data.index(marker) + offset]


@pytest.mark.parametrize(
    ("marker", "offset"),
    [
        (b"<NAME>CAF", 3),  # inside a transaction
        (b"<STMTTRN>\r\n<TRNTYPE>SRVCHG", 0),  # between transactions
        (b"</BANKMSGSRSV1>", 0),  # after the statement, before </OFX>
        (b"</OFX>", 4),  # inside the last tag
    ],
)
def test_a_cut_off_file_is_truncated(marker: bytes, offset: int) -> None:
    data = _cut((SAMPLES / "ofx102_checking.ofx").read_bytes(), marker, offset)
    with pytest.raises(StatementError) as caught:
        read(data)
    assert caught.value.statement_code is StatementErrorCode.TRUNCATED_FILE


def test_a_long_file_cut_mid_transaction_is_truncated() -> None:
    data, _ = _long_file(3000)
    with pytest.raises(StatementError) as caught:
        read(data[: len(data) // 2])
    assert caught.value.statement_code is StatementErrorCode.TRUNCATED_FILE


def test_an_error_response_is_not_a_statement() -> None:
    data = (
        b"OFXHEADER:100\nDATA:OFXSGML\n\n<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>15500"
        b"<SEVERITY>ERROR<MESSAGE>Signon invalid</STATUS><DTSERVER>20240101"
        b"<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1></OFX>"
    )
    with pytest.raises(StatementError) as caught:
        read(data)
    assert caught.value.statement_code is StatementErrorCode.UNSUPPORTED_FORMAT
    assert "Signon invalid" in caught.value.message
    assert "15500" in caught.value.message


def test_an_investment_statement_is_unsupported() -> None:
    data = b"<OFX><INVSTMTMSGSRSV1><INVSTMTTRNRS><INVSTMTRS><CURDEF>USD</INVSTMTRS>"
    with pytest.raises(StatementError) as caught:
        read(data)
    assert caught.value.statement_code is StatementErrorCode.UNSUPPORTED_FORMAT
    assert "investment" in caught.value.message


def test_a_file_without_ofx_is_unsupported() -> None:
    with pytest.raises(StatementError) as caught:
        read(b"<HTML><BODY>Not a statement</BODY></HTML>")
    assert caught.value.statement_code is StatementErrorCode.UNSUPPORTED_FORMAT


def test_declared_utf8_with_a_bad_byte_names_its_offset() -> None:
    head = b"OFXHEADER:100\nDATA:OFXSGML\nENCODING:UTF-8\nCHARSET:NONE\n\n<OFX><NAME>CAF"
    data = head + b"\xe9 NOIR</OFX>"
    with pytest.raises(StatementError) as caught:
        read(data)
    assert caught.value.statement_code is StatementErrorCode.BAD_ENCODING
    assert f"offset {len(head)}" in caught.value.message


def test_a_bad_amount_is_a_bad_row() -> None:
    data = (
        b"<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><BANKACCTFROM><ACCTID>1</BANKACCTFROM>"
        b"<BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240102<TRNAMT>ten"
        b"<FITID>x<NAME>Y</STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    )
    with pytest.raises(StatementError) as caught:
        read(data)
    assert caught.value.statement_code is StatementErrorCode.BAD_ROW
    assert "'ten'" in caught.value.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20240131", date(2024, 1, 31)),
        ("20240131235959", date(2024, 1, 31)),
        ("20240131235959.123", date(2024, 1, 31)),
        # The date the bank printed, not shifted to UTC.
        ("20240131230000.000[-5:EST]", date(2024, 1, 31)),
        ("20240131000000[+9.00:JST]", date(2024, 1, 31)),
    ],
)
def test_ofx_dates(raw: str, expected: date) -> None:
    assert parse_ofx_date(raw) == expected


@pytest.mark.parametrize("raw", ["2024013", "20241301", "yesterday"])
def test_bad_ofx_dates(raw: str) -> None:
    with pytest.raises(StatementError):
        parse_ofx_date(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("-12.50", "-12.50"), ("-12,50", "-12.50"), ("1.234,56", "1234.56"), ("+3", "3")],
)
def test_ofx_amounts(raw: str, expected: str) -> None:
    assert parse_ofx_amount(raw) == Decimal(expected)
