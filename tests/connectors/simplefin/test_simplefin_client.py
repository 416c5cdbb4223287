"""The protocol client against the local SimpleFIN server: claim once, Basic auth,
windows and filters, failures mapped to error codes, secrets kept out of messages."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from billfold.connectors.secure_urls import check_secret_url as check_url
from billfold.connectors.simplefin.client import (
    AccessUrl,
    SimpleFinClient,
    decode_setup_token,
    epoch,
)
from billfold.domain.errors import ConnectorError, ErrorCode
from simplefin_server import NOTICE, SimpleFinServer


@pytest.fixture
def sfin() -> Iterator[SimpleFinServer]:
    with SimpleFinServer() as server:
        yield server


def test_urls_must_be_https_except_loopback() -> None:
    assert check_url("https://bridge.example/simplefin") is None
    assert check_url("http://127.0.0.1:9/x") is None
    assert check_url("http://localhost/x") is None
    assert check_url("http://[::1]:8/x") is None
    assert check_url("http://bridge.example/x") == "must use https"
    assert check_url("ftp://bridge.example/x") == "must use https"
    assert check_url("not a url") is not None


def test_setup_tokens_decode_to_claim_urls() -> None:
    url = "https://bridge.example/simplefin/claim/abc"
    assert decode_setup_token(base64.b64encode(url.encode()).decode()) == url
    unpadded = base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    assert decode_setup_token(f" {unpadded}\n") == url
    for bad in ("", "%%%", base64.b64encode(b"http://evil.example/claim").decode()):
        with pytest.raises(ConnectorError) as caught:
            decode_setup_token(bad)
        assert caught.value.code is ErrorCode.INVALID_CREDENTIALS


def test_access_urls_hide_their_credentials() -> None:
    access = AccessUrl.parse("https://us%40er:p%3Ass@bridge.example:8443/simplefin/")
    assert access.base == "https://bridge.example:8443/simplefin"
    assert (access.username, access.password) == ("us@er", "p:ss")
    assert "p:ss" not in repr(access) and "us@er" not in str(access)
    for bad in ("https://bridge.example/simplefin", "http://u:p@bridge.example/simplefin"):
        with pytest.raises(ConnectorError) as caught:
            AccessUrl.parse(bad)
        assert caught.value.code is ErrorCode.INVALID_CREDENTIALS


async def test_claim_works_once_and_reads_accounts(sfin: SimpleFinServer) -> None:
    client = SimpleFinClient()
    token = sfin.setup_token()
    access = await client.claim(token)
    assert access.base == f"{sfin.root}/simplefin"
    with pytest.raises(ConnectorError) as caught:
        await client.claim(token)
    assert caught.value.code is ErrorCode.INVALID_CREDENTIALS
    assert token not in caught.value.message

    start, end = sfin.today - timedelta(days=30), sfin.today + timedelta(days=1)
    page = await client.accounts(access, start=start, end=end, pending=True)
    assert page.errors == ()
    assert [a["id"] for a in page.accounts] == ["ACT-chk-1", "ACT-card-1"]
    ids = {t["id"] for a in page.accounts for t in a["transactions"]}
    assert {"chk-coffee", "card-book", "chk-pay-0"} <= ids and "chk-pay-2" not in ids
    query = sfin.account_calls()[-1]
    assert query["start-date"] == [str(epoch(start))] and query["end-date"] == [str(epoch(end))]
    assert query["pending"] == ["1"]

    only = await client.accounts(access, start=start, end=end, pending=False,
                                 account_ids=["ACT-card-1"])  # fmt: skip
    assert [a["id"] for a in only.accounts] == ["ACT-card-1"]
    assert "card-book" not in {t["id"] for t in only.accounts[0]["transactions"]}


async def test_window_limit_and_error_messages(sfin: SimpleFinServer) -> None:
    client = SimpleFinClient()
    access = await client.claim(sfin.setup_token())
    refused = await client.accounts(access, start=sfin.today - timedelta(days=200), end=sfin.today)
    assert refused.accounts == () and "exceeds 90 days" in refused.errors[0]
    sfin.mode = "errors"
    noted = await client.accounts(access)
    assert noted.errors == (NOTICE,) and len(noted.accounts) == 2


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("402", ErrorCode.ACTION_REQUIRED),
        ("403", ErrorCode.NEEDS_RELINK),
        ("500", ErrorCode.INSTITUTION_UNAVAILABLE),
        ("slow", ErrorCode.INSTITUTION_UNAVAILABLE),
    ],
)
async def test_failures_map_to_codes(sfin: SimpleFinServer, mode: str, code: ErrorCode) -> None:
    access = await SimpleFinClient().claim(sfin.setup_token())
    sfin.mode = mode
    with pytest.raises(ConnectorError) as caught:
        await SimpleFinClient(timeout=0.3).accounts(access)
    assert caught.value.code is code
    for secret in (access.username, access.password, access.base):
        assert secret not in caught.value.message


async def test_wrong_credentials_and_server_down(sfin: SimpleFinServer) -> None:
    access = await SimpleFinClient().claim(sfin.setup_token())
    wrong = AccessUrl(access.base, access.username, "not-the-password")
    with pytest.raises(ConnectorError) as caught:
        await SimpleFinClient().accounts(wrong)
    assert caught.value.code is ErrorCode.NEEDS_RELINK
    sfin.mode = "500"
    with pytest.raises(ConnectorError) as caught:
        await SimpleFinClient().claim(sfin.setup_token())
    assert caught.value.code is ErrorCode.INSTITUTION_UNAVAILABLE
    closed = AccessUrl("http://127.0.0.1:1/simplefin", "u", "p")
    with pytest.raises(ConnectorError) as caught:
        await SimpleFinClient().accounts(closed)
    assert caught.value.code is ErrorCode.INSTITUTION_UNAVAILABLE


async def test_redirects_are_not_followed() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"Location": "https://evil.example/steal"})

    client = SimpleFinClient(transport=httpx.MockTransport(handler))
    access = AccessUrl("https://bridge.example/simplefin", "u", "p")
    with pytest.raises(ConnectorError) as caught:
        await client.accounts(access)
    assert caught.value.code is ErrorCode.INSTITUTION_UNAVAILABLE
    assert seen == ["https://bridge.example/simplefin/accounts?pending=1"]
