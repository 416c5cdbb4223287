"""camt.053 statements (001.02 and 001.08 forms) read to exact lines, balances and periods."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from billfold.statements.camt_file import CamtStatement
from billfold.statements.records import (
    StatementAccount,
    StatementError,
    StatementErrorCode,
    StatementLine,
)

SAMPLES = Path(__file__).parent / "samples"
IBAN = "DE89370400440532013000"


def read(data: bytes) -> tuple[list[StatementLine], CamtStatement]:
    statement = CamtStatement(io.BytesIO(data))
    return list(statement.lines()), statement


def test_camt053_001_02_statement() -> None:
    lines, statement = read((SAMPLES / "camt053_v02.xml").read_bytes())
    assert lines == [
        StatementLine(
            date(2024, 1, 2),
            Decimal("2100.00"),
            "Gehalt Januar 2024",
            payee="Beispiel GmbH",
            memo="GUTSCHRIFT",
            reference="2024010200012345",
            currency="EUR",
            account_key=IBAN,
        ),
        # Two Ustrd lines joined; the creditor is the payee of a debit.
        StatementLine(
            date(2024, 1, 3),
            Decimal("-850.00"),
            "Miete Januar Whg. 3 links",
            payee="Hausverwaltung Müller & Söhne",
            memo="DAUERAUFTRAG",
            reference="2024010300023456",
            currency="EUR",
            account_key=IBAN,
        ),
        # No remittance information: the additional entry information describes it.
        StatementLine(
            date(2024, 1, 15),
            Decimal("-39.90"),
            "LASTSCHRIFT",
            payee="Stadtwerke Beispielstadt",
            reference="2024011500034567",
            currency="EUR",
            account_key=IBAN,
        ),
        # A reversed direct debit comes back as a credit: money in.
        StatementLine(
            date(2024, 1, 17),
            Decimal("39.90"),
            "RUECKLASTSCHRIFT",
            payee="Stadtwerke Beispielstadt",
            reference="2024011700045678",
            currency="EUR",
            account_key=IBAN,
        ),
        # Pending, with only a value date and only an NtryRef.
        StatementLine(
            date(2024, 1, 31),
            Decimal("-50.00"),
            "KARTENZAHLUNG VORGEMERKT",
            reference="5",
            currency="EUR",
            account_key=IBAN,
            pending=True,
        ),
    ]
    assert statement.accounts == [
        StatementAccount(
            key=IBAN,
            number=IBAN,
            currency="EUR",
            ledger_balance=Decimal("2389.45"),
            available_balance=Decimal("2339.45"),
            balance_date=date(2024, 1, 31),
        )
    ]
    assert statement.period == (date(2024, 1, 1), date(2024, 1, 31))
    assert statement.encoding == "utf-8"


def test_camt053_001_08_statement() -> None:
    lines, statement = read((SAMPLES / "camt053_v08.xml").read_bytes())
    key = "0235-123456.01"
    assert lines == [
        # Sts/Cd and Cdtr/Pty/Nm are the 001.08 forms; DtTm carries the booking date.
        StatementLine(
            date(2024, 3, 5),
            Decimal("-1234.50"),
            "Rechnung 2024-117",
            payee="Garage Zürich AG",
            check_number="100245",
            reference="CH-REF-7781",
            currency="CHF",
            account_key=key,
        ),
        StatementLine(
            date(2024, 3, 6),
            Decimal("1234.50"),
            "Storno Zahlung",
            payee="Garage Zürich AG",
            reference="CH-REF-7790",
            currency="CHF",
            account_key=key,
        ),
        StatementLine(
            date(2024, 3, 31),
            Decimal("-15.00"),
            "Kontoführungsgebühr",
            reference="N-003",
            currency="CHF",
            account_key=key,
            pending=True,
        ),
        # Remittance lines of two transactions in one entry; its own currency.
        StatementLine(
            date(2024, 3, 20),
            Decimal("20.00"),
            "Remboursement Billet concert",
            payee="Jean Dupont",
            reference="N-004",
            currency="EUR",
            account_key=key,
        ),
    ]
    assert statement.accounts == [
        StatementAccount(
            key=key,
            number=key,
            name="Sparkonto",
            type="savings",
            currency="CHF",
            ledger_balance=Decimal("-250.75"),
            balance_date=date(2024, 3, 31),
        )
    ]
    assert statement.period == (date(2024, 3, 1), date(2024, 3, 31))


def _many_entries(count: int) -> bytes:
    entry = (
        '<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>'
        "<BookgDt><Dt>2024-05-{day:02d}</Dt></BookgDt><AcctSvcrRef>R{i}</AcctSvcrRef>"
        "<NtryDtls><TxDtls><RmtInf><Ustrd>Entry {i}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n"
    )
    entries = "".join(
        entry.format(amount=f"{i % 1000}.{i % 100:02d}", day=1 + i % 28, i=i) for i in range(count)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04"><BkToCstmrStmt>'
        "<Stmt><Acct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></Acct>\n"
        + entries
        + "</Stmt></BkToCstmrStmt></Document>\n"
    ).encode()


def test_entries_are_dropped_from_the_tree_as_they_are_read() -> None:
    lines, statement = read(_many_entries(5000))
    assert len(lines) == 5000
    assert lines[4321] == StatementLine(
        date(2024, 5, 1 + 4321 % 28),
        -Decimal("321.21"),
        "Entry 4321",
        reference="R4321",
        currency="EUR",
        account_key="FR7630006000011234567890189",
    )
    assert [a.key for a in statement.accounts] == ["FR7630006000011234567890189"]


def test_several_statements_widen_the_period_and_keep_the_latest_balance() -> None:
    def stmt(start: str, end: str, balance: str) -> str:
        return (
            f"<Stmt><FrToDt><FrDtTm>{start}T00:00:00</FrDtTm><ToDtTm>{end}T23:59:59</ToDtTm>"
            "</FrToDt><Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id><Ccy>EUR</Ccy></Acct>"
            "<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>"
            f'<Amt Ccy="EUR">{balance}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
            f"<Dt><Dt>{end}</Dt></Dt></Bal></Stmt>"
        )

    data = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        + stmt("2024-02-01", "2024-02-29", "20.00")
        + stmt("2024-01-01", "2024-01-31", "10.00")
        + "</BkToCstmrStmt></Document>"
    ).encode()
    lines, statement = read(data)
    assert lines == []
    assert statement.period == (date(2024, 1, 1), date(2024, 2, 29))
    assert [(a.ledger_balance, a.balance_date) for a in statement.accounts] == [
        (Decimal("20.00"), date(2024, 2, 29))
    ]


@pytest.mark.parametrize("cut", [0.5, 0.999])
def test_a_cut_off_file_is_truncated(cut: float) -> None:
    data = (SAMPLES / "camt053_v02.xml").read_bytes()
    with pytest.raises(StatementError) as caught:
        read(data[: int(len(data) * cut)])
    assert caught.value.statement_code is StatementErrorCode.TRUNCATED_FILE


def test_malformed_xml_names_line_and_column() -> None:
    data = (SAMPLES / "camt053_v02.xml").read_bytes().replace(b"</Amt>", b"</Amount>", 1)
    with pytest.raises(StatementError) as caught:
        read(data)
    assert caught.value.statement_code is StatementErrorCode.UNSUPPORTED_FORMAT
    assert "line 40, column 32" in caught.value.message


def test_declared_utf8_with_a_latin1_byte_names_its_offset() -> None:
    good = (SAMPLES / "camt053_v02.xml").read_bytes()
    data = good.replace("Müller".encode(), "Müller".encode("latin-1"))
    with pytest.raises(StatementError) as caught:
        read(data)
    assert caught.value.statement_code is StatementErrorCode.BAD_ENCODING
    assert f"offset {good.index('Müller'.encode()) + 1}" in caught.value.message


def test_another_iso20022_message_is_unsupported() -> None:
    data = (
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.02">'
        b"<BkToCstmrAcctRpt/></Document>"
    )
    with pytest.raises(StatementError) as caught:
        read(data)
    assert caught.value.statement_code is StatementErrorCode.UNSUPPORTED_FORMAT
    assert "camt.052.001.02" in caught.value.message


def test_a_document_type_declaration_is_refused() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>'
    )
    with pytest.raises(StatementError) as caught:
        read(data)
    assert caught.value.statement_code is StatementErrorCode.UNSUPPORTED_FORMAT


def test_an_entry_without_indicator_is_a_bad_row() -> None:
    data = (
        (SAMPLES / "camt053_v02.xml")
        .read_bytes()
        .replace(b"<CdtDbtInd>DBIT</CdtDbtInd>\n        <Sts>BOOK", b"<Sts>BOOK", 1)
    )
    with pytest.raises(StatementError) as caught:
        read(data)
    assert caught.value.statement_code is StatementErrorCode.BAD_ROW
