"""Full links through the dialect over HTTP, as Sophtron clients run them (spec 7, 8, 12).

For every sandbox bank, with v1 and v2, signed with FIApiAUTH and with OAuth
tokens: find the bank by name, create the login, poll the job, answer each
pending step in the order clients check them, reach success, list accounts and
read 2021's transactions.
"""

from __future__ import annotations

from typing import Any

import pytest

from conftest import RunningServer
from sophtron_client import BANK_STEPS, SophtronClient, drive, login_for, password_token

GUIDS = {
    "Sophtron Bank": "8d0d9991-5e35-4b82-afa4-e93695e5ca7d",
    "Sophtron Bank Captcha": "8ad00f00-72b7-4642-a0de-b3f31e08510a",
    "Sophtron Bank Token": "337fe0c2-476e-46f5-a360-bf33f9fe1937",
    "Sophtron Bank NoMFA": "926623ca-5952-4921-8f77-2023f1cdde8e",
    "Sophtron Bank SecurityQuestion": "8809dee7-9e23-4039-a723-02bc01fce0f2",
    "Sophtron Bank SecurityQuestion Multiple": "8f32ccc1-acaf-4e6b-93b8-1f2cd398647d",
    "Sophtron Bank TokenRead": "0fe7236b-079a-4fe6-aed9-cf194790a553",
    "Sophtron Bank Business": "3bb6eb65-0d2f-41cc-a593-3b3f919c40c8",
}


def _client(server: RunningServer, developer: Any, auth: str) -> SophtronClient:
    if auth == "fiapiauth":
        return SophtronClient(
            server.url, user_id=developer.user_id, access_key=developer.access_key
        )
    token = password_token(
        server.url, developer.oauth_client_id, developer.oauth_secret, developer.user_id
    )
    return SophtronClient(server.url, token=token["access_token"])


def _institution(client: SophtronClient, bank: str) -> str:
    found = client.institution_by_name(bank)
    exact = [i for i in found if i["InstitutionName"] == bank]
    assert exact, found
    assert exact[0]["InstitutionID"] == GUIDS[bank]
    return str(exact[0]["InstitutionID"])


def _check_data(client: SophtronClient, accounts: list[dict[str, Any]], bank: str) -> None:
    names = {a["AccountName"]: a for a in accounts}
    checking = names[
        "Business Checking" if bank == "Sophtron Bank Business" else "Primary Checking"
    ]
    assert checking["AccountNumber"] == "1234"
    assert checking["AccountType"] == "Checking"
    assert checking["Balance"] == 1000.0
    transactions = client.v1(
        "Transaction/GetTransactionsByTransactionDate",
        {"AccountID": checking["AccountID"], "StartDate": "2021/1/1", "EndDate": "2022/1/1"},
    )
    assert transactions, "no 2021 transactions"
    for txn in transactions:
        assert txn["TransactionDate"].startswith("2021-") or txn["TransactionDate"] == (
            "2022-01-01T00:00:00Z"
        )
        assert txn["UserInstitutionAccountID"] == checking["AccountID"]
        assert (txn["Amount"] < 0) == (txn["Type"] == "DEBIT")


def _v1_link(client: SophtronClient, bank: str, user_id: str | None) -> None:
    username, password = login_for(bank)
    body = {
        "InstitutionID": _institution(client, bank),
        "UserName": username,
        "Password": password,
    }
    if user_id:
        body["UserID"] = user_id
    tracker = client.v1("UserInstitution/CreateUserInstitution", body)
    assert set(tracker) == {"JobID", "UserInstitutionID"}
    first = client.job(tracker["JobID"])
    # A login without MFA may have finished already; one with MFA waits on its first step.
    assert first["SuccessFlag"] is None or not BANK_STEPS[bank]
    job, seen = drive(client, tracker["JobID"], v2=False)
    assert seen == BANK_STEPS[bank], (bank, seen)
    assert job["SuccessFlag"] is True and job["LastStatus"] == "Completed", job
    assert job["UserInstitutionID"] == tracker["UserInstitutionID"]
    accounts = client.v1(
        "UserInstitution/GetUserInstitutionAccounts",
        {"UserInstitutionID": tracker["UserInstitutionID"]},
    )
    _check_data(client, accounts, bank)


def _v2_link(client: SophtronClient, bank: str) -> None:
    customer = client.call(
        "POST", "/v2/customers", {"UniqueID": f"u-{bank}", "Name": "Test", "Source": "tests"}
    )
    username, password = login_for(bank)
    created = client.call(
        "POST",
        f"/v2/customers/{customer['CustomerID']}/members/aggregate",
        {"UserName": username, "Password": password, "InstitutionID": _institution(client, bank)},
    )
    assert created["CustomerID"] == customer["CustomerID"]
    job, seen = drive(client, created["JobID"], v2=True)
    assert seen == BANK_STEPS[bank], (bank, seen)
    assert job["SuccessFlag"] is True and job["UserInstitutionID"] == created["MemberID"], job
    accounts = client.call(
        "GET", f"/v2/customers/{customer['CustomerID']}/members/{created['MemberID']}/accounts"
    )
    assert all(a["MemberID"] == created["MemberID"] for a in accounts)
    _check_data(client, accounts, bank)
    checking = next(a for a in accounts if a["AccountNumber"] == "1234")
    txns = client.call(
        "GET",
        f"/v2/customers/{customer['CustomerID']}/accounts/{checking['AccountID']}/transactions"
        "?startDate=2021-01-01&endDate=2099-12-31",
    )
    assert txns and all(t["Date"].startswith(("2021-", "2022-")) for t in txns)


@pytest.mark.parametrize("auth", ["fiapiauth", "oauth"])
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_every_sandbox_bank_links(
    server: RunningServer, developer: Any, version: str, auth: str
) -> None:
    client = _client(server, developer, auth)
    try:
        for bank in BANK_STEPS:
            if version == "v1":
                _v1_link(client, bank, developer.user_id if auth == "fiapiauth" else None)
            else:
                _v2_link(client, bank)
    finally:
        client.close()
