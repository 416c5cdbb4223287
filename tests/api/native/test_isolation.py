"""Clients are isolated: one client's objects are invisible and untouchable for another.

Another client's object answers exactly like an object that does not exist (404), every
list is filtered, and requests without a valid API key get a JSON 401.
"""

from __future__ import annotations

from typing import Any

import httpx

from conftest import RunningServer
from flows import answer, new_user, ok, start_link, wait_job

MISSING = "00000000-0000-4000-8000-000000000000"


def _not_found(response: httpx.Response) -> str:
    assert response.status_code == 404, (response.request.url, response.status_code, response.text)
    error = response.json()["error"]
    assert error["code"] and error["message"]
    return str(error["code"])


def _ids(items: list[dict[str, Any]]) -> set[str]:
    return {str(i["id"]) for i in items}


def _setup_a(api: httpx.Client) -> dict[str, Any]:
    """Client A: a linked connection with accounts and transactions, and a waiting job."""
    user = new_user(api, external_id="shared-external-id")
    linked = start_link(api, "Sophtron Bank NoMFA", "asdf", "asdf", user_id=user)
    done = wait_job(api, linked["job"]["id"])
    assert done["status"] == "succeeded", done
    waiting = start_link(
        api, "Sophtron Bank SecurityQuestion", "asdfg12X", "asdfg12X", user_id=user
    )
    job = wait_job(api, waiting["job"]["id"])
    assert job["status"] == "waiting_for_answer", job
    accounts = ok(api.get("/v1/accounts", params={"connection_id": linked["connection"]["id"]}))
    account = accounts["data"][0]
    txns = ok(api.get(f"/v1/accounts/{account['id']}/transactions", params={"limit": 5}))
    assert txns["data"]
    return {
        "user": user,
        "connection": linked["connection"]["id"],
        "done_job": done["id"],
        "waiting_connection": waiting["connection"]["id"],
        "waiting_job": job,
        "account": account["id"],
        "transaction": txns["data"][0]["id"],
    }


def test_another_clients_objects_are_not_found(server: RunningServer, api: httpx.Client) -> None:
    a = _setup_a(api)
    with server.client(server.new_api_key("Client B")) as b:
        b_user = new_user(b, external_id="shared-external-id")  # external ids are per client
        b_link = start_link(b, "Sophtron Bank NoMFA", "asdf", "asdf", user_id=b_user)
        assert wait_job(b, b_link["job"]["id"])["status"] == "succeeded"

        # Reads: the same answer as for an id that does not exist at all.
        reads = {
            f"/v1/users/{a['user']}": f"/v1/users/{MISSING}",
            f"/v1/connections/{a['connection']}": f"/v1/connections/{MISSING}",
            f"/v1/jobs/{a['done_job']}": f"/v1/jobs/{MISSING}",
            f"/v1/jobs/{a['waiting_job']['id']}": f"/v1/jobs/{MISSING}",
            f"/v1/accounts/{a['account']}": f"/v1/accounts/{MISSING}",
            f"/v1/accounts/{a['account']}/details": f"/v1/accounts/{MISSING}/details",
            f"/v1/accounts/{a['account']}/transactions": (f"/v1/accounts/{MISSING}/transactions"),
        }
        for foreign, missing in reads.items():
            assert _not_found(b.get(foreign)) == _not_found(b.get(missing)), foreign
        _not_found(b.get("/v1/transactions", params={"account_id": a["account"]}))
        _not_found(b.get("/v1/accounts", params={"user_id": a["user"]}))
        _not_found(b.get("/v1/accounts", params={"connection_id": a["connection"]}))
        for params in ({"user_id": a["user"]}, {"connection_id": a["connection"]}):
            response = b.get("/v1/transactions", params=params)
            if response.status_code == 200:
                assert response.json()["data"] == []
            else:
                _not_found(response)
        listed = b.get("/v1/connections", params={"user_id": a["user"]})
        if listed.status_code == 200:
            assert listed.json()["data"] == []
        else:
            _not_found(listed)
        assert ok(b.get("/v1/jobs", params={"connection_id": a["connection"]}))["data"] == []

        # Writes: answer, cancel, refresh, relink, credentials, delete, link for A's user.
        waiting = a["waiting_job"]
        _not_found(
            b.post(
                f"/v1/jobs/{waiting['id']}/answer",
                json={"challenge_id": waiting["challenge"]["id"], "answers": ["blue"]},
            )
        )
        _not_found(b.post(f"/v1/jobs/{waiting['id']}/cancel"))
        _not_found(b.post(f"/v1/connections/{a['connection']}/refresh"))
        _not_found(b.post(f"/v1/connections/{a['connection']}/relink", json={}))
        _not_found(
            b.put(
                f"/v1/connections/{a['connection']}/credentials",
                json={"credentials": {"username": "x", "password": "y"}},
            )
        )
        _not_found(b.delete(f"/v1/connections/{a['connection']}"))
        _not_found(b.delete(f"/v1/connections/{a['waiting_connection']}"))
        _not_found(b.delete(f"/v1/users/{a['user']}"))
        inst = ok(b.get("/v1/connections/" + b_link["connection"]["id"]))["institution_id"]
        _not_found(
            b.post(
                "/v1/connections",
                json={
                    "user_id": a["user"],
                    "institution_id": inst,
                    "credentials": {"username": "asdf", "password": "asdf"},
                },
            )
        )

        # Lists hold B's own objects and nothing of A's.
        a_ids = {str(v) for v in a.values() if isinstance(v, str)} | {waiting["id"]}
        b_lists = {
            "users": ok(b.get("/v1/users", params={"limit": 500}))["data"],
            "connections": ok(b.get("/v1/connections"))["data"],
            "jobs": ok(b.get("/v1/jobs", params={"limit": 500}))["data"],
            "accounts": ok(b.get("/v1/accounts", params={"include_inactive": True}))["data"],
            "transactions": ok(b.get("/v1/transactions", params={"limit": 500}))["data"],
        }
        for name, items in b_lists.items():
            assert items, f"B's own {name} are missing"
            assert not (_ids(items) & a_ids), name
            for item in items:
                for key in ("user_id", "connection_id", "account_id"):
                    assert item.get(key) not in a_ids, (name, item)
        assert _ids(b_lists["users"]) == {b_user}
        assert _ids(b_lists["connections"]) == {b_link["connection"]["id"]}
        assert {t["account_id"] for t in b_lists["transactions"]} <= _ids(b_lists["accounts"])
        b_txn = b_lists["transactions"][0]["id"]

    # A's objects are untouched: the waiting job still waits and can be answered.
    job = ok(api.get(f"/v1/jobs/{waiting['id']}"))
    assert job["status"] == "waiting_for_answer"
    assert job["challenge"]["id"] == waiting["challenge"]["id"]
    assert ok(api.get(f"/v1/connections/{a['connection']}"))["status"] == "active"
    assert ok(api.get(f"/v1/users/{a['user']}"))["external_id"] == "shared-external-id"
    answer(api, job, "blue")
    assert wait_job(api, job["id"])["status"] == "succeeded"
    # And A cannot see B's either.
    assert b_txn not in _ids(ok(api.get("/v1/transactions", params={"limit": 500}))["data"])
    assert _ids(ok(api.get("/v1/users"))["data"]) == {a["user"]}


def test_missing_or_invalid_api_key_is_a_json_401(server: RunningServer) -> None:
    valid = server.new_api_key()
    attempts: list[tuple[dict[str, str], str | None]] = [
        ({}, "missing_api_key"),
        ({"Authorization": "Bearer not-a-real-key"}, None),
        ({"Authorization": f"Bearer {valid}x"}, None),
        ({"Authorization": f"Bearer {valid[:-1]}"}, None),
        ({"Authorization": "Bearer"}, "invalid_authorization"),
        ({"Authorization": f"Basic {valid}"}, "invalid_authorization"),
        ({"Authorization": valid}, None),
    ]
    requests = [
        ("GET", "/v1/users", None),
        ("POST", "/v1/users", {}),
        ("GET", "/v1/institutions", None),
        ("GET", f"/v1/jobs/{MISSING}", None),
        ("POST", "/v1/connections", {"user_id": "x", "institution_id": "y", "credentials": {}}),
        ("GET", "/v1/transactions", None),
    ]
    with httpx.Client(base_url=server.url, timeout=15) as raw:
        for headers, code in attempts:
            for method, path, body in requests:
                response = raw.request(method, path, headers=headers, json=body)
                assert response.status_code == 401, (headers, path, response.text)
                assert response.headers["content-type"].startswith("application/json")
                error = response.json()["error"]
                assert isinstance(error["code"], str) and error["code"], error
                if code is not None:
                    assert error["code"] == code
                assert error["message"]
                assert valid not in response.text
        # The valid key works, and nothing was created by the refused requests.
        users = raw.get("/v1/users", headers={"Authorization": f"Bearer {valid}"})
        assert users.status_code == 200 and users.json()["data"] == []
    assert valid not in server.logs.text()


def _owned(api: httpx.Client, user: str, connection: str) -> dict[str, list[str]]:
    accounts = ok(api.get("/v1/accounts", params={"include_inactive": True}))["data"]
    return {
        "accounts": [a["id"] for a in accounts if a["connection_id"] == connection],
        "transactions": [
            t["id"]
            for t in ok(api.get("/v1/transactions", params={"user_id": user, "limit": 500}))["data"]
        ],
        "jobs": [
            j["id"] for j in ok(api.get("/v1/jobs", params={"connection_id": connection}))["data"]
        ],
    }


def test_deleting_a_connection_removes_its_accounts_transactions_and_jobs(
    api: httpx.Client,
) -> None:
    user = new_user(api)
    kept = start_link(api, "Sophtron Bank NoMFA", "asdf", "asdf", user_id=user)
    gone = start_link(api, "Sophtron Bank Captcha", "asdfg12X", "asdfg12X", user_id=user)
    assert wait_job(api, kept["job"]["id"])["status"] == "succeeded"
    job = wait_job(api, gone["job"]["id"])
    answer(api, job, "abcd")
    assert wait_job(api, job["id"])["status"] == "succeeded"
    connection = gone["connection"]["id"]
    owned = _owned(api, user, connection)
    assert owned["accounts"] and owned["jobs"] and owned["transactions"]
    kept_accounts = _owned(api, user, kept["connection"]["id"])["accounts"]

    # A waiting relink stops when its connection is deleted.
    relink = ok(api.post(f"/v1/connections/{connection}/relink"), 202)
    assert wait_job(api, relink["id"])["status"] == "waiting_for_answer"
    deleted = api.delete(f"/v1/connections/{connection}")
    assert deleted.status_code == 204 and deleted.content == b""
    _not_found(api.get(f"/v1/connections/{connection}"))
    _not_found(api.delete(f"/v1/connections/{connection}"))
    for account in owned["accounts"]:
        _not_found(api.get(f"/v1/accounts/{account}"))
        _not_found(api.get(f"/v1/accounts/{account}/transactions"))
    for job_id in [*owned["jobs"], relink["id"]]:
        _not_found(api.get(f"/v1/jobs/{job_id}"))
    _not_found(api.post(f"/v1/jobs/{relink['id']}/answer", json={"answers": ["abcd"]}))
    left = ok(api.get("/v1/transactions", params={"user_id": user, "limit": 500}))["data"]
    assert {t["account_id"] for t in left} == set(kept_accounts)
    assert [c["id"] for c in ok(api.get("/v1/connections"))["data"]] == [kept["connection"]["id"]]


def test_deleting_a_user_removes_their_connections_and_data(api: httpx.Client) -> None:
    user = new_user(api)
    linked = start_link(api, "Sophtron Bank NoMFA", "asdf", "asdf", user_id=user)
    assert wait_job(api, linked["job"]["id"])["status"] == "succeeded"
    connection = linked["connection"]["id"]
    owned = _owned(api, user, connection)
    assert owned["accounts"] and owned["transactions"]
    deleted = api.delete(f"/v1/users/{user}")
    assert deleted.status_code == 204, deleted.text
    _not_found(api.get(f"/v1/users/{user}"))
    _not_found(api.get(f"/v1/connections/{connection}"))
    for account in owned["accounts"]:
        _not_found(api.get(f"/v1/accounts/{account}"))
    assert ok(api.get("/v1/transactions"))["data"] == []
