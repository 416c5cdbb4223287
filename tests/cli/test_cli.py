"""The `billfold` command: client creation and the interactive terminal link."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from billfold.cli.main import app
from conftest import RunningServer

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BILLFOLD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BILLFOLD_DATABASE_URL", raising=False)
    monkeypatch.delenv("BILLFOLD_SECRET_KEY", raising=False)
    return tmp_path


def test_clients_create_json_prints_id_and_key_once(cli_env: Path) -> None:
    result = runner.invoke(app, ["clients", "create", "--name", "Budget App", "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["api_key"].startswith("bf_") and printed["client_id"]
    assert (cli_env / "secret.key").exists()
    assert printed["api_key"] not in (cli_env / "billfold.db").read_bytes().decode("latin-1")


def test_clients_create_refuses_an_empty_name(cli_env: Path) -> None:
    result = runner.invoke(app, ["clients", "create", "--name", "  "])
    assert result.exit_code != 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_link_asks_each_challenge_at_the_prompt(server: RunningServer) -> None:
    api_key = server.new_api_key()
    answers = "\n".join(["asdf", "asdf", "1", "123456"]) + "\n"
    result = runner.invoke(
        app,
        ["link", "--url", server.url, "--api-key", api_key, "--institution", "Sophtron Bank Token"],
        input=answers,
    )
    assert result.exit_code == 0, result.output
    assert "xxx-xxx-1234" in result.output
    assert "Primary Checking" in result.output and "1000.00" in result.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_link_saves_the_captcha_image_and_reports_failures(server: RunningServer) -> None:
    api_key = server.new_api_key()
    result = runner.invoke(
        app,
        [
            "link",
            "--url",
            server.url,
            "--api-key",
            api_key,
            "--institution",
            "Sophtron Bank Captcha",
        ],
        input="asdf\nasdf\nfail\n",
    )
    assert result.exit_code == 1
    assert "Captcha image saved to" in result.output
    saved = Path(result.output.split("Captcha image saved to", 1)[1].split()[0])
    assert saved.read_bytes().startswith(b"\x89PNG")
    assert "invalid_answer" in result.output


def test_sandbox_lists_test_logins() -> None:
    result = runner.invoke(app, ["sandbox"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "synapse_good" in result.output and "Sophtron Bank" in result.output
