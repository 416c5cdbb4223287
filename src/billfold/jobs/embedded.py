"""The embedded job backend: an asyncio runner on the app's own database.

Tasks are rows of the `tasks` table, claimed inside write transactions
(`BEGIN IMMEDIATE` on SQLite, `FOR UPDATE SKIP LOCKED` on PostgreSQL) with a
lease that a heartbeat renews. A process that dies leaves leases to expire;
the next start puts those tasks back in the queue. Each queue has its own
worker loop and concurrency limit, so refreshes and webhook deliveries never
take the places of people waiting on a screen. Parked sessions are asyncio
tasks: thousands of them cost only memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from billfold.domain.jobs import JobQueue
from billfold.jobs.backend import PeriodicHandler, TaskCall, TaskHandler
from billfold.store.core import table
from billfold.store.database import Database
from billfold.store.ids import new_id, utcnow
from billfold.store.tables import TaskRow

log = logging.getLogger("billfold.jobs")

DEFAULT_CONCURRENCY: dict[JobQueue, int] = {
    JobQueue.INTERACTIVE: 10_000,
    JobQueue.REFRESH: 16,
    JobQueue.WEBHOOKS: 16,
}


class TaskState:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


TASKS = table(TaskRow)


@dataclass(frozen=True, slots=True)
class ClaimedTask:
    id: str
    queue: JobQueue
    name: str
    args: Mapping[str, str]
    attempts: int  # including this run


class EmbeddedJobBackend:
    def __init__(
        self,
        database: Database,
        *,
        concurrency: Mapping[JobQueue, int] | None = None,
        lease_seconds: float = 60.0,
        max_attempts: int = 5,
        retry_base_seconds: float = 2.0,
        idle_poll_seconds: float = 1.0,
    ) -> None:
        self._db = database
        self._concurrency = dict(concurrency or DEFAULT_CONCURRENCY)
        self._lease = timedelta(seconds=lease_seconds)
        self._max_attempts = max_attempts
        self._retry_base = retry_base_seconds
        self._idle_poll = idle_poll_seconds
        self._owner = new_id()
        self._handlers: dict[str, TaskHandler] = {}
        self._periodic: list[tuple[str, timedelta, PeriodicHandler]] = []
        self._signals: dict[JobQueue, asyncio.Event] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._stopping = False
        # Ends of tasks not yet written; see `_finish`.
        self._ended: list[tuple[str, dict[str, object]]] = []
        self._ending = False

    # protocol -----------------------------------------------------------------------------

    def register(self, name: str, handler: TaskHandler) -> None:
        self._handlers[name] = handler

    def add_periodic(self, name: str, every: timedelta, handler: PeriodicHandler) -> None:
        self._periodic.append((name, every, handler))

    def enqueue(self, call: TaskCall) -> str | None:
        now = utcnow()
        task_id = new_id()
        with self._db.write() as session:
            if call.dedupe_key is not None:
                existing = session.scalar(
                    select(TaskRow.id)
                    .where(
                        TaskRow.dedupe_key == call.dedupe_key,
                        TaskRow.status.in_([TaskState.QUEUED, TaskState.RUNNING]),
                    )
                    .limit(1)
                )
                if existing is not None:
                    return None
            session.add(
                TaskRow(
                    id=task_id,
                    queue=call.queue.value,
                    name=call.name,
                    args=dict(call.args),
                    dedupe_key=call.dedupe_key,
                    status=TaskState.QUEUED,
                    run_at=call.run_at or now,
                    attempts=0,
                    created_at=now,
                )
            )
        self._signal(call.queue)
        return task_id

    def cancel(self, task_id: str) -> bool:
        with self._db.write() as session:
            result = session.execute(
                update(TaskRow)
                .where(TaskRow.id == task_id, TaskRow.status == TaskState.QUEUED)
                .values(status=TaskState.CANCELLED, finished_at=utcnow())
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def live_keys(self, keys: Sequence[str]) -> set[str]:
        found: set[str | None] = set()
        with self._db.read() as session:
            for start in range(0, len(keys), 500):
                found.update(
                    session.scalars(
                        select(TaskRow.dedupe_key).where(
                            TaskRow.dedupe_key.in_(list(keys[start : start + 500])),
                            TaskRow.status.in_([TaskState.QUEUED, TaskState.RUNNING]),
                        )
                    ).all()
                )
        return {k for k in found if k is not None}

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._stopping = False
        recovered = self._recover()
        if recovered:
            log.info("re-queued %d task(s) left running by a previous process", recovered)
        for queue in self._concurrency:
            self._signals[queue] = asyncio.Event()
            self._loops.append(asyncio.create_task(self._worker(queue), name=f"queue:{queue}"))
        self._loops.append(asyncio.create_task(self._heartbeat(), name="leases"))
        for name, every, handler in self._periodic:
            self._loops.append(
                asyncio.create_task(self._every(name, every, handler), name=f"periodic:{name}")
            )

    async def stop(self) -> None:
        self._stopping = True
        for task in self._loops:
            task.cancel()
        running = list(self._running.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*self._loops, *running, return_exceptions=True)
        self._loops.clear()
        self._write_ended()
        # Hand unfinished work back so the next start runs it at once.
        with self._db.write() as session:
            session.execute(
                update(TaskRow)
                .where(TaskRow.status == TaskState.RUNNING, TaskRow.lease_owner == self._owner)
                .values(status=TaskState.QUEUED, lease_owner=None, lease_expires_at=None)
            )
        self._running.clear()

    # introspection (tests, benchmarks) ----------------------------------------------------

    @property
    def active_tasks(self) -> int:
        return len(self._running)

    def counts(self) -> dict[str, int]:
        with self._db.read() as session:
            rows = session.execute(select(TaskRow.status, TaskRow.id)).all()
        result: dict[str, int] = {}
        for status, _ in rows:
            result[status] = result.get(status, 0) + 1
        return result

    # internals ----------------------------------------------------------------------------

    def _signal(self, queue: JobQueue) -> None:
        event = self._signals.get(queue)
        if event is None or self._loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            event.set()
        else:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(event.set)

    def _recover(self) -> int:
        now = utcnow()
        with self._db.write() as session:
            result = session.execute(
                update(TaskRow)
                .where(
                    TaskRow.status == TaskState.RUNNING,
                    (TaskRow.lease_expires_at.is_(None)) | (TaskRow.lease_expires_at < now),
                )
                .values(
                    status=TaskState.QUEUED, lease_owner=None, lease_expires_at=None, run_at=now
                )
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def _claim(self, queue: JobQueue, limit: int) -> list[ClaimedTask]:
        now = utcnow()
        with self._db.write() as session:
            query = (
                select(TASKS.c.id, TASKS.c.name, TASKS.c.args, TASKS.c.attempts)
                .where(
                    TASKS.c.status == TaskState.QUEUED,
                    TASKS.c.queue == queue.value,
                    TASKS.c.run_at <= now,
                )
                .order_by(TASKS.c.run_at, TASKS.c.created_at)
                .limit(limit)
            )
            if not self._db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            claimed = [
                ClaimedTask(id=r[0], queue=queue, name=r[1], args=r[2], attempts=r[3] + 1)
                for r in session.execute(query)
            ]
            if claimed:
                session.execute(
                    update(TASKS)
                    .where(TASKS.c.id.in_([t.id for t in claimed]))
                    .values(
                        status=TaskState.RUNNING,
                        lease_owner=self._owner,
                        lease_expires_at=now + self._lease,
                        attempts=TASKS.c.attempts + 1,
                    )
                )
            return claimed

    def _next_run_at(self, queue: JobQueue) -> datetime | None:
        with self._db.read() as session:
            return session.scalar(
                select(TaskRow.run_at)
                .where(TaskRow.status == TaskState.QUEUED, TaskRow.queue == queue.value)
                .order_by(TaskRow.run_at)
                .limit(1)
            )

    async def _worker(self, queue: JobQueue) -> None:
        signal = self._signals[queue]
        limit = self._concurrency[queue]
        while not self._stopping:
            signal.clear()
            free = limit - sum(1 for t in self._running.values() if t.get_name() == queue.value)
            claimed = self._claim(queue, min(free, 500)) if free > 0 else []
            for claim in claimed:
                task = asyncio.create_task(self._execute(claim), name=queue.value)
                self._running[claim.id] = task
            if len(claimed) == min(free, 500) and free > 0:
                await asyncio.sleep(0)  # more may be due: claim again after yielding
                continue
            wait = self._idle_poll
            next_at = self._next_run_at(queue)
            if next_at is not None:
                wait = min(wait, max((next_at - utcnow()).total_seconds(), 0.0))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await signal.wait()

    async def _execute(self, task: ClaimedTask) -> None:
        handler = self._handlers.get(task.name)
        error: str | None = None
        try:
            if handler is None:
                error = f"no handler registered for task {task.name!r}"
            else:
                await handler(task.args)
        except asyncio.CancelledError:
            self._running.pop(task.id, None)
            raise
        except Exception as exc:
            # Only the type: messages may carry values we must not persist.
            error = type(exc).__name__
            log.warning("task %s (%s) failed with %s", task.id, task.name, error)
        self._running.pop(task.id, None)
        self._finish(task, error)
        if handler is not None:
            self._signal(task.queue)

    def _finish(self, task: ClaimedTask, error: str | None) -> None:
        """Record a task's end with the others that end in this turn of the event loop.

        Many parked jobs resume at once after a burst of answers; one transaction for
        all the tasks that end together keeps that bookkeeping off their critical path.
        A crash before the write only leaves a task `running`: its lease expires, it
        runs again, and the job it runs is already finished, so that run does nothing.
        """
        now = utcnow()
        if error is None:
            values: dict[str, object] = {
                "status": TaskState.DONE,
                "finished_at": now,
                "lease_owner": None,
            }
        elif task.attempts < self._max_attempts and task.name in self._handlers:
            delay = self._retry_base * 2 ** (task.attempts - 1) * (0.5 + random.random())
            values = {
                "status": TaskState.QUEUED,
                "run_at": now + timedelta(seconds=delay),
                "lease_owner": None,
                "lease_expires_at": None,
                "last_error": error,
            }
        else:
            values = {
                "status": TaskState.FAILED,
                "finished_at": now,
                "lease_owner": None,
                "last_error": error,
            }
        self._ended.append((task.id, values))
        if self._loop is None:
            self._write_ended()
        elif not self._ending:
            self._ending = True
            self._loop.call_soon(self._write_ended)

    def _write_ended(self) -> None:
        self._ending = False
        ended, self._ended = self._ended, []
        if not ended:
            return
        done = [task_id for task_id, values in ended if values["status"] == TaskState.DONE]
        with self._db.write() as session:
            if done:
                finished_at = next(v["finished_at"] for _, v in ended if v["status"] == "done")
                for start in range(0, len(done), 500):
                    session.execute(
                        update(TASKS)
                        .where(TASKS.c.id.in_(done[start : start + 500]))
                        .values(status=TaskState.DONE, finished_at=finished_at, lease_owner=None)
                    )
            for task_id, values in ended:
                if values["status"] != TaskState.DONE:
                    session.execute(update(TASKS).where(TASKS.c.id == task_id).values(values))

    async def _heartbeat(self) -> None:
        period = max(self._lease.total_seconds() / 3, 0.05)
        while not self._stopping:
            await asyncio.sleep(period)
            if self._running:
                with self._db.write() as session:
                    session.execute(
                        update(TaskRow)
                        .where(
                            TaskRow.lease_owner == self._owner, TaskRow.status == TaskState.RUNNING
                        )
                        .values(lease_expires_at=utcnow() + self._lease)
                    )
            # A process that died mid-task stops renewing; its tasks come back here.
            if self._recover():
                for queue in self._signals:
                    self._signal(queue)
            self._purge()

    def _purge(self) -> None:
        cutoff = utcnow() - timedelta(days=1)
        with self._db.write() as session:
            session.execute(
                delete(TaskRow).where(
                    TaskRow.status.in_([TaskState.DONE, TaskState.CANCELLED]),
                    TaskRow.finished_at < cutoff,
                )
            )

    async def _every(self, name: str, every: timedelta, handler: PeriodicHandler) -> None:
        while not self._stopping:
            await asyncio.sleep(every.total_seconds())
            try:
                await handler()
            except Exception as exc:
                log.warning("periodic task %s failed with %s", name, type(exc).__name__)
