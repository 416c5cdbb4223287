"""Helpers for the Synapse dialect tests: `synapsepy` and raw clients, envelope checks."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests
import synapsepy

from conftest import RunningServer

USER_BODY: dict[str, Any] = {
    "logins": [{"email": "test@example.com", "password": "Test1234$", "scope": "READ_AND_WRITE"}],
    "phone_numbers": ["901.111.1111"],
    "legal_names": ["Test User"],
    "extra": {"supp_id": "my_user_id", "cip_tag": 1, "is_business": False},
}


def envelope_problems(status: int, content: bytes) -> list[str]:
    """What breaks spec §3/§10 in one response (checklist 16), as readable strings."""
    try:
        body = json.loads(content)
    except ValueError:
        return [f"{status}: body is not JSON"]
    if not isinstance(body, dict):
        return [f"{status}: body is not a JSON object"]
    problems = [
        f"{status}: {key} is not a string"
        for key in ("error_code", "http_code")
        if key in body and not isinstance(body[key], str)
    ]
    if isinstance(body.get("http_code"), str) and int(body["http_code"]) != status:
        problems.append(f"{status}: http_code {body['http_code']} differs from the status")
    if status >= 400:
        error = body.get("error")
        if not (isinstance(error, dict) and isinstance(error.get("en"), str)):
            problems.append(f"{status}: error.en missing")
        if not isinstance(body.get("error_code"), str) or "http_code" not in body:
            problems.append(f"{status}: error_code/http_code missing")
    return problems


@dataclass
class SynapseApp:
    server: RunningServer
    client_id: str
    client_secret: str
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    def _record(self, status: int, content: bytes) -> None:
        self.checked += 1
        self.problems.extend(envelope_problems(status, content))

    def _requests_hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._record(response.status_code, response.content)

    def _httpx_hook(self, response: httpx.Response) -> None:
        response.read()
        self._record(response.status_code, response.content)

    @property
    def base_url(self) -> str:
        return f"{self.server.url}/v3.1"

    def client(self, fingerprint: str = "fp_test_device") -> synapsepy.Client:
        client = synapsepy.Client(
            self.client_id, self.client_secret, fingerprint, "127.0.0.1", devmode=True
        )
        client.http.base_url = self.base_url
        client.http.session.hooks["response"].append(self._requests_hook)
        return client

    def raw(self, fingerprint: str = "fp_test_device", oauth_key: str = "") -> httpx.Client:
        """A plain HTTP client with the Synapse headers, for what `synapsepy` cannot send."""
        return httpx.Client(
            base_url=self.base_url,
            headers={
                "X-SP-GATEWAY": f"{self.client_id}|{self.client_secret}",
                "X-SP-USER": f"{oauth_key}|{fingerprint}",
                "X-SP-USER-IP": "127.0.0.1",
            },
            timeout=30,
            event_hooks={"response": [self._httpx_hook]},
        )

    def new_user(self, client: synapsepy.Client) -> Any:
        body = {**USER_BODY, "logins": [{"email": f"{uuid.uuid4().hex[:8]}@example.com"}]}
        user = client.create_user(body, "127.0.0.1")
        user.oauth()
        return user
