"""The scale-out job backend: procrastinate on PostgreSQL, behind the `JobBackend` protocol.

Any number of API processes enqueue; any number of worker processes run tasks
(`billfold worker`, or `billfold serve` with workers). Procrastinate brings
asyncio workers, LISTEN/NOTIFY, retries and heartbeats; Billfold adds:

- Enqueueing from synchronous code through procrastinate's versioned SQL function
  (`procrastinate_defer_jobs_v1`) on Billfold's own connection pool, with our
  dedupe rule (no second task while one with the same key is queued or running).
- One worker loop per queue, each with its own concurrency, so a refresh storm
  never takes the places of people waiting on a screen.
- Crash recovery: tasks whose worker stopped heartbeating are retried by the
  survivors; a killed worker's parked sessions therefore resume elsewhere.
- Periodic tasks at any period: each worker process offers a run on every tick
  and procrastinate's queueing lock keeps at most one waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import procrastinate
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from billfold.domain.jobs import JobQueue
from billfold.jobs.backend import PeriodicHandler, TaskCall, TaskHandler
from billfold.jobs.embedded import DEFAULT_CONCURRENCY
from billfold.store.database import Database

log = logging.getLogger("billfold.jobs")

PERIODIC_QUEUE = JobQueue.WEBHOOKS


def libpq_url(url: str) -> str:
    """psycopg wants a plain `postgresql://` URL (no SQLAlchemy driver suffix)."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


def ensure_schema(database: Database) -> None:
    """Install procrastinate's tables and functions once (idempotent)."""
    with database.engine.begin() as connection:
        # One installer at a time when several processes start together.
        connection.execute(text("SELECT pg_advisory_xact_lock(7452209361)"))
        if connection.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar():
            return
        schema = procrastinate.schema.SchemaManager.get_schema()
        connection.exec_driver_sql(schema.replace("%", "%%"))


class ProcrastinateJobBackend:
    def __init__(
        self,
        database: Database,
        *,
        run_workers: bool = True,
        concurrency: Mapping[JobQueue, int] | None = None,
        heartbeat_seconds: float = 5.0,
        stalled_after_seconds: float = 30.0,
        max_attempts: int = 5,
        retry_base_seconds: float = 2.0,
        poll_seconds: float = 2.0,
    ) -> None:
        if database.is_sqlite:
            raise ValueError("the procrastinate backend needs PostgreSQL (BILLFOLD_DATABASE_URL)")
        self._db = database
        self._run_workers = run_workers
        self._concurrency = dict(concurrency or DEFAULT_CONCURRENCY)
        self._heartbeat = heartbeat_seconds
        self._stalled_after = stalled_after_seconds
        self._poll = poll_seconds
        self._retry = procrastinate.RetryStrategy(
            max_attempts=max_attempts, exponential_wait=int(max(retry_base_seconds, 1))
        )
        self._app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(conninfo=libpq_url(database.url))
        )
        self._periodic: list[tuple[str, timedelta, PeriodicHandler]] = []
        self._loops: list[asyncio.Task[None]] = []
        self._opened = False

    # protocol -----------------------------------------------------------------------------

    def register(self, name: str, handler: TaskHandler) -> None:
        async def run(**kwargs: Any) -> None:
            await handler({k: str(v) for k, v in kwargs.items()})

        self._app.task(name=name, retry=self._retry, pass_context=False)(run)

    def add_periodic(self, name: str, every: timedelta, handler: PeriodicHandler) -> None:
        async def run(**_: Any) -> None:
            await handler()

        self._app.task(name=f"periodic:{name}", pass_context=False)(run)
        self._periodic.append((name, every, handler))

    def enqueue(self, call: TaskCall) -> str | None:
        return self._defer(call.name, dict(call.args), call.queue, call.dedupe_key, call.run_at)

    def _defer(
        self, name: str, args: Mapping[str, str], queue: JobQueue, key: str | None, run_at: Any
    ) -> str | None:
        try:
            with self._db.engine.begin() as connection:
                if key is not None:
                    busy = connection.execute(
                        text(
                            "SELECT 1 FROM procrastinate_jobs WHERE queueing_lock = :k "
                            "AND status IN ('todo', 'doing') LIMIT 1"
                        ),
                        {"k": key},
                    ).first()
                    if busy is not None:
                        return None
                job_id = connection.execute(
                    text(
                        "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, "
                        ":lock, :qlock, CAST(:args AS jsonb), :at)"
                        "::procrastinate_job_to_defer_v1]))"
                    ),
                    {
                        "queue": queue.value,
                        "task": name,
                        "lock": key,
                        "qlock": key,
                        "args": json.dumps(dict(args)),
                        "at": run_at,
                    },
                ).scalar_one()
        except IntegrityError:
            return None  # the same key was queued in the meantime
        return str(job_id)

    def cancel(self, task_id: str) -> bool:
        try:
            job_id = int(task_id)
        except ValueError:
            return False
        with self._db.engine.begin() as connection:
            cancelled = connection.execute(
                text("SELECT procrastinate_cancel_job_v1(:id, false, false)"), {"id": job_id}
            ).scalar()
        return cancelled is not None

    def live_keys(self, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        with self._db.engine.connect() as connection:
            for start in range(0, len(keys), 500):
                found.update(
                    connection.execute(
                        text(
                            "SELECT queueing_lock FROM procrastinate_jobs "
                            "WHERE queueing_lock = ANY(:k) AND status IN ('todo', 'doing')"
                        ),
                        {"k": list(keys[start : start + 500])},
                    ).scalars()
                )
        return found

    async def start(self) -> None:
        await self._app.open_async()
        self._opened = True
        if not self._run_workers:
            return
        for queue, concurrency in self._concurrency.items():
            self._loops.append(
                asyncio.create_task(
                    self._app.run_worker_async(
                        queues=[queue.value],
                        concurrency=concurrency,
                        name=f"billfold-{queue.value}",
                        install_signal_handlers=False,
                        update_heartbeat_interval=self._heartbeat,
                        stalled_worker_timeout=self._stalled_after,
                        fetch_job_polling_interval=self._poll,
                        shutdown_graceful_timeout=1.0,
                        delete_jobs="successful",
                    ),
                    name=f"worker:{queue.value}",
                )
            )
        self._loops.append(asyncio.create_task(self._recover_stalled(), name="stalled"))
        for name, every, _ in self._periodic:
            self._loops.append(asyncio.create_task(self._offer(name, every), name=name))

    async def stop(self) -> None:
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops.clear()
        if self._opened:
            await self._app.close_async()
            self._opened = False

    # internals ----------------------------------------------------------------------------

    async def _offer(self, name: str, every: timedelta) -> None:
        while True:
            await asyncio.sleep(every.total_seconds())
            self._defer(f"periodic:{name}", {}, PERIODIC_QUEUE, f"periodic:{name}", None)

    async def _recover_stalled(self) -> None:
        """Retry tasks whose worker died (no heartbeat): its parked sessions resume here."""
        while True:
            await asyncio.sleep(max(self._heartbeat, 0.5))
            with contextlib.suppress(Exception):
                stalled = await self._app.job_manager.get_stalled_jobs(
                    seconds_since_heartbeat=self._stalled_after
                )
                for job in stalled:
                    log.info("retrying task %s left by a worker that stopped", job.id)
                    await self._app.job_manager.retry_job(job)
