"""Where a running job's store calls run: on the event loop, or on a few threads.

The store is synchronous. A job's store calls are short, but on PostgreSQL each one
waits for round trips; run on the event loop, those waits stop every other job in
the process, so one worker finishes jobs one at a time however many are ready.
On threads they overlap: while one job waits on the database, another runs
(the driver releases the GIL while it waits).

On SQLite the embedded backend keeps them on the loop: writers take turns on the
database lock anyway, and a call there costs less than a hop to a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

T = TypeVar("T")


class StoreCalls(Protocol):
    async def run(self, work: Callable[[], T]) -> T:
        """Run `work` (synchronous store code) and return what it returns.

        If the caller is cancelled, `work` still runs to its end (a transaction is
        never left half done) and the cancellation is raised once it has.
        """
        ...

    def close(self) -> None: ...


class InlineStoreCalls:
    """Runs store calls right on the event loop."""

    async def run(self, work: Callable[[], T]) -> T:
        return work()

    def close(self) -> None:
        return None


class ThreadedStoreCalls:
    """Runs store calls on a small pool of threads, so database waits overlap."""

    def __init__(self, threads: int) -> None:
        if threads < 1:
            raise ValueError("store call threads must be at least 1")
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="billfold-store")

    async def run(self, work: Callable[[], T]) -> T:
        future = asyncio.get_running_loop().run_in_executor(self._pool, work)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # The thread cannot be stopped; callers that serialize on this call (a
            # session's lock) must not go on while its transaction is still open.
            with contextlib.suppress(BaseException):
                await asyncio.wait([future])
            raise

    def close(self) -> None:
        self._pool.shutdown(wait=True)
