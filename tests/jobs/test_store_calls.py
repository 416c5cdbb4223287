"""Where jobs' store calls run: threads overlap their waits, and a cancelled caller
never walks away from a transaction that is still open."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from billfold.container import store_calls
from billfold.jobs.store_calls import InlineStoreCalls, ThreadedStoreCalls
from conftest import make_settings


async def test_inline_calls_run_on_the_event_loop_thread() -> None:
    calls = InlineStoreCalls()
    assert await calls.run(threading.get_ident) == threading.get_ident()


async def test_threaded_calls_overlap_so_one_wait_does_not_hold_up_another() -> None:
    calls = ThreadedStoreCalls(2)
    both_inside = threading.Barrier(2, timeout=5)
    try:
        # Each call blocks until the other is inside too: only possible if they overlap.
        results = await asyncio.gather(
            calls.run(lambda: both_inside.wait() >= 0), calls.run(lambda: both_inside.wait() >= 0)
        )
        assert results == [True, True]
        assert await calls.run(threading.get_ident) != threading.get_ident()
    finally:
        calls.close()


async def test_threaded_calls_pass_errors_through() -> None:
    calls = ThreadedStoreCalls(1)

    def fails() -> None:
        raise LookupError("no such job")

    try:
        with pytest.raises(LookupError, match="no such job"):
            await calls.run(fails)
    finally:
        calls.close()


async def test_a_cancelled_caller_waits_until_its_work_has_ended() -> None:
    calls = ThreadedStoreCalls(1)
    ended: list[float] = []

    def slow() -> None:
        time.sleep(0.3)
        ended.append(time.monotonic())

    try:
        task = asyncio.create_task(calls.run(slow))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The cancellation surfaced only once the work was done.
        assert len(ended) == 1 and ended[0] <= time.monotonic()
    finally:
        calls.close()


def test_threads_are_the_default_on_postgresql_and_configurable(tmp_path: Path) -> None:
    sqlite = f"sqlite:///{tmp_path / 'b.db'}"
    postgres = "postgresql://postgres@127.0.0.1:5432/test"
    assert isinstance(store_calls(make_settings(tmp_path, sqlite)), InlineStoreCalls)
    for settings in (
        make_settings(tmp_path, postgres),
        make_settings(tmp_path, postgres, job_backend="procrastinate"),
        make_settings(tmp_path, sqlite, store_threads=3),
    ):
        threaded = store_calls(settings)
        assert isinstance(threaded, ThreadedStoreCalls)
        threaded.close()
    inline = store_calls(make_settings(tmp_path, postgres, store_threads=0))
    assert isinstance(inline, InlineStoreCalls)
    with pytest.raises(ValueError):
        ThreadedStoreCalls(0)
