"""FIApiAUTH over HTTP: the spec's worked examples verify; tampering gives 401 (spec 2, 12.1-3)."""

from __future__ import annotations

import json

import httpx
import pytest

from billfold.api.sophtron import signature
from billfold.services.clients import create_client
from billfold.store.sophtron import SophtronRepository
from conftest import RunningServer
from sophtron_client import fiapi_header

SPEC_USER = "11111111-2222-3333-4444-555555555555"
SPEC_KEY = "c29waHRyb24tdGVzdC1zZWNyZXQta2V5LTAxMjM0NTY="
LENIENT_USER = "22222222-3333-4444-5555-666666666666"
ZERO = "00000000-0000-0000-0000-000000000000"
JOB = "0f4c7f0e-0000-4000-8000-000000000000"

# (method, path on Billfold, body, signed text, signature, status once authorized)
VECTORS = [
    (
        "POST",
        "/api/Institution/GetInstitutionByName",
        {"InstitutionName": "Sophtron Bank"},
        "/getinstitutionbyname",
        "4XkoU4qP0KwC/7NAIR1vnqiPcMY7WNg+fwmtv7G90+I=",
        200,
    ),
    (
        "GET",
        "/api/v2/customers?uniqueID=User-ABC",
        None,
        "/customers?uniqueid=user-abc",
        "1kAoK52BuxIXLewAPvcqfRp2mcaQp/Ztnsp6XOC99OA=",
        200,
    ),
    (
        "PUT",
        f"/api/v2/job/{JOB}/challenge/TokenInput",
        {"AnswerText": "123456"},
        "/tokeninput",
        "WIR9wJYy6IGkcVdmd4M38JAVCMT1XB2kj40voRcDuoI=",
        404,
    ),
    (
        "GET",
        "/api/Institution/HealthCheckAuth",
        None,
        "/healthcheckauth",
        "YDfdTz40DxhReK/1W8LeN/c2d01ieBIeQ7FDRzVHlR0=",
        200,
    ),
    (
        "POST",
        "/api/v2/customers/c1/members/verification|identity|aggregate|history",
        {},
        "/verification|identity|aggregate|history",
        "hCPj2cT3gWSEVI74ccq/unxNmpI2nrxxRweEHpB2FBw=",
        404,
    ),
    (
        "POST",
        "/api/UserInstitution/GetUserInstitutionAccounts",
        {"UserInstitutionID": ZERO},
        "/getuserinstitutionaccounts",
        "+2W/jRi6AsjsCAtAofmsuswlRCMmy0KVKjJCAZ9HFv8=",
        404,
    ),
    (
        "POST",
        "/api/Job/GetJobInformationByID",
        {"JobID": ZERO},
        "/getjobinformationbyid",
        "Jhgqx5/Rh1YPcMnK4XlACAeMtEuOftHgFqZbA3HD7xU=",
        404,
    ),
    (
        "GET",
        "/api/Institution/HealthCheckAuth/",
        None,
        "/",
        "ey7p9eEMkQMw72T+4IkB3XtIRPzHRF3gKPT9YufAO08=",
        200,
    ),
]


def _seed(server: RunningServer, user_id: str, access_key: str) -> None:
    ctx = server.container.ctx
    client = create_client(ctx=ctx, name=f"spec {user_id[:4]}").client
    with ctx.store.write() as unit:
        SophtronRepository(unit.session, ctx.store.keys).add_credential(
            user_id=user_id, client_id=client.id, access_key=access_key, at=ctx.clock()
        )


def _send(
    server: RunningServer, method: str, path: str, body: object, header: str | None
) -> httpx.Response:
    headers = {"Authorization": header} if header is not None else {}
    content = None if body is None else json.dumps(body)
    return httpx.request(method, server.url + path, headers=headers, content=content, timeout=15)


def _assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body["Message"] and body["Code"]


@pytest.mark.parametrize(
    ("method", "url", "text", "sig"), [(v[0], v[1], v[3], v[4]) for v in VECTORS]
)
def test_spec_vectors_sign_as_written(method: str, url: str, text: str, sig: str) -> None:
    key = signature.decode_key(SPEC_KEY)
    assert signature.sign(key, method, text) == sig
    assert fiapi_header(SPEC_USER, SPEC_KEY, method, text) == f"FIApiAUTH:{SPEC_USER}:{sig}:{text}"


def test_item_1_each_worked_example_verifies_and_tampering_is_401(server: RunningServer) -> None:
    _seed(server, SPEC_USER, SPEC_KEY)
    for method, path, body, text, sig, status in VECTORS:
        header = f"FIApiAUTH:{SPEC_USER}:{sig}:{text}"
        response = _send(server, method, path, body, header)
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"].startswith("application/json")
    first = "4XkoU4qP0KwC/7NAIR1vnqiPcMY7WNg+fwmtv7G90+I="
    health = "YDfdTz40DxhReK/1W8LeN/c2d01ieBIeQ7FDRzVHlR0="
    ok = f"FIApiAUTH:{SPEC_USER}:{health}:/healthcheckauth"
    assert _send(server, "GET", "/api/Institution/HealthCheckAuth", None, ok).json() == (
        "this is online."
    )
    # one byte changed: method, signed path, signature; a path the signature is not for
    _assert_401(_send(server, "POST", "/api/Institution/HealthCheckAuth", None, ok))
    _assert_401(
        _send(
            server,
            "GET",
            "/api/Institution/HealthCheckAuth",
            None,
            f"FIApiAUTH:{SPEC_USER}:{health}:/healthcheckautH",
        )
    )
    tampered = ("Z" if health[0] != "Z" else "Y") + health[1:]
    _assert_401(
        _send(
            server,
            "GET",
            "/api/Institution/HealthCheckAuth",
            None,
            f"FIApiAUTH:{SPEC_USER}:{tampered}:/healthcheckauth",
        )
    )
    _assert_401(
        _send(
            server,
            "POST",
            "/api/Institution/GetInstitutionByID",
            {"InstitutionID": ZERO},
            f"FIApiAUTH:{SPEC_USER}:{first}:/getinstitutionbyname",
        )
    )
    # a wrong key, an unknown user, a missing or malformed header
    wrong = fiapi_header(SPEC_USER, "d3Jvbmcta2V5", "GET", "/healthcheckauth")
    _assert_401(_send(server, "GET", "/api/Institution/HealthCheckAuth", None, wrong))
    stranger = ok.replace(SPEC_USER, "99999999-2222-3333-4444-555555555555")
    _assert_401(_send(server, "GET", "/api/Institution/HealthCheckAuth", None, stranger))
    _assert_401(_send(server, "GET", "/api/Institution/HealthCheckAuth", None, None))
    _assert_401(_send(server, "GET", "/api/Institution/HealthCheckAuth", None, "FIApiAUTH:x"))
    assert "4XkoU4qP0KwC" not in server.logs.text()


def test_item_2_lenient_key_testsecret_verifies(server: RunningServer) -> None:
    assert signature.decode_key("testSecret").hex() == "b5eb2d49e72b7a"
    _seed(server, LENIENT_USER, "testSecret")
    health = "BnbxEDMs4udwZeu3TJv7CTRTnheDNeXB+QF+++Qaydw="
    by_id = "iJNBUMPwbp7tRBUn4fPcpxx+zXjg3BEYS0HC/AXlYP4="
    response = _send(
        server,
        "GET",
        "/api/Institution/HealthCheckAuth",
        None,
        f"FIApiAUTH:{LENIENT_USER}:{health}:/healthcheckauth",
    )
    assert response.status_code == 200, response.text
    response = _send(
        server,
        "POST",
        "/api/Institution/GetInstitutionByID",
        {"InstitutionID": "926623ca-5952-4921-8f77-2023f1cdde8e"},
        f"FIApiAUTH:{LENIENT_USER}:{by_id}:/getinstitutionbyid",
    )
    assert response.status_code == 200, response.text
    assert response.json()["InstitutionName"] == "Sophtron Bank NoMFA"


def test_item_3_query_signed_or_not_both_work(server: RunningServer) -> None:
    _seed(server, SPEC_USER, SPEC_KEY)
    path = "/api/v2/customers?uniqueID=x"
    for signed in ("/customers", "/customers?uniqueid=x"):
        key = signature.decode_key(SPEC_KEY)
        header = f"FIApiAUTH:{SPEC_USER}:{signature.sign(key, 'GET', signed)}:{signed}"
        response = _send(server, "GET", path, None, header)
        assert response.status_code == 200, (signed, response.text)
        assert response.json() == []
    # the Ruby client: "/" + last path segment, query never signed
    header = fiapi_header(SPEC_USER, SPEC_KEY, "GET", "https://h/api/v2/customers")
    assert _send(server, "GET", path, None, header).status_code == 200
