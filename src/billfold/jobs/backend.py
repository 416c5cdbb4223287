"""The two seams between Billfold's job logic and whatever engine runs tasks.

The meaning of a job (its state machine, challenges, checkpoints) lives in our
tables; an engine only runs named tasks with small id-only arguments. The
embedded engine (`jobs.embedded`) is the default; a scale-out engine on
PostgreSQL implements the same protocols and passes the same contract tests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from billfold.domain.jobs import JobQueue

TaskHandler = Callable[[Mapping[str, str]], Awaitable[None]]
PeriodicHandler = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class TaskCall:
    """One task to run: a registered name, id-only arguments (never secrets), a queue."""

    name: str
    args: Mapping[str, str] = field(default_factory=dict)
    queue: JobQueue = JobQueue.INTERACTIVE
    # While a task with this key is queued or running, enqueueing another is a no-op.
    dedupe_key: str | None = None
    run_at: datetime | None = None


class JobBackend(Protocol):
    def register(self, name: str, handler: TaskHandler) -> None:
        """Name a coroutine that runs tasks of that name."""
        ...

    def add_periodic(self, name: str, every: timedelta, handler: PeriodicHandler) -> None:
        """Run `handler` every `every` while workers run (at most once at a time)."""
        ...

    def enqueue(self, call: TaskCall) -> str | None:
        """Queue a task; returns its id, or None when its dedupe key is already queued/running.

        Safe to call from any thread; returns once the task is durably queued.
        """
        ...

    def cancel(self, task_id: str) -> bool:
        """Drop a task that has not started; True if it was dropped."""
        ...

    def live_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these dedupe keys have a task queued or running (one query per batch)."""
        ...

    async def start(self) -> None:
        """Recover tasks orphaned by a previous process, then start running workers."""
        ...

    async def stop(self) -> None:
        """Stop workers; tasks still running are handed back to the queue."""
        ...


class Watch(Protocol):
    """Interest in one key, registered before the caller reads the state it guards."""

    async def wait(self, timeout: float) -> bool:
        """Wait until the key is notified (at any time since the watch began) or
        `timeout` seconds pass; True if notified."""
        ...

    def __enter__(self) -> Watch: ...

    def __exit__(self, *exc: object) -> None: ...


class Wakeups(Protocol):
    """Notify / wait on "something happened to X" (an answer arrived for job X).

    Carries keys only, never secrets; waiters re-read state from the store.
    """

    def notify(self, key: str) -> None: ...

    async def wait(self, key: str, timeout: float) -> bool:
        """Wait until `key` is notified or `timeout` seconds pass; True if notified."""
        ...

    def watch(self, key: str) -> Watch:
        """Start watching `key` now, then read the store, then `wait`: a notification
        that comes while the read runs (on another thread, say) is not missed."""
        ...
