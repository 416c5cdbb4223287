"""A real server process killed (or stopped) while a job waits for an answer loses nothing."""

from __future__ import annotations

import base64
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from flows import ok, start_link, wait_job
from processes import BillfoldProcess, create_client, free_port


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> Iterator[dict[str, str]]:
    values = {
        **os.environ,
        "BILLFOLD_DATA_DIR": str(tmp_path),
        "BILLFOLD_DATABASE_URL": database_url,
        "BILLFOLD_SECRET_KEY": base64.b64encode(os.urandom(32)).decode(),
        "BILLFOLD_JOB_LEASE_SECONDS": "1",
        "BILLFOLD_LOG_LEVEL": "warning",
    }
    yield values


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_a_parked_job_resumes_after_the_process_dies(env: dict[str, str], how: int) -> None:
    api_key = create_client(env)
    server = BillfoldProcess(env, "serve", port=free_port()).start()
    try:
        with httpx.Client(
            base_url=server.url, timeout=10, headers={"Authorization": f"Bearer {api_key}"}
        ) as api:
            started = start_link(api, "Sophtron Bank SecurityQuestion", "asdf", "asdf")
            job = wait_job(api, started["job"]["id"])
            assert job["status"] == "waiting_for_answer"
            first_challenge = job["challenge"]["id"]
            server.signal(how)
            server.start()
            # The job comes back on its own: asked again, never stuck in `running`.
            deadline = time.monotonic() + 20
            while True:
                job = ok(api.get(f"/v1/jobs/{job['id']}"))
                if (
                    job["status"] == "waiting_for_answer"
                    and job["challenge"]["id"] != first_challenge
                ):
                    break
                assert job["status"] in {"running", "waiting_for_answer", "queued"}, job
                assert time.monotonic() < deadline, job
                time.sleep(0.1)
            stale = api.post(
                f"/v1/jobs/{job['id']}/answer",
                json={"challenge_id": first_challenge, "answers": ["blue"]},
            )
            assert stale.status_code == 409
            ok(
                api.post(
                    f"/v1/jobs/{job['id']}/answer",
                    json={"challenge_id": job["challenge"]["id"], "answers": ["blue"]},
                )
            )
            job = wait_job(api, job["id"])
            assert job["status"] == "succeeded", job
            assert any(s["note"] == "Resumed after a restart" for s in job["steps"])
            accounts = ok(api.get("/v1/accounts", params={"connection_id": job["connection_id"]}))
            assert {a["mask"] for a in accounts["data"]} >= {"1234"}
    finally:
        server.kill()
