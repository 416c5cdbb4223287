"""The SimpleFIN connector (`kind = "simplefin"`): one setup token, many accounts.

A link claims the setup token for an access URL, kept only in the connection's
encrypted checkpoint (`Snapshot.state`); refreshes reuse it and never claim
again. History is read in windows of at most `chunk_days` (servers limit the
span of one request), newest first, merged and de-duplicated by id; each
account's snapshot window is the span actually read, so the core's diff can
drop pending transactions the server no longer lists.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from billfold.connectors.base import Session, SyncRequest
from billfold.connectors.simplefin.client import AccessUrl, AccountSet, SimpleFinClient
from billfold.connectors.simplefin.mapping import (
    MalformedData,
    epoch_date,
    map_account,
    map_transaction,
    stable_id,
)
from billfold.domain.errors import ConnectorError, ErrorCode
from billfold.domain.institutions import Institution, InstitutionKind, LoginField
from billfold.domain.jobs import JobKind
from billfold.domain.snapshot import AccountSnapshot, Snapshot
from billfold.domain.transactions import TransactionStatus

SIMPLEFIN_INSTITUTION = Institution(
    id=str(uuid5(NAMESPACE_URL, "https://www.simplefin.org/bridge")),
    name="SimpleFIN Bridge",
    kind=InstitutionKind.BANK,
    connector="simplefin",
    url="https://beta-bridge.simplefin.org",
    login_fields=(LoginField("setup_token", "SimpleFIN setup token", secret=True),),
)

CHUNK_DAYS = 90
HISTORY_DAYS = 730
OVERLAP_DAYS = 7
# A server that refuses a window is asked again with half of it, down to this.
MIN_CHUNK_DAYS = 7
_ONE_DAY = timedelta(days=1)
# Server messages that mean the login behind the access must be renewed.
_RELINK = re.compile(
    r"re-?auth|re-?link|re-?connect|authenticat|log ?in again|sign ?in again|credentials", re.I
)


def _utc_today() -> date:
    return datetime.now(UTC).date()


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(slots=True)
class _Gathered:
    """Accounts and transactions merged over the windows read so far (newest wins)."""

    accounts: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    transactions: dict[str, dict[str, Mapping[str, Any]]] = field(default_factory=dict)
    # account id -> [first day, end day (exclusive)) read without a gap
    covered: dict[str, tuple[date, date]] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    def merge(self, page: AccountSet, first: date, end: date) -> None:
        for raw in page.accounts:
            account_id = stable_id(raw.get("id"))
            if account_id not in self.accounts:
                self.accounts[account_id] = raw
                self.covered[account_id] = (first, end)
            else:
                since, until = self.covered[account_id]
                if since == end:
                    self.covered[account_id] = (first, until)
            known = self.transactions.setdefault(account_id, {})
            for txn in raw.get("transactions") or ():
                if isinstance(txn, Mapping):
                    known.setdefault(stable_id(txn.get("id")), txn)


class SimpleFinConnector:
    """Reads any SimpleFIN server with a person's setup token."""

    kind = "simplefin"

    def __init__(
        self,
        *,
        client: SimpleFinClient | None = None,
        chunk_days: int = CHUNK_DAYS,
        history_days: int = HISTORY_DAYS,
        overlap_days: int = OVERLAP_DAYS,
        claim_retry_delays: Sequence[float] = (1.0, 3.0),
        today: Callable[[], date] | None = None,
    ) -> None:
        if chunk_days < 1 or history_days < 1 or overlap_days < 0:
            raise ValueError(
                "chunk_days and history_days must be positive, overlap_days not negative"
            )
        self._client = client or SimpleFinClient()
        self._chunk_days = chunk_days
        self._history_days = history_days
        self._overlap_days = overlap_days
        self._claim_retry_delays = tuple(claim_retry_delays)
        self._today = today or _utc_today

    def catalog(self) -> list[Institution]:
        return [SIMPLEFIN_INSTITUTION]

    async def sync(self, session: Session, request: SyncRequest) -> Snapshot:
        state = dict(request.state or {})
        token = session.credentials.get("setup_token").strip()
        access, claimed = await self._access(session, state, token)
        today = self._today()
        start = self._start(request, state, today)
        wanted = tuple(request.account_ids)
        await session.progress("Reading accounts from SimpleFIN")
        try:
            gathered = await self._gather(session, access, start, today + _ONE_DAY, wanted, claimed)
            accounts = await self._snapshots(session, gathered, wanted, today)
        except MalformedData:
            raise ConnectorError(
                ErrorCode.UNKNOWN, "The SimpleFIN server sent data Billfold cannot read."
            ) from None
        complete = not wanted
        if not accounts and complete:
            detail = f" It said: {gathered.messages[0]}" if gathered.messages else ""
            raise ConnectorError(
                ErrorCode.NO_ACCOUNTS, "The SimpleFIN server listed no accounts." + detail
            )
        await session.accounts_ready(
            Snapshot(
                accounts=tuple(AccountSnapshot(a.account) for a in accounts), complete=complete
            )
        )
        return Snapshot(
            accounts=tuple(accounts),
            state=self._next_state(state, access, token, accounts, today, complete),
            complete=complete,
        )

    # ----- access -----------------------------------------------------------------------

    async def _access(
        self, session: Session, state: Mapping[str, Any], token: str
    ) -> tuple[AccessUrl, bool]:
        """The stored access URL, or a new one claimed with the setup token."""
        stored = state.get("access")
        same_token = not token or state.get("token") == _fingerprint(token)
        if isinstance(stored, Mapping) and same_token:
            try:
                return (
                    AccessUrl(
                        str(stored["base"]), str(stored["username"]), str(stored["password"])
                    ),
                    False,
                )
            except KeyError:
                pass
        if not token:
            raise ConnectorError(ErrorCode.INVALID_CREDENTIALS, "Enter a SimpleFIN setup token.")
        await session.progress("Claiming the SimpleFIN setup token")
        access = await self._client.claim(token)
        # The token is spent now: keep the access it bought even if this job fails.
        await session.checkpoint(
            {
                **state,
                "access": {
                    "base": access.base,
                    "username": access.username,
                    "password": access.password,
                },
                "token": _fingerprint(token),
            }
        )
        return access, True

    def _start(self, request: SyncRequest, state: Mapping[str, Any], today: date) -> date:
        start = today - timedelta(days=self._history_days - 1)
        synced = _day(state.get("synced_through"))
        if request.kind is JobKind.REFRESH and synced is not None:
            resume = synced - timedelta(days=self._overlap_days)
            # Reach back to the oldest transaction still pending, so one that vanished
            # (posted under another id) is inside the window and gets dropped.
            pending = _day(state.get("pending_from"))
            if pending is not None:
                resume = min(resume, pending)
            start = max(start, resume)
        limit = request.options.history_days
        if limit is not None and limit > 0:
            start = max(start, today - timedelta(days=limit - 1))
        if request.since is not None and request.since <= today:
            start = max(start, request.since)
        return min(start, today)

    # ----- reading ----------------------------------------------------------------------

    async def _gather(
        self,
        session: Session,
        access: AccessUrl,
        start: date,
        end: date,
        wanted: tuple[str, ...],
        claimed: bool,
    ) -> _Gathered:
        gathered = _Gathered()
        size = self._chunk_days
        cursor = end
        first = True
        while cursor > start:
            since = max(start, cursor - timedelta(days=size))
            page = await self._fetch(access, since, cursor, wanted, first=first, claimed=claimed)
            _check_relink(page.errors)
            if page.errors and not page.accounts:
                if (cursor - since).days > MIN_CHUNK_DAYS:
                    size = max(MIN_CHUNK_DAYS, (cursor - since).days // 2)
                    await session.progress(
                        f"The SimpleFIN server refused {(cursor - since).days} days at once; "
                        f"asking for {size} days at a time"
                    )
                    continue
                await self._surface(session, gathered, page.errors)
                break
            await self._surface(session, gathered, page.errors)
            gathered.merge(page, since, cursor)
            cursor = since
            first = False
        return gathered

    async def _fetch(
        self,
        access: AccessUrl,
        since: date,
        until: date,
        wanted: tuple[str, ...],
        *,
        first: bool,
        claimed: bool,
    ) -> AccountSet:
        """One window; retried when the access URL was just claimed and exists nowhere else."""
        delays = self._claim_retry_delays if claimed and first else ()
        for attempt in range(len(delays) + 1):
            try:
                # Pending transactions have no posted date: ask for them once, with the newest.
                return await self._client.accounts(
                    access, start=since, end=until, pending=first, account_ids=wanted
                )
            except ConnectorError as exc:
                if exc.code is not ErrorCode.INSTITUTION_UNAVAILABLE or not claimed or not first:
                    raise
                if attempt == len(delays):
                    raise ConnectorError(
                        exc.code,
                        exc.message + " The setup token was already claimed: create a new one "
                        "in SimpleFIN to link again.",
                    ) from None
                await asyncio.sleep(delays[attempt])
        raise AssertionError("unreachable")

    async def _surface(self, session: Session, gathered: _Gathered, errors: Sequence[str]) -> None:
        """Show each server message once on the job; SimpleFIN means them for the person."""
        for message in errors:
            if message not in gathered.messages:
                gathered.messages.append(message)
                await session.progress(f"SimpleFIN: {message}")

    async def _snapshots(
        self, session: Session, gathered: _Gathered, wanted: tuple[str, ...], today: date
    ) -> list[AccountSnapshot]:
        snapshots: list[AccountSnapshot] = []
        for account_id, raw in gathered.accounts.items():
            if wanted and account_id not in wanted:
                continue
            data = map_account(raw)
            if data is None:
                await session.progress(
                    f"Skipped {str(raw.get('name') or 'an account')[:100]}: its currency is not "
                    "an ISO currency"
                )
                continue
            balance_date = raw.get("balance-date")
            fallback = epoch_date(balance_date) if balance_date else today
            fallback = min(fallback, today)
            transactions = sorted(
                (
                    map_transaction(t, data.currency, fallback_day=fallback)
                    for t in gathered.transactions.get(account_id, {}).values()
                ),
                key=lambda t: (t.date, t.external_id),
                reverse=True,
            )
            since, until = gathered.covered[account_id]
            # The core diffs against stored rows from the window's first day; a posted
            # transaction dated (transacted) before the span read must still match its row.
            first_day = min([since, *(t.date for t in transactions)])
            snapshots.append(
                AccountSnapshot(data, tuple(transactions), window=(first_day, until - _ONE_DAY))
            )
        return snapshots

    def _next_state(
        self,
        state: Mapping[str, Any],
        access: AccessUrl,
        token: str,
        accounts: Sequence[AccountSnapshot],
        today: date,
        complete: bool,
    ) -> dict[str, Any]:
        pending = [
            t.date
            for a in accounts
            for t in a.transactions
            if t.status is TransactionStatus.PENDING
        ]
        pending_from = min(pending, default=None)
        synced = today
        if not complete:
            # Only some accounts were read: the others still need the older span.
            synced = _day(state.get("synced_through")) or today
            pending_from = _min_day(pending_from, _day(state.get("pending_from")))
        return {
            "access": {
                "base": access.base,
                "username": access.username,
                "password": access.password,
            },
            "token": _fingerprint(token) if token else state.get("token"),
            "synced_through": synced.isoformat(),
            "pending_from": pending_from.isoformat() if pending_from else None,
        }


def _check_relink(errors: Sequence[str]) -> None:
    for message in errors:
        if _RELINK.search(message):
            raise ConnectorError(ErrorCode.NEEDS_RELINK, f"SimpleFIN: {message}")


def _day(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _min_day(a: date | None, b: date | None) -> date | None:
    days = [d for d in (a, b) if d is not None]
    return min(days) if days else None
