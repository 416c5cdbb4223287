"""OFX Direct Connect over the native API, against the local OFX server listed in a
BILLFOLD_OFX_SERVERS file: links in OFX 1.0.2 and 2.2.0, MFA answered through
/v1/jobs/{id}/answer, refreshes that reuse the ACCESSKEY and the CLIENTUID without
duplicating transactions, the protocol's failures as job error codes, ofxtools'
servers in the directory, and the password and answers never in a response or a log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select

from billfold.settings import Settings
from billfold.store.database import scratch_engine
from conftest import RunningServer, make_settings
from flows import answer, institution_id, link, ok, start_link, wait_job
from ofx_server import ANSWERS, PASSWORD, PHRASES, USER, OfxServer, Txn

BANK_102 = "Billfold Test Bank (OFX 1.0.2)"
BANK_220 = "Billfold Test Bank (OFX 2.2.0)"


@pytest.fixture
def bank() -> Iterator[OfxServer]:
    with OfxServer() as server:
        yield server


@pytest.fixture
def server_settings(
    tmp_path: Path, database_url: str, job_backend: str, bank: OfxServer
) -> Settings:
    servers = tmp_path / "ofx_servers.json"
    servers.write_text(
        json.dumps(
            [
                bank.server_entry("billfold-test-102", BANK_102, 102),
                bank.server_entry(
                    "billfold-test-220", BANK_220, 220, kind="credit_union", clientuid_required=True
                ),
            ]
        )
    )
    return make_settings(tmp_path, database_url, job_backend=job_backend, ofx_servers=servers)


@pytest.fixture
def seen(api: httpx.Client) -> list[str]:
    """The text of every response the API client receives."""
    bodies: list[str] = []

    def keep(response: httpx.Response) -> None:
        response.read()
        bodies.append(response.text)

    api.event_hooks = {"request": [], "response": [keep]}
    return bodies


def _accounts(api: httpx.Client, connection_id: str) -> dict[str, dict[str, Any]]:
    found = ok(api.get("/v1/accounts", params={"connection_id": connection_id}))["data"]
    return {a["name"]: a for a in found}


def _transactions(api: httpx.Client, account_id: str) -> list[dict[str, Any]]:
    page = ok(api.get(f"/v1/accounts/{account_id}/transactions", params={"limit": 500}))
    assert page["next_cursor"] is None
    found: list[dict[str, Any]] = page["data"]
    return found


def _refresh(api: httpx.Client, connection_id: str) -> dict[str, Any]:
    job = ok(api.post(f"/v1/connections/{connection_id}/refresh"), 202)
    return wait_job(api, job["id"], timeout=30)


def _assert_no_secrets(
    server: RunningServer, seen: list[str], bank: OfxServer, database_url: str
) -> None:
    """No password, answer or ACCESSKEY in a log line, a response or a row in plain text."""
    secrets = [PASSWORD, *ANSWERS.values(), *bank.access_keys]
    logs = server.logs.text()
    assert [s for s in secrets if s in logs] == []
    assert [s for s in secrets for body in seen if s in body] == []
    engine = scratch_engine(database_url)
    try:
        meta = MetaData()
        meta.reflect(bind=engine)
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                for row in conn.execute(select(table)):
                    blob = repr(tuple(row))
                    assert [s for s in secrets if s in blob] == [], table.name
    finally:
        engine.dispose()


def test_link_both_versions_refresh_and_directory(
    server: RunningServer,
    api: httpx.Client,
    bank: OfxServer,
    seen: list[str],
    database_url: str,
) -> None:
    today = bank.today
    # ofxtools' servers are in the directory, each with its server URL.
    found = ok(api.get("/v1/institutions", params={"query": "Fifth Third", "limit": 100}))["data"]
    fifth = next(i for i in found if i["name"] == "Fifth Third Bank")
    detail = ok(api.get(f"/v1/institutions/{fifth['id']}"))
    assert detail["url"] == "https://banking.53.com/ofx/OFXServlet"
    assert [f["key"] for f in detail["login_fields"]] == ["username", "password"]
    ours = ok(api.get(f"/v1/institutions/{institution_id(api, BANK_220)}"))
    assert ours["kind"] == "credit_union"

    connection, job = link(api, BANK_102, USER, PASSWORD)
    assert job["status"] == "succeeded", job
    accounts = _accounts(api, connection["id"])
    checking, card = accounts["Everyday Checking"], accounts["Rewards Visa"]
    assert (checking["type"], checking["mask"], checking["currency"]) == ("checking", "6789", "USD")
    assert checking["balances"]["current"] == "1520.07"
    assert checking["balances"]["available"] == "1500.07"
    assert (card["type"], card["mask"], card["balances"]["current"]) == (
        "credit_card",
        "4321",
        "250.50",
    )
    chk = _transactions(api, checking["id"])
    assert len(chk) == 27
    pay = next(t for t in chk if t["date"] == (today - timedelta(days=3)).isoformat())
    assert (pay["amount"], pay["direction"], pay["description"]) == (
        "2500.00",
        "credit",
        "PAYROLL ACME",
    )
    rent = next(t for t in chk if t["description"] == "RENT")
    assert (rent["amount"], rent["direction"]) == ("-1200.00", "debit")
    cards = _transactions(api, card["id"])
    grocery = next(t for t in cards if t["description"] == "GROCERY #12")
    assert grocery["amount"] == "-82.13"
    assert grocery["date"] == (today - timedelta(days=4)).isoformat()
    assert grocery["posted_date"] == (today - timedelta(days=2)).isoformat()
    payment = next(t for t in cards if t["amount"] == "300.00")
    assert payment["direction"] == "credit" and payment["merchant"] == "Payment Thank You"

    # A new purchase arrives; the refresh adds it once and duplicates nothing.
    bank.account("4111111111114321").transactions.append(Txn("CC-NEW", "-15.00", today, "PHARMACY"))
    job = _refresh(api, connection["id"])
    assert job["status"] == "succeeded", job
    assert len(_transactions(api, checking["id"])) == 27
    cards = _transactions(api, card["id"])
    assert len(cards) == 4 and [t["description"] for t in cards].count("PHARMACY") == 1
    clientuids = {s.clientuid for s in bank.signons}
    assert clientuids == {None}  # OFX 1.0.2 has no CLIENTUID

    # The 2.2.0 server wants its new CLIENTUID approved first.
    bank.clientuid_required = True
    started = start_link(api, BANK_220, USER, PASSWORD)
    job = wait_job(api, started["job"]["id"])
    assert (job["status"], job["error"]["code"]) == ("failed", "action_required"), job
    assert "approve" in job["error"]["message"]
    (pending,) = bank.unapproved
    bank.approve(pending)
    relink = ok(api.post(f"/v1/connections/{started['connection']['id']}/relink"), 202)
    job = wait_job(api, relink["id"])
    assert job["status"] == "succeeded", job
    assert bank.signons[-1].clientuid == pending and bank.signons[-1].xml
    assert len(_accounts(api, started["connection"]["id"])) == 2
    _assert_no_secrets(server, seen, bank, database_url)


def test_mfa_link_and_refresh_without_questions(
    server: RunningServer,
    api: httpx.Client,
    bank: OfxServer,
    seen: list[str],
    database_url: str,
) -> None:
    bank.mfa = True
    bank.clientuid_required = True
    bank.approved.add("never-used")  # an approved uid of someone else is no help
    started = start_link(api, BANK_220, USER, PASSWORD)
    job = wait_job(api, started["job"]["id"])
    assert job["status"] == "failed" and job["error"]["code"] == "action_required", job
    (uid,) = bank.unapproved
    bank.approve(uid)
    relink = ok(api.post(f"/v1/connections/{started['connection']['id']}/relink"), 202)
    job = wait_job(api, relink["id"])
    assert job["status"] == "waiting_for_answer", job
    challenge = job["challenge"]
    assert challenge["kind"] == "questions"
    assert challenge["questions"] == [label for _, label in PHRASES]
    assert [o["id"] for o in challenge["options"]] == [pid for pid, _ in PHRASES]
    answer(api, job, *(ANSWERS[pid] for pid, _ in PHRASES))
    job = wait_job(api, job["id"])
    assert job["status"] == "succeeded", job
    connection_id = started["connection"]["id"]
    card = _accounts(api, connection_id)["Rewards Visa"]
    assert len(_transactions(api, card["id"])) == 3
    (key,) = bank.access_keys

    signons = len(bank.signons)
    job = _refresh(api, connection_id)
    assert job["status"] == "succeeded", job
    assert all(s["status"] != "waiting_for_answer" for s in job["steps"]), job["steps"]
    later = bank.signons[signons:]
    assert later and all(s.accesskey == key and not s.asked_challenge for s in later)
    assert {s.clientuid for s in bank.signons} == {uid}
    assert len(_transactions(api, card["id"])) == 3

    # A wrong answer on another link fails that job with invalid_answer.
    bank.clientuid_required = False
    started = start_link(api, BANK_102, USER, PASSWORD)
    job = wait_job(api, started["job"]["id"])
    assert job["status"] == "waiting_for_answer", job
    answer(api, job, "Babbage", "Rex")
    job = wait_job(api, job["id"])
    assert (job["status"], job["error"]["code"]) == ("failed", "invalid_answer"), job
    _assert_no_secrets(server, seen, bank, database_url)
    assert "Babbage" not in server.logs.text()


def test_wrong_password_and_server_failures(
    server: RunningServer,
    api: httpx.Client,
    bank: OfxServer,
    seen: list[str],
    database_url: str,
) -> None:
    _, job = link(api, BANK_102, USER, "not-the-password")
    assert (job["status"], job["error"]["code"]) == ("failed", "invalid_credentials"), job
    connection, job = link(api, BANK_102, USER, PASSWORD)
    assert job["status"] == "succeeded", job
    for mode in ("500", "2000", "garbage"):
        bank.mode = mode
        job = _refresh(api, connection["id"])
        assert (job["status"], job["error"]["code"]) == ("failed", "institution_unavailable"), (
            mode,
            job,
        )
    bank.mode = None
    assert _refresh(api, connection["id"])["status"] == "succeeded"
    assert "not-the-password" not in server.logs.text()
    _assert_no_secrets(server, seen, bank, database_url)
