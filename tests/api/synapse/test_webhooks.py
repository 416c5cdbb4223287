"""Node webhooks: subscriptions, signed deliveries with retries, the log (checklist item 20)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import synapsepy
from synapsepy import errors

from billfold.services.synapse_webhooks import signatures
from synapse_support import SynapseApp

Factory = Callable[[], tuple[synapsepy.Client, Any]]


def test_signature_vector_of_the_spec() -> None:
    signed = signatures(
        oid="5f1a2b3c4d5e6f7a8b9c0d1e",
        client_id="client_id_abc123",
        client_secret="client_secret_xyz789",
        body=b"{}",
    )
    assert signed["X-Synapse-Signature"] == "1cbd1ee1fdd902eb06f84e21c0d38a05bf6cf700"
    assert (
        signed["X-Synapse-Signature-Sha256"]
        == "0d83322a6475869c1a828c7113efa8c2a4ef53916a9d4e82b774e024de23012f"
    )


class Receiver:
    """A webhook endpoint on 127.0.0.1 that fails its first delivery, then accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failures_left = 1
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.failures_left > 0:
                    receiver.failures_left -= 1
                    self.send_response(500)
                else:
                    receiver.received.append((dict(self.headers.items()), body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, self.received
            time.sleep(0.05)
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()
    found.server.server_close()


def test_20_link_and_sync_deliveries_are_signed(
    synapse: SynapseApp, make_user: Factory, receiver: Receiver
) -> None:
    client, user = make_user()
    subscription = client.create_subscription(receiver.url, ["NODES|POST", "NODE|PATCH"])
    assert subscription.url == receiver.url and len(subscription.id) == 24
    assert client.get_all_subs().subscriptions_count == 1
    with pytest.raises(errors.IncorrectValues):  # one active subscription per scope
        client.create_subscription(receiver.url, ["NODE|PATCH"])
    nodes = user.create_node(
        {
            "type": "ACH-US",
            "info": {
                "bank_id": "synapse_nomfa",
                "bank_pw": "test1234_sync_balance_lower",
                "bank_name": "fake",
            },
        }
    )
    node_id = nodes.list_of_nodes[0].id
    refreshed = user.get_node(node_id, force_refresh=True).body
    events = receiver.wait_for(3)
    by_function: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_function.setdefault(event["webhook_meta"]["function"], []).append(event)
    assert sorted(e["_id"]["$oid"] for e in by_function["NODES|POST"]) == sorted(
        n.id for n in nodes.list_of_nodes
    )
    [patch] = by_function["NODE|PATCH"]
    assert patch["_id"]["$oid"] == node_id
    assert patch["_rest"]["info"]["balance"] == refreshed["info"]["balance"]
    assert patch["webhook_meta"]["updated_by"] == "SELF"
    for headers, body in receiver.received:
        oid = json.loads(body)["_id"]["$oid"]
        message = f"{oid}+{synapse.client_id}".encode()
        secret = synapse.client_secret.encode()
        assert headers["X-Synapse-Signature"] == hmac.new(secret, message, hashlib.sha1).hexdigest()
        assert (
            headers["X-Synapse-Signature-Sha256"]
            == hmac.new(secret, message, hashlib.sha256).hexdigest()
        )
        assert (
            headers["X-Synapse-Signature-SHA256-FullBody"]
            == hmac.new(secret, body, hashlib.sha256).hexdigest()
        )
    # The receiver has the bodies before Billfold records its answers: wait for the log.
    deadline = time.monotonic() + 10
    while True:
        logs = client.webhook_logs()["logs"]
        if all(entry["status"] == "delivered" for entry in logs) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(logs) == 3 and {entry["http_response_code"] for entry in logs} == {200}
    assert sum(entry["attempts"] for entry in logs) == 4  # one delivery was retried once
    assert all(entry["obj_id"].startswith("NODE_") for entry in logs)
    updated = client.update_subscription(subscription.id, {"is_active": False})
    assert updated.body["is_active"] is False
