"""Clients page events by seq (`GET /v1/events?after=`): a reader that has moved past
a seq must never later find a lower one. With concurrent writers on PostgreSQL, a
transaction that drew a lower seq could otherwise commit after one that drew a higher."""

from __future__ import annotations

import os
import threading
import time

from billfold.domain.parties import Client
from billfold.store.database import Database
from billfold.store.encryption import KeyRing
from billfold.store.ids import new_id, utcnow
from billfold.store.store import Store


def make_store(url: str) -> Store:
    store = Store(Database(url), KeyRing([os.urandom(32)]))
    store.migrate()
    return store


def seed_client(store: Store) -> str:
    client = Client(new_id(), "c", utcnow())
    with store.write() as unit:
        unit.clients.add(client)
    return client.id


def _emit_and_hold(
    store: Store, client_id: str, emitted: threading.Event, release: threading.Event
) -> None:
    with store.write() as unit:
        unit.outbox.emit(client_id, "job.succeeded", {"job_id": "first"}, utcnow())
        emitted.set()
        assert release.wait(10)


def test_a_later_event_never_becomes_visible_before_an_earlier_one(database_url: str) -> None:
    store = make_store(database_url)
    client_id = seed_client(store)
    emitted, release = threading.Event(), threading.Event()
    first = threading.Thread(target=_emit_and_hold, args=(store, client_id, emitted, release))
    first.start()
    assert emitted.wait(10)
    second_done = threading.Event()

    def second() -> None:
        with store.write() as unit:
            unit.outbox.emit(client_id, "job.succeeded", {"job_id": "second"}, utcnow())
        second_done.set()

    other = threading.Thread(target=second)
    other.start()
    try:
        # The second writer waits for the first (on SQLite for the database lock, on
        # PostgreSQL for the client's event lock), so a reader never sees it alone.
        time.sleep(0.3)
        with store.read() as unit:
            seen = unit.outbox.events_after(client_id, 0, 100)
        assert [e.data["job_id"] for e in seen] == []
        assert not second_done.is_set()
    finally:
        release.set()
        first.join(10)
        other.join(10)
    with store.read() as unit:
        seen = unit.outbox.events_after(client_id, 0, 100)
    assert [e.data["job_id"] for e in seen] == ["first", "second"]
    assert seen[0].seq < seen[1].seq
    store.close()


def test_other_clients_events_do_not_wait(postgres_url: str) -> None:
    store = make_store(postgres_url)
    busy, free = seed_client(store), seed_client(store)
    emitted, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_emit_and_hold, args=(store, busy, emitted, release))
    holder.start()
    try:
        assert emitted.wait(10)
        with store.write() as unit:  # returns at once: another client's lock
            unit.outbox.emit(free, "job.succeeded", {"job_id": new_id()}, utcnow())
        with store.read() as unit:
            assert len(unit.outbox.events_after(free, 0, 10)) == 1
    finally:
        release.set()
        holder.join(10)
        store.close()
