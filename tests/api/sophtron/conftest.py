"""Fixtures for the Sophtron dialect: a developer with UserId/AccessKey and an OAuth client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from billfold.services import sophtron as dialect
from billfold.services.clients import create_client
from conftest import RunningServer, make_settings, start_server, stop_server
from sophtron_client import SophtronClient

REDIRECT_URI = "https://app.example/callback"


@dataclass
class Developer:
    client_id: str
    user_id: str
    access_key: str
    oauth_client_id: str
    oauth_secret: str

    def client(self, server: RunningServer) -> SophtronClient:
        return SophtronClient(server.url, user_id=self.user_id, access_key=self.access_key)


def new_developer(server: RunningServer, name: str = "Sophtron app") -> Developer:
    """Provision as `billfold clients create --redirect-uri ...` does."""
    ctx = server.container.ctx
    client = create_client(ctx=ctx, name=name).client
    credential = dialect.issue_credentials(ctx=ctx, client_id=client.id)
    oauth = dialect.register_oauth_client(
        ctx=ctx, client_id=client.id, redirect_uris=[REDIRECT_URI]
    )
    return Developer(
        client.id, credential.user_id, credential.access_key, oauth.client_id, oauth.client_secret
    )


@pytest.fixture
def make_developer() -> Callable[[RunningServer], Developer]:
    return new_developer


@pytest.fixture
def developer(server: RunningServer) -> Developer:
    return new_developer(server)


@pytest.fixture
def sophtron(server: RunningServer, developer: Developer) -> Iterator[SophtronClient]:
    client = developer.client(server)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def tuned_server(tmp_path: Path, database_url: str) -> Iterator[Callable[..., RunningServer]]:
    """Start a server with settings overrides (step delay, hold period, challenge TTL)."""
    started: list[Any] = []

    def start(**overrides: Any) -> RunningServer:
        running, uv, thread = start_server(make_settings(tmp_path, database_url, **overrides))
        started.append((running, uv, thread))
        return running

    yield start
    for running, uv, thread in started:
        stop_server(uv, thread, running.logs)
