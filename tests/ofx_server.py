"""A local OFX Direct Connect server, written by hand from the OFX specification.

It does not use ofxtools, so the connector's tests do not check the library
against itself. It reads a request in the version it came in (1.x SGML with or
without leaf end tags, 2.x XML) and answers in the same: SONRQ sign-on,
ACCTINFORQ (one checking account, one credit card), STMTRQ / CCSTMTRQ with
transactions whose DTPOSTED falls in [DTSTART, DTEND). Switches make it act as
real banks do:

- `mfa`: sign-on answers 3000 until two security questions (MFACHALLENGERQ ->
  MFACHALLENGERS) are answered with MFACHALLENGEA; wrong answers are 3001; right
  ones earn an ACCESSKEY that spares the questions on later sign-ons.
- `clientuid_required`: an unknown CLIENTUID is 15510 until `approve()`d.
- a wrong password is 15500; `mode` = "500" (HTTP 500), "2000" (OFX general
  error), "garbage" (a reply that is not OFX), "slow" (answers after 1 s).

It never records or prints a password or an answer: `signons` keeps only which
parts a sign-on had.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape, unescape

USER = "alice"
PASSWORD = "s3cret&<pass>"
ORG, FID = "BILLFOLDTEST", "9999"
PHRASES = (
    ("MFA16", "What is your mother's maiden name?"),
    ("MFA6", "What was the name of your first pet?"),
)
ANSWERS = {"MFA16": "Lovelace", "MFA6": "Rex"}
CHECKING_ID, BANK_ID = "000123456789", "121000358"
CARD_ID = "4111111111114321"


# ----- markup ---------------------------------------------------------------------------


@dataclass
class Node:
    tag: str
    text: str | None = None
    children: list[Node] = field(default_factory=list)

    def find(self, path: str) -> Node | None:
        node: Node | None = self
        for tag in path.split("/"):
            node = next((c for c in node.children if c.tag == tag), None) if node else None
        return node

    def findall(self, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag]

    def value(self, path: str) -> str | None:
        node = self.find(path)
        return node.text if node is not None else None


def leaf(tag: str, value: object) -> Node:
    return Node(tag, str(value))


def agg(tag: str, *children: Node | None) -> Node:
    return Node(tag, None, [c for c in children if c is not None])


_TOKEN = re.compile(r"<(/?)([A-Za-z0-9.]+)>([^<]*)")


def parse_body(body: str) -> Node:
    """SGML (leaf end tags optional) or XML, into a tree; the header is already cut off."""
    root = Node("#root")
    stack = [root]
    for match in _TOKEN.finditer(body):
        closing, tag, text = match.group(1), match.group(2), match.group(3).strip()
        if closing:
            if len(stack) > 1 and stack[-1].tag == tag:
                stack.pop()
            continue  # the end tag of a leaf (XML or closed SGML)
        if text:
            stack[-1].children.append(Node(tag, unescape(text)))
        else:
            node = Node(tag)
            stack[-1].children.append(node)
            stack.append(node)
    ofx = root.find("OFX")
    if ofx is None:
        raise ValueError("no <OFX> element")
    return ofx


def split_request(raw: str) -> tuple[int, str]:
    """(version, body) of a request file."""
    xml = re.search(r'<\?OFX[^>]*VERSION="(\d+)"[^>]*\?>', raw)
    if xml:
        return int(xml.group(1)), raw[xml.end() :]
    version = re.search(r"VERSION:(\d+)", raw)
    start = raw.find("<OFX>")
    if version is None or start < 0:
        raise ValueError("not an OFX request")
    return int(version.group(1)), raw[start:]


def render(node: Node, version: int) -> str:
    xml = version >= 200
    if node.text is not None:
        text = escape(node.text)
        return f"<{node.tag}>{text}</{node.tag}>" if xml else f"<{node.tag}>{text}"
    inner = "\n".join(render(c, version) for c in node.children)
    return f"<{node.tag}>\n{inner}\n</{node.tag}>"


def document(ofx: Node, version: int) -> str:
    if version >= 200:
        header = (
            '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            f'<?OFX OFXHEADER="200" VERSION="{version}" SECURITY="NONE" '
            'OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n'
        )
    else:
        header = (
            f"OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:{version}\r\nSECURITY:NONE\r\n"
            "ENCODING:USASCII\r\nCHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\n"
            "NEWFILEUID:NONE\r\n\r\n"
        )
    return header + render(ofx, version)


def ofx_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S.000[0:GMT]")


def ofx_day(day: date) -> str:
    return day.strftime("%Y%m%d")


def parse_time(text: str) -> datetime:
    """YYYYMMDD[HHMMSS[.XXX]][[+-h:TZ]] as an aware datetime."""
    match = re.match(r"(\d{8})(\d{6})?(?:\.\d+)?(?:\[([+-]?\d+(?:\.\d+)?)(?::[A-Za-z]+)?\])?", text)
    if match is None:
        raise ValueError(f"not an OFX date: {text}")
    stamp = match.group(1) + (match.group(2) or "000000")
    moment = datetime.strptime(stamp, "%Y%m%d%H%M%S")
    offset = float(match.group(3) or 0)
    return (moment - timedelta(hours=offset)).replace(tzinfo=UTC)


def status(code: int, message: str | None = None) -> Node:
    severity = "INFO" if code in (0, 3000) else "ERROR"
    return agg(
        "STATUS",
        leaf("CODE", code),
        leaf("SEVERITY", severity),
        leaf("MESSAGE", message) if message else None,
    )


# ----- the bank's data ------------------------------------------------------------------


@dataclass
class Txn:
    fitid: str
    amount: str
    posted: date
    name: str | None = None
    trntype: str = "DEBIT"
    user_day: date | None = None
    memo: str | None = None
    checknum: str | None = None
    payee: str | None = None

    def node(self) -> Node:
        payee = None
        if self.payee:
            payee = agg(
                "PAYEE",
                leaf("NAME", self.payee),
                leaf("ADDR1", "1 Main St"),
                leaf("CITY", "Springfield"),
                leaf("STATE", "IL"),
                leaf("POSTALCODE", "62701"),
                leaf("PHONE", "555-0100"),
            )
        return agg(
            "STMTTRN",
            leaf("TRNTYPE", self.trntype),
            leaf("DTPOSTED", ofx_day(self.posted) + "120000"),
            leaf("DTUSER", ofx_day(self.user_day)) if self.user_day else None,
            leaf("TRNAMT", self.amount),
            leaf("FITID", self.fitid),
            leaf("CHECKNUM", self.checknum) if self.checknum else None,
            leaf("NAME", self.name) if self.name else None,
            payee,
            leaf("MEMO", self.memo) if self.memo else None,
        )


@dataclass
class BankAccount:
    acctid: str
    desc: str
    ledger: str
    available: str
    card: bool = False
    accttype: str = "CHECKING"
    transactions: list[Txn] = field(default_factory=list)


def sample_accounts(today: date) -> list[BankAccount]:
    """A checking account with 13 months of history and a credit card."""
    checking = BankAccount(CHECKING_ID, "Everyday Checking", "1520.07", "1500.07")
    for month in range(13):
        day = today - timedelta(days=30 * month + 3)
        checking.transactions.append(
            Txn(f"CHK-PAY-{month}", "2500.00", day, "PAYROLL ACME", trntype="DIRECTDEP")
        )
        checking.transactions.append(
            Txn(f"CHK-RENT-{month}", "-1200.00", day - timedelta(days=1), "RENT", memo="Unit 4")
        )
    checking.transactions.append(
        Txn("CHK-CHECK-1234", "-75.00", today - timedelta(days=5), "CHECK 1234", "CHECK",
            checknum="1234")
    )  # fmt: skip
    card = BankAccount(CARD_ID, "Rewards Visa", "-250.50", "4749.50", card=True)
    card.transactions.extend(
        [
            Txn("CC-GROC", "-82.13", today - timedelta(days=2), "GROCERY #12",
                user_day=today - timedelta(days=4), memo="Card 4321"),
            Txn("CC-PAY", "300.00", today - timedelta(days=10), None, "PAYMENT",
                payee="Payment Thank You"),
            Txn("CC-BOOK", "-19.99", today - timedelta(days=1), "BOOKSHOP"),
        ]
    )  # fmt: skip
    return [checking, card]


# ----- the server -----------------------------------------------------------------------


@dataclass
class SignonSeen:
    """What one sign-on carried, without its secrets."""

    version: int
    xml: bool
    userid: str | None
    clientuid: str | None
    accesskey: str | None
    answered: tuple[str, ...]
    asked_challenge: bool
    closed_leaves: bool
    content_type: str | None


class OfxServer:
    """Runs on 127.0.0.1 in a thread; use as a context manager."""

    def __init__(self, *, today: date | None = None) -> None:
        self.today = today or datetime.now(UTC).date()
        self.accounts = sample_accounts(self.today)
        self.users = {USER: PASSWORD}
        self.mfa = False
        self.clientuid_required = False
        self.approved: set[str] = set()
        self.unapproved: set[str] = set()
        self.access_keys: set[str] = set()
        self.mode: str | None = None
        self.signons: list[SignonSeen] = []
        # (acctid, DTSTART, DTEND) of every statement asked for
        self.statement_asks: list[tuple[str, datetime | None, datetime | None]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/ofx"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> OfxServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    # ----- test controls ------------------------------------------------------------------

    def approve(self, clientuid: str) -> None:
        """The person approves the new client on the bank's website."""
        self.approved.add(clientuid)
        self.unapproved.discard(clientuid)

    def account(self, acctid: str) -> BankAccount:
        return next(a for a in self.accounts if a.acctid == acctid)

    def server_entry(self, inst_id: str, name: str, version: int, **extra: Any) -> dict[str, Any]:
        """This server as an entry of a BILLFOLD_OFX_SERVERS file."""
        return {
            "id": inst_id,
            "name": name,
            "url": self.url,
            "org": ORG,
            "fid": FID,
            "version": version,
            **extra,
        }

    # ----- protocol -----------------------------------------------------------------------

    def answer(self, raw: str, content_type: str | None) -> tuple[int, str]:
        if self.mode == "500":
            return 500, "Internal Server Error"
        if self.mode == "garbage":
            return 200, "<html><body>Service temporarily unavailable</body></html>"
        if self.mode == "slow":
            time.sleep(1)
        try:
            version, body = split_request(raw)
            request = parse_body(body)
        except ValueError:
            return 400, "Bad request"
        sonrq = request.find("SIGNONMSGSRQV1/SONRQ")
        if sonrq is None:
            return 400, "No SONRQ"
        with self._lock:
            code, extra, accesskey = self._signon(request, sonrq, version, raw, content_type)
        sonrs = agg(
            "SONRS",
            status(code, "Sign-on refused" if code not in (0, 3000) else None),
            leaf("DTSERVER", ofx_time(datetime.now(UTC))),
            leaf("LANGUAGE", "ENG"),
            agg("FI", leaf("ORG", ORG), leaf("FID", FID)),
            leaf("ACCESSKEY", accesskey) if accesskey else None,
        )
        messages = [agg("SIGNONMSGSRSV1", sonrs, *extra)]
        if code == 0:
            messages.extend(self._messages(request))
        return 200, document(agg("OFX", *messages), version)

    def _signon(
        self, request: Node, sonrq: Node, version: int, raw: str, content_type: str | None
    ) -> tuple[int, list[Node], str | None]:
        """(status, extra signon replies, new ACCESSKEY) for one sign-on."""
        challenge_rq = request.find("SIGNONMSGSRQV1/MFACHALLENGETRNRQ")
        given = {
            a.value("MFAPHRASEID"): a.value("MFAPHRASEA") for a in sonrq.findall("MFACHALLENGEA")
        }
        userid, clientuid = sonrq.value("USERID"), sonrq.value("CLIENTUID")
        accesskey = sonrq.value("ACCESSKEY")
        self.signons.append(
            SignonSeen(
                version=version,
                xml=version >= 200,
                userid=userid,
                clientuid=clientuid,
                accesskey=accesskey,
                answered=tuple(str(k) for k in given),
                asked_challenge=challenge_rq is not None,
                closed_leaves="</USERID>" in raw,
                content_type=content_type,
            )
        )
        if self.mode == "2000":
            return 2000, [], None
        if userid is None or self.users.get(userid) != sonrq.value("USERPASS"):
            return 15500, [], None
        if self.clientuid_required and (clientuid is None or clientuid not in self.approved):
            if clientuid:
                self.unapproved.add(clientuid)
            return 15510, [], None
        if not self.mfa or (accesskey is not None and accesskey in self.access_keys):
            return 0, [], None
        if given:
            if given != ANSWERS:
                return 3001, [], None
            key = secrets.token_hex(16)
            self.access_keys.add(key)
            return 0, [], key
        if challenge_rq is not None:
            trnuid = challenge_rq.value("TRNUID") or "0"
            challenges = [
                agg("MFACHALLENGE", leaf("MFAPHRASEID", pid), leaf("MFAPHRASELABEL", label))
                for pid, label in PHRASES
            ]
            reply = agg(
                "MFACHALLENGETRNRS",
                leaf("TRNUID", trnuid),
                status(0),
                agg("MFACHALLENGERS", *challenges),
            )
            return 3000, [reply], None
        return 3000, [], None

    def _messages(self, request: Node) -> list[Node]:
        out: list[Node] = []
        signup = request.find("SIGNUPMSGSRQV1")
        if signup is not None:
            replies = [
                agg(
                    "ACCTINFOTRNRS",
                    leaf("TRNUID", rq.value("TRNUID")),
                    status(0),
                    self._acctinfors(),
                )
                for rq in signup.findall("ACCTINFOTRNRQ")
            ]
            out.append(agg("SIGNUPMSGSRSV1", *replies))
        bank = request.find("BANKMSGSRQV1")
        if bank is not None:
            replies = [self._statement(rq, card=False) for rq in bank.findall("STMTTRNRQ")]
            out.append(agg("BANKMSGSRSV1", *replies))
        cards = request.find("CREDITCARDMSGSRQV1")
        if cards is not None:
            replies = [self._statement(rq, card=True) for rq in cards.findall("CCSTMTTRNRQ")]
            out.append(agg("CREDITCARDMSGSRSV1", *replies))
        return out

    def _acctinfors(self) -> Node:
        infos = []
        for account in self.accounts:
            flags = [
                leaf("SUPTXDL", "Y"),
                leaf("XFERSRC", "Y"),
                leaf("XFERDEST", "Y"),
                leaf("SVCSTATUS", "ACTIVE"),
            ]
            if account.card:
                info = agg("CCACCTINFO", agg("CCACCTFROM", leaf("ACCTID", account.acctid)), *flags)
            else:
                info = agg("BANKACCTINFO", self._bankacctfrom(account), *flags)
            infos.append(agg("ACCTINFO", leaf("DESC", account.desc), info))
        return agg("ACCTINFORS", leaf("DTACCTUP", ofx_time(datetime.now(UTC))), *infos)

    def _bankacctfrom(self, account: BankAccount) -> Node:
        return agg(
            "BANKACCTFROM",
            leaf("BANKID", BANK_ID),
            leaf("ACCTID", account.acctid),
            leaf("ACCTTYPE", account.accttype),
        )

    def _statement(self, trnrq: Node, *, card: bool) -> Node:
        rq = trnrq.find("CCSTMTRQ" if card else "STMTRQ")
        assert rq is not None
        source = rq.find("CCACCTFROM" if card else "BANKACCTFROM")
        acctid = source.value("ACCTID") if source is not None else None
        start_text, end_text = rq.value("INCTRAN/DTSTART"), rq.value("INCTRAN/DTEND")
        start = parse_time(start_text) if start_text else None
        end = parse_time(end_text) if end_text else datetime.now(UTC)
        self.statement_asks.append((str(acctid), start, end))
        trnuid = trnrq.value("TRNUID") or "0"
        wrapper = "CCSTMTTRNRS" if card else "STMTTRNRS"
        account = next((a for a in self.accounts if a.acctid == acctid and a.card == card), None)
        if account is None:
            return agg(wrapper, leaf("TRNUID", trnuid), status(2003, "Account not found"))
        listed = [
            t.node()
            for t in account.transactions
            if (start is None or _noon(t.posted) >= start) and _noon(t.posted) < end
        ]
        first = start or min((_noon(t.posted) for t in account.transactions), default=end)
        tranlist = agg(
            "BANKTRANLIST", leaf("DTSTART", ofx_time(first)), leaf("DTEND", ofx_time(end)), *listed
        )
        now = ofx_time(datetime.now(UTC))
        body = agg(
            "CCSTMTRS" if card else "STMTRS",
            leaf("CURDEF", "USD"),
            agg("CCACCTFROM", leaf("ACCTID", account.acctid))
            if card
            else self._bankacctfrom(account),
            tranlist,
            agg("LEDGERBAL", leaf("BALAMT", account.ledger), leaf("DTASOF", now)),
            agg("AVAILBAL", leaf("BALAMT", account.available), leaf("DTASOF", now)),
        )
        return agg(wrapper, leaf("TRNUID", trnuid), status(0), body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # request lines only, but a test server prints nothing at all

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8", "replace")
                if self.path != "/ofx":
                    code, text = 404, "Not found"
                else:
                    code, text = server.answer(raw, self.headers.get("Content-Type"))
                data = text.encode("utf-8")
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/x-ofx")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting ("slow")

        return Handler


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@contextmanager
def ofx_server(**kwargs: Any) -> Iterator[OfxServer]:
    with OfxServer(**kwargs) as server:
        yield server
