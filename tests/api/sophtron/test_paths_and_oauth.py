"""Path quirks and OAuth 2.0 (spec 1.2, 2.6; checklist items 4-6)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from conftest import RunningServer
from sophtron_client import SophtronClient, fiapi_header, password_token

REDIRECT_URI = "https://app.example/callback"


def test_item_4_mixed_case_and_double_slashes_route(
    server: RunningServer, sophtron: SophtronClient
) -> None:
    url = server.url + "/API/institution/getINSTITUTIONbyname"
    header = fiapi_header(sophtron.user_id or "", sophtron.access_key or "", "POST", url)
    response = httpx.post(
        url,
        headers={"Authorization": header, "Content-Type": "text/plain"},
        content='{"InstitutionName": "sophtron bank nomfa", "Extensive": true}',
    )
    assert response.status_code == 200, response.text
    assert [i["InstitutionName"] for i in response.json()] == ["Sophtron Bank NoMFA"]
    url = server.url + "/api//v2/customers"
    header = fiapi_header(sophtron.user_id or "", sophtron.access_key or "", "GET", url)
    response = httpx.get(url, headers={"Authorization": header})
    assert response.status_code == 200, response.text
    assert response.json() == []
    # a trailing slash, %7C-encoded jobTypes, mixed-case query names
    customer = sophtron.call("POST", "/v2/customers/", {"UniqueID": "Case-1"})
    assert (
        sophtron.call("GET", "/V2/Customers?UNIQUEID=Case-1")[0]["CustomerID"]
        == (customer["CustomerID"])
    )
    created = sophtron.call(
        "POST",
        f"/v2/customers/{customer['CustomerID'].upper()}/members/aggregate%7Cidentity",
        {
            "UserName": "asdf",
            "Password": "asdf",
            "InstitutionID": "926623ca-5952-4921-8f77-2023f1cdde8e",
        },
    )
    job = sophtron.v2_job(created["JobID"].upper())
    assert job["JobType"] == "identity|aggregate"
    unknown = sophtron.request("GET", "/v2/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["Code"] == "not_found"


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_item_5_password_grant_with_basic_auth_and_bearer_any_case(
    server: RunningServer, developer: Any
) -> None:
    token = password_token(
        server.url, developer.oauth_client_id, developer.oauth_secret, developer.user_id
    )
    assert token["token_type"].lower() == "bearer"
    assert isinstance(token["expires_in"], int) and token["expires_in"] > 0
    for scheme in ("bearer", "Bearer", "BEARER"):
        client = SophtronClient(server.url, token=token["access_token"], scheme=scheme)
        assert client.call("GET", "/Institution/HealthCheckAuth") == "this is online."
        client.close()
    # a new token per call is fine (the JS sample does that)
    again = password_token(
        server.url,
        developer.oauth_client_id,
        developer.oauth_secret,
        developer.user_id,
        path="/OAuth/Token",
    )
    assert again["access_token"] != token["access_token"]
    # errors: wrong secret, wrong owner, unknown grant, no token
    url = server.url + "/oauth/token"
    bad = httpx.post(
        url,
        content=f"grant_type=password&username={developer.user_id}",
        headers={"Authorization": _basic(developer.oauth_client_id, "nope")},
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    wrong_owner = httpx.post(
        url,
        content="grant_type=password&username=someone-else",
        headers={"Authorization": _basic(developer.oauth_client_id, developer.oauth_secret)},
    )
    assert wrong_owner.status_code == 400 and wrong_owner.json()["error"] == "invalid_grant"
    unsupported = httpx.post(
        url,
        json={"grant_type": "client_credentials"},
        headers={"Authorization": _basic(developer.oauth_client_id, developer.oauth_secret)},
    )
    assert unsupported.json()["error"] == "unsupported_grant_type"
    missing = httpx.get(server.url + "/api/Institution/HealthCheckAuth")
    assert missing.status_code == 401 and missing.json()["Code"] == "missing_authorization"
    expired = httpx.get(
        server.url + "/api/Institution/HealthCheckAuth", headers={"Authorization": "Bearer nope"}
    )
    assert expired.status_code == 401 and expired.json()["Code"] == "invalid_token"


def test_item_6_authorization_code_grant_and_refresh(server: RunningServer, developer: Any) -> None:
    http = httpx.Client(base_url=server.url, follow_redirects=False, timeout=15)
    params = {
        "response_type": "code",
        "client_id": developer.oauth_client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "read",
        "state": "xyz 123",
    }
    page = http.get("/OAuth/Authorize", params=params)
    assert page.status_code == 200 and "<form" in page.text
    denied_login = http.post(
        "/OAuth/Authorize",
        data={**params, "user_id": developer.user_id, "access_key": "wrong", "decision": "allow"},
    )
    assert denied_login.status_code == 401 and denied_login.json()["error"] == "access_denied"
    bad_redirect = http.get("/oauth/authorize", params={**params, "redirect_uri": "https://evil/"})
    assert bad_redirect.status_code == 400 and "error" in bad_redirect.json()
    allowed = http.post(
        "/OAuth/Authorize",
        data={
            **params,
            "user_id": developer.user_id,
            "access_key": developer.access_key,
            "decision": "allow",
        },
    )
    assert allowed.status_code == 302, allowed.text
    location = urlsplit(allowed.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == ["xyz 123"] and query["code"][0]
    exchange = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": REDIRECT_URI,
        "client_id": developer.oauth_client_id,
        "client_secret": developer.oauth_secret,
    }
    first = http.post("/OAuth/Token", data=exchange)
    assert first.status_code == 200, first.text
    tokens = first.json()
    assert tokens["refresh_token"] and isinstance(tokens["expires_in"], int)
    reuse = http.post("/OAuth/Token", data=exchange)
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    client = SophtronClient(server.url, token=tokens["access_token"])
    assert client.call("GET", "/Institution/HealthCheckAuth") == "this is online."
    refreshed = http.post(
        "/oauth/token",
        content=f"grant_type=refresh_token&refresh_token={tokens['refresh_token']}",
        headers={
            "Authorization": _basic(developer.oauth_client_id, developer.oauth_secret),
            "Content-Type": "text/plain",
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    new = refreshed.json()
    assert new["access_token"] != tokens["access_token"] and new["refresh_token"]
    client.token = new["access_token"]
    assert client.call("GET", "/Institution/HealthCheckAuth") == "this is online."
    rotated = http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers={"Authorization": _basic(developer.oauth_client_id, developer.oauth_secret)},
    )
    assert rotated.json()["error"] == "invalid_grant"
    client.close()
    http.close()


def test_the_dialect_root_is_configurable(tuned_server: Any, make_developer: Any) -> None:
    server = tuned_server(sophtron_root="/Sophtron/", sophtron_signature_binding=False)
    developer = make_developer(server)
    client = SophtronClient(
        server.url + "/sophtron", user_id=developer.user_id, access_key=developer.access_key
    )
    assert client.call("GET", "/Institution/HealthCheckAuth") == "this is online."
    # binding off: a valid signature for another path is accepted
    header = fiapi_header(developer.user_id, developer.access_key, "GET", "/elsewhere")
    other = httpx.get(
        server.url + "/SOPHTRON/api/Institution/HealthCheckAuth", headers={"Authorization": header}
    )
    assert other.status_code == 200, other.text
    token = password_token(
        server.url,
        developer.oauth_client_id,
        developer.oauth_secret,
        developer.user_id,
        path="/sophtron/oauth/token",
    )
    assert token["access_token"]
    assert httpx.get(server.url + "/api/Institution/HealthCheckAuth").status_code == 404
    assert httpx.get(server.url + "/health").status_code == 200
    client.close()
