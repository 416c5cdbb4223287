"""OFX and QFX statement files (OFX 1.x SGML and OFX 2.x XML), read as a stream.

Banks' "Download for Quicken / Money" button produces these. The file can hold
a million transactions, so it is never parsed into a tree: it is decoded in
64 KiB chunks and a tolerant tag regex walks each chunk, driving a small state
machine for what lies outside transactions (accounts, balances, the period,
status). SGML's unclosed leaf elements and XML's closed ones read the same.

Transactions are the hot path (the target is 400,000 a second). A bank writes
every transaction in one of a few shapes (the same elements in the same order),
so each shape gets an exact regex, compiled once; a run of transactions is
split by it in C and converted column by column. Anything unusual (a PAYEE
aggregate, a foreign CURRENCY, an element out of the spec's order) is read
into a dict instead, in its place in the file.

Amounts keep the file's sign: OFX already states them from the holder's side
(a card charge is negative), which is Billfold's convention. Balances are kept
as stated too; for a card that usually means negative while money is owed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import repeat
from operator import getitem
from typing import Any, BinaryIO, cast

from billfold.domain.accounts import AccountType
from billfold.statements.decoding import check_encoding, detect_bom, guess_encoding, iter_text
from billfold.statements.drafts import CAN_PROMOTE, DraftAccount, DraftLine
from billfold.statements.records import (
    StatementAccount,
    StatementError,
    StatementErrorCode,
    StatementFormat,
    StatementLine,
)

_CHUNK = 64 * 1024
# A transaction or element longer than this is not OFX; stop before memory grows.
_MAX_ELEMENT = 1024 * 1024


# A transaction in any shape; it may lack its end tag when the next one or the list's end follows.
_TRANSACTION = (
    r"<STMTTRN>((?:[^<]|<(?!/?STMTTRN>|/BANKTRANLIST>))*)"
    r"(?:</STMTTRN>|(?=<STMTTRN>|</BANKTRANLIST>))"
)
_TAG = r"<(/?[A-Za-z0-9._]+)>([^<]*)"
_TOKEN = re.compile(f"{_TRANSACTION}|{_TAG}")
_TOKEN_ANY_CASE = re.compile(f"{_TRANSACTION}|{_TAG}", re.IGNORECASE)
_TRANSACTION_ANY_CASE = re.compile(_TRANSACTION, re.IGNORECASE)
_ELEMENT = re.compile(r"<([A-Za-z0-9._]+)>([^<]*)")
_OPEN_TAG = re.compile(r"<([A-Za-z0-9._]+)>")
# Blanks around an XML value, which are rare; without them the hot loop skips strip().
# SGML values always end in a line break, so they are always stripped.
_PADDINGS = (" \n", " \r", " <", "> ", "\t")

# The transaction elements the fast path reads, in the spec's order, and the leaf
# elements it may step over. Anything else (PAYEE, CURRENCY, ...) takes the slow path.
_ROLES = ("TRNTYPE", "DTPOSTED", "TRNAMT", "FITID", "CHECKNUM", "NAME", "MEMO")
_SKIPPABLE = frozenset(
    {"DTUSER", "DTAVAIL", "CORRECTFITID", "CORRECTACTION", "SRVRTID", "REFNUM", "SIC", "PAYEEID"}
)
_MAX_SHAPE_DEPTH = 16
# A split by a shape's regex gives, per transaction, the text before it and seven roles.
_PIECES = 1 + len(_ROLES)
_DAY = slice(0, 8)


def _shape_pattern(tags: tuple[str, ...], xml: bool) -> re.Pattern[str] | None:
    """An exact regex for transactions with these elements, capturing `_ROLES` in order.

    One regex without optional parts is several times faster than one that allows
    every element, and banks write every transaction with one of a few shapes.
    Missing roles capture "" through an empty group, so every shape yields seven.
    Values are `[^<]*`, the regex engine's fastest loop, so an SGML value keeps
    its line break (the caller strips).
    """
    if len(set(tags)) != len(tags) or not {"TRNTYPE", "DTPOSTED", "TRNAMT"} <= set(tags):
        return None
    parts = ["<STMTTRN>[^<]*"]
    role = 0
    for tag in tags:
        if tag in _ROLES:
            index = _ROLES.index(tag)
            if index < role:
                return None
            parts.append("()" * (index - role))
            role = index + 1
            value = "([^<]*)"
        elif tag in _SKIPPABLE:
            value = "[^<]*"
        else:
            return None
        parts.append(f"<{tag}>{value}</{tag}>[^<]*" if xml else f"<{tag}>{value}")
    parts.append("()" * (len(_ROLES) - role))
    parts.append("</STMTTRN>[^<]*")
    return re.compile("".join(parts))


_HEADER_FIELD = re.compile(rb"^\s*([A-Z]+)\s*:\s*([^\r\n]*?)\s*$", re.MULTILINE)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_OFX_START = re.compile(rb"<OFX>", re.IGNORECASE)

_ACCOUNT_TYPES = {
    "CHECKING": AccountType.CHECKING.value,
    "SAVINGS": AccountType.SAVINGS.value,
    "MONEYMRKT": AccountType.SAVINGS.value,
    "CREDITLINE": AccountType.CREDIT_CARD.value,
    "CD": AccountType.SAVINGS.value,
}

_TRANSACTION_TYPES = {
    "CREDIT": "Credit",
    "DEBIT": "Debit",
    "INT": "Interest",
    "DIV": "Dividend",
    "FEE": "Fee",
    "SRVCHG": "Service charge",
    "DEP": "Deposit",
    "ATM": "ATM",
    "POS": "Point of sale",
    "XFER": "Transfer",
    "CHECK": "Check",
    "PAYMENT": "Payment",
    "CASH": "Cash withdrawal",
    "DIRECTDEP": "Direct deposit",
    "DIRECTDEBIT": "Direct debit",
    "REPEATPMT": "Repeating payment",
    "HOLD": "Hold",
    "OTHER": "Other",
}


def _bad_row(message: str) -> StatementError:
    return StatementError(StatementErrorCode.BAD_ROW, message)


def parse_ofx_date(raw: str) -> date:
    """The calendar date an OFX date-time starts with.

    The time and the `[-5:EST]` zone are ignored on purpose: the bank wrote the
    date its own statement shows, and converting to UTC would move evening
    transactions to the next day.
    """
    text = raw.strip()
    if len(text) < 8 or not text[:8].isdigit():
        raise _bad_row(f"The OFX date {text[:40]!r} is not in the form YYYYMMDD.")
    try:
        return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise _bad_row(f"The OFX date {text[:40]!r} is not a real date.") from None


def parse_ofx_amount(raw: str) -> Decimal:
    """An OFX amount; some banks write a decimal comma, which the spec allows."""
    text = raw.strip()
    if "," in text:
        # Whichever separator comes last is the decimal one; the other groups thousands.
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise _bad_row(f"The OFX amount {raw.strip()[:40]!r} is not a number.") from None
    if not amount.is_finite():
        raise _bad_row(f"The OFX amount {raw.strip()[:40]!r} is not a number.")
    return amount


def _text(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = raw.strip()
    if "&" in value:
        value = html.unescape(value)
    return value or None


def _detect_encoding(head: bytes, *, final: bool) -> tuple[str, int]:
    """The encoding the file declares (BOM, OFX 1 header, XML declaration) and the BOM's length."""
    bom = detect_bom(head)
    if bom is not None:
        return bom
    declared = _XML_ENCODING.search(head, 0, 1024)
    if declared is not None:
        return check_encoding(declared.group(1).decode("ascii")), 0
    start = _OFX_START.search(head)
    header = {
        key.decode("ascii"): value.decode("ascii", "replace").upper()
        for key, value in _HEADER_FIELD.findall(head[: start.start() if start else 2048])
    }
    if header.get("ENCODING", "").replace("-", "") in {"UTF8", "UNICODE"}:
        return "utf-8", 0
    charset = header.get("CHARSET", "NONE")
    if charset in {"1252", "CP1252", "WINDOWS-1252"}:
        return "cp1252", 0
    if charset in {"ISO-8859-1", "8859-1", "LATIN-1"}:
        return "iso8859-1", 0
    if charset.isdigit():
        return check_encoding(f"cp{charset}"), 0
    # USASCII with CHARSET:NONE: banks put accented names in anyway, in one of the two.
    return guess_encoding(head, final=final), 0


class OfxStatement:
    """An OFX 1.x/2.x or QFX file. Iterate `lines()` once; then `accounts` and `period`."""

    def __init__(self, data: BinaryIO, *, encoding: str | None = None) -> None:
        self._data = data
        self._encoding = check_encoding(encoding) if encoding else None
        # The encoding the file was read with, once `lines()` has begun.
        self.encoding: str | None = self._encoding
        self._accounts: dict[str, DraftAccount] = {}
        self._period: tuple[date, date] | None = None
        self._statement: DraftAccount | None = None
        self._in_account_from = False
        self._in_transaction_list = False
        self._balance: str | None = None
        self._in_status = False
        self._severity: str | None = None
        self._status_code: str | None = None
        self._status_message: str | None = None
        self._seen_start = False
        self._seen_end = False
        # Parsed dates by their first eight characters; a statement spans few distinct days.
        self._dates: dict[str, date] = {}
        self._shapes: dict[tuple[tuple[str, ...], bool], tuple[re.Pattern[str], bool] | None] = {}

    @property
    def format(self) -> StatementFormat:
        return StatementFormat.OFX

    @property
    def accounts(self) -> list[StatementAccount]:
        return [account.freeze() for account in self._accounts.values()]

    @property
    def period(self) -> tuple[date, date] | None:
        return self._period

    def lines(self) -> Iterator[StatementLine]:
        head = self._data.read(_CHUNK)
        if self._encoding is not None:
            bom = detect_bom(head)
            encoding, skip = self._encoding, bom[1] if bom else 0
        else:
            encoding, skip = _detect_encoding(head, final=len(head) < _CHUNK)
        self.encoding = encoding
        token = _TOKEN
        buffer = ""
        for chunk in iter_text(self._data, encoding, first=head[skip:], start_offset=skip):
            # Some exporters write lower-case tags; they get a case-blind, slower regex.
            if token is _TOKEN and not self._seen_start and "<OFX>" not in chunk:
                token = _TOKEN_ANY_CASE if "<ofx>" in chunk.lower() else token
            buffer = buffer + chunk if buffer else chunk
            batch, consumed = self._scan(buffer, token, final=False)
            yield from batch
            buffer = buffer[consumed:]
            if len(buffer) > _MAX_ELEMENT:
                raise StatementError(
                    StatementErrorCode.UNSUPPORTED_FORMAT,
                    "The OFX file has an element longer than 1 MiB; it is not a statement.",
                )
        batch, _ = self._scan(buffer, token, final=True)
        yield from batch
        self._finish()

    def _scan(
        self, buffer: str, token: re.Pattern[str], *, final: bool
    ) -> tuple[list[StatementLine], int]:
        """The lines in `buffer`, and how much of it was used (the rest awaits more text).

        Lines come back in a list per chunk rather than through nested generators:
        each generator level costs a few tenths of a microsecond per line.
        """
        batch: list[StatementLine] = []
        end = len(buffer)
        fast = token is _TOKEN
        pos = 0
        while True:
            match = token.search(buffer, pos)
            if match is None:
                return batch, end if final else pos
            statement = self._statement
            key = statement.key if statement else ""
            currency = statement.currency if statement else None
            start = match.start()
            if fast and buffer.startswith("<STMTTRN>", start):
                # A run of whole transactions up to the list's end or the last complete one.
                stop = buffer.find("</BANKTRANLIST>", start)
                last = buffer.rfind("</STMTTRN>", start, end if stop < 0 else stop)
                if last >= 0:
                    run_end = last + len("</STMTTRN>")
                    self._run(buffer[start:run_end], key, currency, 0, batch)
                    pos = run_end
                    continue
            if match.lastindex == 1:
                batch.append(self._generic_line(match.group(1), key, currency))
                pos = match.end()
                continue
            tag, value = match.group(2, 3)
            if not final and match.end() == end:
                return batch, start  # the value may go on in the next chunk
            tag = tag.upper()
            if tag == "STMTTRN":
                if final:
                    raise StatementError(
                        StatementErrorCode.TRUNCATED_FILE,
                        "The OFX file ends in the middle of a transaction; "
                        "it was cut off. Download it again.",
                    )
                return batch, start
            self._element(tag, value)
            pos = match.end()

    def _run(
        self, text: str, key: str, currency: str | None, depth: int, out: list[StatementLine]
    ) -> None:
        """Lines from `text`, whole transactions only, each shape through its own exact regex."""
        pos = text.find("<STMTTRN>")
        while pos >= 0:
            shape = self._shape_at(text, pos) if depth < _MAX_SHAPE_DEPTH else None
            if shape is None or shape[0].match(text, pos) is None:
                match = _TRANSACTION_ANY_CASE.match(text, pos)
                if match is None:  # pragma: no cover - `text` holds whole transactions
                    raise StatementError(
                        StatementErrorCode.TRUNCATED_FILE, "The OFX file ends mid-transaction."
                    )
                out.append(self._generic_line(match.group(1), key, currency))
                pos = text.find("<STMTTRN>", match.end())
                continue
            pattern, xml = shape
            run = text[pos:] if pos else text
            parts = pattern.split(run)
            # Whole-run substring tests run at memchr speed and spare most lines the work.
            strip = not xml or any(pad in run for pad in _PADDINGS)
            unescape = "&" in run
            rows = (strip, unescape, key, currency, out)
            others = parts[0::_PIECES]
            if not "".join(others).strip():
                self._rows(parts, 0, len(others) - 1, *rows)
                return
            # Transactions of other shapes sit between the matches; keep the file's order.
            done = 0
            for row, other in enumerate(others):
                if other and not other.isspace():
                    self._rows(parts, done, row, *rows)
                    self._run(other, key, currency, depth + 1, out)
                    done = row
            self._rows(parts, done, len(others) - 1, *rows)
            return

    def _shape_at(self, text: str, pos: int) -> tuple[re.Pattern[str], bool] | None:
        close = text.find("</STMTTRN>", pos)
        body = text[pos + len("<STMTTRN>") : close]
        tags = tuple(_OPEN_TAG.findall(body))
        xml = bool(tags) and f"</{tags[0]}>" in body
        if (tags, xml) not in self._shapes:
            pattern = _shape_pattern(tags, xml)
            self._shapes[tags, xml] = None if pattern is None else (pattern, xml)
        return self._shapes[tags, xml]

    def _rows(
        self,
        parts: list[str],
        first: int,
        stop: int,
        strip: bool,
        unescape: bool,
        key: str,
        currency: str | None,
        out: list[StatementLine],
    ) -> None:
        """The hot path: rows `first` to `stop` of a split, converted column by column.

        `map` over a column runs the conversion's loop in C, which halves the cost
        of calling `Decimal` and `str.strip` once per line from Python.
        """
        if first >= stop:
            return
        base, end = first * _PIECES, stop * _PIECES

        def column(role: int) -> list[str]:
            return parts[base + 1 + role : end : _PIECES]

        types, posted, amount_texts, fitids, checks, names, memos = map(column, range(7))
        if strip:
            types, fitids, checks = map(
                list, (map(str.strip, types), map(str.strip, fitids), map(str.strip, checks))
            )
            names, memos = list(map(str.strip, names)), list(map(str.strip, memos))
        if unescape:
            names, memos = list(map(html.unescape, names)), list(map(html.unescape, memos))
        try:
            amounts = list(map(Decimal, amount_texts))
            if not all(map(Decimal.is_finite, amounts)):
                raise InvalidOperation
        except InvalidOperation:
            amounts = list(map(parse_ofx_amount, amount_texts))
        dates = self._dates
        day_keys = cast(list[str], list(map(getitem, posted, repeat(_DAY))))
        days = list(map(dates.get, day_keys))
        if None in days:
            for row, day in enumerate(days):
                if day is None:
                    # An earlier row of this run may have parsed the same day already.
                    known = dates.get(day_keys[row])
                    if known is None:
                        known = dates[day_keys[row]] = parse_ofx_date(posted[row])
                    days[row] = known
        retype = CAN_PROMOTE
        new = object.__new__
        line_class = StatementLine
        assignable = DraftLine
        labels = _TRANSACTION_TYPES
        append = out.append
        for day, amount, trntype, fitid, checknum, name, memo in zip(
            days, amounts, types, fitids, checks, names, memos, strict=True
        ):
            if retype:
                line: Any = new(assignable)
                line.date = day
                line.amount = amount
                line.description = name or memo or labels.get(trntype, trntype)
                line.payee = name or None
                line.memo = memo or None
                line.check_number = checknum or None
                line.reference = fitid or None
                line.balance = None
                line.currency = currency
                line.account_key = key
                line.pending = trntype == "HOLD"
                line.__class__ = line_class
            else:
                line = line_class(
                    day,
                    amount,
                    name or memo or labels.get(trntype, trntype),
                    name or None,
                    memo or None,
                    checknum or None,
                    fitid or None,
                    None,
                    currency,
                    key,
                    trntype == "HOLD",
                )
            append(line)

    def _generic_line(self, body: str, key: str, currency: str | None) -> StatementLine:
        fields = {tag.upper(): value for tag, value in _ELEMENT.findall(body)}
        posted = fields.get("DTPOSTED") or fields.get("DTUSER")
        amount_text = fields.get("TRNAMT")
        fitid = _text(fields.get("FITID"))
        if posted is None or not posted.strip():
            raise _bad_row(f"The OFX transaction {fitid or ''} has no date.".replace("  ", " "))
        if amount_text is None or not amount_text.strip():
            raise _bad_row(f"The OFX transaction {fitid or ''} has no amount.".replace("  ", " "))
        # A PAYEE aggregate's NAME arrives under the same key as a plain NAME.
        name = _text(fields.get("NAME")) or _text(fields.get("EXTDNAME"))
        memo = _text(fields.get("MEMO"))
        trntype = (fields.get("TRNTYPE") or "").strip().upper()
        if "CURRENCY" in fields and "ORIGCURRENCY" not in fields:
            currency = _text(fields.get("CURSYM")) or currency
        return StatementLine(
            date=parse_ofx_date(posted),
            amount=parse_ofx_amount(amount_text),
            description=name or memo or _TRANSACTION_TYPES.get(trntype, trntype),
            payee=name,
            memo=memo,
            check_number=_text(fields.get("CHECKNUM")),
            reference=fitid,
            currency=currency,
            account_key=key,
            pending=trntype == "HOLD",
        )

    def _element(self, tag: str, raw: str) -> None:
        """Advance the state machine by one tag outside a transaction."""
        statement = self._statement
        if tag == "OFX":
            self._seen_start = True
        elif tag == "/OFX":
            self._seen_end = True
        elif tag in {"STMTRS", "CCSTMTRS"}:
            self._close_statement()
            self._statement = DraftAccount(
                type=AccountType.CREDIT_CARD.value if tag == "CCSTMTRS" else None
            )
        elif tag in {"/STMTRS", "/CCSTMTRS"}:
            self._close_statement()
        elif tag in {"INVSTMTRS", "INVSTMTMSGSRSV1"}:
            raise StatementError(
                StatementErrorCode.UNSUPPORTED_FORMAT,
                "The OFX file is an investment statement; Billfold imports bank and card "
                "statements only.",
            )
        elif tag in {"BANKACCTFROM", "CCACCTFROM"}:
            self._in_account_from = True
        elif tag in {"/BANKACCTFROM", "/CCACCTFROM"}:
            self._in_account_from = False
        elif tag == "BANKTRANLIST":
            self._in_transaction_list = True
        elif tag == "/BANKTRANLIST":
            self._in_transaction_list = False
        elif tag in {"LEDGERBAL", "AVAILBAL"}:
            self._balance = tag
        elif tag in {"/LEDGERBAL", "/AVAILBAL"}:
            self._balance = None
        elif tag == "STATUS":
            self._in_status = True
            self._severity = self._status_code = self._status_message = None
        elif tag == "/STATUS":
            self._in_status = False
            self._check_status()
        elif self._in_status:
            if tag == "CODE":
                self._status_code = raw.strip()
            elif tag == "SEVERITY":
                self._severity = raw.strip().upper()
            elif tag == "MESSAGE":
                self._status_message = _text(raw)
        elif statement is not None:
            self._statement_element(statement, tag, raw)

    def _statement_element(self, statement: DraftAccount, tag: str, raw: str) -> None:
        if tag == "CURDEF":
            statement.currency = raw.strip().upper() or None
        elif self._in_account_from:
            if tag == "ACCTID":
                statement.key = statement.number = raw.strip()
            elif tag == "ACCTTYPE":
                statement.type = _ACCOUNT_TYPES.get(raw.strip().upper(), statement.type)
        elif self._in_transaction_list and tag in {"DTSTART", "DTEND"}:
            day = parse_ofx_date(raw)
            start, end = self._period or (day, day)
            self._period = (min(start, day), end) if tag == "DTSTART" else (start, max(end, day))
        elif self._balance is not None and tag == "BALAMT":
            if self._balance == "LEDGERBAL":
                statement.ledger_balance = parse_ofx_amount(raw)
            else:
                statement.available_balance = parse_ofx_amount(raw)
        elif self._balance is not None and tag == "DTASOF":
            # The ledger balance's date wins; the available balance's only fills a gap.
            day = parse_ofx_date(raw)
            if self._balance == "LEDGERBAL" or statement.balance_date is None:
                statement.balance_date = day

    def _check_status(self) -> None:
        if self._severity != "ERROR":
            return
        detail = f": {self._status_message[:200]}" if self._status_message else ""
        code = f" (OFX status {self._status_code})" if self._status_code else ""
        raise StatementError(
            StatementErrorCode.UNSUPPORTED_FORMAT,
            f"The OFX file is the bank's error report, not a statement{detail}{code}.",
        )

    def _close_statement(self) -> None:
        """File the statement under its account, merging statements of the same account."""
        statement, self._statement = self._statement, None
        self._in_account_from = self._in_transaction_list = False
        self._balance = None
        if statement is None:
            return
        known = self._accounts.get(statement.key)
        if known is None:
            self._accounts[statement.key] = statement
            return
        newer = (
            known.balance_date is None
            or statement.balance_date is None
            or statement.balance_date >= known.balance_date
        )
        known.number = known.number or statement.number
        known.type = known.type or statement.type
        known.currency = known.currency or statement.currency
        stated = (statement.ledger_balance, statement.available_balance)
        if newer and stated != (None, None):
            known.ledger_balance = statement.ledger_balance
            known.available_balance = statement.available_balance
            known.balance_date = statement.balance_date

    def _finish(self) -> None:
        if self._in_status:
            self._check_status()
        if not self._seen_start:
            raise StatementError(
                StatementErrorCode.UNSUPPORTED_FORMAT,
                "The file has no <OFX> element; it is not an OFX or QFX statement.",
            )
        if not self._seen_end:
            raise StatementError(
                StatementErrorCode.TRUNCATED_FILE,
                "The OFX file ends before </OFX>; it was cut off. Download it again.",
            )
        self._close_statement()
