"""The widget's statement upload (`POST /connect/api/statement`): a file instead of a login
makes a statement connection whose accounts the widget session then sees; a bad file,
another institution than the pinned one, or a re-authentication session changes nothing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from billfold.settings import Settings
from conftest import RunningServer, make_settings
from flows import institution_id, new_user, ok

MAX_BYTES = 4096
BANK = "Billfold Sandbox Bank"

CSV = """Date,Description,Amount,Balance
01/03/2024,PAYROLL ACME CORP,"2,500.00","3,500.00"
01/05/2024,COFFEE SHOP,-4.50,"3,495.50"
01/31/2024,RENT JANUARY,-1200.00,"2,295.50"
"""


@pytest.fixture
def server_settings(tmp_path: Path, database_url: str, job_backend: str) -> Settings:
    # A small limit, so that "too large" takes a few kilobytes to show.
    return make_settings(
        tmp_path, database_url, job_backend=job_backend, statement_max_bytes=MAX_BYTES
    )


@contextmanager
def widget(server: RunningServer, api: httpx.Client, user: str, **token: Any) -> Iterator[Any]:
    """A client holding a fresh widget session for the user, as the widget page would."""
    issued = ok(api.post("/v1/connect_tokens", json={"user_id": user, **token}), 201)
    with server.client() as anon:
        opened = ok(anon.post("/connect/api/session", json={"token": issued["token"]}), 201)
    auth = {"Authorization": f"Bearer {opened['session']}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=15) as client:
        yield client


def upload(
    client: httpx.Client,
    institution: str,
    content: str | bytes,
    filename: str = "statement.csv",
    **fields: str,
) -> httpx.Response:
    body = content.encode() if isinstance(content, str) else content
    files = {"file": (filename, io.BytesIO(body), "text/csv")}
    return client.post(
        "/connect/api/statement", files=files, data={"institution_id": institution, **fields}
    )


def connections_of(api: httpx.Client, user: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(api.get("/v1/connections", params={"user_id": user}))["data"]
    return found


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text


def test_upload_links_a_statement_connection(server: RunningServer, api: httpx.Client) -> None:
    user = new_user(api)
    bank = institution_id(api, BANK)
    with widget(server, api, user) as w:
        done = ok(upload(w, bank, CSV, account_type="savings"), 201)
        assert done["institution_id"] == bank
        summary = done["statement"]
        assert summary["format"] == "csv"
        assert (summary["lines"], summary["added"], summary["duplicates"]) == (3, 3, 0)
        assert (summary["period_start"], summary["period_end"]) == ("2024-01-03", "2024-01-31")
        (account,) = done["accounts"]
        assert account["type"] == "savings" and account["connection_id"] == done["connection_id"]
        # The widget's accounts call now answers for the statement connection, with no job.
        listed = ok(w.get("/connect/api/accounts"))["data"]
        assert [a["id"] for a in listed] == [account["id"]]
        refused(w.get("/connect/api/job"), 404, "job_not_found")
        # A second file in the same session goes into the same connection: only what is new.
        again = ok(upload(w, bank, CSV), 201)
        assert again["connection_id"] == done["connection_id"]
        assert (again["statement"]["added"], again["statement"]["duplicates"]) == (0, 3)
    connection = ok(api.get(f"/v1/connections/{done['connection_id']}"))
    assert connection["status"] == "active" and connection["institution_id"] == bank
    assert [c["id"] for c in connections_of(api, user)] == [done["connection_id"]]
    owned = ok(api.get("/v1/accounts", params={"user_id": user}))["data"]
    assert [a["id"] for a in owned] == [account["id"]]
    txns = ok(api.get(f"/v1/accounts/{account['id']}/transactions"))["data"]
    assert sorted(t["amount"] for t in txns) == ["-1200.00", "-4.50", "2500.00"]


def test_bad_files_store_nothing(server: RunningServer, api: httpx.Client) -> None:
    user = new_user(api)
    bank = institution_id(api, BANK)
    with widget(server, api, user) as w:
        refused(upload(w, bank, b""), 422, "empty_file")
        too_large = upload(w, bank, CSV + "x" * MAX_BYTES)
        refused(too_large, 413, "file_too_large")
        assert "4,096 bytes" in too_large.json()["error"]["message"]
        refused(upload(w, bank, CSV, account_type="brokerage"), 400, "invalid_account_type")
        refused(upload(w, "no-such-bank", CSV), 404, "institution_not_found")
        refused(w.get("/connect/api/accounts"), 404, "job_not_found")
        # The person can still pick a good file afterwards.
        ok(upload(w, bank, CSV), 201)
        # Another institution, here the generic one for banks Billfold cannot log in to,
        # gets a statement connection of its own.
        generic = ok(upload(w, "statement_upload", CSV), 201)
        assert generic["institution_id"] == "statement_upload"
    assert len(connections_of(api, user)) == 2
    with httpx.Client(base_url=server.url, timeout=15) as anon:
        files = {"file": ("s.csv", io.BytesIO(CSV.encode()), "text/csv")}
        no_session = anon.post("/connect/api/statement", files=files, data={"institution_id": bank})
        refused(no_session, 401, "session_invalid")


def test_pinned_institution_and_relink_sessions_refuse(
    server: RunningServer, api: httpx.Client
) -> None:
    user = new_user(api)
    bank = institution_id(api, BANK)
    fiber = institution_id(api, "Sandbox Fiber")
    with widget(server, api, user, institution_id=bank) as w:
        refused(upload(w, fiber, CSV), 403, "institution_not_allowed")
    assert connections_of(api, user) == []

    body = {
        "user_id": user,
        "institution_id": fiber,
        "credentials": {"username": "me@example.com", "password": "pw"},
    }
    login = ok(api.post("/v1/connections", json=body), 202)
    with widget(server, api, user, connection_id=login["connection"]["id"]) as w:
        refused(upload(w, fiber, CSV), 403, "statement_not_allowed")
    assert [c["id"] for c in connections_of(api, user)] == [login["connection"]["id"]]


def test_statement_after_a_failed_login(server: RunningServer, api: httpx.Client) -> None:
    """The widget's error screen offers an upload: the session then shows its accounts,
    and a later login at the same institution gets a connection of its own."""
    user = new_user(api)
    bank = institution_id(api, BANK)
    with widget(server, api, user) as w:
        credentials = {"username": "user_mfa", "password": "invalid"}
        job = ok(
            w.post("/connect/api/link", json={"institution_id": bank, "credentials": credentials}),
            202,
        )
        while job["status"] not in ("succeeded", "failed"):
            job = ok(w.get("/connect/api/job", params={"known": job["version"], "wait": 5}))
        assert job["error"]["code"] == "invalid_credentials"
        refused(w.get("/connect/api/accounts"), 409, "job_not_succeeded")
        done = ok(upload(w, bank, CSV), 201)
        assert done["connection_id"] != job["connection_id"]
        listed = ok(w.get("/connect/api/accounts"))["data"]
        assert [a["id"] for a in listed] == [a["id"] for a in done["accounts"]]
        refused(w.post("/connect/api/retry"), 409, "nothing_to_retry")
        credentials = {"username": "user_good", "password": "pw"}
        login = ok(
            w.post("/connect/api/link", json={"institution_id": bank, "credentials": credentials}),
            202,
        )
        assert login["connection_id"] not in (done["connection_id"], job["connection_id"])
