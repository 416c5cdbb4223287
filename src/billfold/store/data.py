"""Repository of accounts and transactions; money goes in and out as integer minor units."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import RowMapping, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from billfold.domain.accounts import Account, AccountData, AccountType, Holder
from billfold.domain.money import from_minor, to_minor
from billfold.domain.snapshot import StoredTransaction
from billfold.domain.transactions import Transaction, TransactionData, TransactionStatus
from billfold.store.core import connection as ordered_connection
from billfold.store.core import execute, table, update_row
from billfold.store.encryption import KeyRing
from billfold.store.tables import AccountRow, TransactionRow

ACCOUNTS = table(AccountRow)
TRANSACTIONS = table(TransactionRow)
_ACCOUNT_ROWS = select(ACCOUNTS).where(ACCOUNTS.c.connection_id == bindparam("connection_id"))
_ADD_ACCOUNT = insert(ACCOUNTS)
_DEACTIVATE = (
    update(ACCOUNTS)
    .where(
        ACCOUNTS.c.connection_id == bindparam("b_connection_id"),
        ACCOUNTS.c.is_active.is_(True),
        ACCOUNTS.c.external_id.not_in(bindparam("keep", expanding=True)),
    )
    .values(is_active=False, updated_at=bindparam("at", type_=ACCOUNTS.c.updated_at.type))
)
_DIFF_ALL = select(TRANSACTIONS).where(
    TRANSACTIONS.c.account_id.in_(bindparam("account_ids", expanding=True))
)
_DIFF_SINCE = _DIFF_ALL.where(
    (TRANSACTIONS.c.date >= bindparam("since", type_=TRANSACTIONS.c.date.type))
    | (TRANSACTIONS.c.status == TransactionStatus.PENDING.value)
)

_INSERT_COLUMNS = (
    "id", "client_id", "account_id", "external_id", "amount", "currency", "status", "date",
    "posted_date", "description", "merchant", "category", "memo", "check_number",
    "pending_external_id", "pending_transaction_id", "created_at", "updated_at",
)  # fmt: skip


_SQLITE_INSERT = (
    f"INSERT INTO transactions ({', '.join(_INSERT_COLUMNS)}) "
    f"VALUES ({', '.join(['?'] * len(_INSERT_COLUMNS))})"
)
_PG_COPY = f"COPY transactions ({', '.join(_INSERT_COLUMNS)}) FROM STDIN"


def _sqlite_datetime(at: datetime) -> str:
    """How SQLAlchemy stores a (UTC) datetime in SQLite, for driver-level inserts."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


_MONEY_FIELDS = (
    "current_balance",
    "available_balance",
    "credit_limit",
    "amount_due",
    "minimum_payment",
)


def _sensitive_context(account_id: str) -> str:
    return f"account:{account_id}:sensitive"


class AccountRepository:
    def __init__(self, session: Session, keys: KeyRing) -> None:
        self._s = session
        self._keys = keys

    def for_connection(self, connection_id: str) -> dict[str, AccountRow]:
        rows = self._s.scalars(select(AccountRow).where(AccountRow.connection_id == connection_id))
        return {r.external_id: r for r in rows}

    def rows_for_connection(self, connection_id: str) -> dict[str, RowMapping]:
        """The connection's account rows by external id, as plain rows (the sync path)."""
        rows = execute(self._s, _ACCOUNT_ROWS, {"connection_id": connection_id}).mappings()
        return {r["external_id"]: r for r in rows}

    def upsert(
        self,
        *,
        existing: RowMapping | None,
        new_id: str,
        client_id: str,
        user_id: str,
        connection_id: str,
        data: AccountData,
        at: datetime,
    ) -> tuple[str, bool]:
        """Insert or update one account; returns (account id, balance changed).

        `existing` is the account's row from `rows_for_connection`, or None for a new one.
        """
        values: dict[str, Any] = {
            "name": data.name,
            "type": data.type.value,
            "holder": data.holder.value,
            "mask": data.mask[-4:],
            "currency": data.currency,
            "due_date": data.due_date,
            "is_active": True,
        }
        for name in _MONEY_FIELDS:
            amount = getattr(data, name)
            values[name] = None if amount is None else to_minor(amount, data.currency)
        account_id = existing["id"] if existing is not None else new_id
        sensitive = {
            "full_number": data.full_number,
            "routing_number": data.routing_number,
            "owner_name": data.owner_name,
        }
        if existing is None:
            execute(
                self._s,
                _ADD_ACCOUNT,
                {
                    "id": account_id,
                    "client_id": client_id,
                    "user_id": user_id,
                    "connection_id": connection_id,
                    "external_id": data.external_id,
                    "created_at": at,
                    "updated_at": at,
                    "balance_updated_at": at,
                    "sensitive": self._keys.encrypt_json(
                        sensitive, context=_sensitive_context(account_id)
                    ),
                    **values,
                },
            )
            return account_id, True
        balance_changed = any(existing[n] != values[n] for n in _MONEY_FIELDS)
        changed = balance_changed or any(existing[k] != v for k, v in values.items())
        if self._decrypt_blob(existing["sensitive"], account_id) != sensitive:
            values["sensitive"] = self._keys.encrypt_json(
                sensitive, context=_sensitive_context(account_id)
            )
            changed = True
        if not changed:
            return account_id, False
        values["updated_at"] = at
        if balance_changed:
            values["balance_updated_at"] = at
        update_row(self._s, ACCOUNTS, "id", account_id, **values)
        return account_id, balance_changed

    def deactivate_missing(
        self, connection_id: str, keep_external_ids: set[str], at: datetime
    ) -> int:
        params = {"b_connection_id": connection_id, "keep": sorted(keep_external_ids), "at": at}
        result = execute(self._s, _DEACTIVATE, params)
        return int(result.rowcount)  # type: ignore[attr-defined]

    def get(
        self, account_id: str, client_id: str | None = None, *, sensitive: bool = False
    ) -> Account | None:
        row = self._s.get(AccountRow, account_id)
        if row is None or (client_id is not None and row.client_id != client_id):
            return None
        return self._account(row, sensitive=sensitive)

    def for_client(
        self,
        client_id: str,
        *,
        user_id: str | None = None,
        connection_id: str | None = None,
        include_inactive: bool = False,
        sensitive: bool = False,
    ) -> list[Account]:
        query = select(AccountRow).where(AccountRow.client_id == client_id)
        if user_id is not None:
            query = query.where(AccountRow.user_id == user_id)
        if connection_id is not None:
            query = query.where(AccountRow.connection_id == connection_id)
        if not include_inactive:
            query = query.where(AccountRow.is_active.is_(True))
        query = query.order_by(AccountRow.created_at, AccountRow.name, AccountRow.id)
        return [self._account(r, sensitive=sensitive) for r in self._s.scalars(query)]

    def rewrap_all(self, keys: KeyRing) -> int:
        count = 0
        for row in self._s.scalars(select(AccountRow).where(AccountRow.sensitive.is_not(None))):
            assert row.sensitive is not None
            row.sensitive = keys.rewrap(row.sensitive, context=_sensitive_context(row.id))
            count += 1
        return count

    def _decrypt_sensitive(self, row: AccountRow) -> dict[str, Any]:
        return self._decrypt_blob(row.sensitive, row.id)

    def _decrypt_blob(self, blob: bytes | None, account_id: str) -> dict[str, Any]:
        if blob is None:
            return {}
        return dict(self._keys.decrypt_json(blob, context=_sensitive_context(account_id)))

    def _account(self, row: AccountRow, *, sensitive: bool) -> Account:
        secret = self._decrypt_sensitive(row) if sensitive else {}
        money = {
            n: (None if getattr(row, n) is None else from_minor(getattr(row, n), row.currency))
            for n in _MONEY_FIELDS
        }
        data = AccountData(
            external_id=row.external_id,
            name=row.name,
            type=AccountType(row.type),
            mask=row.mask,
            currency=row.currency,
            holder=Holder(row.holder),
            due_date=row.due_date,
            full_number=secret.get("full_number"),
            routing_number=secret.get("routing_number"),
            owner_name=secret.get("owner_name"),
            **money,
        )
        return Account(
            id=row.id,
            client_id=row.client_id,
            user_id=row.user_id,
            connection_id=row.connection_id,
            data=data,
            created_at=row.created_at,
            updated_at=row.updated_at,
            balance_updated_at=row.balance_updated_at,
            is_active=row.is_active,
        )


def _txn_data(row: RowMapping) -> TransactionData:
    return TransactionData(
        external_id=row["external_id"],
        amount=from_minor(row["amount"], row["currency"]),
        date=row["date"],
        description=row["description"],
        status=TransactionStatus(row["status"]),
        currency=row["currency"],
        posted_date=row["posted_date"],
        merchant=row["merchant"],
        category=row["category"],
        memo=row["memo"],
        check_number=row["check_number"],
        pending_external_id=row["pending_external_id"],
    )


def _txn_values(data: TransactionData) -> dict[str, Any]:
    return {
        "external_id": data.external_id,
        "amount": to_minor(data.amount, data.currency),
        "currency": data.currency,
        "status": data.status.value,
        "date": data.date,
        "posted_date": data.posted_date,
        "description": data.description[:500],
        "merchant": data.merchant,
        "category": data.category,
        "memo": data.memo,
        "check_number": data.check_number,
        "pending_external_id": data.pending_external_id,
    }


class TransactionRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def stored_for_diff(
        self, windows: Mapping[str, date | None]
    ) -> dict[str, list[StoredTransaction]]:
        """Stored transactions a snapshot could match, by account: those on or after the
        account's window start (all when None), and every pending one.

        One query per distinct window start: a snapshot's accounts usually share one.
        """
        found: dict[str, list[StoredTransaction]] = {account_id: [] for account_id in windows}
        by_since: dict[date | None, list[str]] = {}
        for account_id, since in windows.items():
            by_since.setdefault(since, []).append(account_id)
        for since, account_ids in by_since.items():
            if since is None:
                result = execute(self._s, _DIFF_ALL, {"account_ids": account_ids})
            else:
                result = execute(self._s, _DIFF_SINCE, {"account_ids": account_ids, "since": since})
            for r in result.mappings():
                found[r["account_id"]].append(StoredTransaction(r["id"], _txn_data(r)))
        return found

    def insert_many(
        self, rows: Sequence[tuple[str, str, str, TransactionData, str | None]], at: datetime
    ) -> None:
        """rows: (id, client id, account id, data, id of the pending transaction it replaces)."""
        if not rows:
            return
        # Driver-level: the ORM's and Core's per-row bookkeeping cost more than the
        # database's own insert (a link inserts hundreds of rows). SQLite takes one
        # executemany; PostgreSQL one COPY, which costs it and the driver about 40%
        # less than an executemany's statement per row.
        connection = ordered_connection(self._s)
        sqlite = connection.dialect.name == "sqlite"
        # Naive UTC, as `UtcDateTime` stores it on both databases.
        stamp: object = _sqlite_datetime(at) if sqlite else at.astimezone(UTC).replace(tzinfo=None)
        params = []
        for tid, cid, aid, data, pid in rows:
            day: object = data.date.isoformat() if sqlite else data.date
            posted: object = data.posted_date
            if sqlite and data.posted_date is not None:
                posted = data.posted_date.isoformat()
            params.append(
                (
                    tid,
                    cid,
                    aid,
                    data.external_id,
                    to_minor(data.amount, data.currency),
                    data.currency,
                    data.status.value,
                    day,
                    posted,
                    data.description[:500],
                    data.merchant,
                    data.category,
                    data.memo,
                    data.check_number,
                    data.pending_external_id,
                    pid,
                    stamp,
                    stamp,
                )
            )
        if sqlite:
            connection.exec_driver_sql(_SQLITE_INSERT, params)
            return
        driver: Any = connection.connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(_PG_COPY) as copy:
            for row in params:
                copy.write_row(row)

    def update(self, transaction_id: str, data: TransactionData, at: datetime) -> None:
        update_row(self._s, TRANSACTIONS, "id", transaction_id, **_txn_values(data), updated_at=at)

    def delete_many(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), 500):
            execute(
                self._s,
                delete(TRANSACTIONS).where(TRANSACTIONS.c.id.in_(ids[start : start + 500])),
            )

    def get(self, transaction_id: str, client_id: str) -> Transaction | None:
        query = select(TRANSACTIONS).where(TRANSACTIONS.c.id == transaction_id)
        row = execute(self._s, query).mappings().first()
        if row is None or row["client_id"] != client_id:
            return None
        return self._transaction(row)

    def page(
        self,
        client_id: str,
        *,
        account_ids: Sequence[str] | None,
        start: date | None,
        end: date | None,
        after: tuple[date, str] | None,
        limit: int,
        status: TransactionStatus | None = None,
    ) -> list[Transaction]:
        """Newest first (date, then id, descending); `after` = last row of the previous page."""
        t = TRANSACTIONS.c
        query = select(TRANSACTIONS).where(t.client_id == client_id)
        if account_ids is not None:
            query = query.where(t.account_id.in_(list(account_ids)))
        if start is not None:
            query = query.where(t.date >= start)
        if end is not None:
            query = query.where(t.date <= end)
        if status is not None:
            query = query.where(t.status == status.value)
        if after is not None:
            last_date, last_id = after
            query = query.where((t.date < last_date) | ((t.date == last_date) & (t.id < last_id)))
        query = query.order_by(t.date.desc(), t.id.desc()).limit(limit)
        return [self._transaction(r) for r in execute(self._s, query).mappings()]

    def count(self, account_id: str) -> int:
        return int(
            self._s.scalar(
                select(func.count())
                .select_from(TransactionRow)
                .where(TransactionRow.account_id == account_id)
            )
            or 0
        )

    @staticmethod
    def _transaction(row: RowMapping) -> Transaction:
        return Transaction(
            id=row["id"],
            client_id=row["client_id"],
            account_id=row["account_id"],
            data=_txn_data(row),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            pending_transaction_id=row["pending_transaction_id"],
        )
