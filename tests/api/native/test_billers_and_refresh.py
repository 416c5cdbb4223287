"""Billers, two years of everyday banking, refresh semantics and pagination over /v1.

Covers the Billfold sandbox institutions: billers carry a bill (amount due, minimum payment,
due date); Billfold Sandbox Bank logins give two years of history with recurring paychecks;
pending transactions post on a later refresh (the pending row is replaced, the posted row
points back at it); refreshing again never duplicates; cursors walk every page once.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

from conftest import all_backends_database_url
from flows import answer, institution_id, ok, start_link, wait_job

# Also with procrastinate workers on PostgreSQL (scale-out mode).
database_url = all_backends_database_url()

BANK = "Billfold Sandbox Bank"
BILLERS = {
    "Sandbox Power & Light": "utility",
    "Sandbox Wireless": "phone",
    "Sandbox Fiber": "internet",
}


def _walk(api: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paginated list; each cursor is new and each page is full but the last."""
    items: list[dict[str, Any]] = []
    cursors: set[str] = set()
    cursor: str | None = None
    limit = int(params.get("limit", 100))
    while True:
        page = ok(api.get(path, params={**params, **({"cursor": cursor} if cursor else {})}))
        items.extend(page["data"])
        cursor = page["next_cursor"]
        if not cursor:
            assert len(page["data"]) <= limit
            return items
        assert len(page["data"]) == limit, "a page before the last one is short"
        assert cursor not in cursors, "a cursor repeats"
        cursors.add(cursor)


def _link(api: httpx.Client, institution: str, username: str) -> dict[str, Any]:
    started = start_link(api, institution, username, "sandbox-pass")
    job = wait_job(api, started["job"]["id"], timeout=30)
    assert job["status"] == "succeeded", (institution, username, job)
    return job


def _accounts(api: httpx.Client, connection_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(
        api.get("/v1/accounts", params={"connection_id": connection_id})
    )["data"]
    return found


def _refresh(api: httpx.Client, connection_id: str) -> dict[str, Any]:
    job = ok(api.post(f"/v1/connections/{connection_id}/refresh"), 202)
    done = wait_job(api, job["id"], timeout=30)
    assert done["status"] == "succeeded", done
    return done


def test_billers_carry_amount_due_minimum_and_due_date(api: httpx.Client) -> None:
    today = date.today()
    for name, kind in BILLERS.items():
        listed = ok(api.get("/v1/institutions", params={"kind": kind, "limit": 500}))["data"]
        assert name in {i["name"] for i in listed}, (kind, [i["name"] for i in listed])
        assert {i["kind"] for i in listed} == {kind}
        assert ok(api.get(f"/v1/institutions/{institution_id(api, name)}"))["kind"] == kind

        job = _link(api, name, "bill.payer@example.com")
        accounts = _accounts(api, job["connection_id"])
        assert len(accounts) == 1, accounts
        bill = accounts[0]["bill"]
        assert None not in (bill["amount_due"], bill["minimum_payment"], bill["due_date"]), bill
        amount_due = Decimal(bill["amount_due"])
        minimum = Decimal(bill["minimum_payment"])
        # A paid-up bill owes 0.00 until the next statement; the due date is never far off.
        assert Decimal("0") <= minimum <= amount_due < Decimal("10000"), bill
        assert bill["amount_due"] == f"{amount_due:.2f}"
        due = date.fromisoformat(bill["due_date"])
        assert today - timedelta(days=5) <= due <= today + timedelta(days=60), due
        # The history has the monthly statements (charges) and payments behind the bill.
        txns = _walk(api, f"/v1/accounts/{accounts[0]['id']}/transactions", limit=500)
        charges = [t for t in txns if Decimal(t["amount"]) < 0]
        assert len(charges) >= 12 and [t for t in txns if Decimal(t["amount"]) > 0]
        assert accounts[0]["currency"] == "USD"
    # Several kinds at once, comma-separated or repeated.
    both = ok(api.get("/v1/institutions", params={"kind": "phone,internet", "limit": 500}))
    assert {"Sandbox Wireless", "Sandbox Fiber"} <= {i["name"] for i in both["data"]}
    assert {i["kind"] for i in both["data"]} == {"phone", "internet"}


def test_user_good_has_two_years_of_history_with_recurring_paychecks(api: httpx.Client) -> None:
    today = date.today()
    job = _link(api, BANK, "user_good")
    accounts = _accounts(api, job["connection_id"])
    types = sorted(a["type"] for a in accounts)
    assert len(accounts) >= 3 and "checking" in types and "savings" in types, types
    checking = next(a for a in accounts if a["type"] == "checking")
    txns = _walk(api, f"/v1/accounts/{checking['id']}/transactions", limit=500)
    dates = [date.fromisoformat(t["date"]) for t in txns]
    assert dates == sorted(dates, reverse=True), "not newest first"
    assert today - timedelta(days=745) <= min(dates) <= today - timedelta(days=700), min(dates)
    assert max(dates) <= today
    assert len(txns) > 300
    for t in txns:
        amount = Decimal(t["amount"])
        assert t["direction"] == ("credit" if amount > 0 else "debit"), t
        assert t["status"] in {"pending", "posted"}
        assert t["currency"] == "USD" and t["description"]

    # A paycheck: the same credit description, regularly spaced, all through the two years.
    credits: dict[str, list[date]] = defaultdict(list)
    for t in txns:
        if Decimal(t["amount"]) > 0 and t["status"] == "posted":
            credits[t["description"]].append(date.fromisoformat(t["date"]))
    recurring = []
    for description, days in credits.items():
        days.sort()
        gaps = [(b - a).days for a, b in itertools.pairwise(days)]
        if len(days) >= 40 and max(gaps) - min(gaps) <= 3 and statistics.median(gaps) <= 16:
            recurring.append((description, len(days), days[0], days[-1]))
    assert recurring, sorted((d, len(v)) for d, v in credits.items())
    _, _, first, last = recurring[0]
    assert first <= today - timedelta(days=690) and last >= today - timedelta(days=21)


def _pending_link(api: httpx.Client) -> tuple[str, list[dict[str, Any]]]:
    """A Billfold bank login that has pending transactions right after the link."""
    for username in ("user_good", "pending-1", "pending-2", "pending-3"):
        connection_id = _link(api, BANK, username)["connection_id"]
        pending = _walk(
            api, "/v1/transactions", connection_id=connection_id, status="pending", limit=500
        )
        if pending:
            return connection_id, pending
    raise AssertionError("no sandbox login had pending transactions at link")


def test_pending_transactions_post_on_refresh_without_duplicates(api: httpx.Client) -> None:
    connection_id, pending = _pending_link(api)
    assert all(t["posted_date"] is None for t in pending)
    before = _walk(api, "/v1/transactions", connection_id=connection_id, limit=500)
    assert len({t["id"] for t in before}) == len(before)
    posted_ids = {t["id"] for t in before if t["status"] == "posted"}
    waiting = {t["id"]: t for t in pending}

    after: list[dict[str, Any]] = []
    # The live sandbox clock starts three days back and moves one day per refresh: after
    # three refreshes it has reached today and every purchase pending at link has posted.
    for _ in range(3):
        _refresh(api, connection_id)
        after = _walk(api, "/v1/transactions", connection_id=connection_id, limit=500)
        ids = [t["id"] for t in after]
        assert len(set(ids)) == len(ids), "a refresh duplicated transactions"
        assert posted_ids <= set(ids), "a posted transaction disappeared or changed id"
        posted_ids = {t["id"] for t in after if t["status"] == "posted"}
    remaining = set(waiting) & {t["id"] for t in after}
    assert not remaining, f"{len(remaining)} pending transaction(s) never posted"
    replacing = {t["pending_transaction_id"]: t for t in after if t["pending_transaction_id"]}
    for pending_id, old in waiting.items():
        posted = replacing.get(pending_id)
        assert posted is not None, f"nothing replaced pending {old}"
        assert posted["status"] == "posted" and posted["posted_date"]
        assert (posted["amount"], posted["date"], posted["description"]) == (
            old["amount"],
            old["date"],
            old["description"],
        )
        assert date.fromisoformat(posted["posted_date"]) >= date.fromisoformat(posted["date"])

    # The clock has reached today: another refresh changes nothing at all.
    settled = {t["id"]: t for t in after}
    for _ in range(2):
        _refresh(api, connection_id)
        again = _walk(api, "/v1/transactions", connection_id=connection_id, limit=500)
        assert len(again) == len(settled)
        assert {t["id"]: t for t in again} == settled


def test_cursor_pagination_walks_every_page_once(api: httpx.Client) -> None:
    connection_id = _link(api, BANK, "user_good")["connection_id"]
    everything = _walk(api, "/v1/transactions", connection_id=connection_id, limit=500)
    assert len(everything) > 500
    for limit in (1000 // 7, 97):
        paged = _walk(api, "/v1/transactions", connection_id=connection_id, limit=limit)
        assert [t["id"] for t in paged] == [t["id"] for t in everything]
    keys = [(t["date"], t["id"]) for t in everything]
    assert [k[0] for k in keys] == sorted((k[0] for k in keys), reverse=True)

    # Per account, and within a date range, the pages add up to the same rows.
    account = _accounts(api, connection_id)[0]
    mine = [t for t in everything if t["account_id"] == account["id"]]
    paged = _walk(api, f"/v1/accounts/{account['id']}/transactions", limit=13)
    assert [t["id"] for t in paged] == [t["id"] for t in mine]
    end = date.fromisoformat(everything[0]["date"]) - timedelta(days=30)
    start = end - timedelta(days=60)
    window = [t for t in mine if start.isoformat() <= t["date"] <= end.isoformat()]
    assert window
    paged = _walk(
        api,
        "/v1/transactions",
        account_id=account["id"],
        start_date=start.isoformat(),
        end_date=end.isoformat(),
        limit=9,
    )
    assert [t["id"] for t in paged] == [t["id"] for t in window]


def test_user_mfa_chooses_a_delivery_then_enters_the_code(api: httpx.Client) -> None:
    started = start_link(api, BANK, "user_mfa", "sandbox-pass")
    job = wait_job(api, started["job"]["id"])
    assert job["status"] == "waiting_for_answer", job
    choice = job["challenge"]
    assert choice["kind"] == "choice" and len(choice["options"]) >= 2, choice
    answer(api, job, choice["options"][-1]["id"])
    job = wait_job(api, job["id"])
    assert job["status"] == "waiting_for_answer", job
    assert job["challenge"]["kind"] == "code" and job["challenge"]["code_label"]
    answer(api, job, "123456")
    job = wait_job(api, job["id"], timeout=30)
    assert job["status"] == "succeeded", job
    assert _accounts(api, job["connection_id"])


def test_user_select_links_only_the_chosen_account(api: httpx.Client) -> None:
    started = start_link(api, BANK, "user_select", "sandbox-pass")
    job = wait_job(api, started["job"]["id"])
    assert job["status"] == "waiting_for_answer", job
    challenge = job["challenge"]
    assert challenge["kind"] == "account_select", challenge
    options = challenge["options"]
    assert len(options) >= 2 and len({o["label"] for o in options}) == len(options)
    chosen = options[1]
    answer(api, job, chosen["label"])
    job = wait_job(api, job["id"], timeout=30)
    assert job["status"] == "succeeded", job
    accounts = ok(
        api.get(
            "/v1/accounts", params={"connection_id": job["connection_id"], "include_inactive": True}
        )
    )["data"]
    assert len(accounts) == 1, accounts
    assert accounts[0]["mask"] in chosen["label"], (accounts[0], chosen)
    txns = _walk(api, "/v1/transactions", connection_id=job["connection_id"], limit=500)
    assert txns and {t["account_id"] for t in txns} == {accounts[0]["id"]}
    # A refresh keeps to the chosen account.
    _refresh(api, job["connection_id"])
    refreshed = _accounts(api, job["connection_id"])
    assert [a["id"] for a in refreshed] == [accounts[0]["id"]]


def test_sophtron_pending_purchases_post_on_the_first_refresh(api: httpx.Client) -> None:
    """Sophtron's 2021 data is fixed: its last card purchases are pending at link only."""
    job = _link(api, "Sophtron Bank NoMFA", "asdf")
    connection_id = job["connection_id"]
    before = _walk(api, "/v1/transactions", connection_id=connection_id, limit=500)
    pending = [t for t in before if t["status"] == "pending"]
    assert pending, "no pending purchases at link"
    assert all(t["date"].startswith("2021-12") and t["posted_date"] is None for t in pending)
    by_status = _walk(
        api, "/v1/transactions", connection_id=connection_id, status="pending", limit=500
    )
    assert [t["id"] for t in by_status] == [t["id"] for t in pending]

    refresh = _refresh(api, connection_id)
    assert refresh["kind"] == "refresh" and refresh["accounts_ready"]
    after = _walk(api, "/v1/transactions", connection_id=connection_id, limit=500)
    assert len(after) == len(before), "posting must replace rows, not add them"
    assert not {t["id"] for t in pending} & {t["id"] for t in after}
    assert all(t["status"] == "posted" for t in after)
    replacing = {t["pending_transaction_id"]: t for t in after if t["pending_transaction_id"]}
    assert set(replacing) == {t["id"] for t in pending}
    for old in pending:
        new = replacing[old["id"]]
        assert (new["amount"], new["date"], new["description"], new["account_id"]) == (
            old["amount"],
            old["date"],
            old["description"],
            old["account_id"],
        )
        assert new["posted_date"] and new["posted_date"] >= new["date"]
    # Balances stay the documented ones, and a second refresh changes nothing.
    balances = {a["mask"]: a["balances"]["current"] for a in _accounts(api, connection_id)}
    assert balances["1234"] == "1000.00"
    _refresh(api, connection_id)
    assert _walk(api, "/v1/transactions", connection_id=connection_id, limit=500) == after
