"""The store: read and write units of work that hand services their repositories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from billfold.store.connections import ConnectionRepository
from billfold.store.data import AccountRepository, TransactionRepository
from billfold.store.database import Database
from billfold.store.encryption import KeyRing
from billfold.store.institutions import InstitutionRepository
from billfold.store.jobs import JobRepository
from billfold.store.migrate import upgrade
from billfold.store.outbox import OutboxRepository
from billfold.store.parties import ClientRepository, UserRepository


class Unit:
    """One transaction's worth of repositories."""

    def __init__(self, session: Session, keys: KeyRing) -> None:
        self.session = session
        self.touched_jobs: set[str] = set()
        self.new_deliveries: set[str] = set()
        self.wake_keys: set[str] = set()
        self.clients = ClientRepository(session)
        self.users = UserRepository(session)
        self.institutions = InstitutionRepository(session)
        self.connections = ConnectionRepository(session, keys, self.touched_jobs)
        self.jobs = JobRepository(session, keys, self.touched_jobs)
        self.accounts = AccountRepository(session, keys)
        self.transactions = TransactionRepository(session)
        self.outbox = OutboxRepository(session, keys, self.new_deliveries)

    def flush(self) -> None:
        self.session.flush()

    def wake(self, key: str) -> None:
        """Wake whoever waits on `key` (a parked job session) once this transaction
        commits: it then reads what the transaction wrote."""
        self.wake_keys.add(key)


class Store:
    def __init__(self, database: Database, keys: KeyRing) -> None:
        self.database = database
        self.keys = keys
        self._job_listeners: list[Callable[[set[str]], None]] = []
        self._job_commit_hooks: list[Callable[[Session, set[str]], None]] = []
        self._delivery_listeners: list[Callable[[set[str]], None]] = []
        self._wake_hooks: list[Callable[[Session, set[str]], None]] = []
        self._wake_listeners: list[Callable[[set[str]], None]] = []

    def on_jobs_committing(self, hook: Callable[[Session, set[str]], None]) -> None:
        """Call `hook` inside a write transaction that changed jobs, just before it commits.

        For work that must commit or roll back with the change, such as PostgreSQL
        NOTIFYs (delivered at commit), which then cost no transaction of their own.
        """
        self._job_commit_hooks.append(hook)

    def on_jobs_changed(self, listener: Callable[[set[str]], None]) -> None:
        """Call `listener` with the ids of jobs a write transaction changed, after it commits."""
        self._job_listeners.append(listener)

    def on_wakes(
        self,
        *,
        committing: Callable[[Session, set[str]], None] | None = None,
        committed: Callable[[set[str]], None] | None = None,
    ) -> None:
        """Deliver the keys of `Unit.wake`: `committing` inside the transaction just
        before it commits (a PostgreSQL NOTIFY, sent at commit), `committed` after it."""
        if committing is not None:
            self._wake_hooks.append(committing)
        if committed is not None:
            self._wake_listeners.append(committed)

    def migrate(self) -> None:
        upgrade(self.database)

    def on_deliveries_created(self, listener: Callable[[set[str]], None]) -> None:
        """Call `listener` with ids of webhook deliveries a transaction created, after commit."""
        self._delivery_listeners.append(listener)

    @contextmanager
    def read(self) -> Iterator[Unit]:
        with self.database.read() as session:
            yield Unit(session, self.keys)

    @contextmanager
    def write(self) -> Iterator[Unit]:
        """A write transaction (`BEGIN IMMEDIATE` on SQLite): commits on success."""
        with self.database.write() as session:
            unit = Unit(session, self.keys)
            yield unit
            if unit.touched_jobs:
                for hook in self._job_commit_hooks:
                    hook(session, unit.touched_jobs)
            if unit.wake_keys:
                for hook in self._wake_hooks:
                    hook(session, unit.wake_keys)
        if unit.wake_keys:
            for listener in self._wake_listeners:
                listener(unit.wake_keys)
        if unit.touched_jobs:
            for listener in self._job_listeners:
                listener(unit.touched_jobs)
        if unit.new_deliveries:
            for listener in self._delivery_listeners:
                listener(unit.new_deliveries)

    def close(self) -> None:
        self.database.dispose()
