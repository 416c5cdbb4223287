"""A local SimpleFIN server, written from the protocol's public description.

Setup tokens are base64 claim URLs that work once; a claim returns an access URL
with Basic credentials; `GET /accounts` honours `start-date` (inclusive),
`end-date` (exclusive), `pending=1` and repeated `account=`. Like real servers it
refuses windows longer than `max_days` (an `errors` message, no accounts), and
`mode` makes it fail: "402", "403", "500", "slow", "errors" (a message with the
data) or "reauth" (a message saying the bank login must be renewed).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ORG = {
    "domain": "bank.example",
    "sfin-url": "https://sfin.example/simplefin",
    "name": "Example Bank",
    "url": "https://bank.example",
    "id": "org-1",
}
NOTICE = "Example Bank is slow to answer today; balances may be a day old."
REAUTH = "Example Bank: please re-authenticate your connection on SimpleFIN Bridge."


def at_noon(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp())


@dataclass
class FakeTxn:
    id: str
    amount: str
    description: str
    day: date
    pending: bool = False
    payee: str | None = None
    memo: str | None = None
    transacted: date | None = None

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "posted": 0 if self.pending else at_noon(self.day),
            "amount": self.amount,
            "description": self.description,
        }
        if self.pending:
            out["pending"] = True
        if self.payee:
            out["payee"] = self.payee
        if self.memo:
            out["memo"] = self.memo
        if self.transacted or self.pending:
            out["transacted_at"] = at_noon(self.transacted or self.day)
        return out


@dataclass
class FakeAccount:
    id: str
    name: str
    balance: str
    available: str | None = None
    currency: str = "USD"
    transactions: list[FakeTxn] = field(default_factory=list)


def sample_accounts(today: date) -> list[FakeAccount]:
    """A checking account with 13 months of history and a card with a pending purchase."""
    checking = FakeAccount("ACT-chk-1", "Everyday Checking 6789", "1520.07", "1500.07")
    for month in range(13):
        day = today - timedelta(days=30 * month + 3)
        checking.transactions.append(FakeTxn(f"chk-pay-{month}", "2500.00", "PAYROLL ACME", day))
        checking.transactions.append(
            FakeTxn(f"chk-rent-{month}", "-1200.00", "RENT", day - timedelta(days=1), payee="Rent")
        )
    checking.transactions.append(
        FakeTxn("chk-coffee", "-4.75", "COFFEE", today, pending=True, payee="Cafe")
    )
    card = FakeAccount("ACT-card-1", "Rewards Visa 4321", "-250.50", "4749.50")
    card.transactions.append(
        FakeTxn(
            "card-groc",
            "-82.13",
            "GROCERY #12",
            today - timedelta(days=2),
            transacted=today - timedelta(days=4),
            memo="Card 4321",
        )
    )
    card.transactions.append(
        FakeTxn("card-pay", "300.00", "PAYMENT THANK YOU", today - timedelta(days=10))
    )
    card.transactions.append(
        FakeTxn("card-book", "-19.99", "BOOKSHOP", today - timedelta(days=1), pending=True)
    )
    return [checking, card]


class SimpleFinServer:
    """Runs on 127.0.0.1 in a thread; use as a context manager."""

    def __init__(self, *, max_days: int = 90, today: date | None = None) -> None:
        self.max_days = max_days
        self.today = today or datetime.now(UTC).date()
        self.accounts = sample_accounts(self.today)
        self.mode: str | None = None
        self.claims: dict[str, bool] = {}  # claim path -> claimed
        self.logins: dict[str, str] = {}  # username -> password
        self.revoked: set[str] = set()
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.root = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> SimpleFinServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    # ----- test controls ------------------------------------------------------------------

    def setup_token(self) -> str:
        path = f"/claim/{secrets.token_hex(12)}"
        self.claims[path] = False
        return base64.b64encode(f"{self.root}{path}".encode()).decode()

    def account(self, account_id: str) -> FakeAccount:
        return next(a for a in self.accounts if a.id == account_id)

    def post(self, account_id: str, txn_id: str, day: date | None = None) -> None:
        """The institution posts a pending transaction under the same id."""
        txn = next(t for t in self.account(account_id).transactions if t.id == txn_id)
        txn.transacted = txn.day
        txn.pending = False
        txn.day = day or self.today

    def revoke_all(self) -> None:
        self.revoked.update(self.logins)

    def account_calls(self) -> list[dict[str, list[str]]]:
        return [q for path, q in self.requests if path.endswith("/accounts")]

    def secrets(self) -> list[str]:
        return [*self.logins, *self.logins.values()]

    # ----- protocol -----------------------------------------------------------------------

    def _claim(self, path: str) -> tuple[int, str]:
        with self._lock:
            if self.claims.get(path, True):
                return 403, "Forbidden"
            self.claims[path] = True
            user, password = f"user{secrets.token_hex(6)}", secrets.token_hex(16)
            self.logins[user] = password
        return 200, f"http://{user}:{password}@127.0.0.1:{self.port}/simplefin"

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return self.logins.get(user) == password and user not in self.revoked

    def _accounts(self, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        start = int(query["start-date"][0]) if "start-date" in query else None
        end = int(query["end-date"][0]) if "end-date" in query else None
        if start is not None and end is not None and end - start > self.max_days * 86400:
            message = f"Requested date range exceeds {self.max_days} days; ask for less."
            return 200, {"errors": [message], "accounts": []}
        pending = query.get("pending") == ["1"]
        wanted = set(query.get("account", []))
        errors = {"errors": [NOTICE], "reauth": [REAUTH]}.get(self.mode or "", [])
        accounts = []
        for account in self.accounts:
            if wanted and account.id not in wanted:
                continue
            txns = []
            for txn in account.transactions:
                if txn.pending:
                    if pending:
                        txns.append(txn.json())
                    continue
                posted = at_noon(txn.day)
                if (start is None or posted >= start) and (end is None or posted < end):
                    txns.append(txn.json())
            out: dict[str, Any] = {
                "org": ORG,
                "id": account.id,
                "name": account.name,
                "currency": account.currency,
                "balance": account.balance,
                "balance-date": at_noon(self.today),
                "transactions": txns,
            }
            if account.available is not None:
                out["available-balance"] = account.available
            accounts.append(out)
        return 200, {"errors": errors, "accounts": accounts}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: str, kind: str = "text/plain") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                parts = urlsplit(self.path)
                server.requests.append((parts.path, {}))
                if server.mode == "500":
                    self._send(500, "boom")
                    return
                self._send(*server._claim(parts.path))

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                server.requests.append((parts.path, query))
                if parts.path != "/simplefin/accounts":
                    self._send(404, "Not found")
                elif not server._authorized(self.headers.get("Authorization")):
                    self._send(403, "Forbidden")
                elif server.mode in ("402", "403", "500"):
                    self._send(int(server.mode), "Failed")
                else:
                    if server.mode == "slow":
                        time.sleep(1)
                    status, body = server._accounts(query)
                    self._send(status, json.dumps(body), "application/json")

        return Handler


@contextmanager
def simplefin_server(**kwargs: Any) -> Iterator[SimpleFinServer]:
    with SimpleFinServer(**kwargs) as server:
        yield server
