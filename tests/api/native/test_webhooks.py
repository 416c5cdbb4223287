"""Webhooks and events over HTTP, with a real receiver on 127.0.0.1."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from conftest import RunningServer, make_settings, start_server, stop_server
from flows import link, ok


class Receiver:
    """Records deliveries; answers 503 (or drops the connection) while `down`."""

    def __init__(self) -> None:
        self.down = False
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if receiver.down:
                    self.send_response(503)
                else:
                    receiver.received.append(
                        ({k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def ids(self) -> list[str]:
        return [headers["webhook-id"] for headers, _ in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def fast_server(tmp_path: Path, database_url: str) -> Iterator[RunningServer]:
    settings = make_settings(
        tmp_path,
        database_url,
        webhook_retry_schedule="0.3,0.3,0.5,0.5,1,1",
        webhook_sweep_seconds=0.5,
        refresh_tick_seconds=0.3,
    )
    running, uv, thread = start_server(settings)
    try:
        yield running
    finally:
        stop_server(uv, thread, running.logs)


def until(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def all_events(api: httpx.Client) -> list[dict[str, Any]]:
    return list(ok(api.get("/v1/events", params={"limit": 500}))["data"])


def test_a_receiver_down_for_a_while_gets_every_event_once_per_id(
    fast_server: RunningServer, receiver: Receiver
) -> None:
    with fast_server.client(fast_server.new_api_key()) as api:
        hook = ok(api.post("/v1/webhooks", json={"url": receiver.url}), 201)
        assert hook["secret"].startswith("whsec_") and hook["event_types"] == ["*"]
        assert (
            "secret" not in ok(api.get(f"/v1/webhooks/{hook['id']}"))
            or ok(api.get(f"/v1/webhooks/{hook['id']}"))["secret"] is None
        )
        receiver.down = True
        link(api, "Sophtron Bank SecurityQuestion", "asdf", "asdf", answers=[["blue"]])
        link(api, "Sophtron Bank NoMFA", "asdf", "asdf")
        events = all_events(api)
        types = [e["type"] for e in events]
        assert types.count("job.succeeded") == 2 and "job.waiting_for_answer" in types
        assert "transactions.updated" in types
        time.sleep(1.0)  # several attempts fail meanwhile
        failed = ok(api.get(f"/v1/webhooks/{hook['id']}/deliveries", params={"status": "pending"}))[
            "data"
        ]
        assert failed and all(d["attempts"] >= 1 and d["last_status_code"] == 503 for d in failed)
        receiver.down = False
        until(lambda: len(set(receiver.ids())) == len(events))
        time.sleep(1.0)  # nothing more arrives
        assert sorted(set(receiver.ids())) == sorted(e["id"] for e in events)
        assert len(receiver.ids()) == len(events), "each event delivered once after recovery"
        verifier = Webhook(hook["secret"])
        for headers, body in receiver.received:
            payload = verifier.verify(body, headers)
            assert payload["data"]["event_id"] == headers["webhook-id"]
        tampered_headers, tampered_body = receiver.received[0]
        with pytest.raises(Exception, match=r"(?i)signature"):
            verifier.verify(tampered_body[:-1] + b" }", tampered_headers)
        delivery = ok(api.get(f"/v1/webhooks/{hook['id']}/deliveries"))["data"][0]
        detail = ok(api.get(f"/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}"))
        assert detail["status"] == "succeeded" and len(detail["history"]) == detail["attempts"]


def test_replay_rotation_and_event_filters(fast_server: RunningServer, receiver: Receiver) -> None:
    with fast_server.client(fast_server.new_api_key()) as api:
        hook = ok(
            api.post("/v1/webhooks", json={"url": receiver.url, "event_types": ["job.succeeded"]}),
            201,
        )
        link(api, "Sophtron Bank NoMFA", "asdf", "asdf")
        until(lambda: len(receiver.received) == 1)
        first_id = receiver.ids()[0]
        delivery = ok(api.get(f"/v1/webhooks/{hook['id']}/deliveries"))["data"][0]
        ok(api.post(f"/v1/webhooks/{hook['id']}/deliveries/{delivery['id']}/replay"), 202)
        until(lambda: len(receiver.received) == 2)
        assert receiver.ids() == [first_id, first_id]
        rotated = ok(api.post(f"/v1/webhooks/{hook['id']}/rotate_secret"))
        assert rotated["secret"] != hook["secret"]
        link(api, "Sophtron Bank NoMFA", "asdf", "asdf")
        until(lambda: len(receiver.received) == 3)
        headers, body = receiver.received[-1]
        assert len(headers["webhook-signature"].split(" ")) == 2
        Webhook(rotated["secret"]).verify(body, headers)
        Webhook(hook["secret"]).verify(body, headers)
        polled = ok(api.get("/v1/events", params={"type": "job.succeeded"}))
        assert [e["type"] for e in polled["data"]] == ["job.succeeded", "job.succeeded"]
        later = ok(
            api.get("/v1/events", params={"after": polled["next_after"], "type": "job.succeeded"})
        )
        assert later["data"] == [] and later["next_after"] == polled["next_after"]
        bad = api.post("/v1/webhooks", json={"url": "ftp://x", "event_types": ["nope"]})
        assert bad.status_code == 400
        assert api.get("/v1/events", params={"type": "nope"}).status_code == 400


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_endpoint_failing_too_long_is_disabled(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    settings = make_settings(
        tmp_path,
        database_url,
        webhook_retry_schedule="0.2,0.2,0.2,0.2",
        webhook_disable_after_hours=0.5 / 3600,
    )
    running, uv, thread = start_server(settings)
    try:
        with running.client(running.new_api_key()) as api:
            hook = ok(api.post("/v1/webhooks", json={"url": receiver.url}), 201)
            receiver.down = True
            link(api, "Sophtron Bank NoMFA", "asdf", "asdf")
            until(lambda: not ok(api.get(f"/v1/webhooks/{hook['id']}"))["enabled"])
            disabled = ok(api.get(f"/v1/webhooks/{hook['id']}"))
            assert "disabled after failing" in disabled["disabled_reason"]
            until(
                lambda: (
                    not ok(
                        api.get(
                            f"/v1/webhooks/{hook['id']}/deliveries", params={"status": "pending"}
                        )
                    )["data"]
                )
            )
            receiver.down = False
            enabled = ok(api.patch(f"/v1/webhooks/{hook['id']}", json={"enabled": True}))
            assert enabled["enabled"] and enabled["failing_since"] is None
    finally:
        stop_server(uv, thread, running.logs)


def test_scheduled_refresh_runs_in_the_background(fast_server: RunningServer) -> None:
    with fast_server.client(fast_server.new_api_key()) as api:
        connection, job = link(api, "Billfold Sandbox Bank", "user_good", "pw")
        assert job["status"] == "succeeded"
        current = ok(api.get(f"/v1/connections/{connection['id']}"))
        assert current["refresh_every_hours"] == 24 and current["next_refresh_at"]
        off = ok(
            api.patch(f"/v1/connections/{connection['id']}", json={"refresh_every_hours": None})
        )
        assert off["next_refresh_at"] is None
        assert (
            api.patch(
                f"/v1/connections/{connection['id']}", json={"refresh_every_hours": 0}
            ).status_code
            == 400
        )
        ok(api.patch(f"/v1/connections/{connection['id']}", json={"refresh_every_hours": 1}))
        with fast_server.container.store.write() as unit:  # make it due now
            from datetime import timedelta

            from billfold.store.ids import utcnow

            unit.connections.set_next_refresh(connection["id"], utcnow() - timedelta(seconds=1))

        def refreshed() -> bool:
            jobs = ok(api.get("/v1/jobs", params={"connection_id": connection["id"]}))["data"]
            return any(j["kind"] == "refresh" and j["status"] == "succeeded" for j in jobs)

        until(refreshed)
        after = ok(api.get(f"/v1/connections/{connection['id']}"))
        assert after["next_refresh_at"] > current["next_refresh_at"] or after["next_refresh_at"]
