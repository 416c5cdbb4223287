"""OFX requests as a server reads them (with the test server's own parser, not ofxtools),
replies read back, and sign-on statuses as error codes without secrets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from billfold.connectors.ofx.directory import ServerConfig
from billfold.connectors.ofx.protocol import (
    AccountRef,
    Login,
    StatementAsk,
    account_info_request,
    mfa_challenge_request,
    parse,
    read_challenges,
    read_signon,
    signon_error,
    statement_request,
)
from billfold.domain.errors import ConnectorError, ErrorCode
from ofx_server import Node, agg, document, leaf, parse_body, split_request, status

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
SECRET = "p&ss<w>rd"


def config(version: int, **extra: str) -> ServerConfig:
    return ServerConfig.of(
        {"url": "https://ofx.example/", "org": "ORG", "fid": "42", "version": str(version), **extra}
    )


def read(request: bytes) -> tuple[int, str, Node]:
    text = request.decode("utf-8")
    version, body = split_request(text)
    return version, text, parse_body(body)


@pytest.mark.parametrize("version", [102, 103, 211, 220])
def test_sign_on_with_account_discovery(version: int) -> None:
    login = Login(userid="alice", password=SECRET, clientuid="CUID-1", accesskey="KEY")
    got_version, text, ofx = read(account_info_request(config(version), login, NOW))
    assert got_version == version
    sonrq = ofx.find("SIGNONMSGSRQV1/SONRQ")
    assert sonrq is not None
    assert sonrq.value("USERPASS") == SECRET  # escaped on the wire, intact when read
    assert SECRET not in text
    assert (sonrq.value("USERID"), sonrq.value("LANGUAGE")) == ("alice", "ENG")
    assert (sonrq.value("FI/ORG"), sonrq.value("FI/FID")) == ("ORG", "42")
    assert (sonrq.value("APPID"), sonrq.value("APPVER")) == ("QWIN", "2700")
    assert sonrq.value("CLIENTUID") == (None if version < 103 else "CUID-1")
    assert sonrq.value("ACCESSKEY") == "KEY"
    assert sonrq.value(
        "DTCLIENT",
    ).startswith("20260304050607")  # type: ignore[union-attr]
    assert ofx.value("SIGNUPMSGSRQV1/ACCTINFOTRNRQ/ACCTINFORQ/DTACCTUP") is not None
    if version >= 200:
        assert text.startswith("<?xml") and f'VERSION="{version}"' in text
        assert "</USERID>" in text
    else:
        assert text.startswith("OFXHEADER:100") and "DATA:OFXSGML" in text
        assert "</USERID>" not in text and "</SONRQ>" in text


def test_mfa_requests_and_answers() -> None:
    login = Login(userid="alice", password="pw", answers=(("MFA16", "Love & <Lace>"),))
    _, _, ofx = read(mfa_challenge_request(config(103, appid="QMOFX", appver="2800"), login, NOW))
    assert ofx.find("SIGNONMSGSRQV1/MFACHALLENGETRNRQ/MFACHALLENGERQ/DTCLIENT") is not None
    sonrq = ofx.find("SIGNONMSGSRQV1/SONRQ")
    assert sonrq is not None
    assert (sonrq.value("APPID"), sonrq.value("APPVER")) == ("QMOFX", "2800")
    (answer,) = sonrq.findall("MFACHALLENGEA")
    assert (answer.value("MFAPHRASEID"), answer.value("MFAPHRASEA")) == ("MFA16", "Love & <Lace>")


def test_statement_requests_by_trnuid() -> None:
    checking = AccountRef("bank", "0001", "Checking", "CHECKING", "121000358")
    card = AccountRef("card", "4111", "Card")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    asks = {"T1": StatementAsk(checking, start, NOW), "T2": StatementAsk(card, start, NOW)}
    _, _, ofx = read(
        statement_request(config(102, unclosedelements="false"), Login("a", "b"), asks, NOW)
    )
    (stmt,) = ofx.find("BANKMSGSRQV1").findall("STMTTRNRQ")  # type: ignore[union-attr]
    assert stmt.value("TRNUID") == "T1"
    assert stmt.value("STMTRQ/BANKACCTFROM/BANKID") == "121000358"
    assert stmt.value("STMTRQ/BANKACCTFROM/ACCTTYPE") == "CHECKING"
    assert stmt.value("STMTRQ/INCTRAN/DTSTART").startswith("20250101000000")  # type: ignore[union-attr]
    assert stmt.value("STMTRQ/INCTRAN/INCLUDE") == "Y"
    (cc,) = ofx.find("CREDITCARDMSGSRQV1").findall("CCSTMTTRNRQ")  # type: ignore[union-attr]
    assert (cc.value("TRNUID"), cc.value("CCSTMTRQ/CCACCTFROM/ACCTID")) == ("T2", "4111")


@pytest.mark.parametrize("version", [102, 220])
def test_replies_are_read(version: int) -> None:
    challenges = agg(
        "MFACHALLENGETRNRS",
        leaf("TRNUID", "1"),
        status(0),
        agg(
            "MFACHALLENGERS",
            agg("MFACHALLENGE", leaf("MFAPHRASEID", "MFA99"), leaf("MFAPHRASELABEL", "Q & A?")),
            agg("MFACHALLENGE", leaf("MFAPHRASEID", "MFA1")),
        ),
    )
    sonrs = agg(
        "SONRS",
        status(3000),
        leaf("DTSERVER", "20260101120000"),
        leaf("LANGUAGE", "ENG"),
        leaf("ACCESSKEY", "K1"),
    )
    reply = document(agg("OFX", agg("SIGNONMSGSRSV1", sonrs, challenges)), version)
    ofx = parse(reply.encode(), "bank.example")
    signon = read_signon(ofx)
    assert (signon.code, signon.accesskey) == (3000, "K1")
    assert read_challenges(ofx) == [("MFA99", "Q & A?"), ("MFA1", "City of birth")]


@pytest.mark.parametrize(
    "body", [b"", b"<html>down</html>", b"OFXHEADER:100\r\n\r\n<OFX><BROKEN>", b"\x00\xff" * 10]
)
def test_unreadable_replies(body: bytes, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ConnectorError) as caught:
        parse(body, "bank.example")
    assert caught.value.code is ErrorCode.INSTITUTION_UNAVAILABLE
    assert "bank.example" in caplog.text and "bytes" in caplog.text


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (15500, ErrorCode.INVALID_CREDENTIALS),
        (3001, ErrorCode.INVALID_ANSWER),
        (15502, ErrorCode.ACTION_REQUIRED),
        (15510, ErrorCode.ACTION_REQUIRED),
        (15511, ErrorCode.ACTION_REQUIRED),
        (2000, ErrorCode.INSTITUTION_UNAVAILABLE),
        (15999, ErrorCode.UNKNOWN),
    ],
)
def test_signon_statuses(code: int, expected: ErrorCode) -> None:
    error = signon_error(code, f"Login for {SECRET} refused", [SECRET])
    assert error.code is expected
    assert SECRET not in error.message
    if code == 15510:
        assert "approve" in error.message
