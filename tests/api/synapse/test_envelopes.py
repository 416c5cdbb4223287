"""The §10 table through `synapsepy`'s own error factory (checklist items 16, 17).

Item 16 (every body a JSON object with string codes) is checked on every response
of this directory by the `synapse` fixture; here are the edges it does not reach.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
import synapsepy
from synapsepy import errors

from synapse_support import USER_BODY, SynapseApp

Factory = Callable[[], tuple[synapsepy.Client, Any]]


def _raise_from(client: synapsepy.Client, response: requests.Response) -> None:
    client.http.parse_response(response)  # synapsepy's own error mapping


def test_17_each_row_raises_its_synapsepy_class(synapse: SynapseApp, make_user: Factory) -> None:
    client, user = make_user()
    session, base = client.http.session, synapse.base_url
    node_id = (
        user.create_node(
            {
                "type": "ACH-US",
                "info": {"bank_id": "synapse_nomfa", "bank_pw": "test1234", "bank_name": "fake"},
            }
        )
        .list_of_nodes[0]
        .id
    )
    user.delete_node(node_id)
    stranger = synapse.client(fingerprint="fp_other").get_user(user.id)
    triggers: list[tuple[str, type[errors.SynapseError], Callable[[], Any]]] = [
        ("10", errors.ActionPending, stranger.oauth),
        (
            "100",
            errors.IncorrectClientCredentials,
            lambda: session.get(base + "/users", headers={"X-SP-GATEWAY": "a|b"}),
        ),
        (
            "110",
            errors.IncorrectUserCredentials,
            lambda: session.get(base + f"/users/{user.id}/nodes", headers={"X-SP-USER": "|fp"}),
        ),
        ("200", errors.PayloadError, lambda: client.create_user({}, "127.0.0.1")),
        (
            "400",
            errors.IncorrectValues,
            lambda: session.post(base + f"/oauth/{user.id}", json={"refresh_token": "nope"}),
        ),
        ("404", errors.ObjectNotFound, lambda: client.get_user("a" * 24)),
        ("410", errors.ActionNotAllowed, lambda: user.get_node(node_id, force_refresh=True)),
    ]
    for code, error, trigger in triggers:
        with pytest.raises(error) as caught:
            result = trigger()
            if isinstance(result, requests.Response):
                _raise_from(client, result)
        assert caught.value.error_code == code
        assert isinstance(caught.value.http_code, str)


def test_16_unknown_routes_methods_and_bad_json_are_synapse_envelopes(synapse: SynapseApp) -> None:
    client = synapse.client()
    user = client.create_user(USER_BODY, "127.0.0.1")
    with synapse.raw() as raw:
        missing = raw.get("/no/such/route")
        assert (missing.status_code, missing.json()["error_code"]) == (404, "404")
        wrong_method = raw.put("/users")
        assert wrong_method.status_code == 405 and wrong_method.json()["success"] is False
        bad_json = raw.post(
            "/users", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert (bad_json.status_code, bad_json.json()["error_code"]) == (400, "200")
        listed = raw.get("/users", params={"per_page": 1, "show_refresh_tokens": "yes"})
        body = listed.json()
        assert (body["page"], body["limit"], body["users_count"]) == (1, 1, 1)
        assert body["users"][0]["refresh_token"] == user.body["refresh_token"]
        assert "refresh_token" not in raw.get("/users").json()["users"][0]
        assert raw.get("/users", params={"page": "x"}).json()["error_code"] == "200"
        banks = raw.get("/institutions").json()
        assert any(b["bank_code"] == "fake" for b in banks["banks"])
    assert synapse.checked >= 8


def test_16_every_success_code_is_a_string(make_user: Factory) -> None:
    client, _ = make_user()
    inst = client.get_all_inst()
    assert inst["http_code"] == "200" and inst["error_code"] == "0"
    nodes = client.get_all_nodes()
    assert nodes.node_count == 0
    assert client.get_all_trans().trans_count == 0
