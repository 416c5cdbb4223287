"""Fixtures for the Synapse dialect: a live server with Synapse credentials."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import synapsepy

from billfold.services.clients import create_client
from billfold.services.synapse_clients import issue_synapse_credentials
from conftest import RunningServer
from synapse_support import SynapseApp


@pytest.fixture
def synapse(server: RunningServer) -> Iterator[SynapseApp]:
    ctx = server.container.ctx
    client = create_client(ctx=ctx, name="YY Test Account").client
    credentials = issue_synapse_credentials(ctx=ctx, client_id=client.id)
    app = SynapseApp(server, credentials.client_id, credentials.client_secret)
    yield app
    assert app.problems == [], app.problems


@pytest.fixture
def make_user(synapse: SynapseApp) -> Callable[[], tuple[synapsepy.Client, Any]]:
    def make() -> tuple[synapsepy.Client, Any]:
        client = synapse.client()
        return client, synapse.new_user(client)

    return make
