"""In-process wake-ups on `asyncio.Event`, for the embedded backend (one process)."""

from __future__ import annotations

import asyncio
import contextlib
import threading


class LocalWatch:
    """One waiter's interest in a key; see `Wakeups.watch`."""

    def __init__(self, owner: LocalWakeups, key: str) -> None:
        self._owner = owner
        self._key = key
        self._event = asyncio.Event()
        owner._waiters.setdefault(key, set()).add(self._event)

    async def wait(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(max(timeout, 0.0)):
                await self._event.wait()
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        waiters = self._owner._waiters.get(self._key)
        if waiters is not None:
            waiters.discard(self._event)
            if not waiters:
                del self._owner._waiters[self._key]

    def __enter__(self) -> LocalWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalWakeups:
    """`notify` may come from any thread; waiters run on the event loop given at start."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def notify(self, key: str) -> None:
        if self._loop is None or threading.get_ident() == self._loop_thread:
            self._set(key)
        else:
            with contextlib.suppress(RuntimeError):  # loop closed: nobody is waiting
                self._loop.call_soon_threadsafe(self._set, key)

    def _set(self, key: str) -> None:
        for event in self._waiters.get(key, ()):
            event.set()

    def watch(self, key: str) -> LocalWatch:
        return LocalWatch(self, key)

    async def wait(self, key: str, timeout: float) -> bool:
        with self.watch(key) as watch:
            return await watch.wait(timeout)

    def notify_all(self) -> None:
        for key in list(self._waiters):
            self.notify(key)

    @property
    def waiting(self) -> int:
        return sum(len(events) for events in self._waiters.values())
