"""The rest of the v1 and v2 surface (spec 4, 5): logins without jobs, updates, refreshes,
deletes, profile info, integration keys, and the v2 member and account reads."""

from __future__ import annotations

from conftest import RunningServer
from sophtron_client import ZERO_GUID, SophtronClient, poll

NOMFA = "926623ca-5952-4921-8f77-2023f1cdde8e"
BUSINESS = "3bb6eb65-0d2f-41cc-a593-3b3f919c40c8"


def _done(client: SophtronClient, job_id: str) -> None:
    job = poll(client.job, job_id)
    assert job["SuccessFlag"] is True, job


def test_v1_login_lifecycle(sophtron: SophtronClient) -> None:
    assert sophtron.call("GET", "/UserInstitution/Ping") == "pong"
    assert sophtron.call("GET", "/Institution/HealthCheckAuth") == "this is online."
    ui = sophtron.v1(
        "UserInstitution/CreateUserInstitutionWOJob",
        {"InstitutionID": NOMFA, "UserName": "asdf", "Password": "asdf"},
    )
    assert isinstance(ui, str) and len(ui) == 36
    retry = sophtron.v1("UserInstitution/RetryAddingUserInstitution", {"UserInstitutionID": ui})
    _done(sophtron, retry["JobID"])
    update = {"UserInstitutionID": ui, "UserName": "asdf", "Password": "new-pass", "PIN": "1"}
    assert sophtron.v1("UserInstitution/UpdateUserInstitution", update) == 0
    unknown = {"UserInstitutionID": ZERO_GUID, "Password": "x"}
    assert sophtron.v1("UserInstitution/UpdateUserInstitution", unknown) == -1
    refresh = sophtron.v1("UserInstitution/RefreshUserInstitution", {"UserInstitutionID": ui})
    _done(sophtron, refresh["JobID"])
    accounts = sophtron.v1("UserInstitution/GetUserInstitutionAccounts", {"UserInstitutionID": ui})
    assert {a["AccountName"] for a in accounts} >= {"Primary Checking", "Primary Savings"}
    assert all(a["FullAccountNumber"] is None for a in accounts)
    one = sophtron.v1(
        "UserInstitutionAccount/GetUserInstitutionAccountByID",
        {"AccountID": accounts[0]["AccountID"]},
    )
    assert one["AccountID"] == accounts[0]["AccountID"] and one["BalanceCurrency"] == "$"
    account_refresh = sophtron.v1(
        "UserInstitutionAccount/RefreshUserInstitutionAccount",
        {"AccountID": accounts[0]["AccountID"]},
    )
    _done(sophtron, account_refresh["JobID"])
    listed = sophtron.v1("UserInstitution/GetUserInstitutionsByUser", {"UserID": sophtron.user_id})
    assert [u["UserInstitutionID"] for u in listed] == [ui]
    detail = sophtron.v1("UserInstitution/GetUserInstitutionByID", {"UserInstitutionID": ui})
    assert detail["UserName"] == "asdf" and detail["InstitutionName"] == "Sophtron Bank NoMFA"
    assert detail["UserID"] == sophtron.user_id and "Password" not in detail
    by_user = sophtron.v1("Institution/GetInstitutionsByUser", {"userID": sophtron.user_id})
    assert [i["InstitutionID"] for i in by_user] == [NOMFA]
    assert sophtron.v1("UserInstitution/DeleteUserInstitution", {"UserInstitutionID": ui}) == 0
    assert sophtron.v1("UserInstitution/DeleteUserInstitution", {"UserInstitutionID": ui}) == -1
    gone = sophtron.request(
        "POST", "/UserInstitution/GetUserInstitutionByID", {"UserInstitutionID": ui}
    )
    assert gone.status_code == 404


def test_v1_create_variants_profile_and_full_numbers(sophtron: SophtronClient) -> None:
    tracker = sophtron.v1(
        "UserInstitution/CreateUserInstitutionWithAll",
        {
            "InstitutionID": BUSINESS,
            "UserName": "asdfg12X",
            "Password": "asdfg12X",
            "CompanyID": "ACME-1",
        },
    )
    job = sophtron.job(tracker["JobID"])
    assert job["JobType"] == "verification|identity|aggregate|history"
    poll(sophtron.job, tracker["JobID"], accounts_ready_is_done=True)
    ui = tracker["UserInstitutionID"]
    accounts = sophtron.v1("UserInstitution/GetUserInstitutionAccounts", {"UserInstitutionID": ui})
    checking = next(a for a in accounts if a["AccountName"] == "Business Checking")
    assert checking["FullAccountNumber"].endswith("1234") and checking["RoutingNumber"]
    detail = sophtron.v1("UserInstitution/GetUserInstitutionByID", {"UserInstitutionID": ui})
    assert detail["CompanyID"] == "ACME-1"
    profile = sophtron.v1(
        "UserInstitution/GetUserInstitutionProfileInfor", {"UserInstitutionID": ui}
    )
    assert set(profile) == {"UserInstitutionID", "OwnerName", "Address", "Phone", "Email"}
    for variant, job_type in (
        ("CreateUserInstitutionWithRefresh", "aggregate"),
        ("CreateUserInstitutionWithFullHistory", "aggregate|history"),
        ("CreateUserInstitutionWithFullAccountNumbers", "verification|aggregate"),
        ("CreateUserInstitutionWithProfileInfo", "identity|aggregate"),
        ("CreateUserInstitutionWithRewardsInfo", "aggregate"),
        ("CreateUserInstitutionWithAllPlusProfile", "verification|identity|aggregate|history"),
    ):
        created = sophtron.v1(
            f"UserInstitution/{variant}",
            {"InstitutionID": NOMFA, "UserName": variant, "Password": "asdf"},
        )
        assert sophtron.job(created["JobID"])["JobType"] == job_type, variant


def test_v1_small_calls_and_bad_input(sophtron: SophtronClient) -> None:
    assert sophtron.v1("Institution/AddInstitution", {"InstitutionName": "X", "URL": "u"}) == (
        ZERO_GUID
    )
    key = sophtron.v1("User/GetUserIntegrationKey", {"Id": sophtron.user_id})["IntegrationKey"]
    assert key and sophtron.v1("User/GetUserIntegrationKey", {"Id": sophtron.user_id}) == {
        "IntegrationKey": key
    }
    assert (
        sophtron.request("POST", "/User/GetUserIntegrationKey", {"Id": ZERO_GUID}).status_code
        == 403
    )
    for body, code in (("[1, 2]", "invalid_json"), ("{not json", "invalid_json")):
        response = sophtron.http.post(
            sophtron.base + "/Job/GetJobInformationByID",
            content=body,
            headers=sophtron._auth("POST", sophtron.base + "/Job/GetJobInformationByID"),
        )
        assert response.status_code == 400 and response.json()["Code"] == code
    missing = sophtron.request(
        "POST", "/UserInstitution/CreateUserInstitution", {"InstitutionID": NOMFA}
    )
    assert missing.status_code == 400 and missing.json()["Message"]
    wrong_method = sophtron.request("GET", "/Job/GetJobInformationByID")
    assert wrong_method.status_code == 405 and wrong_method.json()["Code"]
    token_both = {"JobID": ZERO_GUID, "TokenChoice": "a", "TokenInput": "b"}
    assert sophtron.v1("Job/UpdateJobTokenInput", token_both) == -1


def test_v2_members_and_accounts(server: RunningServer, sophtron: SophtronClient) -> None:
    customer = sophtron.call("POST", "/v2/customers", {"UniqueID": "m-1", "Name": "M"})
    cid = customer["CustomerID"]
    created = sophtron.call(
        "POST",
        f"/v2/customers/{cid}/members/aggregate",
        {"UserName": "asdf", "Password": "asdf", "InstitutionID": NOMFA},
    )
    mid = created["MemberID"]
    _done(sophtron, created["JobID"])
    members = sophtron.call("GET", f"/v2/customers/{cid}/members")
    assert [m["MemberID"] for m in members] == [mid]
    assert members[0]["CustomerID"] == cid and members[0]["UserName"] == "asdf"
    updated = sophtron.call(
        "PUT", f"/v2/customers/{cid}/members/{mid}/aggregate", {"Password": "p2"}
    )
    assert updated["MemberID"] == mid
    _done(sophtron, updated["JobID"])
    refreshed = sophtron.call("POST", f"/v2/customers/{cid}/members/{mid}/aggregate|history")
    _done(sophtron, refreshed["JobID"])
    assert sophtron.v2_job(refreshed["JobID"])["JobType"] == "aggregate|history"
    accounts = sophtron.call("GET", f"/v2/customers/{cid}/accounts")
    assert accounts and all(a["MemberID"] == mid and a["InstitutionID"] == NOMFA for a in accounts)
    assert accounts[0]["InstitutionName"] == "Sophtron Bank NoMFA"
    one = sophtron.call("GET", f"/v2/customers/{cid}/accounts/{accounts[0]['AccountID']}")
    assert one["AccountID"] == accounts[0]["AccountID"]
    other = sophtron.call("POST", "/v2/customers", {"UniqueID": "m-2"})
    wrong = sophtron.request("GET", f"/v2/customers/{other['CustomerID']}/members/{mid}")
    assert wrong.status_code == 404
    wrong = sophtron.request(
        "GET", f"/v2/customers/{other['CustomerID']}/accounts/{one['AccountID']}"
    )
    assert wrong.status_code == 404
    assert sophtron.call("DELETE", f"/v2/customers/{cid}/members/{mid}") == 0
    assert sophtron.request("GET", f"/v2/customers/{cid}/members/{mid}").status_code == 404
    assert sophtron.call("GET", f"/v2/customers/{cid}/members") == []
    everyone = sophtron.call("GET", "/v2/customers")
    assert {c["UniqueID"] for c in everyone} == {"m-1", "m-2"}


def test_bad_input_is_a_json_error_never_a_500(
    server: RunningServer, sophtron: SophtronClient
) -> None:
    nul = "a\x00b"
    cases: list[tuple[str, str, object]] = [
        ("POST", "/Job/GetJobInformationByID", {"JobID": nul}),
        ("POST", "/Job/GetJobInformationByID", {"JobID": {"x": 1}}),
        ("POST", "/Job/GetJobInformationByID", {"JobID": "x" * 500}),
        ("POST", "/Institution/GetInstitutionByID", {"InstitutionID": 12}),
        (
            "POST",
            "/UserInstitution/CreateUserInstitution",
            {"InstitutionID": nul, "UserName": "a", "Password": "b"},
        ),
        (
            "POST",
            "/Transaction/GetTransactionsByTransactionDate",
            {"AccountID": ZERO_GUID, "StartDate": 5},
        ),
        ("GET", "/v2/customers?uniqueID=a%00b", None),
        ("GET", "/v2/customers/a%00b", None),
        ("GET", "/v2/customers/" + "z" * 300, None),
        ("PUT", f"/v2/job/{ZERO_GUID}/challenge/single_account_select", {"AnswerText": nul}),
        ("PUT", f"/v2/job/{ZERO_GUID}/challenge/TokenMethod", []),
        ("POST", "/v2/customers", {"UniqueID": ["x"]}),
    ]
    for method, path, body in cases:
        response = sophtron.request(method, path, body)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
        assert response.json()["Code"], path
    token = sophtron.http.post(
        server.url + "/oauth/token", content="grant_type=password&client_id=a%00b"
    )
    assert token.status_code in (400, 401) and token.json()["error"]
    header = sophtron.http.get(
        server.url + "/api/Institution/HealthCheckAuth",
        headers={"Authorization": "FIApiAUTH:a%00b:x:/healthcheckauth"},
    )
    assert header.status_code == 401
