"""`billfold clients create` prints Sophtron-style credentials that work against the dialect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from billfold.cli.main import app
from conftest import make_settings, start_server, stop_server
from sophtron_client import SophtronClient, password_token

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BILLFOLD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BILLFOLD_DATABASE_URL", raising=False)
    monkeypatch.delenv("BILLFOLD_SECRET_KEY", raising=False)
    return tmp_path


def test_clients_create_prints_sophtron_and_oauth_credentials_that_work(cli_env: Path) -> None:
    result = runner.invoke(
        app,
        [
            "clients", "create", "--name", "Ucw", "--json",
            "--redirect-uri", "https://app.example/cb",
            "--redirect-uri", "http://localhost:8080/cb",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    sophtron, oauth = printed["sophtron"], printed["oauth"]
    assert len(sophtron["user_id"]) == 36 and sophtron["access_key"]
    assert oauth["client_id"] and oauth["client_secret"]
    assert oauth["redirect_uris"] == ["https://app.example/cb", "http://localhost:8080/cb"]
    stored = (cli_env / "billfold.db").read_bytes().decode("latin-1")
    assert sophtron["access_key"] not in stored and oauth["client_secret"] not in stored

    secret_key = (cli_env / "secret.key").read_text().strip()
    settings = make_settings(cli_env, f"sqlite:///{cli_env / 'billfold.db'}", secret_key=secret_key)
    running, uv, thread = start_server(settings)
    try:
        client = SophtronClient(
            running.url, user_id=sophtron["user_id"], access_key=sophtron["access_key"]
        )
        assert client.call("GET", "/Institution/HealthCheckAuth") == "this is online."
        client.close()
        token = password_token(
            running.url, oauth["client_id"], oauth["client_secret"], sophtron["user_id"]
        )
        bearer = SophtronClient(running.url, token=token["access_token"])
        assert bearer.call("GET", "/v2/customers") == []
        bearer.close()
    finally:
        stop_server(uv, thread, running.logs)


def test_clients_create_without_redirect_uri_has_no_oauth(cli_env: Path) -> None:
    result = runner.invoke(app, ["clients", "create", "--name", "Plain", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert "sophtron" in printed and "oauth" not in printed


def test_clients_create_refuses_a_bad_redirect_uri(cli_env: Path) -> None:
    result = runner.invoke(
        app, ["clients", "create", "--name", "Bad", "--redirect-uri", "ftp://x", "--json"]
    )
    assert result.exit_code != 0


def test_keys_rotate_rewraps_the_access_key(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = runner.invoke(app, ["clients", "create", "--name", "Rotating", "--json"])
    assert result.exit_code == 0, result.output
    sophtron = json.loads(result.stdout)["sophtron"]
    old_key = (cli_env / "secret.key").read_text().strip()
    new_key = runner.invoke(app, ["keys", "generate"]).stdout.strip()
    monkeypatch.setenv("BILLFOLD_SECRET_KEY", f"{new_key},{old_key}")
    rotated = runner.invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    settings = make_settings(cli_env, f"sqlite:///{cli_env / 'billfold.db'}", secret_key=new_key)
    running, uv, thread = start_server(settings)
    try:
        client = SophtronClient(
            running.url, user_id=sophtron["user_id"], access_key=sophtron["access_key"]
        )
        assert client.call("GET", "/Institution/HealthCheckAuth") == "this is online."
        client.close()
    finally:
        stop_server(uv, thread, running.logs)
