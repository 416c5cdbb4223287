"""The Sophtron sandbox banks over /v1: every MFA sequence end to end, their data and failures.

Checks sophtron-api.md section 8: exact names and ids, the challenge sequence of each bank
(captcha, security questions, token method, token, token read-out), the Primary Checking /
Primary Savings accounts and 2021-dated transactions; `fail` and `invalid` failures.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

import httpx
import pytest

from conftest import all_backends_database_url
from flows import answer, institution_id, ok, start_link, wait_job

# Also with procrastinate workers on PostgreSQL (scale-out mode).
database_url = all_backends_database_url()

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOR = "What is your favorite color?"
PET = "What is the name of your first pet?"
CITY = "In what city were you born?"
SOPHTRON_TEXT = "Text message 1 (•••) •••-0102"

SANDBOX_IDS = {
    "Sophtron Bank": "8d0d9991-5e35-4b82-afa4-e93695e5ca7d",
    "Sophtron Bank Captcha": "8ad00f00-72b7-4642-a0de-b3f31e08510a",
    "Sophtron Bank Token": "337fe0c2-476e-46f5-a360-bf33f9fe1937",
    "Sophtron Bank NoMFA": "926623ca-5952-4921-8f77-2023f1cdde8e",
    "Sophtron Bank SecurityQuestion": "8809dee7-9e23-4039-a723-02bc01fce0f2",
    "Sophtron Bank SecurityQuestion Multiple": "8f32ccc1-acaf-4e6b-93b8-1f2cd398647d",
    "Sophtron Bank TokenRead": "0fe7236b-079a-4fe6-aed9-cf194790a553",
    "Sophtron Bank Business": "3bb6eb65-0d2f-41cc-a593-3b3f919c40c8",
}

# bank -> the challenges it asks, in order: (kind, what the challenge must carry, answers).
# For `questions` the expectation is the question list, for `choice` the option labels,
# for `code` the code label, for `approve` the code to read out, for `captcha` None.
Step = tuple[str, Any, list[str]]
FLOWS: dict[str, list[Step]] = {
    "Sophtron Bank": [
        ("captcha", None, ["x7k2"]),
        ("questions", [COLOR], ["blue"]),
        ("choice", [SOPHTRON_TEXT], [SOPHTRON_TEXT]),
        ("code", "Token", ["123456"]),
    ],
    "Sophtron Bank Captcha": [("captcha", None, ["abcd"])],
    "Sophtron Bank Token": [
        ("choice", ["xxx-xxx-1234", "xxx-xxx-5678"], ["xxx-xxx-5678"]),
        ("code", "Token", ["987654"]),
    ],
    "Sophtron Bank NoMFA": [],
    "Sophtron Bank SecurityQuestion": [("questions", [COLOR], ["green"])],
    "Sophtron Bank SecurityQuestion Multiple": [
        ("questions", [COLOR, PET, CITY], ["red", "Rex", "Springfield"])
    ],
    "Sophtron Bank TokenRead": [("approve", "123456", ["done"])],
    "Sophtron Bank Business": [],
}


def _check_challenge(challenge: dict[str, Any], kind: str, expected: Any) -> None:
    assert challenge["kind"] == kind, challenge
    assert challenge["id"] and challenge["prompt"] and challenge["expires_at"]
    if kind == "captcha":
        image = challenge["image"]
        assert image is not None and image["content_type"] == "image/png"
        png = base64.b64decode(image["base64"], validate=True)
        assert png.startswith(PNG_SIGNATURE) and len(png) > 50
    elif kind == "questions":
        assert challenge["questions"] == expected
    elif kind == "choice":
        assert [o["label"] for o in challenge["options"]] == expected
        assert len({o["id"] for o in challenge["options"]}) == len(expected)
    elif kind == "code":
        assert challenge["code_label"] == expected
    elif kind == "approve":
        assert challenge["approve_code"] == expected


def _walk(api: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paginated list, following next_cursor."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = ok(api.get(path, params={**params, **({"cursor": cursor} if cursor else {})}))
        items.extend(page["data"])
        cursor = page["next_cursor"]
        if not cursor:
            return items
        assert len(items) < 20_000, "pagination does not end"


def test_sophtron_banks_are_listed_with_exact_names_and_ids(api: httpx.Client) -> None:
    found = ok(api.get("/v1/institutions", params={"query": "Sophtron Bank", "limit": 100}))
    by_name = {i["name"]: i for i in found["data"]}
    for name, guid in SANDBOX_IDS.items():
        assert name in by_name, sorted(by_name)
        inst = by_name[name]
        assert inst["id"] == guid
        assert inst["kind"] == "bank"
        labels = [(f["key"], f["label"], f["secret"]) for f in inst["login_fields"]]
        assert labels == [("username", "User ID", False), ("password", "Password", True)]
        assert ok(api.get(f"/v1/institutions/{guid}"))["name"] == name
    assert institution_id(api, "Sophtron Bank") == SANDBOX_IDS["Sophtron Bank"]


@pytest.mark.parametrize("bank", list(FLOWS))
def test_sophtron_bank_links_through_its_challenges(api: httpx.Client, bank: str) -> None:
    user = "asdf" if bank == "Sophtron Bank NoMFA" else "asdfg12X"
    started = start_link(api, bank, user, user)
    connection_id = started["connection"]["id"]
    assert started["connection"]["status"] == "pending"
    assert started["job"]["status"] in {"queued", "running", "waiting_for_answer"}

    job = wait_job(api, started["job"]["id"])
    seen: list[str] = []
    seen_ids: set[str] = set()
    for kind, expected, values in FLOWS[bank]:
        assert job["status"] == "waiting_for_answer", (bank, seen, job)
        challenge = job["challenge"]
        _check_challenge(challenge, kind, expected)
        assert challenge["id"] not in seen_ids
        seen_ids.add(challenge["id"])
        seen.append(challenge["kind"])
        if kind == "choice" and bank == "Sophtron Bank Token":
            # Options are answered by id as well as by label.
            chosen = [o for o in challenge["options"] if o["label"] == values[0]]
            values = [chosen[0]["id"]]
        after = answer(api, job, *values)
        assert after["status"] in {"running", "waiting_for_answer", "succeeded"}, after
        # Clear on acceptance: the answered challenge is never shown again.
        assert after["challenge"] is None or after["challenge"]["id"] != challenge["id"]
        job = wait_job(api, job["id"])
    assert job["status"] == "succeeded", (bank, seen, job)
    assert job["challenge"] is None and job["error"] is None and job["accounts_ready"]
    assert seen == [kind for kind, _, _ in FLOWS[bank]]
    # The job's history records the same challenges, in the same order.
    asked = [s["challenge_kind"] for s in job["steps"] if s["status"] == "waiting_for_answer"]
    assert asked == seen

    connection = ok(api.get(f"/v1/connections/{connection_id}"))
    assert connection["status"] == "active" and connection["last_synced_at"]
    accounts = ok(api.get("/v1/accounts", params={"connection_id": connection_id}))["data"]
    by_mask = {a["mask"]: a for a in accounts}
    assert sorted(by_mask) == ["1234", "5678"], accounts
    checking, savings = by_mask["1234"], by_mask["5678"]
    assert (checking["type"], checking["currency"]) == ("checking", "USD")
    assert checking["balances"]["current"] == "1000.00"
    assert savings["type"] == "savings"
    if bank == "Sophtron Bank Business":
        # Business yields business accounts (the spec leaves their names open).
        assert {a["holder"] for a in accounts} == {"business"}
        assert "checking" in checking["name"].lower()
    else:
        assert (checking["name"], savings["name"]) == ("Primary Checking", "Primary Savings")
        assert {a["holder"] for a in accounts} == {"personal"}

    in_2021 = _walk(
        api,
        "/v1/transactions",
        connection_id=connection_id,
        start_date="2021-01-01",
        end_date="2021-12-31",
        limit=500,
    )
    assert in_2021, "no 2021 transactions"
    assert all(date.fromisoformat(t["date"]).year == 2021 for t in in_2021)
    # Client tests query up to 2099: everything the sandbox has is still in 2021.
    everything = _walk(api, "/v1/transactions", connection_id=connection_id, limit=500)
    assert sorted(t["id"] for t in everything) == sorted(t["id"] for t in in_2021)
    per_account = _walk(
        api,
        f"/v1/accounts/{checking['id']}/transactions",
        start_date="2021-01-01",
        end_date="2099-12-31",
        limit=500,
    )
    assert per_account and all(t["account_id"] == checking["id"] for t in per_account)
    assert all(date.fromisoformat(t["date"]).year == 2021 for t in per_account)


def _link_until_waiting(api: httpx.Client, bank: str) -> dict[str, Any]:
    started = start_link(api, bank, "asdfg12X", "asdfg12X")
    job = wait_job(api, started["job"]["id"])
    assert job["status"] == "waiting_for_answer", job
    return job


def test_answer_fail_fails_the_job_with_invalid_answer(api: httpx.Client) -> None:
    # `fail` to the only step, to a captcha, and to the code after a token choice.
    question = _link_until_waiting(api, "Sophtron Bank SecurityQuestion")
    captcha = _link_until_waiting(api, "Sophtron Bank Captcha")
    token = _link_until_waiting(api, "Sophtron Bank Token")
    answer(api, question, "fail")
    answer(api, captcha, "fail")
    answer(api, token, "xxx-xxx-1234")
    token = wait_job(api, token["id"])
    assert token["challenge"]["kind"] == "code"
    answer(api, token, "fail")
    for job in (question, captcha, token):
        job = wait_job(api, job["id"])
        assert job["status"] == "failed", job
        assert job["error"]["code"] == "invalid_answer"
        assert job["challenge"] is None
        connection = ok(api.get(f"/v1/connections/{job['connection_id']}"))
        assert connection["status"] == "failed"
        assert connection["error"]["code"] == "invalid_answer"
        assert ok(api.get("/v1/accounts", params={"connection_id": connection["id"]}))["data"] == []


def test_password_invalid_fails_with_invalid_credentials(api: httpx.Client) -> None:
    for bank in ("Sophtron Bank", "Sophtron Bank NoMFA", "Sophtron Bank TokenRead"):
        started = start_link(api, bank, "asdfg12X", "invalid")
        job = wait_job(api, started["job"]["id"])
        assert job["status"] == "failed", (bank, job)
        assert job["error"]["code"] == "invalid_credentials"
        assert [s["challenge_kind"] for s in job["steps"] if s["challenge_kind"]] == []
        connection = ok(api.get(f"/v1/connections/{started['connection']['id']}"))
        assert (connection["status"], connection["error"]["code"]) == (
            "failed",
            "invalid_credentials",
        )


def test_multiple_questions_need_exactly_three_answers(api: httpx.Client) -> None:
    job = _link_until_waiting(api, "Sophtron Bank SecurityQuestion Multiple")
    challenge = job["challenge"]
    assert challenge["questions"] == [COLOR, PET, CITY]
    url = f"/v1/jobs/{job['id']}/answer"
    for wrong in (["red"], ["red", "Rex"], ["red", "Rex", "Springfield", "extra"]):
        response = api.post(url, json={"challenge_id": challenge["id"], "answers": wrong})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "answer_count_mismatch"
        still = ok(api.get(f"/v1/jobs/{job['id']}"))
        assert still["status"] == "waiting_for_answer"
        assert still["challenge"]["id"] == challenge["id"]
    empty = api.post(url, json={"challenge_id": challenge["id"], "answers": ["red", " ", "x"]})
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "empty_answer"

    answered = answer(api, job, "red", "Rex", "Springfield")
    assert answered["status"] in {"running", "succeeded"}
    again = api.post(url, json={"challenge_id": challenge["id"], "answers": ["a", "b", "c"]})
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] in {"job_not_waiting", "challenge_answered"}
    done = wait_job(api, job["id"])
    assert done["status"] == "succeeded", done
    late = api.post(url, json={"challenge_id": challenge["id"], "answers": ["a", "b", "c"]})
    assert late.status_code == 409 and late.json()["error"]["code"] == "job_not_waiting"


def test_an_answered_challenge_cannot_be_answered_again(api: httpx.Client) -> None:
    job = _link_until_waiting(api, "Sophtron Bank")
    captcha = job["challenge"]
    assert captcha["kind"] == "captcha"
    answer(api, job, "x7k2")
    job = wait_job(api, job["id"])
    assert job["status"] == "waiting_for_answer" and job["challenge"]["kind"] == "questions"
    # The old (answered) captcha id while a new challenge waits: 409, and nothing changes.
    stale = api.post(
        f"/v1/jobs/{job['id']}/answer", json={"challenge_id": captcha["id"], "answers": ["blue"]}
    )
    assert stale.status_code == 409, stale.text
    assert stale.json()["error"]["code"] == "challenge_mismatch"
    current = ok(api.get(f"/v1/jobs/{job['id']}"))
    assert current["status"] == "waiting_for_answer"
    assert current["challenge"]["id"] == job["challenge"]["id"]
    # A choice answer that was not offered is refused without ending the job.
    answer(api, job, "blue")
    job = wait_job(api, job["id"])
    assert job["challenge"]["kind"] == "choice"
    bad = api.post(
        f"/v1/jobs/{job['id']}/answer",
        json={"challenge_id": job["challenge"]["id"], "answers": ["Carrier pigeon"]},
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "unknown_option"
    # Labels match trimmed and case-insensitively.
    answer(api, job, f"  {SOPHTRON_TEXT.upper()} ")
    job = wait_job(api, job["id"])
    assert job["challenge"]["kind"] == "code" and job["challenge"]["code_label"] == "Token"
    answer(api, job, "123456")
    assert wait_job(api, job["id"])["status"] == "succeeded"
