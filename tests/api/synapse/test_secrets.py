"""No secret in any log line or unexpected response (checklist item 22), and the CLI pair."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import synapsepy
from typer.testing import CliRunner

from billfold.cli.main import app
from billfold.settings import Settings
from conftest import make_settings, start_server, stop_server
from synapse_support import USER_BODY, SynapseApp

Factory = Callable[[], tuple[synapsepy.Client, Any]]
PASSWORD = "test1234_sync_balance_higher"


def test_22_no_secret_reaches_a_log_or_a_node(synapse: SynapseApp) -> None:
    client = synapse.client()
    user = client.create_user(USER_BODY, "127.0.0.1")
    oauth = user.oauth()
    pending = user.create_node(
        {
            "type": "ACH-US",
            "info": {"bank_id": "synapse_good", "bank_pw": PASSWORD, "bank_name": "fake"},
        }
    )
    token = pending["mfa"]["access_token"]
    user.ach_mfa({"access_token": token, "mfa_answer": "wrong_answer_xyz"})
    nodes = user.ach_mfa({"access_token": token, "mfa_answer": "test_answer"})
    node = user.get_node(nodes.list_of_nodes[0].id, full_dehydrate=True, force_refresh=True)
    stranger = synapse.client(fingerprint="fp_second").get_user(user.id)
    with contextlib.suppress(synapsepy.errors.ActionPending):
        stranger.oauth()
    stranger.select_2fa_device("901.111.1111")
    stranger.confirm_2fa_pin("123456")
    secrets = [
        PASSWORD,
        "wrong_answer_xyz",
        "test_answer",
        token,
        oauth["oauth_key"],
        oauth["refresh_token"],
        user.body["refresh_token"],
        synapse.client_secret,
        "validation_pin",
    ]
    logs = synapse.server.logs.text()
    for secret in secrets:
        assert secret not in logs, secret
    rendered = json.dumps([node.body, *(n.body for n in nodes.list_of_nodes)])
    for secret in secrets:
        assert secret not in rendered, secret


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_clients_create_prints_synapse_credentials_that_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("BILLFOLD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BILLFOLD_DATABASE_URL", raising=False)
    monkeypatch.delenv("BILLFOLD_SECRET_KEY", raising=False)
    result = CliRunner().invoke(app, ["clients", "create", "--name", "Budget App", "--json"])
    assert result.exit_code == 0, result.output
    pair = json.loads(result.stdout)["synapse"]
    assert len(pair["client_id"]) == 24 and pair["client_secret"].startswith("client_secret_")
    database = (tmp_path / "billfold.db").read_bytes().decode("latin-1")
    assert pair["client_secret"] not in database
    running, uv, thread = start_server(Settings(data_dir=tmp_path))
    try:
        client = synapsepy.Client(pair["client_id"], pair["client_secret"], "fp", "127.0.0.1")
        client.http.base_url = f"{running.url}/v3.1"
        user = client.create_user(USER_BODY, "127.0.0.1")
        assert user.body["client"]["name"] == "Budget App"
        client.issue_public_key(["USERS|POST"])
    finally:
        stop_server(uv, thread, running.logs)
    # `billfold keys rotate` re-wraps the dialect's secrets: the old key can then go.
    old_key = (tmp_path / "secret.key").read_text().strip()
    new_key = CliRunner().invoke(app, ["keys", "generate"]).stdout.strip()
    monkeypatch.setenv("BILLFOLD_SECRET_KEY", f"{new_key},{old_key}")
    rotated = CliRunner().invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'billfold.db'}", secret_key=new_key)
    running, uv, thread = start_server(settings)
    try:
        client = synapsepy.Client(pair["client_id"], pair["client_secret"], "fp", "127.0.0.1")
        client.http.base_url = f"{running.url}/v3.1"
        again = client.get_user(user.id)
        assert again.body["refresh_token"] == user.body["refresh_token"]
        assert again.oauth()["oauth_key"]
    finally:
        stop_server(uv, thread, running.logs)
