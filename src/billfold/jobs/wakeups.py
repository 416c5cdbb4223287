"""In-process wake-ups on `asyncio.Event`, for the embedded backend (one process)."""

from __future__ import annotations

import asyncio
import contextlib
import threading


class LocalWakeups:
    """`notify` may come from any thread; waiters run on the event loop given at start."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}
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
        event = self._events.get(key)
        if event is not None:
            event.set()

    async def wait(self, key: str, timeout: float) -> bool:
        event = self._events.get(key)
        if event is None:
            event = self._events[key] = asyncio.Event()
        try:
            async with asyncio.timeout(max(timeout, 0.0)):
                await event.wait()
            return True
        except TimeoutError:
            return False
        finally:
            if self._events.get(key) is event:
                del self._events[key]

    def notify_all(self) -> None:
        for key in list(self._events):
            self.notify(key)

    @property
    def waiting(self) -> int:
        return len(self._events)
