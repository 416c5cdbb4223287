"""Statement lines into the transactions table, as fast as the database takes them.

An import may bring a million lines in one write transaction. On SQLite each batch
goes in as one statement: the lines' varying fields travel as a single JSON array
parameter that SQLite expands itself with `json_each`, the constant columns are bound
once, and ids are computed in SQL from the import's prefix and each line's serial.
That binds one parameter per batch instead of several per line, needs no staging
table, and sends only the fields a batch has (see `_Shape`).

The statement also runs without the GIL (sqlite3 releases it while SQLite works), so
it runs on a second thread while the caller reads and prepares the next batch: at
most one batch in flight and one being built, so memory stays flat in file size.
The connection is only ever used by one thread at a time: the caller calls
`settle()` before it touches the session again, and leaving the `with` block waits
for the batch in flight before the transaction commits or rolls back. (SQLite
connections are opened with `check_same_thread=False`; see `store.database`.)
With a core to spare this overlaps reading and inserting; on a busy machine the
two threads share one core and an import runs about as fast as without the thread.

PostgreSQL takes each batch through the driver's `executemany`, in the caller's thread.
Either way "already imported" is decided by the unique (account, external id)
index: `ON CONFLICT DO NOTHING` skips a repeat and the row count says how many were new.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from types import TracebackType
from typing import Any

from sqlalchemy.orm import Session

from billfold.store.data import _INSERT_COLUMNS as INSERT_COLUMNS
from billfold.store.data import _sqlite_datetime as sqlite_datetime

# One line: (external id, amount in minor units, date (ISO text on SQLite), description,
# pending, payee, memo, check number). Texts are cut to their columns' lengths here.
LineRow = tuple[str, int, object, str, bool, str | None, str | None, str | None]

_COLUMNS = ", ".join(INSERT_COLUMNS)
_CONFLICT = "ON CONFLICT (account_id, external_id) DO NOTHING"
_PENDING, _PAYEE, _MEMO, _CHECK = 4, 5, 6, 7
_DESCRIPTION = 3
_NAMES = ("external_id", "amount", "day", "description", "pending", "payee", "memo", "check_")


@dataclass(frozen=True, slots=True)
class _Shape:
    """Which of a batch's optional fields travel to SQLite; the rest are constants.

    Reading a field from a line's JSON array is most of the statement's own cost, and
    most files have no pending lines, memos or check numbers, and an OFX payee is the
    description again: a batch sends only what it has.
    """

    pending: bool
    payee: str  # "none" (all NULL), "description" (each the line's description), "own"
    memo: bool
    check: bool

    @property
    def fields(self) -> tuple[int, ...]:
        """The row positions sent, in order."""
        optional = (
            (_PENDING, self.pending),
            (_PAYEE, self.payee == "own"),
            (_MEMO, self.memo),
            (_CHECK, self.check),
        )
        return (0, 1, 2, _DESCRIPTION, *(i for i, sent in optional if sent))

    def insert(self) -> str:
        # The inner query reads each field once (json_extract is as fast as `->>` and
        # older); its OFFSET keeps SQLite from folding it into the outer one, which
        # would read the description twice when it is the payee too.
        fields = self.fields
        read = ", ".join(
            f"json_extract(value, '$[{i}]') AS {_NAMES[field]}" for i, field in enumerate(fields)
        )
        status = "'posted'"
        if self.pending:
            status = "CASE WHEN pending THEN 'pending' ELSE 'posted' END"
        payee = {"none": "NULL", "description": "description", "own": "payee"}[self.payee]
        memo = "memo" if self.memo else "NULL"
        check = "check_" if self.check else "NULL"
        return (
            f"INSERT INTO transactions ({_COLUMNS}) "
            f"SELECT ?1 || printf('%012x', ?2 + serial), ?3, ?4, external_id, amount, ?5, "
            f"{status}, day, NULL, substr(description, 1, 500), substr({payee}, 1, 200), NULL, "
            f"substr({memo}, 1, 500), substr({check}, 1, 32), NULL, NULL, ?6, ?6 "
            f"FROM (SELECT key AS serial, {read} FROM json_each(?7) LIMIT -1 OFFSET 0) "
            # `WHERE true` tells the parser the ON CONFLICT is the upsert's, not a join's.
            f"WHERE true {_CONFLICT}"
        )


def _shape_of(rows: Sequence[LineRow]) -> _Shape:
    # Whole columns at a time: these run in C, a few nanoseconds a line.
    size = len(rows)
    payees = list(map(itemgetter(_PAYEE), rows))
    payee = "none"
    if payees.count(None) != size:
        same = payees == list(map(itemgetter(_DESCRIPTION), rows))
        payee = "description" if same else "own"
    return _Shape(
        pending=any(map(itemgetter(_PENDING), rows)),
        payee=payee,
        memo=list(map(itemgetter(_MEMO), rows)).count(None) != size,
        check=list(map(itemgetter(_CHECK), rows)).count(None) != size,
    )


class LineInserter:
    """Inserts one import's lines, batch by batch, in the caller's write transaction.

    Ids are the import's random 24-character prefix followed by each line's serial
    (1, 2, ... in the order `add` receives them) as 12 hex digits: unique, and the
    primary-key index appends instead of splitting pages at random.
    """

    def __init__(self, session: Session, *, client_id: str, at: datetime) -> None:
        connection = session.connection()
        self.sqlite = connection.dialect.name == "sqlite"
        self._driver: Any = connection.connection.driver_connection
        self._client_id = client_id
        self._prefix = str(uuid.uuid4())[:24]
        self._serial = 0
        self._added: dict[str, int] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: tuple[str, Future[int]] | None = None
        if self.sqlite:
            self._stamp: object = sqlite_datetime(at)
            self._encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
            self._statements: dict[_Shape, str] = {}
        else:
            self._stamp = at
            self._pg_insert = (
                f"INSERT INTO transactions ({_COLUMNS}) "
                f"VALUES ({', '.join(['%s'] * len(INSERT_COLUMNS))}) {_CONFLICT}"
            )

    def __enter__(self) -> LineInserter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self.settle()
            elif self._in_flight is not None:
                # The transaction is about to roll back: let the batch finish first,
                # its own failure (if any) giving way to the one already raised.
                wait_for([self._in_flight[1]])
                self._in_flight = None
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def add(self, *, account_id: str, currency: str, rows: Sequence[LineRow]) -> None:
        """Queue one account's lines; the caller may reuse `rows` as soon as this returns."""
        if not rows:
            return
        first = self._serial + 1
        self._serial += len(rows)
        if not self.sqlite:
            self._add_pg(account_id, currency, first, rows)
            return
        shape = _shape_of(rows)
        statement = self._statements.get(shape)
        if statement is None:
            statement = self._statements[shape] = shape.insert()
        fields = shape.fields
        sent = rows if len(fields) == len(rows[0]) else list(map(itemgetter(*fields), rows))
        params = (
            self._prefix, first, self._client_id, account_id, currency, self._stamp,
            self._encode(sent),
        )  # fmt: skip
        self._collect()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="billfold-import")
        self._in_flight = (account_id, self._pool.submit(self._run, statement, params))
        # Hand the GIL over now: the import thread needs it only to bind the batch and
        # start the statement, and would otherwise wait for the interpreter's switch
        # interval while this thread reads on.
        time.sleep(0)

    def settle(self) -> dict[str, int]:
        """Wait until every queued line is in; how many were new, by account id.

        Call it before using the session again: until then the connection may be busy.
        """
        self._collect()
        return self._added

    def _collect(self) -> None:
        if self._in_flight is None:
            return
        account_id, future = self._in_flight
        self._in_flight = None
        self._added[account_id] = self._added.get(account_id, 0) + future.result()

    def _run(self, statement: str, params: tuple[object, ...]) -> int:
        # On the import thread; the caller's thread leaves the connection alone meanwhile.
        cursor = self._driver.cursor()
        try:
            cursor.execute(statement, params)
            added: int = cursor.rowcount
            return added
        finally:
            cursor.close()

    def _add_pg(self, account_id: str, currency: str, first: int, rows: Sequence[LineRow]) -> None:
        prefix, client_id, stamp = self._prefix, self._client_id, self._stamp
        full = [
            (f"{prefix}{n:012x}", client_id, account_id, external_id, minor, currency,
             "pending" if pending else "posted", day, None, text[:500], payee and payee[:200],
             None, memo and memo[:500], check and check[:32], None, None, stamp, stamp)
            for n, (external_id, minor, day, text, pending, payee, memo, check)
            in enumerate(rows, start=first)
        ]  # fmt: skip
        cursor = self._driver.cursor()
        try:
            cursor.executemany(self._pg_insert, full)
            added: int = cursor.rowcount
        finally:
            cursor.close()
        self._added[account_id] = self._added.get(account_id, 0) + added
