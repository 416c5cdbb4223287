"""The store on SQLite and PostgreSQL: migrations, BEGIN IMMEDIATE, integer money, cascades."""

from __future__ import annotations

import os
import threading
from datetime import date
from decimal import Decimal

from sqlalchemy import text

from billfold.domain.accounts import AccountData, AccountType
from billfold.domain.connections import Connection, ConnectionStatus
from billfold.domain.institutions import Institution, InstitutionKind
from billfold.domain.parties import Client, EndUser
from billfold.domain.snapshot import AccountSnapshot, Snapshot
from billfold.domain.transactions import TransactionData
from billfold.services.sync import apply_snapshot
from billfold.store.database import Database
from billfold.store.encryption import KeyRing
from billfold.store.ids import new_id, utcnow
from billfold.store.store import Store


def make_store(url: str) -> Store:
    store = Store(Database(url), KeyRing([os.urandom(32)]))
    store.migrate()
    store.migrate()  # idempotent
    return store


def seed_connection(store: Store) -> Connection:
    now = utcnow()
    client = Client(new_id(), "c", now)
    user = EndUser(new_id(), client.id, None, None, now)
    inst = Institution(new_id(), "Bank", InstitutionKind.BANK, "sandbox")
    connection = Connection(
        new_id(), client.id, user.id, inst.id, ConnectionStatus.PENDING, None, now, now, None, "me"
    )
    with store.write() as unit:
        unit.clients.add(client)
        unit.institutions.sync([inst], now)
        unit.flush()
        unit.users.add(user)
        unit.flush()
        unit.connections.add(connection, {"username": "me", "password": "pw-123"})
    return connection


def test_money_is_stored_as_integer_minor_units(database_url: str) -> None:
    store = make_store(database_url)
    connection = seed_connection(store)
    big = Decimal("12345678901234.57")
    snapshot = Snapshot(
        accounts=(
            AccountSnapshot(
                AccountData("a1", "Checking", AccountType.CHECKING, "0001", current_balance=big),
                (TransactionData("t1", Decimal("-0.10"), date(2024, 1, 1), "x"),),
            ),
        )
    )
    with store.write() as unit:
        apply_snapshot(
            unit, connection=connection, snapshot=snapshot, now=utcnow(), next_refresh_at=None
        )
    with store.read() as unit:
        raw = unit.session.execute(text("select current_balance from accounts")).scalar_one()
        amount = unit.session.execute(text("select amount from transactions")).scalar_one()
        account = unit.accounts.for_client(connection.client_id)[0]
    assert raw == 1234567890123457 and isinstance(raw, int)
    assert amount == -10
    assert account.data.current_balance == big
    store.close()


def test_credentials_are_encrypted_at_rest(database_url: str) -> None:
    store = make_store(database_url)
    connection = seed_connection(store)
    with store.read() as unit:
        blob = unit.session.execute(text("select credentials from connections")).scalar_one()
        assert b"pw-123" not in bytes(blob)
        assert unit.connections.credentials(connection.id)["password"] == "pw-123"
    store.close()


def test_deleting_a_connection_removes_its_data(database_url: str) -> None:
    store = make_store(database_url)
    connection = seed_connection(store)
    snapshot = Snapshot(
        accounts=(
            AccountSnapshot(
                AccountData("a1", "Checking", AccountType.CHECKING, "0001"),
                (TransactionData("t1", Decimal("1.00"), date(2024, 1, 1), "x"),),
            ),
        )
    )
    with store.write() as unit:
        apply_snapshot(
            unit, connection=connection, snapshot=snapshot, now=utcnow(), next_refresh_at=None
        )
    with store.write() as unit:
        unit.connections.delete(connection.id)
    with store.read() as unit:
        counts = [
            unit.session.execute(text(f"select count(*) from {t}")).scalar_one()
            for t in ("accounts", "transactions", "connections")
        ]
    assert counts == [0, 0, 0]
    store.close()


def test_concurrent_read_modify_write_loses_no_update(database_url: str) -> None:
    """Each writer reads a counter and writes it back + 1; BEGIN IMMEDIATE serializes them."""
    store = make_store(database_url)
    connection = seed_connection(store)
    rounds, threads = 25, 4

    def bump() -> None:
        for _ in range(rounds):
            with store.write() as unit:
                unit.session.execute(
                    text(
                        "select 1 from connections where id = :i"
                        + ("" if store.database.is_sqlite else " for update")
                    ),
                    {"i": connection.id},
                )
                current = unit.connections.attributes(connection.id).get("n", 0)
                unit.connections.set_attributes(connection.id, {"n": current + 1})

    workers = [threading.Thread(target=bump) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    with store.read() as unit:
        assert unit.connections.attributes(connection.id)["n"] == rounds * threads
    store.close()


def test_sqlite_runs_in_wal_mode(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    store = make_store(f"sqlite:///{tmp_path / 'w.db'}")
    with store.read() as unit:
        assert unit.session.execute(text("pragma journal_mode")).scalar_one() == "wal"
    store.close()


def test_a_write_inside_a_read_unit_does_not_last(database_url: str) -> None:
    store = make_store(database_url)
    connection = seed_connection(store)
    with store.read() as unit:
        unit.connections.set_attributes(connection.id, {"n": 1})
        unit.flush()
    with store.read() as unit:
        assert "n" not in unit.connections.attributes(connection.id)
    store.close()


def test_wakes_are_delivered_with_the_commit_and_never_after_a_rollback(
    database_url: str,
) -> None:
    store = make_store(database_url)
    seen: list[tuple[str, list[str], bool]] = []
    store.on_wakes(
        committing=lambda session, keys: seen.append(
            ("committing", sorted(keys), session.in_transaction())
        ),
        committed=lambda keys: seen.append(("committed", sorted(keys), False)),
    )
    try:
        with store.write() as unit:
            unit.wake("job-1")
            raise RuntimeError("the transaction fails")
    except RuntimeError:
        pass
    assert seen == []
    with store.write() as unit:
        unit.wake("job-2")
        unit.wake("job-3")
    assert seen == [
        ("committing", ["job-2", "job-3"], True),
        ("committed", ["job-2", "job-3"], False),
    ]
    with store.write():
        pass  # no wakes: nobody is called
    assert len(seen) == 2
    store.close()
