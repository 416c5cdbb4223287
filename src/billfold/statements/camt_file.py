"""ISO 20022 camt.053 bank-to-customer statements, the XML export of European banks.

The file is parsed with `iterparse` and every entry (`Ntry`) is read and then
dropped from the tree the moment it ends, so a year of entries never sits in
memory. Versions 001.02 to 001.13 differ in a few places that matter here (the
status became `Sts/Cd`, related parties moved under `Pty`); both forms are read.

Amounts take their sign from `CdtDbtInd` alone: a reversal (`RvslInd`) of a
debit arrives as a credit and is money in, which is what the indicator says.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from billfold.domain.accounts import AccountType
from billfold.statements.decoding import bad_encoding, check_encoding
from billfold.statements.drafts import DraftAccount
from billfold.statements.records import (
    StatementAccount,
    StatementError,
    StatementErrorCode,
    StatementFormat,
    StatementLine,
)

CAMT053_NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d{2}$")
_ISO20022 = "urn:iso:std:iso:20022:tech:xsd:"
_CHUNK = 64 * 1024
# Expat's codes for input that ended early: no element found, unclosed token, partial character.
_ENDED_EARLY = {3, 5, 6}
_INVALID_TOKEN = 4
_XML_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ACCOUNT_TYPES = {
    "CACC": AccountType.CHECKING.value,
    "CASH": AccountType.CHECKING.value,
    "SVGS": AccountType.SAVINGS.value,
    "CARD": AccountType.CREDIT_CARD.value,
    "LOAN": AccountType.LOAN.value,
}
_NOT_BOOKED = {"PDNG", "INFO"}
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("ascii", "utf-16-le", "utf-16-be")
)


class _RecordingReader:
    """The file as iterparse reads it, keeping the last two chunks to explain a parse error."""

    def __init__(self, data: BinaryIO) -> None:
        self._data = data
        self.consumed = 0
        self.previous = b""
        self.current = b""
        self.declared: str | None = None

    def read(self, size: int = -1) -> bytes:
        chunk = self._data.read(_CHUNK if size < 0 else size)
        if self.consumed == 0:
            declared = _XML_ENCODING.search(chunk, 0, 1024)
            self.declared = declared.group(1).decode("ascii").lower() if declared else None
        self._refuse_entities(self.current[-32:] + chunk)
        self.previous, self.current = self.current, chunk
        self.consumed += len(chunk)
        return chunk

    @staticmethod
    def _refuse_entities(text: bytes) -> None:
        # A statement never has a DTD; one could only be there to expand entities.
        for marker in _DTD_MARKERS:
            if marker in text:
                raise StatementError(
                    StatementErrorCode.UNSUPPORTED_FORMAT,
                    "The XML file has a document type declaration; a camt.053 statement has none.",
                )

    def bad_byte_offset(self) -> int | None:
        """Where the recent input stops being UTF-8, if the file is meant to be UTF-8."""
        if self.declared not in (None, "utf-8", "utf8"):
            return None
        window = self.previous + self.current
        start = self.consumed - len(window)
        skip = 0
        while skip < min(3, len(window)) and 0x80 <= window[skip] < 0xC0:
            skip += 1  # the window may begin inside a character
        try:
            window[skip:].decode("utf-8")
        except UnicodeDecodeError as error:
            if error.reason != "unexpected end of data":
                return start + skip + error.start
        return None


class _Paths:
    """ElementTree paths qualified with one camt.053 version's namespace."""

    def __init__(self, namespace: str) -> None:
        self._prefix = f"{{{namespace}}}"
        self._cache: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        qualified = self._cache.get(path)
        if qualified is None:
            qualified = "/".join(self._prefix + part for part in path.split("/"))
            self._cache[path] = qualified
        return qualified

    def text(self, element: ET.Element, path: str) -> str | None:
        found = element.findtext(self(path))
        return found.strip() or None if found is not None else None

    def texts(self, element: ET.Element, path: str) -> list[str]:
        return [
            t.strip() for t in (e.text for e in element.iterfind(self(path))) if t and t.strip()
        ]


def _bad_row(message: str) -> StatementError:
    return StatementError(StatementErrorCode.BAD_ROW, message)


def _iso_date(raw: str | None, what: str) -> date | None:
    """The date of an ISO `Dt` or `DtTm` (`2024-01-31`, `2024-01-31T23:59:59+01:00`)."""
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise _bad_row(f"The camt.053 {what} {raw[:40]!r} is not a date.") from None


def _signed(raw: str | None, indicator: str | None, what: str) -> Decimal:
    if raw is None:
        raise _bad_row(f"A camt.053 {what} has no amount.")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise _bad_row(f"The camt.053 {what} amount {raw[:40]!r} is not a number.") from None
    if not amount.is_finite():
        raise _bad_row(f"The camt.053 {what} amount {raw[:40]!r} is not a number.")
    if indicator == "DBIT":
        return -amount
    if indicator == "CRDT":
        return amount
    raise _bad_row(f"A camt.053 {what} has no credit/debit indicator (CdtDbtInd).")


class CamtStatement:
    """A camt.053 file with one or more `Stmt`s. Iterate `lines()` once; then `accounts`."""

    def __init__(self, data: BinaryIO, *, encoding: str | None = None) -> None:
        self._data = data
        self._encoding = check_encoding(encoding) if encoding else None
        # The encoding the file was read with, once `lines()` has begun.
        self.encoding: str | None = self._encoding
        self._accounts: dict[str, DraftAccount] = {}
        self._period: tuple[date, date] | None = None

    @property
    def format(self) -> StatementFormat:
        return StatementFormat.CAMT053

    @property
    def accounts(self) -> list[StatementAccount]:
        return [account.freeze() for account in self._accounts.values()]

    @property
    def period(self) -> tuple[date, date] | None:
        return self._period

    def lines(self) -> Iterator[StatementLine]:
        source = _RecordingReader(self._data)
        # Plain ElementTree is safe enough here: DTDs (and so entity tricks) are refused
        # before expat sees them, and expat >= 2.4 limits entity amplification anyway.
        parser = ET.XMLParser(encoding=self._encoding) if self._encoding else None  # noqa: S314
        try:
            events = ET.iterparse(source, events=("start", "end"), parser=parser)  # noqa: S314
            yield from self._walk(events)
            self.encoding = self._encoding or source.declared or "utf-8"
        except ET.ParseError as error:
            raise self._parse_error(error, source) from None

    def _walk(self, events: Iterator[tuple[str, ET.Element]]) -> Iterator[StatementLine]:
        paths: _Paths | None = None
        stack: list[ET.Element] = []
        account: DraftAccount | None = None
        for event, element in events:
            if event == "start":
                if paths is None:
                    paths = _Paths(self._check_root(element.tag))
                stack.append(element)
                continue
            stack.pop()
            assert paths is not None
            local = element.tag.rpartition("}")[2]
            parent = stack[-1].tag.rpartition("}")[2] if stack else ""
            if parent != "Stmt":
                if local == "Stmt" and stack:
                    stack[-1].remove(element)
                continue
            if local == "Acct":
                account = self._account(element, paths)
            elif local == "Bal" and account is not None:
                self._balance(element, account, paths)
            elif local == "FrToDt":
                self._widen_period(element, paths)
            elif local == "Ntry":
                yield self._line(element, account.key if account else "", paths)
                stack[-1].remove(element)

    def _check_root(self, tag: str) -> str:
        namespace, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        if local == "Document" and CAMT053_NAMESPACE.match(namespace):
            return namespace
        kind = namespace.removeprefix(_ISO20022) if namespace.startswith(_ISO20022) else ""
        what = f"an ISO 20022 {kind} message" if kind else "an XML file"
        raise StatementError(
            StatementErrorCode.UNSUPPORTED_FORMAT,
            f"The file is {what}, not a camt.053 bank statement. "
            "Export camt.053, OFX, QFX, QIF or CSV from your bank instead.",
        )

    def _account(self, element: ET.Element, paths: _Paths) -> DraftAccount:
        number = paths.text(element, "Id/IBAN") or paths.text(element, "Id/Othr/Id")
        key = number or ""
        account = self._accounts.get(key)
        if account is None:
            account = self._accounts[key] = DraftAccount(key=key, number=number)
        account.currency = paths.text(element, "Ccy") or account.currency
        account.name = paths.text(element, "Nm") or account.name
        kind = paths.text(element, "Tp/Cd")
        account.type = _ACCOUNT_TYPES.get(kind or "", account.type)
        return account

    def _balance(self, element: ET.Element, account: DraftAccount, paths: _Paths) -> None:
        kind = paths.text(element, "Tp/CdOrPrtry/Cd")
        if kind not in ("CLBD", "CLAV"):
            return
        amount = _signed(
            paths.text(element, "Amt"), paths.text(element, "CdtDbtInd"), f"{kind} balance"
        )
        day = _iso_date(
            paths.text(element, "Dt/Dt") or paths.text(element, "Dt/DtTm"), "balance date"
        )
        if kind == "CLAV":
            account.available_balance = amount
            return
        # Several statements of one account: the latest closing balance stands.
        if account.balance_date is None or day is None or day >= account.balance_date:
            account.ledger_balance = amount
            account.balance_date = day

    def _widen_period(self, element: ET.Element, paths: _Paths) -> None:
        start = _iso_date(
            paths.text(element, "FrDtTm") or paths.text(element, "FrDt"), "period start"
        )
        end = _iso_date(paths.text(element, "ToDtTm") or paths.text(element, "ToDt"), "period end")
        if start is None or end is None:
            return
        if self._period is not None:
            start, end = min(start, self._period[0]), max(end, self._period[1])
        self._period = (start, end)

    def _line(self, entry: ET.Element, key: str, paths: _Paths) -> StatementLine:
        reference = paths.text(entry, "AcctSvcrRef") or paths.text(entry, "NtryRef")
        what = f"entry {reference}" if reference else "entry"
        indicator = paths.text(entry, "CdtDbtInd")
        amount = _signed(paths.text(entry, "Amt"), indicator, what)
        amount_element = entry.find(paths("Amt"))
        currency = amount_element.get("Ccy") if amount_element is not None else None
        booked = paths.text(entry, "BookgDt/Dt") or paths.text(entry, "BookgDt/DtTm")
        valued = paths.text(entry, "ValDt/Dt") or paths.text(entry, "ValDt/DtTm")
        day = _iso_date(booked or valued, f"{what} date")
        if day is None:
            raise _bad_row(f"The camt.053 {what} has neither a booking nor a value date.")
        status = paths.text(entry, "Sts/Cd") or paths.text(entry, "Sts")
        details = "NtryDtls/TxDtls"
        remittance = " ".join(paths.texts(entry, f"{details}/RmtInf/Ustrd"))
        additional = paths.text(entry, "AddtlNtryInf")
        # The other party: who was paid on a debit, who paid on a credit.
        party = "Cdtr" if indicator == "DBIT" else "Dbtr"
        payee = paths.text(entry, f"{details}/RltdPties/{party}/Nm") or paths.text(
            entry, f"{details}/RltdPties/{party}/Pty/Nm"
        )
        description = remittance or additional or payee or ""
        return StatementLine(
            date=day,
            amount=amount,
            description=description,
            payee=payee,
            memo=additional if additional and additional != description else None,
            check_number=paths.text(entry, f"{details}/Refs/ChqNb"),
            reference=reference,
            currency=currency,
            account_key=key,
            pending=status in _NOT_BOOKED,
        )

    def _parse_error(self, error: ET.ParseError, source: _RecordingReader) -> StatementError:
        line, column = error.position
        if error.code == _INVALID_TOKEN:
            offset = source.bad_byte_offset()
            if offset is not None:
                return bad_encoding(source.declared or "utf-8", offset)
        if error.code in _ENDED_EARLY:
            return StatementError(
                StatementErrorCode.TRUNCATED_FILE,
                f"The XML file ends early (line {line}, column {column}); "
                "it was cut off. Download it again.",
            )
        return StatementError(
            StatementErrorCode.UNSUPPORTED_FORMAT,
            f"The file is not well-formed XML: {error.msg.partition(':')[0]} "
            f"at line {line}, column {column}.",
        )
