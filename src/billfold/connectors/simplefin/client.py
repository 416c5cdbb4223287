"""The SimpleFIN protocol over httpx: claim a setup token, read `/accounts`.

Why it is careful: the setup token and the access URL are bearer secrets. They
are sent only over HTTPS (plain HTTP only to the loopback interface, for local
servers and tests), redirects are never followed (they could carry the Basic
credentials to another host), and no error message or log line quotes them.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from billfold.connectors.secure_urls import check_secret_url
from billfold.domain.errors import ConnectorError, ErrorCode

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_AGENT = "Billfold SimpleFIN connector"


@dataclass(frozen=True, slots=True)
class AccessUrl:
    """A claimed access URL split into its endpoint and its Basic credentials."""

    base: str
    username: str
    password: str = ""

    @classmethod
    def parse(cls, url: str) -> AccessUrl:
        problem = check_secret_url(url.strip())
        parts = urlsplit(url.strip())
        if problem is not None or not parts.username:
            raise ConnectorError(
                ErrorCode.INVALID_CREDENTIALS,
                "The SimpleFIN server returned an access URL Billfold cannot use.",
            )
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = f"[{netloc}]"
        if parts.port is not None:
            netloc = f"{netloc}:{parts.port}"
        base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        return cls(base, unquote(parts.username), unquote(parts.password or ""))

    def __str__(self) -> str:
        return f"AccessUrl({self.base}, <credentials hidden>)"

    __repr__ = __str__

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.username, self.password) if s)


def decode_setup_token(token: str) -> str:
    """The claim URL inside a setup token (base64 of the URL)."""
    cleaned = "".join(token.split())
    try:
        padded = cleaned + "=" * (-len(cleaned) % 4)
        url = base64.b64decode(padded, altchars=b"-_" if "-" in cleaned or "_" in cleaned else None)
        claim_url = url.decode("ascii").strip()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        claim_url = ""
    if not cleaned or not claim_url or check_secret_url(claim_url) is not None:
        raise ConnectorError(
            ErrorCode.INVALID_CREDENTIALS,
            "That is not a SimpleFIN setup token (it must be the base64 text your "
            "SimpleFIN server gave you, pointing at an https address).",
        )
    return claim_url


def epoch(day: date) -> int:
    """Midnight UTC of `day` as UNIX seconds, the protocol's date format."""
    return int(datetime.combine(day, time(0), tzinfo=UTC).timestamp())


@dataclass(frozen=True, slots=True)
class AccountSet:
    """One `/accounts` response: messages for the person, and the raw accounts."""

    errors: tuple[str, ...]
    accounts: tuple[Mapping[str, Any], ...]


class SimpleFinClient:
    """Speaks the protocol; maps HTTP failures to `ConnectorError` codes."""

    def __init__(
        self,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._timeout = timeout
        self._transport = transport

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self._timeout,
            transport=self._transport,
            follow_redirects=False,
            trust_env=False,
            headers={"Accept": "application/json", "User-Agent": _AGENT},
        )

    async def claim(self, setup_token: str) -> AccessUrl:
        """Trade a setup token for its access URL (a token works once)."""
        claim_url = decode_setup_token(setup_token)
        # httpx's client logs every request URL at INFO, and the claim URL is the secret
        # itself: the claim goes straight to a transport, which logs no URLs.
        request = httpx.Request("POST", claim_url, content=b"", headers={"User-Agent": _AGENT})
        request.extensions["timeout"] = httpx.Timeout(self._timeout).as_dict()
        try:
            if self._transport is not None:
                response = await self._transport.handle_async_request(request)
                await response.aread()
            else:
                async with httpx.AsyncHTTPTransport(trust_env=False) as transport:
                    response = await transport.handle_async_request(request)
                    await response.aread()
        except httpx.HTTPError as exc:
            raise _unavailable(exc) from None
        if response.status_code == 200:
            return AccessUrl.parse(response.text)
        if 400 <= response.status_code < 500 and response.status_code != 429:
            raise ConnectorError(
                ErrorCode.INVALID_CREDENTIALS,
                "The SimpleFIN server refused this setup token: it was already used or is not "
                "valid. Create a new setup token and link again.",
            )
        raise _status_error(response.status_code)

    async def accounts(
        self,
        access: AccessUrl,
        *,
        start: date | None = None,
        end: date | None = None,
        pending: bool = True,
        account_ids: Sequence[str] = (),
    ) -> AccountSet:
        """`GET /accounts` for [start, end) (end exclusive, as the protocol has it)."""
        params: list[tuple[str, str | int | float | bool | None]] = []
        if start is not None:
            params.append(("start-date", epoch(start)))
        if end is not None:
            params.append(("end-date", epoch(end)))
        if pending:
            params.append(("pending", 1))
        params.extend(("account", a) for a in account_ids)
        async with self._http() as http:
            try:
                response = await http.get(
                    f"{access.base}/accounts",
                    params=params,
                    auth=httpx.BasicAuth(access.username, access.password),
                )
            except httpx.HTTPError as exc:
                raise _unavailable(exc) from None
        if response.status_code in (401, 403):
            raise ConnectorError(
                ErrorCode.NEEDS_RELINK,
                "The SimpleFIN server no longer accepts Billfold's access (it was revoked or "
                "expired). Create a new setup token and relink.",
            )
        if response.status_code == 402:
            raise ConnectorError(
                ErrorCode.ACTION_REQUIRED,
                "The SimpleFIN server asks for payment: renew the subscription there, then "
                "refresh.",
            )
        if response.status_code != 200:
            raise _status_error(response.status_code)
        try:
            body = response.json()
        except ValueError:
            body = None
        return _account_set(body, access)


def _account_set(body: Any, access: AccessUrl) -> AccountSet:
    if not isinstance(body, dict):
        raise ConnectorError(
            ErrorCode.UNKNOWN, "The SimpleFIN server sent a reply that is not JSON."
        )
    raw_errors = body.get("errors") or []
    raw_accounts = body.get("accounts") or []
    if not isinstance(raw_errors, list) or not isinstance(raw_accounts, list):
        raise ConnectorError(ErrorCode.UNKNOWN, "The SimpleFIN server sent an unreadable reply.")
    errors = tuple(redact(str(e), access.secrets()) for e in raw_errors if str(e).strip())
    accounts = tuple(a for a in raw_accounts if isinstance(a, dict))
    return AccountSet(errors, accounts)


def redact(text: str, secrets: Sequence[str]) -> str:
    """`text` without any of `secrets` (a server's message might echo them)."""
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "[hidden]")
    return text[:400]


def _unavailable(exc: httpx.HTTPError) -> ConnectorError:
    # The exception's text can quote the URL, so only its type is kept.
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "could not be reached"
    return ConnectorError(
        ErrorCode.INSTITUTION_UNAVAILABLE, f"The SimpleFIN server {kind}; try again later."
    )


def _status_error(status: int) -> ConnectorError:
    if 300 <= status < 400:
        return ConnectorError(
            ErrorCode.INSTITUTION_UNAVAILABLE,
            f"The SimpleFIN server answered with a redirect ({status}), which Billfold does not "
            "follow with credentials.",
        )
    if status >= 500 or status == 429:
        return ConnectorError(
            ErrorCode.INSTITUTION_UNAVAILABLE,
            f"The SimpleFIN server failed ({status}); try again later.",
        )
    return ConnectorError(ErrorCode.UNKNOWN, f"The SimpleFIN server answered {status}.")
