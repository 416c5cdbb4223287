"""The Synapse sandbox bank (`bank_name: "fake"`) over /v1: logins, MFA, accounts, refresh.

Checks synapse-api.md sections 6 and 11 with the seed document's example values: the
question loop (`again` asks once more, `test_answer` passes, a wrong answer re-prompts), the
code bank, the count variants, link-time errors and the password suffixes that make later
refreshes fail or move balances.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

from conftest import all_backends_database_url
from flows import answer, ok, wait_job

# Also with procrastinate workers on PostgreSQL (scale-out mode).
database_url = all_backends_database_url()

QUESTION = "I heard you like questions so we put a question in your question?"
NAME = "Synapse Sandbox Bank"
ROUTING = "051405515"


def _synapse_id(api: httpx.Client) -> str:
    found = ok(api.get("/v1/institutions", params={"query": "Synapse", "limit": 100}))["data"]
    fake = [i for i in found if i["code"] == "fake"]
    assert len(fake) == 1, found
    assert fake[0]["name"] == NAME and fake[0]["kind"] == "bank"
    return str(fake[0]["id"])


def _start(api: httpx.Client, inst: str, username: str, password: str) -> dict[str, Any]:
    user = ok(api.post("/v1/users", json={}), 201)["id"]
    body = {
        "user_id": user,
        "institution_id": inst,
        "credentials": {"username": username, "password": password},
    }
    started: dict[str, Any] = ok(api.post("/v1/connections", json=body), 202)
    return started


def _link_good(api: httpx.Client, inst: str, username: str, password: str) -> dict[str, Any]:
    """Link a question-MFA login with `test_answer`; returns the finished job."""
    started = _start(api, inst, username, password)
    job = wait_job(api, started["job"]["id"])
    assert job["status"] == "waiting_for_answer", job
    assert job["challenge"]["kind"] == "questions"
    assert job["challenge"]["questions"] == [QUESTION]
    answer(api, job, "test_answer")
    job = wait_job(api, job["id"])
    assert job["status"] == "succeeded", job
    return job


def _link_nomfa(api: httpx.Client, inst: str, password: str) -> dict[str, Any]:
    started = _start(api, inst, "synapse_nomfa", password)
    job = wait_job(api, started["job"]["id"])
    assert job["status"] == "succeeded", (password, job)
    assert not [s for s in job["steps"] if s["challenge_kind"]]
    return job


def _accounts(api: httpx.Client, connection_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(
        api.get("/v1/accounts", params={"connection_id": connection_id})
    )["data"]
    return sorted(found, key=lambda a: a["mask"])


def _seed_pair(api: httpx.Client, connection_id: str) -> list[dict[str, Any]]:
    """The seed document's two nodes: checking 8901 at 800.00, savings 8902 at 750.00."""
    accounts = _accounts(api, connection_id)
    assert [
        (a["mask"], a["type"], a["balances"]["current"], a["currency"], a["name"]) for a in accounts
    ] == [
        ("8901", "checking", "800.00", "USD", "SynapsePay Test Checking Account - 8901"),
        ("8902", "savings", "750.00", "USD", "SynapsePay Test Savings Account - 8902"),
    ]
    return accounts


def test_synapse_good_answers_two_question_rounds(api: httpx.Client) -> None:
    inst = _synapse_id(api)
    started = _start(api, inst, "synapse_good", "test1234")
    job = wait_job(api, started["job"]["id"])
    first = job["challenge"]
    assert job["status"] == "waiting_for_answer"
    assert (first["kind"], first["questions"]) == ("questions", [QUESTION])
    assert first["retry_note"] is None

    answer(api, job, "again")
    job = wait_job(api, job["id"])
    second = job["challenge"]
    assert job["status"] == "waiting_for_answer", job
    assert (second["kind"], second["questions"]) == ("questions", [QUESTION])
    assert second["id"] != first["id"]

    answer(api, job, "test_answer")
    job = wait_job(api, job["id"])
    assert job["status"] == "succeeded", job
    asked = [s["challenge_kind"] for s in job["steps"] if s["status"] == "waiting_for_answer"]
    assert asked == ["questions", "questions"]

    checking, savings = _seed_pair(api, job["connection_id"])
    for account in (checking, savings):
        details = ok(api.get(f"/v1/accounts/{account['id']}/details"))
        assert details["routing_number"] == ROUTING
        full = details["full_number"]
        assert full and full.isdigit() and len(full) == 12 and full.endswith(account["mask"])
        # The plain account view never carries the full numbers.
        plain = ok(api.get(f"/v1/accounts/{account['id']}"))
        assert plain["full_number"] is None and plain["routing_number"] is None
        # About 30 transactions per node over the last 90 days.
        txns = ok(api.get(f"/v1/accounts/{account['id']}/transactions", params={"limit": 500}))
        days = [date.fromisoformat(t["date"]) for t in txns["data"]]
        assert 10 <= len(days) <= 60 and txns["next_cursor"] is None, len(days)
        assert date.today() - timedelta(days=95) <= min(days) <= max(days) <= date.today()


def test_wrong_answer_reprompts_with_a_retry_note(api: httpx.Client) -> None:
    inst = _synapse_id(api)
    started = _start(api, inst, "test_good", "test1234")  # the documented alias
    job = wait_job(api, started["job"]["id"])
    first = job["challenge"]
    answer(api, job, "not the answer")
    job = wait_job(api, job["id"])
    assert job["status"] == "waiting_for_answer", job
    retry = job["challenge"]
    assert retry["id"] != first["id"]
    assert (retry["kind"], retry["questions"]) == ("questions", [QUESTION])
    assert retry["retry_note"], retry
    answer(api, job, "test_answer")
    job = wait_job(api, job["id"])
    assert job["status"] == "succeeded", job
    _seed_pair(api, job["connection_id"])


def test_nomfa_and_code_mfa_logins(api: httpx.Client) -> None:
    inst = _synapse_id(api)
    nomfa = _link_nomfa(api, inst, "test1234")
    _seed_pair(api, nomfa["connection_id"])

    started = _start(api, inst, "synapse_code_mfa", "test1234")
    job = wait_job(api, started["job"]["id"])
    assert job["status"] == "waiting_for_answer", job
    first = job["challenge"]
    assert (first["kind"], first["retry_note"]) == ("code", None)
    answer(api, job, "654321")  # a wrong code is asked again, with a note
    job = wait_job(api, job["id"])
    assert job["status"] == "waiting_for_answer", job
    assert job["challenge"]["kind"] == "code" and job["challenge"]["retry_note"]
    assert job["challenge"]["id"] != first["id"]
    answer(api, job, "123456")
    job = wait_job(api, job["id"])
    assert job["status"] == "succeeded", job
    types = sorted(a["type"] for a in _accounts(api, job["connection_id"]))
    assert types == ["checking", "savings"]


def test_account_count_variants(api: httpx.Client) -> None:
    inst = _synapse_id(api)
    expected_types = {
        "test1234_one": None,
        "test1234_checking": {"checking"},
        "test1234_savings": {"savings"},
        "test1234_random": {"checking", "savings"},
    }
    for password, types in expected_types.items():
        job = _link_good(api, inst, "synapse_good", password)
        accounts = _accounts(api, job["connection_id"])
        masks = [a["mask"] for a in accounts]
        # Further nodes continue the seed's numbering: 8901, 8902, 8903, ...
        assert masks == [str(8901 + i) for i in range(len(masks))], masks
        assert all(a["currency"] == "USD" and a["balances"]["current"] for a in accounts)
        if types is None:
            assert sorted(a["type"] for a in accounts) == ["checking", "savings"], password
        else:
            assert 1 <= len(accounts) <= 10, (password, masks)
            assert {a["type"] for a in accounts} <= types, (password, accounts)


def test_link_time_errors(api: httpx.Client) -> None:
    inst = _synapse_id(api)
    cases = [
        ("synapse_no_accounts", "test1234", "no_accounts"),
        ("synapse_bank_request", "whatever", "action_required"),
        ("synapse_maintenance", "test1234", "institution_unavailable"),
        ("synapse_good", "wrong-password", "invalid_credentials"),
        ("synapse_nomfa", "test12345", "invalid_credentials"),
        ("somebody_else", "test1234", "invalid_credentials"),
    ]
    started = [(_start(api, inst, u, p), code) for u, p, code in cases]
    for link, code in started:
        job = wait_job(api, link["job"]["id"])
        assert (job["status"], job["error"]["code"]) == ("failed", code), job
        connection = ok(api.get(f"/v1/connections/{link['connection']['id']}"))
        assert (connection["status"], connection["error"]["code"]) == ("failed", code)
        assert _accounts(api, connection["id"]) == []


def _refresh(api: httpx.Client, connection_id: str) -> dict[str, Any]:
    job = ok(api.post(f"/v1/connections/{connection_id}/refresh"), 202)
    assert job["kind"] == "refresh" and job["connection_id"] == connection_id
    done = wait_job(api, job["id"])
    assert done["status"] in {"succeeded", "failed"}, done
    return done


def _balances(api: httpx.Client, connection_id: str) -> list[Decimal]:
    return [Decimal(a["balances"]["current"]) for a in _accounts(api, connection_id)]


def test_refresh_failure_suffixes(api: httpx.Client) -> None:
    inst = _synapse_id(api)
    failures = {
        "_sync_not_allowed": "refresh_not_allowed",
        "_sync_unknown_error": "unknown",
        "_sync_unavailable": "institution_unavailable",
        "_needs_relink": "needs_relink",
    }
    linked = {}
    for suffix in failures:
        job = _link_nomfa(api, inst, f"test1234{suffix}")
        _seed_pair(api, job["connection_id"])  # the link itself is normal
        linked[suffix] = job["connection_id"]
    for suffix, code in failures.items():
        connection_id = linked[suffix]
        for _ in range(2 if suffix != "_needs_relink" else 1):  # fires on every refresh
            job = _refresh(api, connection_id)
            assert (job["status"], job["error"]["code"]) == ("failed", code), (suffix, job)
            connection = ok(api.get(f"/v1/connections/{connection_id}"))
            assert connection["error"]["code"] == code
            expected = "needs_relink" if suffix == "_needs_relink" else "error"
            assert connection["status"] == expected, (suffix, connection)
        # A failed refresh keeps the accounts and their balances.
        _seed_pair(api, connection_id)
    # A count variant may precede the suffix.
    combined = _link_good(api, inst, "synapse_good", "test1234_checking_sync_unavailable")
    variant = _accounts(api, combined["connection_id"])
    assert variant and {a["type"] for a in variant} == {"checking"}
    job = _refresh(api, combined["connection_id"])
    assert (job["status"], job["error"]["code"]) == ("failed", "institution_unavailable")

    # A connection that needs relinking refuses further refreshes until relinked.
    relink_me = linked["_needs_relink"]
    blocked = api.post(f"/v1/connections/{relink_me}/refresh")
    assert blocked.status_code == 409, blocked.text
    assert blocked.json()["error"]["code"] == "needs_relink"
    # Relinking with a plain password heals it: same accounts, and refreshes work again.
    before = [a["id"] for a in _accounts(api, relink_me)]
    job = ok(
        api.post(
            f"/v1/connections/{relink_me}/relink", json={"credentials": {"password": "test1234"}}
        ),
        202,
    )
    job = wait_job(api, job["id"])
    assert (job["kind"], job["status"]) == ("link", "succeeded"), job
    healed = ok(api.get(f"/v1/connections/{relink_me}"))
    assert (healed["status"], healed["error"]) == ("active", None)
    assert _refresh(api, relink_me)["status"] == "succeeded"
    assert [a["id"] for a in _seed_pair(api, relink_me)] == before


def test_refresh_balance_suffixes_and_plain_refresh(api: httpx.Client) -> None:
    inst = _synapse_id(api)
    plain = _link_nomfa(api, inst, "test1234")["connection_id"]
    higher = _link_nomfa(api, inst, "test1234_sync_balance_higher")["connection_id"]
    lower = _link_good(api, inst, "synapse_good", "test1234_sync_balance_lower")["connection_id"]
    for connection_id in (plain, higher, lower):
        _seed_pair(api, connection_id)

    for connection_id in (plain, higher, lower):
        job = _refresh(api, connection_id)
        assert job["status"] == "succeeded", job
        assert job["challenge"] is None
        connection = ok(api.get(f"/v1/connections/{connection_id}"))
        assert connection["status"] == "active" and connection["error"] is None

    _seed_pair(api, plain)  # no suffix: balances unchanged
    assert _balances(api, higher) and all(
        Decimal("800.00") <= b <= Decimal("1500.00") for b in _balances(api, higher)
    ), _balances(api, higher)
    assert _balances(api, lower) and all(
        Decimal("10.00") <= b <= Decimal("50.00") for b in _balances(api, lower)
    ), _balances(api, lower)
    # Amounts stay two-decimal strings.
    for connection_id in (higher, lower):
        for account in _accounts(api, connection_id):
            assert account["balances"]["current"].count(".") == 1
            assert len(account["balances"]["current"].split(".")[1]) == 2
