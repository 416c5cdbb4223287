"""Client-side helpers for end-to-end tests, written against the documented /v1 API."""

from __future__ import annotations

import time
from typing import Any

import httpx

TERMINAL = {"succeeded", "failed", "expired", "cancelled"}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


def institution_id(api: httpx.Client, name: str) -> str:
    found = ok(api.get("/v1/institutions", params={"query": name, "limit": 100}))["data"]
    exact = [i for i in found if i["name"] == name]
    assert exact, f"no institution named {name!r} in {[i['name'] for i in found]}"
    return str(exact[0]["id"])


def new_user(api: httpx.Client, external_id: str | None = None) -> str:
    body = {"external_id": external_id} if external_id else {}
    return str(ok(api.post("/v1/users", json=body), 201)["id"])


def start_link(
    api: httpx.Client,
    institution: str,
    username: str,
    password: str,
    user_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    user_id = user_id or new_user(api)
    body = {
        "user_id": user_id,
        "institution_id": institution_id(api, institution),
        "credentials": {"username": username, "password": password},
        **extra,
    }
    result: dict[str, Any] = ok(api.post("/v1/connections", json=body), 202)
    return result


def wait_job(
    api: httpx.Client, job_id: str, *, until: set[str] | None = None, timeout: float = 15.0
) -> dict[str, Any]:
    """Poll until the job waits for an answer or ends."""
    wanted = until or (TERMINAL | {"waiting_for_answer"})
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = ok(api.get(f"/v1/jobs/{job_id}"))
        if job["status"] in wanted:
            return job
        assert time.monotonic() < deadline, f"job stuck in {job['status']}: {job}"
        time.sleep(0.02)


def answer(api: httpx.Client, job: dict[str, Any], *values: str) -> dict[str, Any]:
    body = {"challenge_id": job["challenge"]["id"], "answers": list(values)}
    result: dict[str, Any] = ok(api.post(f"/v1/jobs/{job['id']}/answer", json=body))
    return result


def link(
    api: httpx.Client,
    institution: str,
    username: str,
    password: str,
    answers: list[list[str]] | None = None,
    **extra: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Link, answering each challenge in turn; returns (connection, final job)."""
    started = start_link(api, institution, username, password, **extra)
    job = wait_job(api, started["job"]["id"])
    for values in answers or []:
        assert job["status"] == "waiting_for_answer", job
        answer(api, job, *values)
        job = wait_job(api, job["id"])
    return started["connection"], job
