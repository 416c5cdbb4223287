"""Unanswered challenges expire; malformed requests get a JSON 4xx, never a 500."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import RunningServer, make_settings, start_server, stop_server
from flows import answer, new_user, ok, start_link, wait_job


@pytest.fixture
def quick_expiry(tmp_path: Path, database_url: str) -> Iterator[RunningServer]:
    settings = make_settings(tmp_path, database_url, challenge_ttl_seconds=1.0)
    running, uv, thread = start_server(settings)
    try:
        yield running
    finally:
        stop_server(uv, thread, running.logs)


def _expect_expired(api: httpx.Client, job: dict[str, Any], started_at: float) -> None:
    """The job ends `expired`/answer_timeout soon after its 1 s challenge lapses."""
    challenge = job["challenge"]
    ended = wait_job(api, job["id"], until={"expired", "failed", "succeeded", "cancelled"})
    assert ended["status"] == "expired", ended
    assert ended["error"]["code"] == "answer_timeout"
    assert ended["challenge"] is None and ended["finished_at"]
    assert time.monotonic() - started_at < 10
    connection = ok(api.get(f"/v1/connections/{ended['connection_id']}"))
    assert (connection["status"], connection["error"]["code"]) == ("failed", "answer_timeout")
    # Answering afterwards: 409, with the old challenge id or without one.
    url = f"/v1/jobs/{job['id']}/answer"
    for body in (
        {"challenge_id": challenge["id"], "answers": ["blue"]},
        {"answers": ["blue"]},
        {"answer": "blue"},
    ):
        late = api.post(url, json=body)
        assert late.status_code == 409, late.text
        assert late.json()["error"]["code"] == "job_not_waiting"
    cancel = api.post(f"/v1/jobs/{job['id']}/cancel")
    assert cancel.status_code == 409 and cancel.json()["error"]["code"] == "job_finished"
    assert ok(api.get(f"/v1/jobs/{job['id']}"))["status"] == "expired"


def test_unanswered_security_question_expires(quick_expiry: RunningServer) -> None:
    with quick_expiry.client(quick_expiry.new_api_key()) as api:
        # Sophtron Bank: answer the captcha in time, then let its security question lapse.
        combined = start_link(api, "Sophtron Bank", "asdfg12X", "asdfg12X")
        job = wait_job(api, combined["job"]["id"])
        assert job["challenge"]["kind"] == "captcha"
        answer(api, job, "x7k2")
        began = time.monotonic()
        single = start_link(api, "Sophtron Bank SecurityQuestion", "asdfg12X", "asdfg12X")
        single_job = wait_job(api, single["job"]["id"])
        assert single_job["challenge"]["kind"] == "questions"
        combined_job = wait_job(api, job["id"])
        assert combined_job["status"] == "waiting_for_answer"
        assert combined_job["challenge"]["questions"] == ["What is your favorite color?"]
        asked_at = time.monotonic()
        _expect_expired(api, single_job, began)
        _expect_expired(api, combined_job, asked_at)


def _error(response: httpx.Response, status: int, code: str | None = None) -> str:
    assert response.status_code == status, (
        response.request.method,
        str(response.request.url),
        response.status_code,
        response.text,
    )
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["message"], error
    if code is not None:
        assert error["code"] == code, error
    return str(error["code"])


def test_bad_input_gets_json_errors(server: RunningServer, api: httpx.Client) -> None:
    user = new_user(api, external_id="person-1")
    inst = ok(api.get("/v1/institutions", params={"query": "Sophtron Bank NoMFA"}))["data"][0]
    creds = {"username": "asdf", "password": "asdf"}
    json_headers = {"content-type": "application/json"}

    # Bodies that are not JSON, or not the right JSON.
    for path in ("/v1/users", "/v1/connections"):
        _error(api.post(path, content="not json", headers=json_headers), 400, "invalid_json")
        _error(api.post(path, content="{", headers=json_headers), 400, "invalid_json")
        _error(api.post(path, content="[1, 2]", headers=json_headers), 400)
    _error(api.post("/v1/connections", json={}), 400, "invalid_request")
    missing = api.post("/v1/connections", json={"user_id": user})
    _error(missing, 400, "invalid_request")
    fields = {d["field"] for d in missing.json()["error"]["details"]}
    assert {"institution_id", "credentials"} <= fields, fields
    base = {"user_id": user, "institution_id": inst["id"]}
    _error(api.post("/v1/connections", json={**base, "credentials": {}}), 400)
    _error(api.post("/v1/connections", json={**base, "credentials": {"username": "a"}}), 400)
    _error(
        api.post(
            "/v1/connections", json={**base, "credentials": {"username": " ", "password": "x"}}
        ),
        400,
        "missing_credentials",
    )
    _error(api.post("/v1/connections", json={**base, "credentials": "asdf"}), 400)
    _error(
        api.post("/v1/connections", json={**base, "credentials": creds, "products": ["bogus"]}),
        400,
        "invalid_product",
    )
    _error(api.post("/v1/connections", json={**base, "credentials": creds, "extra": 1}), 400)
    _error(
        api.post("/v1/connections", json={**base, "user_id": "u" * 65, "credentials": creds}), 400
    )

    # Unknown ids: 404 with a code naming what is missing.
    _error(
        api.post(
            "/v1/connections",
            json={"user_id": user, "institution_id": "no-such-bank", "credentials": creds},
        ),
        404,
        "institution_not_found",
    )
    _error(
        api.post(
            "/v1/connections",
            json={"user_id": "no-such-user", "institution_id": inst["id"], "credentials": creds},
        ),
        404,
        "user_not_found",
    )
    _error(api.get("/v1/institutions/no-such-bank"), 404)
    _error(api.get("/v1/users/no-such-user"), 404)
    _error(api.get("/v1/jobs/no-such-job"), 404, "job_not_found")
    _error(api.post("/v1/jobs/no-such-job/answer", json={"answers": ["x"]}), 404, "job_not_found")
    _error(api.post("/v1/jobs/no-such-job/cancel"), 404, "job_not_found")
    _error(api.get("/v1/connections/nope"), 404, "connection_not_found")
    _error(api.post("/v1/connections/nope/refresh"), 404, "connection_not_found")
    _error(api.delete("/v1/connections/nope"), 404, "connection_not_found")
    _error(api.get("/v1/accounts/nope"), 404, "account_not_found")
    _error(api.get("/v1/accounts/nope/transactions"), 404, "account_not_found")
    _error(api.get("/v1/no-such-route"), 404)
    _error(api.put("/v1/users"), 405)

    # Users: a duplicate external id conflicts; over-long values are refused.
    _error(api.post("/v1/users", json={"external_id": "person-1"}), 409, "user_exists")
    _error(api.post("/v1/users", json={"external_id": "x" * 201}), 400)
    _error(api.post("/v1/users", json={"name": 5}), 400)

    # Query parameters.
    _error(api.get("/v1/transactions", params={"start_date": "yesterday"}), 400)
    _error(api.get("/v1/transactions", params={"start_date": "2021-02-30"}), 400)
    _error(
        api.get("/v1/transactions", params={"start_date": "2021-12-31", "end_date": "2021-01-01"}),
        400,
        "invalid_date_range",
    )
    _error(api.get("/v1/transactions", params={"limit": 0}), 400)
    _error(api.get("/v1/transactions", params={"limit": 501}), 400)
    _error(api.get("/v1/transactions", params={"limit": "many"}), 400)
    _error(api.get("/v1/transactions", params={"status": "maybe"}), 400, "invalid_status")
    for cursor in ("garbage", "!!!", "eyJ4IjoxfQ", "a" * 400):
        _error(api.get("/v1/transactions", params={"cursor": cursor}), 400)
        # Other lists may read a nonsense cursor as a position; they must not crash.
        for path in ("/v1/institutions", "/v1/users"):
            response = api.get(path, params={"cursor": cursor})
            if response.status_code != 200:
                _error(response, 400)
    _error(api.get("/v1/institutions", params={"limit": 0}), 400)

    # Answers: to a job that does not wait, and in shapes that cannot fit.
    linked = start_link(api, "Sophtron Bank NoMFA", "asdf", "asdf", user_id=user)
    done = wait_job(api, linked["job"]["id"])
    assert done["status"] == "succeeded"
    _error(api.post(f"/v1/jobs/{done['id']}/answer", json={"answers": ["x"]}), 409)
    _error(api.post(f"/v1/jobs/{done['id']}/cancel"), 409, "job_finished")
    waiting = wait_job(
        api, start_link(api, "Sophtron Bank TokenRead", "a", "b", user_id=user)["job"]["id"]
    )
    assert waiting["challenge"]["kind"] == "approve"
    url = f"/v1/jobs/{waiting['id']}/answer"
    _error(api.post(url, content="not json", headers=json_headers), 400, "invalid_json")
    _error(api.post(url, json={"answers": "done"}), 400)
    _error(api.post(url, json={"answers": [1, 2]}), 400)
    _error(api.post(url, json={"answers": ["no"]}), 400, "invalid_answer_format")
    _error(api.post(url, json={"answers": []}), 400, "answer_count_mismatch")
    _error(api.post(url, json={"answers": ["x"] * 21}), 400)
    assert ok(api.get(f"/v1/jobs/{waiting['id']}"))["status"] == "waiting_for_answer"
    # A refresh of a connection whose first link still waits is refused.
    _error(api.post(f"/v1/connections/{waiting['connection_id']}/refresh"), 409)
    # A second job for a connection while one is under way is refused.
    _error(
        api.post(f"/v1/connections/{waiting['connection_id']}/relink", json={}),
        409,
        "job_in_progress",
    )
    answer(api, waiting, "done")
    assert wait_job(api, waiting["id"])["status"] == "succeeded"

    assert "unexpected" not in server.logs.text()
