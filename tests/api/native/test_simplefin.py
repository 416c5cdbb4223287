"""SimpleFIN over the native API, against a local SimpleFIN server: link with a setup
token, accounts and transactions with Billfold's signs and dates, refreshes that post
pending purchases without duplicates, the protocol's failures as job error codes, and
the setup token and access URL never in a response or a log line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, select

from billfold.store.database import scratch_engine
from conftest import RunningServer
from flows import institution_id, new_user, ok, wait_job
from simplefin_server import NOTICE, FakeTxn, SimpleFinServer

INSTITUTION = "SimpleFIN Bridge"


@pytest.fixture
def sfin() -> Iterator[SimpleFinServer]:
    with SimpleFinServer() as server:
        yield server


@pytest.fixture
def seen(api: httpx.Client) -> list[str]:
    """The text of every response the API client receives."""
    bodies: list[str] = []

    def keep(response: httpx.Response) -> None:
        response.read()
        bodies.append(response.text)

    api.event_hooks = {"request": [], "response": [keep]}
    return bodies


def _link(api: httpx.Client, token: str) -> tuple[str, dict[str, Any]]:
    body = {
        "user_id": new_user(api),
        "institution_id": institution_id(api, INSTITUTION),
        "credentials": {"setup_token": token},
    }
    started = ok(api.post("/v1/connections", json=body), 202)
    return started["connection"]["id"], wait_job(api, started["job"]["id"], timeout=30)


def _refresh(api: httpx.Client, connection_id: str) -> dict[str, Any]:
    job = ok(api.post(f"/v1/connections/{connection_id}/refresh"), 202)
    return wait_job(api, job["id"], timeout=30)


def _transactions(api: httpx.Client, account_id: str) -> list[dict[str, Any]]:
    page = ok(api.get(f"/v1/accounts/{account_id}/transactions", params={"limit": 500}))
    assert page["next_cursor"] is None
    found: list[dict[str, Any]] = page["data"]
    return found


def _stored_in_plain_text(database_url: str, needles: list[str]) -> list[str]:
    """The needles found unencrypted in any row of any table."""
    engine = scratch_engine(database_url)
    found: list[str] = []
    try:
        meta = MetaData()
        meta.reflect(bind=engine)
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                for row in conn.execute(select(table)):
                    blob = repr(tuple(row)).encode()
                    found.extend(f"{table.name}: {n}" for n in needles if n.encode() in blob)
    finally:
        engine.dispose()
    return found


def test_link_refresh_and_failures(
    server: RunningServer,
    api: httpx.Client,
    sfin: SimpleFinServer,
    seen: list[str],
    database_url: str,
) -> None:
    today = sfin.today
    login = ok(api.get(f"/v1/institutions/{institution_id(api, INSTITUTION)}"))
    assert [f["key"] for f in login["login_fields"]] == ["setup_token"]

    token = sfin.setup_token()
    connection_id, job = _link(api, token)
    assert job["status"] == "succeeded", job
    accounts = ok(api.get("/v1/accounts", params={"connection_id": connection_id}))["data"]
    by_name = {a["name"]: a for a in accounts}
    checking, card = by_name["Everyday Checking 6789"], by_name["Rewards Visa 4321"]
    assert (checking["type"], checking["mask"], checking["currency"]) == ("checking", "6789", "USD")
    assert checking["balances"]["current"] == "1520.07"
    assert checking["balances"]["available"] == "1500.07"
    assert (card["type"], card["balances"]["current"]) == ("credit_card", "250.50")

    chk = _transactions(api, checking["id"])
    assert len(chk) == 27
    pay = next(t for t in chk if t["date"] == (today - timedelta(days=3)).isoformat())
    assert (pay["amount"], pay["direction"], pay["status"]) == ("2500.00", "credit", "posted")
    rent = next(t for t in chk if t["merchant"] == "Rent")
    assert Decimal(rent["amount"]) == Decimal("-1200.00") and rent["direction"] == "debit"
    coffee = next(t for t in chk if t["status"] == "pending")
    assert (coffee["amount"], coffee["date"]) == ("-4.75", today.isoformat())
    cards = _transactions(api, card["id"])
    grocery = next(t for t in cards if t["description"] == "GROCERY #12")
    assert grocery["amount"] == "-82.13"
    assert grocery["date"] == (today - timedelta(days=4)).isoformat()
    assert grocery["posted_date"] == (today - timedelta(days=2)).isoformat()
    pending_book = next(t for t in cards if t["status"] == "pending")
    assert pending_book["description"] == "BOOKSHOP"

    # The bookshop purchase posts under the same id, a new one arrives, the server has news.
    sfin.post("ACT-card-1", "card-book")
    sfin.account("ACT-chk-1").transactions.append(
        FakeTxn("chk-new", "-15.00", "PHARMACY", today, payee="Pharmacy")
    )
    sfin.mode = "errors"
    job = _refresh(api, connection_id)
    assert job["status"] == "succeeded", job
    assert any(NOTICE in (s["note"] or "") for s in job["steps"]), job["steps"]
    cards = _transactions(api, card["id"])
    book = [t for t in cards if t["description"] == "BOOKSHOP"]
    assert len(book) == 1 and book[0]["status"] == "posted"
    assert book[0]["pending_transaction_id"] == pending_book["id"]
    chk = _transactions(api, checking["id"])
    assert len(chk) == 28 and [t["merchant"] for t in chk].count("Pharmacy") == 1

    job = _refresh(api, connection_id)
    assert job["status"] == "succeeded", job
    assert len(_transactions(api, checking["id"])) == 28
    assert len(_transactions(api, card["id"])) == 3

    for mode, code in (("402", "action_required"), ("500", "institution_unavailable")):
        sfin.mode = mode
        job = _refresh(api, connection_id)
        assert (job["status"], job["error"]["code"]) == ("failed", code), job
    sfin.mode = None
    sfin.revoke_all()
    job = _refresh(api, connection_id)
    assert (job["status"], job["error"]["code"]) == ("failed", "needs_relink"), job
    assert ok(api.get(f"/v1/connections/{connection_id}"))["status"] == "needs_relink"

    # Relinking with a new setup token claims new access and keeps the history.
    second = sfin.setup_token()
    job = ok(
        api.post(
            f"/v1/connections/{connection_id}/relink",
            json={"credentials": {"setup_token": second}},
        ),
        202,
    )
    job = wait_job(api, job["id"], timeout=30)
    assert job["status"] == "succeeded", job
    assert len(_transactions(api, checking["id"])) == 28

    secrets = [token, second, *sfin.secrets(), "/claim/"]
    logs = server.logs.text()
    assert [s for s in secrets if s in logs] == []
    assert [s for s in secrets for body in seen if s in body] == []
    assert _stored_in_plain_text(database_url, [token, second, *sfin.secrets()]) == []


def test_used_or_bad_setup_token_is_invalid_credentials(
    server: RunningServer, api: httpx.Client, sfin: SimpleFinServer
) -> None:
    token = sfin.setup_token()
    _, job = _link(api, token)
    assert job["status"] == "succeeded", job
    for bad in (token, "not a setup token"):
        _, job = _link(api, bad)
        assert (job["status"], job["error"]["code"]) == ("failed", "invalid_credentials"), job
        assert bad not in str(job)
    assert token not in server.logs.text()
