"""OFX messages: build requests with ofxtools' models, read its parsed replies.

Requests are ofxtools aggregates serialised under ofxtools' header; OFX 1.x is
SGML (leaf end tags left out unless the server wants them), 2.x is XML. Replies
go through `ofxtools.Parser.OFXTree` and come back as small typed values, so
the rest of the connector never touches the library's untyped objects.

Two things here guard secrets. ofxtools logs whole parsed bodies (an ACCESSKEY
among them) at DEBUG, so its logger is held at WARNING unless an operator set a
level; and its SGML writer does not escape `&` and `<`, which would cut a
password short, so the SGML text is written here.
"""

from __future__ import annotations

import io
import logging
import uuid
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from ofxtools.header import make_header
from ofxtools.models import (
    ACCTINFORQ,
    ACCTINFOTRNRQ,
    BANKACCTFROM,
    BANKMSGSRQV1,
    CCACCTFROM,
    CCSTMTRQ,
    CCSTMTTRNRQ,
    CREDITCARDMSGSRQV1,
    FI,
    INCTRAN,
    MFACHALLENGEA,
    MFACHALLENGERQ,
    MFACHALLENGETRNRQ,
    SIGNONMSGSRQV1,
    SIGNUPMSGSRQV1,
    SONRQ,
    STMTRQ,
    STMTTRNRQ,
)
from ofxtools.models.ofx import OFX
from ofxtools.models.signon import MFAPHRASEIDS
from ofxtools.Parser import OFXTree

from billfold.connectors.ofx.directory import ServerConfig
from billfold.domain.errors import ConnectorError, ErrorCode

logger = logging.getLogger(__name__)

_ofxtools_logger = logging.getLogger("ofxtools")
if _ofxtools_logger.level == logging.NOTSET:
    _ofxtools_logger.setLevel(logging.WARNING)

# Signon status codes (OFX 2.1.1 section 2.5.1.6 and 3.1.4.2).
OK = 0
GENERAL_ERROR = 2000
MFA_REQUIRED = 3000
MFA_WRONG = 3001
SIGNON_INVALID = 15500
ACCOUNT_IN_USE = 15501
LOCKED_OUT = 15502
CLIENTUID_REJECTED = 15510
CONTACT_FI = 15511
_ACCOUNTS_SINCE = datetime(1990, 1, 1, tzinfo=UTC)
LANGUAGE = "ENG"


@dataclass(frozen=True, slots=True)
class Login:
    """What one sign-on sends. Never printed: it holds the password and MFA answers."""

    userid: str
    password: str = field(repr=False)
    clientuid: str | None = None
    accesskey: str | None = field(default=None, repr=False)
    answers: tuple[tuple[str, str], ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class AccountRef:
    """An account as ACCTINFO names it; `kind` is "bank" or "card"."""

    kind: str
    acctid: str
    description: str
    accttype: str = "CREDITCARD"
    bankid: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}|{self.bankid}|{self.acctid}"


@dataclass(frozen=True, slots=True)
class StatementAsk:
    account: AccountRef
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Signon:
    code: int
    message: str | None
    accesskey: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement reply: its status, and the ofxtools STMTRS/CCSTMTRS when it succeeded."""

    code: int
    message: str | None
    body: Any = None


def new_trnuid() -> str:
    return str(uuid.uuid4()).upper()


def _signon(config: ServerConfig, login: Login, now: datetime) -> SONRQ:
    answers = [MFACHALLENGEA(mfaphraseid=i, mfaphrasea=a) for i, a in login.answers]
    return SONRQ(
        *answers,
        dtclient=now,
        userid=login.userid,
        userpass=login.password,
        language=LANGUAGE,
        fi=FI(org=config.org, fid=config.fid) if config.org else None,
        appid=config.appid,
        appver=config.appver,
        clientuid=login.clientuid if config.sends_clientuid else None,
        accesskey=login.accesskey,
    )


def account_info_request(config: ServerConfig, login: Login, now: datetime) -> bytes:
    """SONRQ + ACCTINFORQ: sign on and list every account (since 1990, i.e. all)."""
    signup = SIGNUPMSGSRQV1(
        ACCTINFOTRNRQ(trnuid=new_trnuid(), acctinforq=ACCTINFORQ(dtacctup=_ACCOUNTS_SINCE))
    )
    ofx = OFX(
        signonmsgsrqv1=SIGNONMSGSRQV1(sonrq=_signon(config, login, now)), signupmsgsrqv1=signup
    )
    return serialize(config, ofx)


def mfa_challenge_request(config: ServerConfig, login: Login, now: datetime) -> bytes:
    """SONRQ + MFACHALLENGERQ: ask the server for its security questions."""
    challenge = MFACHALLENGETRNRQ(trnuid=new_trnuid(), mfachallengerq=MFACHALLENGERQ(dtclient=now))
    signon = SIGNONMSGSRQV1(sonrq=_signon(config, login, now), mfachallengetrnrq=challenge)
    return serialize(config, OFX(signonmsgsrqv1=signon))


def statement_request(
    config: ServerConfig, login: Login, asks: Mapping[str, StatementAsk], now: datetime
) -> bytes:
    """SONRQ + one STMTRQ / CCSTMTRQ per account, keyed by the TRNUID each is sent under."""
    bank: list[STMTTRNRQ] = []
    cards: list[CCSTMTTRNRQ] = []
    for trnuid, ask in asks.items():
        inctran = INCTRAN(dtstart=ask.start, dtend=ask.end, include=True)
        if ask.account.kind == "card":
            rq = CCSTMTRQ(ccacctfrom=CCACCTFROM(acctid=ask.account.acctid), inctran=inctran)
            cards.append(CCSTMTTRNRQ(trnuid=trnuid, ccstmtrq=rq))
        else:
            acct = BANKACCTFROM(
                bankid=ask.account.bankid,
                acctid=ask.account.acctid,
                accttype=ask.account.accttype,
            )
            bank.append(STMTTRNRQ(trnuid=trnuid, stmtrq=STMTRQ(bankacctfrom=acct, inctran=inctran)))
    ofx = OFX(
        signonmsgsrqv1=SIGNONMSGSRQV1(sonrq=_signon(config, login, now)),
        bankmsgsrqv1=BANKMSGSRQV1(*bank) if bank else None,
        creditcardmsgsrqv1=CREDITCARDMSGSRQV1(*cards) if cards else None,
    )
    return serialize(config, ofx)


def _sgml(elem: ET.Element, out: list[str]) -> None:
    if len(elem) == 0:
        out.append(f"<{elem.tag}>{escape(elem.text or '')}")
        return
    out.append(f"<{elem.tag}>")
    for child in elem:
        _sgml(child, out)
    out.append(f"</{elem.tag}>")


def serialize(config: ServerConfig, ofx: OFX) -> bytes:
    """The request file: ofxtools' header for the version, then SGML or XML."""
    header = str(make_header(version=config.version, newfileuid=new_trnuid()))
    tree = ofx.to_etree()
    if config.pretty:
        ET.indent(tree)
    if config.close_elements:
        body = ET.tostring(tree, encoding="unicode")
    else:
        parts: list[str] = []
        _sgml(tree, parts)
        body = ("\r\n" if config.pretty else "").join(parts)
    return (header + body).encode("utf-8")


def parse(data: bytes, host: str) -> Any:
    """The reply as an ofxtools `OFX` aggregate; an unreadable reply is the server's failure."""
    tree = OFXTree()
    try:
        with warnings.catch_warnings():
            # Over-long optional fields (NAME > 32 characters) are common and harmless.
            warnings.simplefilter("ignore")
            tree.parse(io.BytesIO(data))
            ofx = tree.convert()
        ofx.signonmsgsrsv1.sonrs.status.code  # noqa: B018 - a reply without SONRS is unusable
    except Exception as exc:
        # The body is never logged: it can hold an ACCESSKEY and account numbers.
        logger.warning(
            "OFX server %s sent a reply that cannot be read (%s, %d bytes)",
            host,
            type(exc).__name__,
            len(data),
        )
        raise ConnectorError(
            ErrorCode.INSTITUTION_UNAVAILABLE,
            "The bank's OFX server sent a reply Billfold could not read; try again later.",
        ) from None
    return ofx


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None


def read_signon(ofx: Any) -> Signon:
    sonrs = ofx.signonmsgsrsv1.sonrs
    return Signon(
        code=int(sonrs.status.code),
        message=_text(sonrs.status.message),
        accesskey=_text(sonrs.accesskey),
    )


def read_challenges(ofx: Any) -> list[tuple[str, str]]:
    """The (MFAPHRASEID, label) pairs of an MFACHALLENGERS, in the server's order."""
    trnrs = ofx.signonmsgsrsv1.mfachallengetrnrs
    if trnrs is None or trnrs.mfachallengers is None:
        return []
    found: list[tuple[str, str]] = []
    for item in trnrs.mfachallengers:
        phrase_id = str(item.mfaphraseid).strip()
        label = _text(item.mfaphraselabel) or MFAPHRASEIDS.get(phrase_id) or ""
        found.append((phrase_id, label or f"Security question {phrase_id}"))
    return found


def read_accounts(ofx: Any) -> list[AccountRef]:
    """Bank and credit-card accounts of an ACCTINFORS (investment and bill-pay ones are not
    statements Billfold reads)."""
    msgs = ofx.signupmsgsrsv1
    if msgs is None:
        return []
    found: list[AccountRef] = []
    for trnrs in msgs:
        rs = getattr(trnrs, "acctinfors", None)
        if rs is None:
            continue
        for info in rs:
            desc = _text(info.desc) or ""
            # ACCTINFO is a list of <xxxACCTINFO> aggregates, one per service.
            for item in info:
                kind = type(item).__name__
                if kind == "BANKACCTINFO":
                    src = item.bankacctfrom
                    found.append(
                        AccountRef(
                            kind="bank",
                            acctid=str(src.acctid),
                            description=desc,
                            accttype=str(src.accttype),
                            bankid=str(src.bankid),
                        )
                    )
                elif kind == "CCACCTINFO":
                    found.append(
                        AccountRef(
                            kind="card", acctid=str(item.ccacctfrom.acctid), description=desc
                        )
                    )
    unique = {a.key: a for a in found}
    return list(unique.values())


def read_statements(ofx: Any) -> dict[str, Statement]:
    """Each statement reply by its TRNUID."""
    replies: dict[str, Statement] = {}
    for msgs, attr in ((ofx.bankmsgsrsv1, "stmtrs"), (ofx.creditcardmsgsrsv1, "ccstmtrs")):
        if msgs is None:
            continue
        for trnrs in msgs:
            body = getattr(trnrs, attr, None)
            if body is None and not hasattr(trnrs, attr):
                continue
            replies[str(trnrs.trnuid)] = Statement(
                code=int(trnrs.status.code), message=_text(trnrs.status.message), body=body
            )
    return replies


def signon_error(code: int, message: str | None, secrets: Sequence[str]) -> ConnectorError:
    """The job error for a sign-on the server refused (any code but 0 and 3000)."""
    said = _quote(message, secrets)
    if code == SIGNON_INVALID:
        return ConnectorError(
            ErrorCode.INVALID_CREDENTIALS, "The bank did not accept this user ID and password."
        )
    if code == MFA_WRONG:
        return ConnectorError(
            ErrorCode.INVALID_ANSWER, "The bank did not accept the security answers."
        )
    if code == LOCKED_OUT:
        return ConnectorError(
            ErrorCode.ACTION_REQUIRED,
            "The bank has locked this login after too many attempts: unlock it on the bank's "
            "website, then link again." + said,
        )
    if code == CLIENTUID_REJECTED:
        return ConnectorError(
            ErrorCode.ACTION_REQUIRED,
            "The bank must approve this new connection first: sign in to the bank's website "
            "(or answer its e-mail or text message), authorise the new desktop/Direct Connect "
            "access, then link again." + said,
        )
    if code in (CONTACT_FI, ACCOUNT_IN_USE):
        return ConnectorError(
            ErrorCode.ACTION_REQUIRED,
            f"The bank refused the sign-on (OFX status {code}); contact the bank to enable "
            "Direct Connect for this login." + said,
        )
    if code == GENERAL_ERROR:
        return ConnectorError(
            ErrorCode.INSTITUTION_UNAVAILABLE,
            "The bank's OFX server reported a general error (OFX status 2000); try again later."
            + said,
        )
    return ConnectorError(
        ErrorCode.UNKNOWN, f"The bank refused the sign-on with OFX status {code}." + said
    )


def _quote(message: str | None, secrets: Sequence[str]) -> str:
    """` The bank said: "..."`, with anything secret taken out, or ""."""
    if not message:
        return ""
    for secret in secrets:
        if len(secret) >= 3:
            message = message.replace(secret, "[hidden]")
    return f' The bank said: "{message[:200]}"'
