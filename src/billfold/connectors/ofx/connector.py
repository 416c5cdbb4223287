"""The OFX Direct Connect connector (`kind = "ofx"`): a bank's own OFX server.

One sync is at most four round trips on one channel: sign on with account
discovery (ACCTINFORQ); when the bank answers 3000, ask it for its security
questions (MFACHALLENGERQ), put them to the person as one `questions`
challenge and sign on again with the answers; then every statement at once
(STMTRQ per bank account, CCSTMTRQ per card).

What outlives a job lives in the encrypted checkpoint: the CLIENTUID, made once
per connection and saved before the first request (banks that register devices
approve that id, so every refresh must send the same one), the ACCESSKEY a bank
hands out after MFA (sent on later sign-ons so a refresh does not ask again),
and where each account's last statement ended (a refresh starts there).
"""

from __future__ import annotations

import logging
import platform
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from billfold.connectors.base import Session, SyncRequest
from billfold.connectors.ofx.client import DEFAULT_USER_AGENT, OfxChannel, OfxHttpClient
from billfold.connectors.ofx.directory import ServerConfig, merge_catalog, ofxtools_catalog
from billfold.connectors.ofx.mapping import (
    external_id,
    map_account,
    statement_window,
    transactions_of,
)
from billfold.connectors.ofx.protocol import (
    GENERAL_ERROR,
    MFA_REQUIRED,
    MFA_WRONG,
    OK,
    AccountRef,
    Login,
    Signon,
    StatementAsk,
    account_info_request,
    mfa_challenge_request,
    new_trnuid,
    parse,
    read_accounts,
    read_challenges,
    read_signon,
    read_statements,
    signon_error,
    statement_request,
)
from billfold.domain.challenges import Challenge, ChallengeKind, Option
from billfold.domain.errors import ConnectorError, ErrorCode
from billfold.domain.institutions import Institution
from billfold.domain.jobs import JobKind
from billfold.domain.snapshot import AccountSnapshot, Snapshot

logger = logging.getLogger(__name__)

HISTORY_DAYS = 730
OVERLAP_DAYS = 7
MFA_PROMPT = "Your bank asks its security questions before it lets Billfold in."

# MFA phrases the spec reserves for facts about the client itself: answered here,
# never put to the person.
_SYSTEM_ANSWERS: dict[str, Callable[[datetime, ServerConfig], str]] = {
    "MFA101": lambda now, _: now.strftime("%Y%m%d%H%M%S"),
    "MFA105": lambda _, __: platform.system() or "Unknown",
    "MFA106": lambda _, __: platform.machine() or "Unknown",
    "MFA107": lambda _, config: config.useragent or DEFAULT_USER_AGENT,
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _parse_instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class OfxConnector:
    """Talks OFX Direct Connect to any server of the directory."""

    kind = "ofx"

    def __init__(
        self,
        *,
        extra_institutions: Sequence[Institution] = (),
        with_ofxtools_directory: bool = True,
        client: OfxHttpClient | None = None,
        history_days: int = HISTORY_DAYS,
        overlap_days: int = OVERLAP_DAYS,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        if history_days < 1 or overlap_days < 0:
            raise ValueError("history_days must be positive, overlap_days not negative")
        self._extra = tuple(extra_institutions)
        self._with_directory = with_ofxtools_directory
        self._client = client or OfxHttpClient()
        self._history_days = history_days
        self._overlap_days = overlap_days
        self._now = now or _utc_now

    def catalog(self) -> Sequence[Institution]:
        base = ofxtools_catalog() if self._with_directory else ()
        return merge_catalog(base, self._extra)

    async def sync(self, session: Session, request: SyncRequest) -> Snapshot:
        try:
            config = ServerConfig.of(request.institution.settings)
        except ValueError as exc:
            raise ConnectorError(
                ErrorCode.UNKNOWN, f"This institution's OFX settings cannot be used: {exc}."
            ) from None
        userid = session.credentials.username.strip()
        password = session.credentials.password
        if not userid or not password:
            raise ConnectorError(
                ErrorCode.INVALID_CREDENTIALS, "Enter the user ID and password of the bank."
            )
        state: dict[str, Any] = dict(request.state or {})
        clientuid = state.get("clientuid")
        if not isinstance(clientuid, str) or not clientuid:
            clientuid = str(uuid.uuid4()).upper()
            state["clientuid"] = clientuid
            # Saved before the first request: a bank that registers it must see it again.
            await session.checkpoint(state)
        accesskey = state.get("accesskey")
        login = Login(
            userid=userid,
            password=password,
            clientuid=clientuid,
            accesskey=accesskey if isinstance(accesskey, str) and accesskey else None,
        )
        name = request.institution.name
        async with self._client.open(config) as channel:
            await session.progress(f"Signing on to {name}")
            now = self._now()
            ofx = parse(await channel.post(account_info_request(config, login, now)), channel.host)
            signon = read_signon(ofx)
            if signon.code == MFA_REQUIRED:
                login, ofx, signon = await self._answer_mfa(session, channel, config, login)
                if login.accesskey is not None and signon.accesskey is None:
                    # The stored key did not spare the questions: it is spent.
                    login = replace(login, accesskey=None)
                    state.pop("accesskey", None)
            self._check(signon, login)
            if signon.accesskey and signon.accesskey != login.accesskey:
                login = replace(login, accesskey=signon.accesskey, answers=())
                state["accesskey"] = signon.accesskey
                await session.checkpoint(state)
            accounts = read_accounts(ofx)
            if not accounts:
                raise ConnectorError(
                    ErrorCode.NO_ACCOUNTS,
                    "The bank lists no checking, savings or credit-card accounts for this login.",
                )
            wanted = set(request.account_ids)
            if wanted:
                accounts = [a for a in accounts if external_id(a) in wanted]
            synced = state.get("synced")
            synced = dict(synced) if isinstance(synced, Mapping) else {}
            end = self._now()
            asks = {
                new_trnuid(): StatementAsk(a, self._start(request, synced, a, end), end)
                for a in accounts
            }
            reply = None
            if asks:
                await session.progress(f"Reading {len(asks)} statement(s)")
                reply = parse(
                    await channel.post(statement_request(config, login, asks, end)), channel.host
                )
                self._check(read_signon(reply), login)
        snapshots, complete = await self._snapshots(session, request, asks, reply, synced)
        state["synced"] = synced
        return Snapshot(accounts=tuple(snapshots), state=state, complete=complete and not wanted)

    # ----- sign-on ----------------------------------------------------------------------

    def _check(self, signon: Signon, login: Login) -> None:
        if signon.code == OK:
            return
        if signon.code == MFA_REQUIRED:
            raise ConnectorError(
                ErrorCode.INVALID_ANSWER,
                "The bank asked for its security questions again after they were answered.",
            )
        secrets = [login.password, *(a for _, a in login.answers)]
        logger.info("OFX sign-on refused with status %d", signon.code)
        raise signon_error(signon.code, signon.message, secrets)

    async def _answer_mfa(
        self, session: Session, channel: OfxChannel, config: ServerConfig, login: Login
    ) -> tuple[Login, Any, Signon]:
        now = self._now()
        ofx = parse(await channel.post(mfa_challenge_request(config, login, now)), channel.host)
        signon = read_signon(ofx)
        if signon.code not in (OK, MFA_REQUIRED):
            self._check(signon, login)
        phrases = read_challenges(ofx)
        if not phrases:
            raise ConnectorError(
                ErrorCode.UNKNOWN, "The bank wants security questions answered but sent none."
            )
        answers = {
            pid: _SYSTEM_ANSWERS[pid](now, config) for pid, _ in phrases if pid in _SYSTEM_ANSWERS
        }
        asked = [(pid, label) for pid, label in phrases if pid not in answers]
        if asked:
            # The phrase ids ride along as options, so each answer maps back to its id.
            challenge = Challenge(
                ChallengeKind.QUESTIONS,
                MFA_PROMPT,
                questions=tuple(label for _, label in asked),
                options=tuple(Option(pid, label) for pid, label in asked),
            )
            answer = await session.ask(challenge)
            if len(answer.values) != len(challenge.options):
                raise ConnectorError(ErrorCode.INVALID_ANSWER, "Answer every security question.")
            answers.update(
                (option.id, value)
                for option, value in zip(challenge.options, answer.values, strict=True)
            )
        login = replace(login, answers=tuple((pid, answers[pid]) for pid, _ in phrases))
        await session.progress("Sending the answers to the bank")
        ofx = parse(
            await channel.post(account_info_request(config, login, self._now())), channel.host
        )
        signon = read_signon(ofx)
        if signon.code in (MFA_REQUIRED, MFA_WRONG):
            raise ConnectorError(
                ErrorCode.INVALID_ANSWER, "The bank did not accept the security answers."
            )
        return login, ofx, signon

    # ----- statements -------------------------------------------------------------------

    def _start(
        self, request: SyncRequest, synced: Mapping[str, Any], account: AccountRef, end: datetime
    ) -> datetime:
        start = end - timedelta(days=self._history_days)
        limit = request.options.history_days
        if limit is not None and limit > 0:
            start = max(start, end - timedelta(days=limit))
        if request.since is not None:
            start = max(start, _midnight(request.since))
        last_end = _parse_instant(synced.get(external_id(account)))
        if request.kind is JobKind.REFRESH and last_end is not None:
            start = max(start, last_end - timedelta(days=self._overlap_days))
        return min(start, end)

    async def _snapshots(
        self,
        session: Session,
        request: SyncRequest,
        asks: Mapping[str, StatementAsk],
        reply: Any,
        synced: dict[str, Any],
    ) -> tuple[list[AccountSnapshot], bool]:
        statements = read_statements(reply) if reply is not None else {}
        with_numbers = "verification" in request.options.products
        snapshots: list[AccountSnapshot] = []
        failures: list[tuple[int, str | None]] = []
        for trnuid, ask in asks.items():
            label = ask.account.description or f"account ...{ask.account.acctid[-4:]}"
            found = statements.get(trnuid)
            if found is None or found.code != OK or found.body is None:
                code = found.code if found is not None else GENERAL_ERROR
                failures.append((code, found.message if found is not None else None))
                await session.progress(f"The bank sent no statement for {label} (status {code})")
                continue
            try:
                account = map_account(ask.account, found.body, with_numbers=with_numbers)
                transactions = transactions_of(found.body, account.currency)
            except (ValueError, ArithmeticError, TypeError):
                logger.warning("OFX statement with unreadable values (status %d)", found.code)
                raise ConnectorError(
                    ErrorCode.INSTITUTION_UNAVAILABLE,
                    "The bank sent a statement Billfold could not read; try again later.",
                ) from None
            window = statement_window(found.body, (ask.start.date(), ask.end.date()))
            tranlist = found.body.banktranlist
            dtend = getattr(tranlist, "dtend", None) if tranlist is not None else None
            synced[account.external_id] = (
                dtend if isinstance(dtend, datetime) else ask.end
            ).isoformat()
            ordered = sorted(transactions, key=lambda t: (t.date, t.external_id), reverse=True)
            snapshots.append(AccountSnapshot(account, tuple(ordered), window=window))
        if asks and not snapshots:
            code, message = failures[0]
            said = f' The bank said: "{message[:200]}"' if message else ""
            raise ConnectorError(
                ErrorCode.INSTITUTION_UNAVAILABLE,
                f"The bank sent no statements (OFX status {code}); try again later.{said}",
            )
        return snapshots, not failures
