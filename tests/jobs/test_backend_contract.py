"""Contract tests every `JobBackend` and `Wakeups` implementation must pass.

To add an implementation, add a factory to BACKENDS / WAKEUPS; each test gets a
fresh database (SQLite file and PostgreSQL, through `database_url`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from billfold.domain.jobs import JobQueue
from billfold.jobs.backend import JobBackend, TaskCall, Wakeups
from billfold.jobs.embedded import EmbeddedJobBackend
from billfold.jobs.pg_wakeups import PgWakeups
from billfold.jobs.procrastinate_backend import ProcrastinateJobBackend, ensure_schema
from billfold.jobs.wakeups import LocalWakeups
from billfold.store.database import Database
from billfold.store.migrate import upgrade
from billfold.store.tables import TaskRow

BackendFactory = Callable[[Database], JobBackend]


def _procrastinate(db: Database) -> JobBackend:
    ensure_schema(db)
    return ProcrastinateJobBackend(
        db,
        heartbeat_seconds=0.3,
        stalled_after_seconds=1.0,
        retry_base_seconds=1,
        poll_seconds=0.1,
        concurrency={JobQueue.INTERACTIVE: 50, JobQueue.REFRESH: 1, JobQueue.WEBHOOKS: 2},
    )


BACKENDS: dict[str, BackendFactory] = {
    "procrastinate": _procrastinate,
    "embedded": lambda db: EmbeddedJobBackend(
        db,
        lease_seconds=0.6,
        retry_base_seconds=0.05,
        idle_poll_seconds=0.05,
        concurrency={JobQueue.INTERACTIVE: 50, JobQueue.REFRESH: 1, JobQueue.WEBHOOKS: 2},
    ),
}


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    upgrade(db)
    yield db
    db.dispose()


def skip_unsupported(name: str, database: Database) -> None:
    if name == "procrastinate" and database.is_sqlite:
        pytest.skip("procrastinate runs on PostgreSQL only")


def simulate_crash(name: str, backend: JobBackend, database: Database) -> None:
    """The process dies mid-task: it stops renewing its lease or heartbeat."""
    if name == "embedded":
        for loop_task in list(getattr(backend, "_loops", [])):
            loop_task.cancel()
        with database.write() as session:
            session.execute(update(TaskRow).values(lease_expires_at=None))
    else:
        for loop_task in list(getattr(backend, "_loops", [])):
            if loop_task.get_name() == "stalled":
                loop_task.cancel()
        with database.engine.begin() as connection:
            connection.execute(
                text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")
            )


@pytest.fixture(params=sorted(BACKENDS))
async def backend(request: pytest.FixtureRequest, database: Database) -> AsyncIterator[JobBackend]:
    skip_unsupported(request.param, database)
    made = BACKENDS[request.param](database)
    yield made
    await made.stop()


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_enqueued_task_runs_with_its_arguments(backend: JobBackend) -> None:
    seen: list[Mapping[str, str]] = []

    async def handler(args: Mapping[str, str]) -> None:
        seen.append(dict(args))

    backend.register("echo", handler)
    await backend.start()
    assert backend.enqueue(TaskCall("echo", {"job_id": "j1"})) is not None
    await until(lambda: seen == [{"job_id": "j1"}])


async def test_dedupe_key_drops_a_second_task_while_the_first_is_pending(
    backend: JobBackend,
) -> None:
    release = asyncio.Event()
    runs: list[str] = []

    async def handler(args: Mapping[str, str]) -> None:
        runs.append(args["n"])
        await release.wait()

    backend.register("once", handler)
    await backend.start()
    assert backend.enqueue(TaskCall("once", {"n": "1"}, dedupe_key="k")) is not None
    await until(lambda: runs == ["1"])
    assert backend.enqueue(TaskCall("once", {"n": "2"}, dedupe_key="k")) is None
    release.set()
    await asyncio.sleep(0.2)
    assert backend.enqueue(TaskCall("once", {"n": "3"}, dedupe_key="k")) is not None
    await until(lambda: runs == ["1", "3"])


async def test_run_at_delays_and_cancel_drops_an_unstarted_task(backend: JobBackend) -> None:
    runs: list[str] = []

    async def handler(args: Mapping[str, str]) -> None:
        runs.append(args["n"])

    backend.register("later", handler)
    await backend.start()
    from billfold.store.ids import utcnow

    backend.enqueue(TaskCall("later", {"n": "soon"}, run_at=utcnow() + timedelta(seconds=0.3)))
    dropped = backend.enqueue(
        TaskCall("later", {"n": "never"}, run_at=utcnow() + timedelta(seconds=0.3))
    )
    assert dropped is not None and backend.cancel(dropped)
    assert not backend.cancel(dropped)
    await asyncio.sleep(0.1)
    assert runs == []
    await until(lambda: runs == ["soon"])
    await asyncio.sleep(0.4)
    assert runs == ["soon"]


async def test_a_failing_task_is_retried(backend: JobBackend) -> None:
    attempts: list[int] = []

    async def flaky(_: Mapping[str, str]) -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("transient")

    backend.register("flaky", flaky)
    await backend.start()
    backend.enqueue(TaskCall("flaky"))
    await until(lambda: len(attempts) == 3, timeout=15)


async def test_a_busy_refresh_queue_does_not_hold_up_interactive_work(backend: JobBackend) -> None:
    release = asyncio.Event()
    done: list[str] = []

    async def slow(_: Mapping[str, str]) -> None:
        await release.wait()

    async def quick(args: Mapping[str, str]) -> None:
        done.append(args["n"])

    backend.register("slow", slow)
    backend.register("quick", quick)
    await backend.start()
    for _ in range(5):
        backend.enqueue(TaskCall("slow", queue=JobQueue.REFRESH))
    backend.enqueue(TaskCall("quick", {"n": "person"}, queue=JobQueue.INTERACTIVE))
    await until(lambda: done == ["person"])
    release.set()


async def test_periodic_task_runs_repeatedly(backend: JobBackend) -> None:
    ticks: list[float] = []

    async def tick() -> None:
        ticks.append(time.monotonic())

    backend.add_periodic("tick", timedelta(seconds=0.05), tick)
    await backend.start()
    await until(lambda: len(ticks) >= 3)


@pytest.mark.parametrize("name", sorted(BACKENDS))
async def test_tasks_left_running_by_a_dead_process_run_again(
    database: Database, name: str
) -> None:
    skip_unsupported(name, database)
    first = BACKENDS[name](database)
    started = asyncio.Event()

    async def hang(_: Mapping[str, str]) -> None:
        started.set()
        await asyncio.sleep(3600)

    first.register("work", hang)
    await first.start()
    first.enqueue(TaskCall("work", {"n": name}))
    await asyncio.wait_for(started.wait(), 5)
    simulate_crash(name, first, database)
    second = BACKENDS[name](database)
    finished: list[str] = []

    async def work(args: Mapping[str, str]) -> None:
        finished.append(args["n"])

    second.register("work", work)
    await second.start()
    await until(lambda: finished == [name], timeout=15)
    await second.stop()
    await first.stop()


async def test_live_keys_name_only_queued_or_running_tasks(backend: JobBackend) -> None:
    release = asyncio.Event()
    running = asyncio.Event()

    async def hold(_: Mapping[str, str]) -> None:
        running.set()
        await release.wait()

    backend.register("hold", hold)
    await backend.start()
    backend.enqueue(TaskCall("hold", dedupe_key="a"))
    await asyncio.wait_for(running.wait(), 5)
    from billfold.store.ids import utcnow

    backend.enqueue(TaskCall("hold", dedupe_key="b", run_at=utcnow() + timedelta(hours=1)))
    assert backend.live_keys(["a", "b", "c"]) == {"a", "b"}
    release.set()
    await until(lambda: backend.live_keys(["a"]) == set())


@pytest.fixture(params=["local", "postgres"])
async def wakeups(request: pytest.FixtureRequest) -> AsyncIterator[Wakeups]:
    if request.param == "local":
        local = LocalWakeups()
        local.bind(asyncio.get_running_loop())
        yield local
        return
    db = Database(request.getfixturevalue("postgres_url"))
    remote = PgWakeups(db, "test_wakeups")
    await remote.start()
    yield remote
    await remote.stop()
    db.dispose()


async def test_notify_wakes_the_waiter_and_wait_times_out(wakeups: Wakeups) -> None:
    waiter = asyncio.create_task(wakeups.wait("job-1", 5))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    wakeups.notify("job-1")
    assert await waiter is True
    assert time.monotonic() - started < 1
    assert await wakeups.wait("job-2", 0.05) is False


async def test_notify_from_another_thread(wakeups: Wakeups) -> None:
    waiter = asyncio.create_task(wakeups.wait("job-3", 5))
    await asyncio.sleep(0.05)
    await asyncio.to_thread(wakeups.notify, "job-3")
    assert await asyncio.wait_for(waiter, 2) is True


async def test_a_watch_catches_a_notification_sent_before_its_wait(wakeups: Wakeups) -> None:
    """The session's pattern: watch, read the store on a thread, then wait. An answer
    notified while the read runs must still wake it at once."""
    with wakeups.watch("job-4") as watch:
        await asyncio.to_thread(wakeups.notify, "job-4")  # lands "during the read"
        await asyncio.sleep(0.2)  # delivered (PostgreSQL: through the listener) by now
        started = time.monotonic()
        assert await watch.wait(5) is True
        assert time.monotonic() - started < 0.5
    with wakeups.watch("job-5") as first, wakeups.watch("job-5") as second:
        wakeups.notify("job-5")
        assert await first.wait(2) is True
        assert await second.wait(2) is True  # every watcher of a key wakes
    assert await wakeups.wait("job-5", 0.05) is False  # a closed watch keeps nothing


async def test_postgres_wakeups_cross_processes(postgres_url: str) -> None:
    """A notification sent through one connection wakes a waiter listening on another."""
    listener_db, sender_db = Database(postgres_url), Database(postgres_url)
    listener = PgWakeups(listener_db, "test_cross")
    sender = PgWakeups(sender_db, "test_cross")  # never started: like an API process
    seen: list[list[str]] = []
    listener_with_hook = PgWakeups(listener_db, "test_cross", on_keys=seen.append)
    await listener.start()
    await listener_with_hook.start()
    try:
        waiter = asyncio.create_task(listener.wait("job-9", 5))
        await asyncio.sleep(0.05)
        await asyncio.to_thread(sender.notify_many, ["job-9", "job-10"])
        assert await asyncio.wait_for(waiter, 3) is True
        await until(lambda: seen == [["job-9", "job-10"]])
    finally:
        await listener.stop()
        await listener_with_hook.stop()
        listener_db.dispose()
        sender_db.dispose()
