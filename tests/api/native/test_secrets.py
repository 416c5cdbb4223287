"""Passwords and MFA answers never come back: not in any response, log line or error.

Every response of each flow is collected (an httpx response hook) and searched for the
distinctive values sent, as are the captured server logs and, at rest, every row of the
database (logins and answers are stored encrypted, never in plain text).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select

from billfold.store.database import scratch_engine
from conftest import RunningServer
from flows import answer, new_user, ok, start_link, wait_job

PASSWORD = "Pw-UNIQUE-7f3a"
ANSWER = "Ans-UNIQUE-91c2"
CAPTCHA = "Cap-UNIQUE-33d0"
CODE = "Code-UNIQUE-55e1"
PET = "Pet-UNIQUE-a8b4"
CITY = "City-UNIQUE-c6f7"
WRONG = "Wrong-UNIQUE-0d9e"
NEW_PASSWORD = "NewPw-UNIQUE-4b1c"
BAD_INPUT = "Bad-UNIQUE-e2f8"
SECRETS = (PASSWORD, ANSWER, CAPTCHA, CODE, PET, CITY, WRONG, NEW_PASSWORD, BAD_INPUT)


class Recorder:
    """Keeps the text of every response the client receives."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, str, int, str]] = []

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        self.bodies.append((request.method, str(request.url), response.status_code, response.text))

    def leaks(self) -> list[tuple[str, str, str]]:
        return [
            (method, url, secret)
            for method, url, _, text in self.bodies
            for secret in SECRETS
            if secret in text
        ]


@pytest.fixture
def recorded(server: RunningServer) -> Iterator[tuple[httpx.Client, Recorder]]:
    recorder = Recorder()
    with server.client(server.new_api_key()) as client:
        client.event_hooks = {"request": [], "response": [recorder]}
        yield client, recorder


def _keys(obj: Any) -> Iterator[str]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield str(key)
            yield from _keys(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _keys(value)


def _assert_no_password(obj: Any) -> None:
    """No field that could hold a login, and none of the values sent."""
    keys = {k.lower() for k in _keys(obj)}
    assert not {k for k in keys if "password" in k or "credential" in k or "secret" in k}, keys
    assert [s for s in SECRETS if s in str(obj)] == []


def _database_hits(database_url: str, needles: tuple[str, ...]) -> list[tuple[str, str]]:
    """(table, needle) for every needle found in plain text in any row of any table."""
    engine = scratch_engine(database_url)
    found: list[tuple[str, str]] = []
    try:
        meta = MetaData()
        meta.reflect(bind=engine)
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                for row in conn.execute(select(table)):
                    for value in row:
                        if value is None:
                            continue
                        blob = (
                            bytes(value)
                            if isinstance(value, bytes | bytearray | memoryview)
                            else str(value).encode()
                        )
                        found.extend((table.name, s) for s in needles if s.encode() in blob)
    finally:
        engine.dispose()
    return found


def test_link_flows_never_echo_passwords_or_answers(
    recorded: tuple[httpx.Client, Recorder], server: RunningServer, database_url: str
) -> None:
    api, recorder = recorded
    # Sophtron Bank: captcha -> question -> choice -> code, every answer distinctive.
    started = start_link(api, "Sophtron Bank", "secret-user", PASSWORD)
    _assert_no_password(started["connection"])
    assert started["connection"]["username"] == "secret-user"
    job = wait_job(api, started["job"]["id"])
    for values in ([CAPTCHA], [ANSWER], None, [CODE]):
        assert job["status"] == "waiting_for_answer", job
        if values is None:  # the choice: an option label, not a secret
            values = [job["challenge"]["options"][0]["label"]]
        answer(api, job, *values)
        job = wait_job(api, job["id"])
    assert job["status"] == "succeeded", job
    connection_id = started["connection"]["id"]

    # Three answers at once; a failed login; a Synapse wrong answer that re-prompts.
    multi = start_link(api, "Sophtron Bank SecurityQuestion Multiple", "u2", PASSWORD)
    job = wait_job(api, multi["job"]["id"])
    answer(api, job, ANSWER, PET, CITY)
    assert wait_job(api, job["id"])["status"] == "succeeded"

    failed = start_link(api, "Billfold Sandbox Bank", "user_good", "invalid")
    assert wait_job(api, failed["job"]["id"])["error"]["code"] == "invalid_credentials"

    synapse = next(
        i
        for i in ok(api.get("/v1/institutions", params={"query": "Synapse"}))["data"]
        if i["code"] == "fake"
    )
    body = {
        "user_id": new_user(api),
        "institution_id": synapse["id"],
        "credentials": {"username": "synapse_good", "password": "test1234"},
    }
    syn = ok(api.post("/v1/connections", json=body), 202)
    job = wait_job(api, syn["job"]["id"])
    answer(api, job, WRONG)
    job = wait_job(api, job["id"])
    assert job["status"] == "waiting_for_answer" and job["challenge"]["retry_note"]
    answer(api, job, "test_answer")
    assert wait_job(api, job["id"])["status"] == "succeeded"

    # Relink and replace credentials with a new distinctive password.
    relink = ok(
        api.post(
            f"/v1/connections/{connection_id}/relink",
            json={"credentials": {"password": NEW_PASSWORD}},
        ),
        202,
    )
    _assert_no_password(relink)
    wait_job(api, relink["id"])
    ok(api.post(f"/v1/jobs/{relink['id']}/cancel"))
    updated = ok(
        api.put(
            f"/v1/connections/{connection_id}/credentials",
            json={"credentials": {"username": "secret-user", "password": NEW_PASSWORD}},
        )
    )
    _assert_no_password(updated)

    # Everything readable afterwards: connections, jobs (with steps), accounts, details.
    for conn in ok(api.get("/v1/connections"))["data"]:
        _assert_no_password(conn)
    for job in ok(api.get("/v1/jobs", params={"limit": 500}))["data"]:
        _assert_no_password(ok(api.get(f"/v1/jobs/{job['id']}")))
    for account in ok(api.get("/v1/accounts"))["data"]:
        ok(api.get(f"/v1/accounts/{account['id']}/details"))
    ok(api.get("/v1/transactions", params={"limit": 500}))

    # The scans see what they should: the login name is shown back, logs name the job.
    assert len(recorder.bodies) > 20
    assert any("secret-user" in text for _, _, _, text in recorder.bodies)
    assert recorder.leaks() == []
    logs = server.logs.text()
    assert started["job"]["id"] in logs, "the server logs were not captured"
    assert [s for s in SECRETS if s in logs] == []
    found = _database_hits(database_url, ("secret-user", *SECRETS))
    assert ("connections", "secret-user") in found, found
    assert [hit for hit in found if hit[1] != "secret-user"] == []


def test_bad_input_errors_never_echo_credentials(
    recorded: tuple[httpx.Client, Recorder], server: RunningServer
) -> None:
    api, recorder = recorded
    user = new_user(api)
    inst = ok(api.get("/v1/institutions", params={"query": "Sophtron Bank NoMFA"}))["data"][0]
    assert inst["name"] == "Sophtron Bank NoMFA"
    good = {"username": "asdf", "password": BAD_INPUT}
    base = {"user_id": user, "institution_id": inst["id"]}
    cases: list[tuple[dict[str, Any] | str, int]] = [
        ({**base, "institution_id": "no-such-institution", "credentials": good}, 404),
        ({**base, "user_id": "no-such-user", "credentials": good}, 404),
        ({**base, "credentials": {"password": BAD_INPUT}}, 400),
        ({**base, "credentials": {"username": "asdf", "password": [BAD_INPUT]}}, 400),
        ({**base, "credentials": {"username": "asdf", "password": {"v": BAD_INPUT}}}, 400),
        ({**base, "credentials": {"username": "asdf", "password": BAD_INPUT * 100}}, 400),
        ({**base, "credentials": good, "passwd": BAD_INPUT}, 400),
        ({**base, "credentials": good, "products": [BAD_INPUT]}, 400),
        ({**base, "credentials": BAD_INPUT}, 400),
        ('{"user_id": "' + user + '", "credentials": {"password": "' + BAD_INPUT + '"', 400),
        ({**base, "user_id": [BAD_INPUT], "credentials": good}, 400),
    ]
    for body, status in cases:
        if isinstance(body, str):
            response = api.post(
                "/v1/connections", content=body, headers={"content-type": "application/json"}
            )
        else:
            response = api.post("/v1/connections", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["code"]

    # Answers in the wrong shape are refused without being quoted.
    waiting = start_link(api, "Sophtron Bank SecurityQuestion Multiple", "u", "p")
    job = wait_job(api, waiting["job"]["id"])
    token = start_link(api, "Sophtron Bank Token", "u", "p")
    choice = wait_job(api, token["job"]["id"])
    answers: list[tuple[str, dict[str, Any]]] = [
        (job["id"], {"challenge_id": job["challenge"]["id"], "answers": [BAD_INPUT]}),
        (job["id"], {"challenge_id": job["challenge"]["id"], "answers": BAD_INPUT}),
        (job["id"], {"challenge_id": job["challenge"]["id"], "answer": [BAD_INPUT]}),
        (job["id"], {"challenge_id": job["challenge"]["id"], "answers": ["a"], "x": BAD_INPUT}),
        (choice["id"], {"challenge_id": choice["challenge"]["id"], "answers": [BAD_INPUT]}),
        (job["id"], {"challenge_id": BAD_INPUT, "answers": ["a", "b", "c"]}),
    ]
    for job_id, body in answers:
        response = api.post(f"/v1/jobs/{job_id}/answer", json=body)
        assert response.status_code in {400, 409}, (body, response.text)
        assert response.json()["error"]["code"]
    assert ok(api.get(f"/v1/jobs/{job['id']}"))["status"] == "waiting_for_answer"

    assert all(status < 500 for _, _, status, _ in recorder.bodies)
    assert recorder.leaks() == []
    assert BAD_INPUT not in server.logs.text()
