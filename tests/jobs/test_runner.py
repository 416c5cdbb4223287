"""The job runner with a scripted connector: parking, answers, expiry, cancellation, restart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from billfold.connectors.base import Session, SyncRequest
from billfold.domain.accounts import AccountData, AccountType
from billfold.domain.challenges import Challenge
from billfold.domain.errors import ConnectorError, ErrorCode
from billfold.domain.institutions import Institution, InstitutionKind
from billfold.domain.snapshot import AccountSnapshot, Snapshot
from billfold.domain.transactions import TransactionData
from conftest import RunningServer, make_settings, start_server, stop_server
from flows import answer, ok, wait_job

INSTITUTION = Institution(
    id="00000000-0000-4000-8000-00000000feed",
    name="Scripted Bank",
    kind=InstitutionKind.BANK,
    connector="scripted",
)


class ScriptedConnector:
    """Asks for a code when the username says so; `slow` sleeps for a long time."""

    kind = "scripted"

    def catalog(self) -> list[Institution]:
        return [INSTITUTION]

    async def sync(self, session: Session, request: SyncRequest) -> Snapshot:
        user = session.credentials.username
        if session.credentials.password == "wrong":
            raise ConnectorError(ErrorCode.INVALID_CREDENTIALS)
        if user == "slow":
            await asyncio.sleep(60)
        if user.startswith("code"):
            code = await session.ask(Challenge.enter_code("Enter the code", label="Code"))
            if code.text != "123456":
                raise ConnectorError(ErrorCode.INVALID_ANSWER)
        if user == "boom":
            raise RuntimeError("secret-password-in-message")
        account = AccountData(
            external_id="acc-1",
            name="Checking",
            type=AccountType.CHECKING,
            mask="0001",
            current_balance=Decimal("10.50"),
        )
        txn = TransactionData(
            external_id="t-1",
            amount=Decimal("-3.25"),
            date=__import__("datetime").date(2024, 1, 2),
            description="Coffee",
        )
        return Snapshot(accounts=(AccountSnapshot(account, (txn,)),))


@pytest.fixture
def scripted(tmp_path: Path, database_url: str) -> Iterator[RunningServer]:
    from billfold.container import Container

    settings = make_settings(
        tmp_path, database_url, challenge_ttl_seconds=1.0, job_deadline_seconds=2.0
    )
    original = Container.__init__

    def patched(self: Container, settings_: object, *, connectors: object = None) -> None:
        original(self, settings_, connectors={"scripted": ScriptedConnector()})  # type: ignore[arg-type]

    Container.__init__ = patched  # type: ignore[method-assign]
    try:
        running, uv, thread = start_server(settings)
    finally:
        Container.__init__ = original  # type: ignore[method-assign]
    try:
        yield running
    finally:
        stop_server(uv, thread, running.logs)


def _link(api: httpx.Client, username: str, password: str = "pw") -> dict[str, object]:
    user = ok(api.post("/v1/users", json={}), 201)["id"]
    body = {
        "user_id": user,
        "institution_id": INSTITUTION.id,
        "credentials": {"username": username, "password": password},
    }
    result: dict[str, object] = ok(api.post("/v1/connections", json=body), 202)
    return result


def test_code_challenge_parks_and_resumes(scripted: RunningServer) -> None:
    with scripted.client(scripted.new_api_key()) as api:
        started = _link(api, "code-user")
        job = wait_job(api, started["job"]["id"])  # type: ignore[index]
        assert job["status"] == "waiting_for_answer"
        assert job["challenge"]["kind"] == "code"
        job = answer(api, job, "123456")
        assert job["status"] in {"running", "succeeded"}
        job = wait_job(api, job["id"])
        assert job["status"] == "succeeded", job
        accounts = ok(api.get("/v1/accounts"))["data"]
        assert [a["balances"]["current"] for a in accounts] == ["10.50"]
        txns = ok(api.get(f"/v1/accounts/{accounts[0]['id']}/transactions"))["data"]
        assert [(t["amount"], t["direction"]) for t in txns] == [("-3.25", "debit")]


def test_unanswered_challenge_expires(scripted: RunningServer) -> None:
    with scripted.client(scripted.new_api_key()) as api:
        started = _link(api, "code-user")
        job = wait_job(api, started["job"]["id"])  # type: ignore[index]
        assert job["status"] == "waiting_for_answer"
        job = wait_job(api, job["id"], until={"expired", "failed", "succeeded"})
        assert job["status"] == "expired"
        assert job["error"]["code"] == "answer_timeout"
        late = api.post(f"/v1/jobs/{job['id']}/answer", json={"answer": "123456"})
        assert late.status_code == 409 and late.json()["error"]["code"] == "job_not_waiting"


def test_connector_crash_fails_with_unknown_and_logs_no_message(scripted: RunningServer) -> None:
    with scripted.client(scripted.new_api_key()) as api:
        started = _link(api, "boom")
        job = wait_job(api, started["job"]["id"])  # type: ignore[index]
        assert job["status"] == "failed" and job["error"]["code"] == "unknown"
    assert "secret-password-in-message" not in scripted.logs.text()


def test_cancel_a_waiting_job(scripted: RunningServer) -> None:
    with scripted.client(scripted.new_api_key()) as api:
        started = _link(api, "code-user")
        job = wait_job(api, started["job"]["id"])  # type: ignore[index]
        cancelled = ok(api.post(f"/v1/jobs/{job['id']}/cancel"))
        assert cancelled["status"] == "cancelled"
        again = api.post(f"/v1/jobs/{job['id']}/cancel")
        assert again.status_code == 409
        connection = ok(api.get(f"/v1/connections/{started['connection']['id']}"))  # type: ignore[index]
        assert connection["status"] == "failed"


def test_a_job_past_its_deadline_fails_with_job_timeout(scripted: RunningServer) -> None:
    with scripted.client(scripted.new_api_key()) as api:
        started = _link(api, "slow")
        job = wait_job(api, started["job"]["id"], timeout=10)  # type: ignore[index]
        assert job["status"] == "failed" and job["error"]["code"] == "job_timeout"
        connection = ok(api.get(f"/v1/connections/{started['connection']['id']}"))  # type: ignore[index]
        assert connection["status"] == "failed"
        assert connection["error"]["code"] == "job_timeout"


def test_wrong_password_fails_the_link(scripted: RunningServer) -> None:
    with scripted.client(scripted.new_api_key()) as api:
        started = _link(api, "someone", password="wrong")
        job = wait_job(api, started["job"]["id"])  # type: ignore[index]
        assert job["error"]["code"] == "invalid_credentials"
        assert [s["status"] for s in job["steps"]][-1] == "failed"
        relink = api.post(f"/v1/connections/{job['connection_id']}/refresh")
        assert relink.status_code == 409
        assert relink.json()["error"]["code"] == "connection_not_linked"


def test_a_background_refresh_that_meets_mfa_marks_the_connection_needs_relink(
    scripted: RunningServer,
) -> None:
    from billfold.services.connections import refresh_connection

    with scripted.client(scripted.new_api_key()) as api:
        started = _link(api, "code-user")
        job = wait_job(api, started["job"]["id"])  # type: ignore[index]
        answer(api, job, "123456")
        assert wait_job(api, job["id"])["status"] == "succeeded"
        client_id = scripted.container.api_keys.verify(api.headers["authorization"][7:]).id
        connection_id = job["connection_id"]
        refresh = refresh_connection(
            ctx=scripted.container.ctx,
            client_id=client_id,
            connection_id=connection_id,
            interactive=False,
        )
        failed = wait_job(api, refresh.id)
        assert failed["status"] == "failed" and failed["error"]["code"] == "needs_relink"
        assert failed["challenge"] is None
        connection = ok(api.get(f"/v1/connections/{connection_id}"))
        assert connection["status"] == "needs_relink"
        types = [e["type"] for e in ok(api.get("/v1/events"))["data"]]
        assert types[-2:] == ["job.failed", "connection.needs_relink"]
        assert types.count("job.waiting_for_answer") == 1  # only the interactive link asked
