"""Connect tokens (`/v1/connect_tokens`), widget sessions and the widget's own API,
on SQLite and PostgreSQL, without a browser."""

from __future__ import annotations

import time
from importlib import resources

import httpx

from conftest import RunningServer
from flows import institution_id, new_user, ok

WIDGET_FILES = ("widget.html", "widget.css", "widget.js", "connect.js")


def make_token(api: httpx.Client, user_id: str, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {"user_id": user_id, **extra}
    result: dict[str, object] = ok(api.post("/v1/connect_tokens", json=body), 201)
    return result


def open_session(server: RunningServer, token: object, **extra: object) -> httpx.Response:
    with server.client() as anon:
        return anon.post("/connect/api/session", json={"token": token, **extra})


def test_token_is_single_use_and_scoped(server: RunningServer, api: httpx.Client) -> None:
    user = new_user(api)
    issued = make_token(api, user)
    assert str(issued["token"]).startswith("ct_")
    assert str(issued["url"]).startswith(server.url + "/connect?token=ct_")
    assert issued["allowed_origins"] == [] and issued["institution_id"] is None

    opened = ok(open_session(server, issued["token"]), 201)
    assert opened["session"].startswith("cs_") and opened["mode"] == "link"
    assert opened["origin"] == server.url and opened["client_name"] == "Test client"

    again = open_session(server, issued["token"])
    assert again.status_code == 401 and again.json()["error"]["code"] == "token_used"
    bogus = open_session(server, "ct_nothing")
    assert bogus.status_code == 401 and bogus.json()["error"]["code"] == "token_invalid"


def test_token_refusals(server: RunningServer, api: httpx.Client) -> None:
    user = new_user(api)
    short = make_token(api, user, expires_in=1)
    wrong_client = make_token(api, user)
    wrong_origin = make_token(api, user, allowed_origins=["https://app.example.com"])
    time.sleep(1.1)
    expired = open_session(server, short["token"])
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "token_expired"
    other = open_session(server, wrong_client["token"], client_id="another-client")
    assert other.status_code == 401 and other.json()["error"]["code"] == "token_wrong_client"
    # Refusals by client or origin do not burn the token.
    page = open_session(server, wrong_origin["token"], origin="https://evil.example.com")
    assert page.status_code == 403 and page.json()["error"]["code"] == "origin_not_allowed"
    good = open_session(server, wrong_origin["token"], origin="https://APP.example.com:443/")
    assert ok(good, 201)["origin"] == "https://app.example.com"


def test_token_input_errors(server: RunningServer, api: httpx.Client) -> None:
    user = new_user(api)
    missing = api.post("/v1/connect_tokens", json={"user_id": "nope"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "user_not_found"
    with server.client(server.new_api_key("Other")) as other:
        stranger = other.post("/v1/connect_tokens", json={"user_id": user})
        assert stranger.status_code == 404
    bad = api.post("/v1/connect_tokens", json={"user_id": user, "allowed_origins": ["x:/y"]})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_origin"
    path = api.post(
        "/v1/connect_tokens", json={"user_id": user, "allowed_origins": ["https://a.com/path"]}
    )
    assert path.status_code == 400
    inst = api.post("/v1/connect_tokens", json={"user_id": user, "institution_id": "nope"})
    assert inst.status_code == 404 and inst.json()["error"]["code"] == "institution_not_found"
    conn = api.post("/v1/connect_tokens", json={"user_id": user, "connection_id": "nope"})
    assert conn.status_code == 404
    ttl = api.post("/v1/connect_tokens", json={"user_id": user, "expires_in": 99999})
    assert ttl.status_code == 400
    nokey = httpx.post(server.url + "/v1/connect_tokens", json={"user_id": user})
    assert nokey.status_code == 401


def test_widget_api_links_with_a_session_only(server: RunningServer, api: httpx.Client) -> None:
    user = new_user(api)
    bank = institution_id(api, "Sophtron Bank NoMFA")
    issued = make_token(api, user, institution_id=bank)
    opened = ok(open_session(server, issued["token"]), 201)
    assert opened["pinned"] is True and opened["institution"]["id"] == bank
    auth = {"Authorization": f"Bearer {opened['session']}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=15) as widget:
        billers = ok(widget.get("/connect/api/institutions", params={"kind": "utilities"}))
        assert billers["data"] and {i["kind"] for i in billers["data"]} == {"utility"}
        found = ok(widget.get("/connect/api/institutions", params={"query": "Sandbox Fiber"}))
        assert [i["name"] for i in found["data"]] == ["Sandbox Fiber"]
        bad_kind = widget.get("/connect/api/institutions", params={"kind": "nope"})
        assert bad_kind.status_code == 400
        other = institution_id(api, "Sandbox Fiber")
        pinned = widget.post(
            "/connect/api/link",
            json={"institution_id": other, "credentials": {"username": "a", "password": "b"}},
        )
        assert pinned.status_code == 403
        assert pinned.json()["error"]["code"] == "institution_not_allowed"
        nojob = widget.get("/connect/api/job")
        assert nojob.status_code == 404
        job = ok(
            widget.post(
                "/connect/api/link",
                json={"institution_id": bank, "credentials": {"username": "asdf", "password": "x"}},
            ),
            202,
        )
        while job["status"] not in ("succeeded", "failed"):
            job = ok(widget.get("/connect/api/job", params={"known": job["version"], "wait": 5}))
        assert job["status"] == "succeeded", job
        accounts = ok(widget.get("/connect/api/accounts"))["data"]
        assert "1234" in [a["mask"] for a in accounts]
        again = widget.post("/connect/api/retry")
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_linked"
    listed = ok(api.get("/v1/accounts", params={"user_id": user}))["data"]
    assert [a["id"] for a in listed] == [a["id"] for a in accounts]
    # An API key is not a widget session, and a widget session is not an API key.
    key = api.headers["Authorization"]
    refused = httpx.get(server.url + "/connect/api/job", headers={"Authorization": key})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "session_invalid"
    as_key = httpx.get(server.url + "/v1/accounts", headers=auth)
    assert as_key.status_code == 401
    assert issued["token"] not in server.logs.text()
    assert opened["session"] not in server.logs.text()


def test_relink_token_for_a_connection(server: RunningServer, api: httpx.Client) -> None:
    user = new_user(api)
    body = {
        "user_id": user,
        "institution_id": institution_id(api, "Sandbox Fiber"),
        "credentials": {"username": "me@example.com", "password": "pw"},
    }
    connection = ok(api.post("/v1/connections", json=body), 202)["connection"]
    other_user = new_user(api)
    wrong = api.post(
        "/v1/connect_tokens", json={"user_id": other_user, "connection_id": connection["id"]}
    )
    assert wrong.status_code == 404
    issued = make_token(api, user, connection_id=connection["id"])
    assert issued["institution_id"] == body["institution_id"]
    opened = ok(open_session(server, issued["token"]), 201)
    assert opened["mode"] == "relink" and opened["username"] == "me@example.com"
    # Deleting the user ends the widget session with everything else of theirs.
    assert api.delete(f"/v1/users/{user}").status_code == 204
    auth = {"Authorization": f"Bearer {opened['session']}"}
    ended = httpx.get(server.url + "/connect/api/job", headers=auth)
    assert ended.status_code == 401 and ended.json()["error"]["code"] == "session_invalid"


def test_pages_are_served_with_a_strict_policy(server: RunningServer, api: httpx.Client) -> None:
    issued = make_token(api, new_user(api), allowed_origins=["https://shop.example.com"])
    with server.client() as anon:
        page = anon.get("/connect", params={"token": issued["token"]})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp
        assert "frame-ancestors 'self' https://shop.example.com" in csp
        assert page.headers["referrer-policy"] == "no-referrer"
        plain = anon.get("/connect")
        assert "frame-ancestors 'self'" in plain.headers["content-security-policy"]
        loader = anon.get("/connect.js")
        assert loader.headers["content-type"].startswith("text/javascript")
        css = anon.get("/connect/static/widget.css")
        assert css.headers["content-type"].startswith("text/css")
        missing = anon.get("/connect/static/secret.py")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        demo = anon.get("/connect/demo")
        assert demo.status_code == 200
        off = anon.post("/connect/demo/token")
        assert off.status_code == 404 and off.json()["error"]["code"] == "demo_off"
    # The page URL carries the token; the server's logs must not (httpx here logs the URL).
    server_lines = [line for line in server.logs.lines if not line.startswith("httpx ")]
    assert any("/connect?token=<redacted>" in line for line in server_lines)
    assert not any(str(issued["token"]) in line for line in server_lines)


def test_widget_stays_light() -> None:
    """Under 100 KB of HTML, CSS and JavaScript in all, uncompressed."""
    static = resources.files("billfold.api.connect").joinpath("static")
    total = sum(len(static.joinpath(name).read_bytes()) for name in WIDGET_FILES)
    assert total < 100 * 1024, f"the widget weighs {total} bytes"
