"""open_statement: refusing bad uploads with clear codes, recognising formats, decoding text."""

from __future__ import annotations

import io
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from billfold.statements.reader import open_statement
from billfold.statements.records import (
    StatementError,
    StatementErrorCode,
    StatementFormat,
    StatementReader,
)

SAMPLES = Path(__file__).parent / "samples"
LIMIT = 25 * 1024 * 1024


def open_bytes(data: bytes, **hints: object) -> StatementReader:
    hints.setdefault("max_bytes", LIMIT)
    return open_statement(io.BytesIO(data), **hints)  # type: ignore[arg-type]


def failure(data: bytes, **hints: object) -> StatementError:
    """The StatementError the file meets, at opening or while its lines stream."""
    with pytest.raises(StatementError) as caught:
        list(open_bytes(data, **hints).lines())
    return caught.value


class _Trickle(io.RawIOBase):
    """A non-seekable upload of `size` bytes made on demand, counting what was pulled."""

    def __init__(self, head: bytes, filler: bytes, size: int) -> None:
        self._head = head
        self._filler = filler
        self._size = size
        self.pulled = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self._size - self.pulled)
        if want <= 0:
            return 0
        start = self.pulled
        if start < len(self._head):
            piece = self._head[start : start + want]
        else:
            offset = (start - len(self._head)) % len(self._filler)
            repeated = self._filler[offset:] + self._filler * (want // len(self._filler) + 1)
            piece = repeated[:want]
        buffer[: len(piece)] = piece
        self.pulled += len(piece)
        return len(piece)


@pytest.mark.parametrize(
    ("name", "expected", "lines"),
    [
        ("ofx102_checking.ofx", StatementFormat.OFX, 6),
        ("ofx22_creditcard.ofx", StatementFormat.OFX, 4),
        ("quicken.qfx", StatementFormat.OFX, 2),
        ("multi_account.ofx", StatementFormat.OFX, 4),
        ("bank_day_first.qif", StatementFormat.QIF, 5),
        ("card_quicken.qif", StatementFormat.QIF, 3),
        ("camt053_v02.xml", StatementFormat.CAMT053, 5),
        ("camt053_v08.xml", StatementFormat.CAMT053, 4),
    ],
)
def test_every_sample_is_recognised_by_its_content(
    name: str, expected: StatementFormat, lines: int
) -> None:
    # A misleading name does not matter: the content decides.
    reader = open_bytes((SAMPLES / name).read_bytes(), filename="download.csv")
    assert reader.format is expected
    assert len(list(reader.lines())) == lines


def test_encodings_are_reported() -> None:
    ofx = open_bytes((SAMPLES / "ofx102_checking.ofx").read_bytes())
    list(ofx.lines())
    assert getattr(ofx, "encoding", None) == "cp1252"
    qif = open_bytes((SAMPLES / "bank_day_first.qif").read_bytes())
    assert getattr(qif, "encoding", None) == "utf-8"  # plain ASCII reads as UTF-8


def test_a_csv_goes_to_the_csv_reader_with_the_clients_overrides() -> None:
    data = b"Date,Description,Amount\n2024-01-02,Coffee,-3.50\n2024-01-03,Salary,1000.00\n"
    reader = open_bytes(data, filename="export.csv")
    assert reader.format is StatementFormat.CSV
    assert [line.amount for line in reader.lines()] == [Decimal("-3.50"), Decimal("1000.00")]
    flipped = open_bytes(data, csv_mapping={"negate": True})
    assert [line.amount for line in flipped.lines()] == [Decimal("3.50"), Decimal("-1000.00")]


def test_the_extension_breaks_a_tie() -> None:
    headerless_qif = b"D01/02/2024\nT-3.00\nPBakery\n^\n"
    assert open_bytes(headerless_qif, filename="old.QIF").format is StatementFormat.QIF
    # Named .csv, the same bytes go to the CSV reader, which finds no layout in them.
    error = failure(headerless_qif, filename="old.csv")
    assert error.statement_code is StatementErrorCode.UNRECOGNISED_LAYOUT


def test_an_explicit_format_wins() -> None:
    data = (SAMPLES / "card_quicken.qif").read_bytes()
    reader = open_bytes(data, format=StatementFormat.QIF, filename="x.ofx")
    assert reader.format is StatementFormat.QIF


@pytest.mark.parametrize("data", [b"", b"   \r\n\t\n", b"\xef\xbb\xbf\n\n", b"\xff\xfe \x00\n\x00"])
def test_empty_and_blank_files(data: bytes) -> None:
    assert failure(data).statement_code is StatementErrorCode.EMPTY_FILE


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "PNG"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "PDF"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00README.txt\x00\x00", "ZIP"),
        (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml\x00xl/workbook.xml", "Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200), "XLS"),
        (bytes(range(256)) * 4, "binary"),
    ],
)
def test_binary_files_are_named(data: bytes, named: str) -> None:
    error = failure(data, filename="statement.csv")
    assert error.statement_code is StatementErrorCode.BINARY_FILE
    assert named in error.message
    assert "export CSV, OFX, QFX, QIF or CAMT.053" in error.message


def test_a_truncated_ofx_upload() -> None:
    data = (SAMPLES / "ofx22_creditcard.ofx").read_bytes()
    error = failure(data[: data.index(b"PAYMENT THANK")])
    assert error.statement_code is StatementErrorCode.TRUNCATED_FILE


def test_a_truncated_camt_upload() -> None:
    data = (SAMPLES / "camt053_v08.xml").read_bytes()
    error = failure(data[: data.index(b"Kontof")])
    assert error.statement_code is StatementErrorCode.TRUNCATED_FILE


def test_declared_utf8_with_an_invalid_byte() -> None:
    data = (SAMPLES / "ofx22_creditcard.ofx").read_bytes()
    bad = data.replace("MÜLLER".encode(), "MÜLLER".encode("latin-1"))
    error = failure(bad)
    assert error.statement_code is StatementErrorCode.BAD_ENCODING
    assert f"offset {data.index('MÜLLER'.encode()) + 1}" in error.message


def test_utf16_without_a_bom() -> None:
    data = "!Type:Bank\nD01/02/2024\nT-3.00\nPBakery\n^\n".encode("utf-16-le")
    error = failure(data)
    assert error.statement_code is StatementErrorCode.BAD_ENCODING
    assert "UTF-16" in error.message
    assert "offset 1" in error.message
    # Named explicitly, the same bytes read.
    lines = list(open_bytes(data, encoding="utf-16-le").lines())
    assert [(line.date, line.amount) for line in lines] == [(date(2024, 1, 2), Decimal("-3.00"))]


def test_utf16_with_a_bom_reads() -> None:
    data = "\ufeff!Type:Bank\r\nD01/02/2024\r\nT-3.00\r\nPBäckerei\r\n^\r\n".encode("utf-16")
    lines = list(open_bytes(data).lines())
    assert [line.description for line in lines] == ["Bäckerei"]


def test_windows_1252_is_the_fallback_for_text_that_is_not_utf8() -> None:
    data = "!Type:Bank\nD01/02/2024\nT-3.00\nPCafé €\n^\n".encode("cp1252")
    reader = open_bytes(data)
    assert [line.description for line in reader.lines()] == ["Café €"]
    assert getattr(reader, "encoding", None) == "cp1252"


def test_text_that_is_neither_utf8_nor_windows_1252() -> None:
    data = b"!Type:Bank\nD01/02/2024\nT-3.00\nP\x81\x8d\n^\n"
    error = failure(data)
    assert error.statement_code is StatementErrorCode.BAD_ENCODING
    bad = data.index(b"\x81")
    assert f"offset {bad}" in error.message


def test_a_bad_byte_beyond_the_sniffed_head_names_its_offset() -> None:
    records = b"".join(b"D01/02/2024\nT-%d.00\nPShop\n^\n" % i for i in range(5000))
    data = b"!Type:Bank\n" + records + b"D01/03/2024\nT-1.00\nPCaf\xc3(\n^\n"
    error = failure(data)
    assert error.statement_code is StatementErrorCode.BAD_ENCODING
    bad = data.index(b"\xc3(")
    assert bad > 64 * 1024
    assert f"offset {bad}" in error.message


def test_a_seekable_qif_is_read_twice_from_the_start() -> None:
    # The order-deciding date is past the sniffed head, so the QIF reader rewinds the upload.
    records = b"".join(b"D01/02/2024\nT-%d.00\nPShop %d\n^\n" % (i, i) for i in range(4000))
    data = b"!Type:Bank\n" + records + b"D13/02/2024\nT-1.00\nPLast\n^\n"
    lines = list(open_bytes(data).lines())
    assert len(lines) == 4001
    assert (lines[0].date, lines[0].amount, lines[0].description) == (
        date(2024, 2, 1),
        Decimal("0.00"),
        "Shop 0",
    )
    assert lines[-1].date == date(2024, 2, 13)


def test_over_the_limit_when_seekable_is_refused_at_once() -> None:
    data = (SAMPLES / "ofx102_checking.ofx").read_bytes()
    with pytest.raises(StatementError) as caught:
        open_bytes(data, max_bytes=1000)
    assert caught.value.statement_code is StatementErrorCode.FILE_TOO_LARGE


def test_over_the_limit_when_not_seekable() -> None:
    data = (SAMPLES / "ofx102_checking.ofx").read_bytes()
    stream = io.BufferedReader(_Trickle(data, b" ", len(data)))
    with pytest.raises(StatementError) as caught:
        list(open_statement(stream, max_bytes=1000).lines())
    assert caught.value.statement_code is StatementErrorCode.FILE_TOO_LARGE


def test_a_50_mb_one_way_upload_stops_at_the_limit() -> None:
    head = (
        b"OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nENCODING:USASCII\nCHARSET:1252\n\n"
        b"<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><CURDEF>USD<BANKACCTFROM><ACCTID>1"
        b"</BANKACCTFROM><BANKTRANLIST>\n"
    )
    transaction = (
        b"<STMTTRN>\n<TRNTYPE>DEBIT\n<DTPOSTED>20240102\n<TRNAMT>-1.00\n"
        b"<FITID>X\n<NAME>SHOP\n</STMTTRN>\n"
    )
    upload = _Trickle(head, transaction, 50 * 1024 * 1024)
    started = time.perf_counter()
    with pytest.raises(StatementError) as caught:
        for _ in open_statement(io.BufferedReader(upload), max_bytes=LIMIT).lines():
            pass
    elapsed = time.perf_counter() - started
    assert caught.value.statement_code is StatementErrorCode.FILE_TOO_LARGE
    assert LIMIT < upload.pulled <= LIMIT + 256 * 1024
    assert elapsed < 10


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b'<?xml version="1.0"?>\n<invoice><total>12.00</total></invoice>', "XML"),
        (b"<!DOCTYPE html>\n<html><body><table></table></body></html>", "HTML"),
        (
            b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
            b'camt.054.001.02"/>',
            "camt.054",
        ),
    ],
)
def test_unsupported_xml(data: bytes, said: str) -> None:
    error = failure(data)
    assert error.statement_code is StatementErrorCode.UNSUPPORTED_FORMAT
    assert said in error.message


def test_a_qif_investment_upload() -> None:
    error = failure(b"!Type:Invst\nD1/2/24\nNBuy\nYACME\nT50.00\n^\n")
    assert error.statement_code is StatementErrorCode.UNSUPPORTED_FORMAT


def test_the_callers_stream_stays_open() -> None:
    stream = io.BytesIO((SAMPLES / "card_quicken.qif").read_bytes())
    reader = open_statement(stream, max_bytes=LIMIT)
    list(reader.lines())
    del reader
    assert not stream.closed


def test_a_one_way_qif_upload_is_spooled_for_the_date_look_ahead() -> None:
    records = b"".join(b"D01/02/2024\nT-%d.00\nPShop %d\n^\n" % (i, i) for i in range(4000))
    data = b"!Type:Bank\n" + records + b"D13/02/2024\nT-1.00\nPLast\n^\n"
    upload = io.BufferedReader(_Trickle(data, b"\n", len(data)))
    lines = list(open_statement(upload, max_bytes=LIMIT).lines())
    assert len(lines) == 4001
    assert [line.date for line in lines[:2]] == [date(2024, 2, 1), date(2024, 2, 1)]
    assert lines[-1].description == "Last"


def test_a_bad_byte_deep_in_a_csv_names_its_offset() -> None:
    rows = b"2024-01-03,Caf\xc3\xa9,1.00\n" * 5000
    data = b"Date,Description,Amount\n" + rows + b"2024-01-04,Caf\xe9,2.00\n"
    error = failure(data)
    assert error.statement_code is StatementErrorCode.BAD_ENCODING
    assert f"offset {data.index(b'Caf' + bytes([0xE9])) + 3}" in error.message
