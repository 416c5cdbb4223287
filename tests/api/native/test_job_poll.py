"""The lean job-poll route answers exactly like the documented endpoint, and never stale."""

from __future__ import annotations

import httpx
import pytest

from billfold.api.native.schemas import JobOut
from billfold.services.jobs import get_job
from conftest import RunningServer
from flows import answer, ok, start_link, wait_job


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_poll_bodies_match_the_schema_and_follow_every_change(
    server: RunningServer, api: httpx.Client
) -> None:
    started = start_link(api, "Sophtron Bank SecurityQuestion", "asdf", "asdf")
    job = wait_job(api, started["job"]["id"])
    raw = api.get(f"/v1/jobs/{job['id']}")
    assert raw.headers["content-type"] == "application/json"
    client_id = server.container.api_keys.verify(api.headers["authorization"][7:]).id
    fresh = get_job(ctx=server.container.ctx, client_id=client_id, job_id=job["id"])
    assert raw.content == JobOut.of(fresh).model_dump_json().encode()
    # Polled (and cached) while waiting; the answer must show at once, not the cached view.
    for _ in range(3):
        assert ok(api.get(f"/v1/jobs/{job['id']}"))["status"] == "waiting_for_answer"
    answered = answer(api, job, "blue")
    polled = ok(api.get(f"/v1/jobs/{job['id']}"))
    assert polled["status"] in {"running", "succeeded"}
    assert polled["updated_at"] >= answered["updated_at"]
    assert wait_job(api, job["id"])["status"] == "succeeded"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_poll_route_keeps_auth_and_isolation(server: RunningServer, api: httpx.Client) -> None:
    started = start_link(api, "Sophtron Bank NoMFA", "asdf", "asdf")
    job_id = wait_job(api, started["job"]["id"])["id"]
    with server.client(server.new_api_key("other")) as other:
        response = other.get(f"/v1/jobs/{job_id}")
        assert response.status_code == 404 and response.json()["error"]["code"] == "job_not_found"
    with server.client() as anonymous:
        response = anonymous.get(f"/v1/jobs/{job_id}")
        assert response.status_code == 401 and response.json()["error"]["code"] == "missing_api_key"
    spec = ok(api.get("/openapi.json"))
    assert "/v1/jobs/{job_id}" in spec["paths"]
