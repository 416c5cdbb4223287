"""The seam between webhook delivery logic and the network."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import httpx


@dataclass(frozen=True, slots=True)
class SendResult:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender(Protocol):
    async def send(self, url: str, headers: dict[str, str], body: bytes) -> SendResult: ...


class HttpxWebhookSender:
    """POSTs with a short timeout, no redirects (a redirect is a failed delivery)."""

    def __init__(self, timeout: float = 10.0) -> None:
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> SendResult:
        started = time.monotonic()
        try:
            response = await self._client.post(url, headers=headers, content=body)
        except httpx.HTTPError as exc:
            elapsed = int((time.monotonic() - started) * 1000)
            return SendResult(None, type(exc).__name__, elapsed)
        elapsed = int((time.monotonic() - started) * 1000)
        error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
        return SendResult(response.status_code, error, elapsed)

    async def close(self) -> None:
        await self._client.aclose()
