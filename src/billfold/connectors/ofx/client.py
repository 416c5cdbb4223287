"""OFX over HTTP with httpx: POST a request file, get the reply file back.

Every request body holds the person's password, so it goes only to an https
server (plain http only to the loopback interface, for local servers and tests),
redirects are never followed (a redirected POST would carry the password to
another host), and neither bodies nor server replies are logged: only the host,
the HTTP status and sizes. One `OfxChannel` serves one sync, keeping the
cookies some servers set at sign-on for the requests after it.
"""

from __future__ import annotations

import logging
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from billfold.connectors.ofx.directory import ServerConfig
from billfold.connectors.secure_urls import check_secret_url
from billfold.domain.errors import ConnectorError, ErrorCode

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
CONTENT_TYPE = "application/x-ofx"
# What ofxtools and many Direct Connect clients send; some servers refuse unknown agents.
DEFAULT_USER_AGENT = "InetClntApp/3.0"
_MAX_REPLY = 20 * 1024 * 1024


class OfxChannel:
    """One sync's connection to one OFX server."""

    def __init__(self, config: ServerConfig, http: httpx.AsyncClient) -> None:
        self._config = config
        self._http = http
        self.host = urlsplit(config.url).hostname or "?"

    async def post(self, body: bytes) -> bytes:
        try:
            response = await self._http.post(self._config.url, content=body)
        except httpx.TimeoutException:
            logger.warning("OFX server %s timed out", self.host)
            raise ConnectorError(
                ErrorCode.INSTITUTION_UNAVAILABLE,
                "The bank's OFX server did not answer in time; try again later.",
            ) from None
        except httpx.HTTPError as exc:
            # The exception's text can quote the URL and nothing more useful.
            logger.warning("OFX server %s could not be reached (%s)", self.host, type(exc).__name__)
            raise ConnectorError(
                ErrorCode.INSTITUTION_UNAVAILABLE,
                "The bank's OFX server could not be reached; try again later.",
            ) from None
        status = response.status_code
        if status != 200:
            logger.warning("OFX server %s answered HTTP %d", self.host, status)
            raise _status_error(status)
        if len(response.content) > _MAX_REPLY:
            logger.warning("OFX server %s sent %d bytes", self.host, len(response.content))
            raise ConnectorError(
                ErrorCode.INSTITUTION_UNAVAILABLE, "The bank's OFX server sent too large a reply."
            )
        return response.content

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> OfxChannel:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class OfxHttpClient:
    """Opens channels; `transport` lets tests answer in memory."""

    def __init__(
        self,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._timeout = timeout
        self._transport = transport

    def open(self, config: ServerConfig) -> OfxChannel:
        problem = check_secret_url(config.url)
        if problem is not None:
            raise ConnectorError(
                ErrorCode.INSTITUTION_UNAVAILABLE,
                f"The institution's OFX server address {problem}; Billfold does not send a "
                "password there.",
            )
        http = httpx.AsyncClient(
            timeout=self._timeout,
            transport=self._transport,
            follow_redirects=False,
            trust_env=False,
            headers={
                "Content-Type": CONTENT_TYPE,
                "Accept": f"*/*, {CONTENT_TYPE}, application/xml;q=0.9",
                "User-Agent": config.useragent or DEFAULT_USER_AGENT,
            },
        )
        return OfxChannel(config, http)


def _status_error(status: int) -> ConnectorError:
    if 300 <= status < 400:
        return ConnectorError(
            ErrorCode.INSTITUTION_UNAVAILABLE,
            f"The bank's OFX server answered with a redirect (HTTP {status}), which Billfold "
            "does not follow with a password; the server address may have changed.",
        )
    if status >= 500 or status == 429:
        return ConnectorError(
            ErrorCode.INSTITUTION_UNAVAILABLE,
            f"The bank's OFX server failed (HTTP {status}); try again later.",
        )
    return ConnectorError(
        ErrorCode.UNKNOWN, f"The bank's OFX server refused the request (HTTP {status})."
    )
