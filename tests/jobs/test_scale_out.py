"""Scale-out mode with real processes: an API process that only enqueues, worker processes
on PostgreSQL (procrastinate), answers routed across processes, and a worker killed mid-job."""

from __future__ import annotations

import base64
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flows import answer, link, ok, start_link, wait_job
from processes import BillfoldProcess, create_client, free_port


@pytest.fixture
def env(tmp_path: Path, postgres_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "BILLFOLD_DATA_DIR": str(tmp_path),
        "BILLFOLD_DATABASE_URL": postgres_url,
        "BILLFOLD_JOB_BACKEND": "procrastinate",
        "BILLFOLD_SECRET_KEY": base64.b64encode(os.urandom(32)).decode(),
        "BILLFOLD_WORKER_HEARTBEAT_SECONDS": "0.5",
        "BILLFOLD_WORKER_STALLED_SECONDS": "2",
        "BILLFOLD_RECOVER_JOBS_SECONDS": "1",
        "BILLFOLD_LOG_LEVEL": "warning",
    }


@pytest.fixture
def cluster(env: dict[str, str]) -> Iterator[tuple[BillfoldProcess, str]]:
    api_key = create_client(env)
    api_process = BillfoldProcess(env, "serve", "--workers", "0", port=free_port()).start()
    try:
        yield api_process, api_key
    finally:
        api_process.kill()


def test_answers_posted_to_the_api_process_wake_sessions_in_a_worker(
    cluster: tuple[BillfoldProcess, str], env: dict[str, str]
) -> None:
    api_process, api_key = cluster
    worker = BillfoldProcess(env, "worker").start()
    try:
        with httpx.Client(
            base_url=api_process.url, timeout=10, headers={"Authorization": f"Bearer {api_key}"}
        ) as api:
            connection, job = link(
                api,
                "Sophtron Bank",
                "asdfg12X",
                "asdfg12X",
                answers=[["any"], ["blue"], ["Text message 1 (•••) •••-0102"], ["123456"]],
            )
            assert job["status"] == "succeeded", job
            kinds = [
                s["challenge_kind"] for s in job["steps"] if s["status"] == "waiting_for_answer"
            ]
            assert kinds == ["captcha", "questions", "choice", "code"]
            accounts = ok(api.get("/v1/accounts", params={"connection_id": connection["id"]}))
            assert {a["mask"] for a in accounts["data"]} == {"1234", "5678"}
    finally:
        worker.kill()


def test_a_worker_killed_while_a_session_waits_loses_nothing(
    cluster: tuple[BillfoldProcess, str], env: dict[str, str]
) -> None:
    api_process, api_key = cluster
    first = BillfoldProcess(env, "worker").start()
    second: BillfoldProcess | None = None
    try:
        with httpx.Client(
            base_url=api_process.url, timeout=10, headers={"Authorization": f"Bearer {api_key}"}
        ) as api:
            kept, _ = link(api, "Sophtron Bank NoMFA", "asdf", "asdf")
            before = ok(
                api.get("/v1/transactions", params={"connection_id": kept["id"], "limit": 500})
            )["data"]
            started = start_link(api, "Sophtron Bank SecurityQuestion", "asdf", "asdf")
            job = wait_job(api, started["job"]["id"])
            assert job["status"] == "waiting_for_answer"
            parked_challenge = job["challenge"]["id"]
            first.signal(signal.SIGKILL)
            second = BillfoldProcess(env, "worker").start()
            deadline = time.monotonic() + 30
            while True:  # the survivor notices the silence and takes the session over
                job = ok(api.get(f"/v1/jobs/{job['id']}"))
                if (
                    job["status"] == "waiting_for_answer"
                    and job["challenge"]["id"] != parked_challenge
                ):
                    break
                assert job["status"] in {"waiting_for_answer", "running", "queued"}, job
                assert time.monotonic() < deadline, job
                time.sleep(0.2)
            answer(api, job, "blue")
            job = wait_job(api, job["id"])
            assert job["status"] == "succeeded", job
            after = ok(
                api.get("/v1/transactions", params={"connection_id": kept["id"], "limit": 500})
            )["data"]
            assert after == before, "the other connection's data is intact"
    finally:
        first.kill()
        if second is not None:
            second.kill()
