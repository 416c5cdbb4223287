"""ACH-US nodes by bank login through the real `synapsepy` 1.2.13 (checklist items 6-15).

Values are the seed document's example (checking 8901 at 800.00, savings 8902 at 750.00).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import synapsepy
from synapsepy import errors

from billfold.services.clients import create_client
from billfold.services.connections import list_connections
from billfold.services.synapse_clients import issue_synapse_credentials
from billfold.store.synapse import SynapseRepository
from conftest import make_settings, start_server, stop_server
from synapse_support import SynapseApp

Factory = Callable[[], tuple[synapsepy.Client, Any]]
QUESTION = "I heard you like questions so we put a question in your question?"
HEX = set("0123456789abcdef")

# The seed document's first node, without generated values (ids, times, access_token).
SEED_CHECKING: dict[str, Any] = {
    "allowed": "CREDIT-AND-DEBIT",
    "client": {"name": "YY Test Account"},
    "extra": {"note": None, "supp_id": ""},
    "info": {
        "account_num": "8901",
        "address": "PO BOX 85139, RICHMOND, VA, US",
        "balance": {"amount": "800.00", "currency": "USD"},
        "bank_logo": "https://cdn.synapsepay.com/bank_logos/new/co.png",
        "bank_long_name": "CAPITAL ONE N.A.",
        "bank_name": "CAPITAL ONE N.A.",
        "class": "CHECKING",
        "match_info": {
            "email_match": "match",
            "name_match": "match",
            "phonenumber_match": "no_match",
        },
        "name_on_account": " ",
        "nickname": "SynapsePay Test Checking Account - 8901",
        "routing_num": "6110",
        "type": "BUSINESS",
    },
    "is_active": True,
    "type": "ACH-US",
}
SEED_SAVINGS: dict[str, Any] = {
    **SEED_CHECKING,
    "info": {
        **SEED_CHECKING["info"],
        "account_num": "8902",
        "balance": {"amount": "750.00", "currency": "USD"},
        "class": "SAVINGS",
        "nickname": "SynapsePay Test Savings Account - 8902",
    },
}


def bank(bank_id: str, bank_pw: str = "test1234") -> dict[str, Any]:
    return {"type": "ACH-US", "info": {"bank_id": bank_id, "bank_pw": bank_pw, "bank_name": "fake"}}


def is_oid(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 24 and set(value) <= HEX


def contains(actual: Any, expected: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            contains(actual.get(k), v) for k, v in expected.items()
        )
    return bool(actual == expected)


def check_seed_node(node: dict[str, Any], expected: dict[str, Any], user_id: str) -> None:
    assert contains(node, expected), node
    assert is_oid(node["_id"]) and node["user_id"] == user_id
    assert node["_links"]["self"]["href"].endswith(f"/v3.1/users/{user_id}/nodes/{node['_id']}")
    assert is_oid(node["client"]["id"])
    assert is_oid(node["extra"]["other"]["access_token"])
    assert isinstance(node["extra"]["other"]["updated_on"], int)
    assert isinstance(node["info"]["balance"]["updated_on"], int)
    [entry] = node["timeline"]
    assert entry["note"] == "Node created." and isinstance(entry["date"], int)


def link_good(user: Any, password: str = "test1234") -> Any:
    pending = user.create_node(bank("synapse_good", password))
    return user.ach_mfa(
        {"access_token": pending["mfa"]["access_token"], "mfa_answer": "test_answer"}
    )


def test_6_nomfa_gives_the_seed_nodes(make_user: Factory) -> None:
    _, user = make_user()
    nodes = user.create_node(bank("synapse_nomfa"))
    assert isinstance(nodes, synapsepy.node.Nodes)
    assert (nodes.node_count, nodes.limit, nodes.page_count) == (2, 2, 1)
    checking, savings = (n.body for n in nodes.list_of_nodes)
    check_seed_node(checking, SEED_CHECKING, user.id)
    check_seed_node(savings, SEED_SAVINGS, user.id)
    assert checking["extra"]["other"]["access_token"] == savings["extra"]["other"]["access_token"]


def test_7_question_mfa_two_rounds(make_user: Factory) -> None:
    _, user = make_user()
    first = user.create_node(bank("synapse_good"))
    assert isinstance(first, dict) and "error" not in first
    assert first["http_code"] == "202" and first["error_code"] == "10"
    assert first["mfa"]["type"] == "question" and first["mfa"]["message"] == QUESTION
    token = first["mfa"]["access_token"]
    assert token.startswith("fake_") and len(token) == 69 and set(token[5:]) <= HEX
    again = user.ach_mfa({"access_token": token, "mfa_answer": "again"})
    assert isinstance(again, dict) and again["mfa"] == first["mfa"]
    nodes = user.ach_mfa({"access_token": token, "mfa_answer": "test_answer"})
    assert isinstance(nodes, synapsepy.node.Nodes) and nodes.node_count == 2
    check_seed_node(nodes.list_of_nodes[0].body, SEED_CHECKING, user.id)
    with pytest.raises(errors.IncorrectValues):  # a token serves one completed login
        user.ach_mfa({"access_token": token, "mfa_answer": "test_answer"})


def test_7_an_access_token_belongs_to_its_user(synapse: SynapseApp) -> None:
    client = synapse.client()
    alice, bob = synapse.new_user(client), synapse.new_user(client)
    token = alice.create_node(bank("synapse_good"))["mfa"]["access_token"]
    with pytest.raises(errors.IncorrectValues):
        bob.ach_mfa({"access_token": token, "mfa_answer": "test_answer"})
    with pytest.raises(errors.IncorrectValues):
        bob.ach_mfa({"access_token": "fake_" + "0" * 64, "mfa_answer": "test_answer"})
    # Alice's login is still waiting for her answer (synapsepy re-OAuths her on the 110).
    assert alice.ach_mfa({"access_token": token, "mfa_answer": "test_answer"}).node_count == 2


def test_8_wrong_answer_reprompts_with_the_same_token(make_user: Factory) -> None:
    _, user = make_user()
    first = user.create_node(bank("synapse_good"))
    token = first["mfa"]["access_token"]
    wrong = user.ach_mfa({"access_token": token, "mfa_answer": "wrong"})
    assert isinstance(wrong, dict) and wrong["mfa"] == first["mfa"] and "error" not in wrong
    assert user.ach_mfa({"access_token": token, "mfa_answer": "test_answer"}).node_count == 2


def test_8_strict_mode_raises_incorrect_values(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(
        tmp_path, database_url, synapse_strict_mfa=True, synapse_oauth_ttl_seconds=60
    )
    running, uv, thread = start_server(settings)
    try:
        client = create_client(ctx=running.container.ctx, name="Strict").client
        pair = issue_synapse_credentials(ctx=running.container.ctx, client_id=client.id)
        app = SynapseApp(running, pair.client_id, pair.client_secret)
        user = app.new_user(app.client())
        assert user.oauth()["expires_in"] == "60"
        token = user.create_node(bank("synapse_good"))["mfa"]["access_token"]
        with pytest.raises(errors.IncorrectValues):
            user.ach_mfa({"access_token": token, "mfa_answer": "wrong"})
        assert user.ach_mfa({"access_token": token, "mfa_answer": "test_answer"}).node_count == 2
        assert app.problems == []
    finally:
        stop_server(uv, thread, running.logs)


def test_9_code_mfa(make_user: Factory) -> None:
    _, user = make_user()
    pending = user.create_node(bank("synapse_code_mfa"))
    assert pending["mfa"]["type"] == "code"
    assert pending["mfa"]["message"] == "Please enter the code sent to your device."
    nodes = user.ach_mfa({"access_token": pending["mfa"]["access_token"], "mfa_answer": "123456"})
    assert nodes.node_count == 2
    assert [n.body["info"]["class"] for n in nodes.list_of_nodes] == ["CHECKING", "SAVINGS"]


def test_10_count_variants(make_user: Factory) -> None:
    _, user = make_user()
    classes = {}
    for variant in ("_one", "_checking", "_savings", "_random"):
        nodes = link_good(user, f"test1234{variant}")
        classes[variant] = [n.body["info"]["class"] for n in nodes.list_of_nodes]
        assert nodes.node_count == len(classes[variant]) == nodes.limit
        assert all(n.body["allowed"] == "CREDIT-AND-DEBIT" for n in nodes.list_of_nodes)
    assert classes["_one"] == ["CHECKING", "SAVINGS"]
    assert 1 <= len(classes["_checking"]) <= 10 and set(classes["_checking"]) == {"CHECKING"}
    assert 1 <= len(classes["_savings"]) <= 10 and set(classes["_savings"]) == {"SAVINGS"}
    assert 1 <= len(classes["_random"]) <= 10
    assert set(classes["_random"]) <= {"CHECKING", "SAVINGS"}


def test_11_link_errors(make_user: Factory) -> None:
    _, user = make_user()
    cases = [
        ("synapse_no_accounts", "test1234", errors.RequestFailed, "402"),
        ("synapse_bank_request", "test1234", errors.ServerError, "402"),
        ("synapse_maintenance", "test1234", errors.ServiceUnavailable, "503"),
        ("synapse_nomfa", "wrong_password", errors.PayloadError, "400"),
        ("nobody_here", "test1234", errors.PayloadError, "400"),
    ]
    for bank_id, password, error, http_code in cases:
        with pytest.raises(error) as caught:
            user.create_node(bank(bank_id, password))
        assert caught.value.http_code == http_code, bank_id
    with pytest.raises(errors.PayloadError):
        user.create_node({"type": "ACH-US", "info": {**bank("x")["info"], "bank_name": "nope"}})
    assert user.get_all_nodes().node_count == 0


def _refresh_balance(user: Any, suffix: str) -> Decimal:
    nodes = user.create_node(bank("synapse_nomfa", f"test1234{suffix}"))
    node = user.get_node(nodes.list_of_nodes[0].id, force_refresh=True)
    return Decimal(node.body["info"]["balance"]["amount"])


def test_12_sync_suffixes(synapse: SynapseApp, make_user: Factory) -> None:
    _, user = make_user()
    assert _refresh_balance(user, "") == Decimal("800.00")
    assert Decimal("800") <= _refresh_balance(user, "_sync_balance_higher") <= Decimal("1500")
    assert Decimal("10") <= _refresh_balance(user, "_sync_balance_lower") <= Decimal("50")
    failing = [
        ("_sync_not_allowed", errors.ActionNotAllowed),
        ("_sync_unknown_error", errors.ServerError),
        ("_sync_unavailable", errors.ServiceUnavailable),
    ]
    for suffix, error in failing:
        node_id = user.create_node(bank("synapse_nomfa", f"test1234{suffix}")).list_of_nodes[0].id
        with pytest.raises(error):
            user.get_node(node_id, force_refresh=True)
        assert user.get_node(node_id).body["is_active"]  # no refresh: the node still reads
    node_id = user.create_node(bank("synapse_nomfa", "test1234_needs_relink")).list_of_nodes[0].id
    for _ in range(2):  # the second time the login already needs a relink: still 110
        before = len(synapse.server.logs.lines)
        with pytest.raises(errors.IncorrectUserCredentials):
            user.get_node(node_id, force_refresh=True)
        oauths = [
            line
            for line in synapse.server.logs.lines[before:]
            if line.startswith("uvicorn.access") and "POST /v3.1/oauth/" in line
        ]
        assert len(oauths) == 1
    assert user.get_node(node_id).id == node_id  # the oauth key still works


def test_13_full_dehydrate_and_node_transactions(make_user: Factory) -> None:
    _, user = make_user()
    node_id = link_good(user).list_of_nodes[0].id
    node = user.get_node(node_id, full_dehydrate=True).body
    assert node["info"]["routing_num"] == "051405515"
    number = node["info"]["account_num"]
    assert len(number) == 12 and number.endswith("8901")
    other = node["extra"]["other"]
    assert isinstance(other["transactions"], list) and 15 <= len(other["transactions"]) <= 60
    item = other["transactions"][0]
    assert is_oid(item["_id"]) and item["amount"] > 0 and isinstance(item["debit"], bool)
    assert set(item) >= {"category", "current_balance", "date", "description", "merchant"}
    assert other["balance"]["current"] == "800.00"
    plain = user.get_node(node_id).body
    assert plain["info"]["account_num"] == "8901" and "transactions" not in plain["extra"]["other"]
    trans = user.get_all_node_trans(node_id)
    assert (trans.trans_count, trans.page_count, trans.list_of_trans) == (0, 1, [])


def test_14_delete_node(make_user: Factory) -> None:
    _, user = make_user()
    nodes = user.create_node(bank("synapse_nomfa"))
    gone, kept = (n.id for n in nodes.list_of_nodes)
    deleted = user.delete_node(gone)
    assert isinstance(deleted, dict) and deleted["is_active"] is False and deleted["_id"] == gone
    listed = user.get_all_nodes()
    assert [n.id for n in listed.list_of_nodes] == [kept] and listed.node_count == 1
    assert user.get_node(gone).body["is_active"] is False
    with pytest.raises(errors.ActionNotAllowed):
        user.get_node(gone, force_refresh=True)
    with pytest.raises(errors.ObjectNotFound):
        user.get_node("f" * 24)


def test_15_sticky_idempotency_key_survives_the_mfa_loop(
    synapse: SynapseApp, make_user: Factory
) -> None:
    client, user = make_user()
    first = user.create_node(bank("synapse_good"), idempotency_key="k")
    assert client.http.get_headers()["X-SP-IDEMPOTENCY-KEY"] == "k"
    token = first["mfa"]["access_token"]
    nodes = user.ach_mfa({"access_token": token, "mfa_answer": "test_answer"})
    assert nodes.node_count == 2
    assert user.get_all_nodes().node_count == 2
    assert user.oauth()["oauth_key"] != user.oauth()["oauth_key"]  # OAuth ignores the key
    replayed = user.create_node(bank("synapse_good"), idempotency_key="k")
    assert replayed == first
    ctx = synapse.server.container.ctx
    client_id = _client_of(synapse)
    assert len(list_connections(ctx=ctx, client_id=client_id)) == 1


def _client_of(synapse: SynapseApp) -> str:
    with synapse.server.container.store.read() as unit:
        found = SynapseRepository(unit.session, synapse.server.container.store.keys).credential(
            synapse.client_id
        )
    assert found is not None
    return found.client_id


def test_the_same_login_twice_returns_the_same_nodes(
    synapse: SynapseApp, make_user: Factory
) -> None:
    client, user = make_user()
    first = [n.id for n in user.create_node(bank("synapse_nomfa")).list_of_nodes]
    again = user.create_node(bank("synapse_nomfa"))
    assert [n.id for n in again.list_of_nodes] == first and again.node_count == 2
    user.delete_node(first[1])
    assert [n.id for n in user.create_node(bank("synapse_nomfa")).list_of_nodes] == first[:1]
    assert client.get_all_nodes().node_count == 1  # client level: active nodes of all users
    assert (
        len(list_connections(ctx=synapse.server.container.ctx, client_id=_client_of(synapse))) == 1
    )


def test_patch_node_and_user(make_user: Factory) -> None:
    _, user = make_user()
    node_id = user.create_node(bank("synapse_nomfa")).list_of_nodes[0].id
    patched = user.update_node(node_id, {"supp_id": "mine", "allowed": "LOCKED"})
    assert patched.body["extra"]["supp_id"] == "mine" and patched.body["allowed"] == "LOCKED"
    assert patched.type == "ACH-US"
    with pytest.raises(errors.PayloadError):
        user.update_node(node_id, {"allowed": "WHATEVER"})
    updated = user.update_info({"legal_names": ["Second Name"], "extra": {"note": "hi"}})
    assert updated["legal_names"] == ["Test User", "Second Name"]
    assert updated["extra"]["note"] == "hi" and updated["refresh_token"]
