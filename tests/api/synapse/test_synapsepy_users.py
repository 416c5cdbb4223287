"""Users, OAuth and headers through the real `synapsepy` 1.2.13 (checklist items 1-5, 18)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import synapsepy
from sqlalchemy import update
from synapsepy import errors

from billfold.store.synapse import SynapseOAuthKeyRow
from synapse_support import USER_BODY, SynapseApp

Factory = Callable[[], tuple[synapsepy.Client, Any]]


def test_1_create_user_and_get_refresh_token(synapse: SynapseApp) -> None:
    client = synapse.client()
    user = client.create_user(USER_BODY, "127.0.0.1")
    assert len(user.id) == 24 and user.body["refresh_token"].startswith("refresh_")
    assert user.body["legal_names"] == ["Test User"]
    assert "password" not in str(user.body["logins"])
    again = client.get_user(user.id, full_dehydrate=True)
    assert again.body["refresh_token"] == user.body["refresh_token"]
    assert again.body["_id"] == user.id
    listed = client.get_all_users()
    assert listed.users_count == 1 and listed.list_of_users[0].id == user.id
    with pytest.raises(errors.ObjectNotFound):
        client.get_user("0" * 24)
    with pytest.raises(errors.PayloadError):
        client.create_user({"logins": [], "phone_numbers": [], "legal_names": []}, "127.0.0.1")


def test_2_oauth_key_rides_on_the_next_request(synapse: SynapseApp) -> None:
    client = synapse.client()
    user = client.create_user(USER_BODY, "127.0.0.1")
    answer = user.oauth()
    assert answer["oauth_key"].startswith("oauth_") and answer["user_id"] == user.id
    assert answer["expires_in"] == "7200" and isinstance(answer["expires_at"], str)
    assert answer["refresh_expires_in"] == 9
    sent = client.http.get_headers()["X-SP-USER"]
    assert sent == f"{answer['oauth_key']}|fp_test_device"
    assert user.get_all_nodes().node_count == 0


def test_3_bad_keys_get_110_and_synapsepy_reauthenticates(synapse: SynapseApp) -> None:
    client = synapse.client()
    alice = client.create_user(USER_BODY, "127.0.0.1")
    bob = client.create_user(USER_BODY, "127.0.0.1")
    alice.oauth()
    with synapse.raw() as raw:
        no_key = raw.get(f"/users/{alice.id}/nodes")
    assert (no_key.status_code, no_key.json()["error_code"]) == (401, "110")
    assert no_key.json()["error"]["en"] == "Invalid/expired oauth_key."
    bob.oauth()  # the shared header now carries Bob's key
    with synapse.raw(oauth_key=client.http.oauth_key) as raw:
        foreign = raw.get(f"/users/{alice.id}/nodes")
    assert (foreign.status_code, foreign.json()["http_code"]) == (401, "401")
    before = len(synapse.server.logs.lines)
    assert alice.get_all_nodes().node_count == 0  # 110, re-OAuth, identical retry
    calls = [
        line.split('"')[1]
        for line in synapse.server.logs.lines[before:]
        if line.startswith("uvicorn.access") and "/v3.1/" in line
    ]
    assert calls == [
        f"GET /v3.1/users/{alice.id}/nodes HTTP/1.1",
        f"POST /v3.1/oauth/{alice.id} HTTP/1.1",
        f"GET /v3.1/users/{alice.id}/nodes HTTP/1.1",
    ]
    # An expired key is refused the same way.
    with synapse.server.container.store.write() as unit:
        unit.session.execute(
            update(SynapseOAuthKeyRow).values(
                expires_at=synapse.server.container.ctx.clock() - timedelta(seconds=1)
            )
        )
    with synapse.raw(oauth_key=client.http.oauth_key) as raw:
        expired = raw.get(f"/users/{alice.id}/nodes")
    assert expired.json()["error_code"] == "110"
    assert alice.get_all_nodes().node_count == 0


def test_4_rotated_refresh_token_is_409_then_synapsepy_rereads(synapse: SynapseApp) -> None:
    client = synapse.client()
    user = client.create_user(USER_BODY, "127.0.0.1")
    first = user.body["refresh_token"]
    for left in range(9, -1, -1):
        answer = user.oauth()
        assert answer["refresh_expires_in"] == (left or 10)
    assert answer["refresh_token"] != first  # rotated after 10 uses
    with synapse.raw() as raw:
        stale = raw.post(f"/oauth/{user.id}", json={"refresh_token": first})
    assert (stale.status_code, stale.json()["error_code"]) == (409, "400")
    assert user.body["refresh_token"] == first
    answer = user.oauth()  # 409, GET user, retry with the new token
    assert answer["oauth_key"] and user.body["refresh_token"] != first
    assert user.get_all_nodes().node_count == 0


def test_5_gateway_errors(synapse: SynapseApp) -> None:
    wrong = synapsepy.Client(synapse.client_id, "client_secret_wrong", "fp", "127.0.0.1")
    wrong.http.base_url = synapse.base_url
    with pytest.raises(errors.IncorrectClientCredentials):
        wrong.create_user(USER_BODY, "127.0.0.1")
    anonymous = synapsepy.Client("", "", "fp", "127.0.0.1")
    anonymous.http.base_url = synapse.base_url
    with pytest.raises(errors.PayloadError) as caught:
        anonymous.get_all_users()
    assert caught.value.response["error"]["code"] == "missing_client_credentials"
    with synapse.raw() as raw:
        missing = raw.get("/users", headers={"X-SP-GATEWAY": ""})
    assert (missing.status_code, missing.json()["error_code"]) == (400, "200")


def test_18_fingerprint_two_factor(synapse: SynapseApp) -> None:
    client = synapse.client()
    user = client.create_user(USER_BODY, "127.0.0.1")
    new_device = synapse.client(fingerprint="fp_new_device")
    same = new_device.get_user(user.id, full_dehydrate=True)
    with pytest.raises(errors.ActionPending) as caught:
        same.oauth()
    assert caught.value.response["phone_numbers"] == ["901.111.1111"]
    sent = same.select_2fa_device("901.111.1111")
    assert sent["http_code"] == "202" and "error" not in sent
    with pytest.raises(errors.IncorrectValues):
        same.confirm_2fa_pin("000000")
    confirmed = same.confirm_2fa_pin("123456")
    assert new_device.http.oauth_key == confirmed["oauth_key"]
    assert same.oauth()["oauth_key"]
    assert same.get_all_nodes().node_count == 0
