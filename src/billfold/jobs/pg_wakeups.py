"""Wake-ups across processes with PostgreSQL LISTEN/NOTIFY (ids only, never secrets).

`notify` may be called from any process; every process listening on the channel
wakes its local waiters. A listener that loses its connection reconnects and
wakes everyone, so waiters re-read the store instead of missing a notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable

import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from billfold.jobs.procrastinate_backend import libpq_url
from billfold.jobs.wakeups import LocalWakeups, LocalWatch
from billfold.store.database import Database

log = logging.getLogger("billfold.jobs")

# NOTIFY payloads are limited to 8000 bytes; ids are 36 characters.
_BATCH = 150


class PgWakeups:
    def __init__(
        self, database: Database, channel: str, on_keys: Callable[[list[str]], None] | None = None
    ) -> None:
        self._db = database
        self._channel = channel
        self._local = LocalWakeups()
        self._on_keys = on_keys
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def notify(self, key: str) -> None:
        self.notify_many([key])

    def notify_many(self, keys: Iterable[str]) -> None:
        with self._db.engine.begin() as connection:
            self.notify_within(connection, keys)

    def notify_within(self, connection: Connection | Session, keys: Iterable[str]) -> None:
        """NOTIFY inside the caller's transaction: delivered when, and only if, it commits."""
        batch = list(keys)
        for start in range(0, len(batch), _BATCH):
            connection.execute(
                text("SELECT pg_notify(:c, :p)"),
                {"c": self._channel, "p": ",".join(batch[start : start + _BATCH])},
            )

    async def wait(self, key: str, timeout: float) -> bool:
        return await self._local.wait(key, timeout)

    def watch(self, key: str) -> LocalWatch:
        return self._local.watch(key)

    async def start(self) -> None:
        self._local.bind(asyncio.get_running_loop())
        self._task = asyncio.create_task(self._listen(), name=f"listen:{self._channel}")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await self._ready.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _deliver(self, keys: list[str]) -> None:
        for key in keys:
            self._local.notify(key)
        if self._on_keys is not None:
            self._on_keys(keys)

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    libpq_url(self._db.url), autocommit=True
                ) as connection:
                    await connection.execute(f'LISTEN "{self._channel}"')
                    self._ready.set()
                    self._wake_all()  # anything sent while we were away: re-check
                    delay = 0.2
                    async for note in connection.notifies():
                        self._deliver([k for k in note.payload.split(",") if k])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "wake-up listener lost its connection (%s); reconnecting", type(exc).__name__
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _wake_all(self) -> None:
        self._local.notify_all()
