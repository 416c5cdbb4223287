"""The sandbox connector: scripted test institutions with generated, repeatable data.

It lets every face of Billfold (the dialects, the widget, the CLI) be tried
end to end without a real bank: the Sophtron and Synapse sandbox logins
behave as those services document, and the Billfold banks and billers give
live-dated data that moves forward on each refresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from billfold.connectors.base import Session, SyncRequest
from billfold.connectors.sandbox import scripts, synapse
from billfold.connectors.sandbox.bills import bill_snapshot
from billfold.connectors.sandbox.catalog import SANDBOX_INSTITUTIONS, Profile, profile_of
from billfold.connectors.sandbox.data import (
    HISTORY_DAYS,
    Clock,
    digits,
    fixed_clock,
    live_clock,
    login_seed,
    stable_int,
)
from billfold.connectors.sandbox.household import Household, LoanTerms, Plan, Slot
from billfold.connectors.sandbox.persona import Persona, make_persona
from billfold.domain.accounts import AccountType, Holder
from billfold.domain.challenges import Challenge, Option
from billfold.domain.errors import ConnectorError, ErrorCode
from billfold.domain.institutions import Institution
from billfold.domain.jobs import JobKind
from billfold.domain.snapshot import AccountSnapshot, Identity, Snapshot

# Sophtron's sandbox data is a fixed year; its purchases pending at the first sync
# post on the first business day of 2022.
SOPHTRON_AS_OF = date(2021, 12, 31)
SOPHTRON_FIRST_DAY = date(2021, 1, 1)
SOPHTRON_SETTLE_ON = date(2022, 1, 3)
SOPHTRON_CHECKING_CENTS = 100_000
SOPHTRON_SAVINGS_CENTS = 250_000
SOPHTRON_BUSINESS_SAVINGS_CENTS = 2_500_000


def _today() -> date:
    return date.today()


class SandboxConnector:
    """Connector for every institution of `catalog()` (`kind = "sandbox"`)."""

    kind = "sandbox"

    def __init__(self, *, today: Callable[[], date] | None = None, step_delay: float = 0.0) -> None:
        self._today = today or _today
        self._step_delay = step_delay

    def catalog(self) -> list[Institution]:
        return list(SANDBOX_INSTITUTIONS)

    async def sync(self, session: Session, request: SyncRequest) -> Snapshot:
        profile = profile_of(request.institution)
        if profile is None:
            raise ConnectorError(ErrorCode.UNKNOWN, "Not a sandbox institution.")
        await self._step(session, "Logging in")
        if profile is Profile.SYNAPSE:
            return await self._synapse(session, request)
        credentials = session.credentials
        scripts.check_login(credentials)
        seed = login_seed(request.institution.id, credentials.username)
        persona = make_persona(seed)
        linking = request.kind is JobKind.LINK

        async def step(note: str) -> None:
            await self._step(session, note)

        if profile.is_sophtron:
            if linking:
                await scripts.sophtron_mfa(session, profile, step)
            clock = fixed_clock(
                SOPHTRON_AS_OF,
                SOPHTRON_FIRST_DAY,
                SOPHTRON_SETTLE_ON,
                request.state,
                since=request.since,
                limit_days=request.options.history_days,
            )
        else:
            if linking and profile is Profile.BANK:
                await scripts.bank_mfa(
                    session, credentials.username, persona.phone, persona.email, step
                )
            elif linking and profile is Profile.CARD:
                await scripts.card_mfa(session, persona.phone, step)
            clock = self._live_clock(request)
        accounts = self._generate(profile, seed, persona, clock, request.institution)
        business = profile is Profile.SOPHTRON_BUSINESS
        state: dict[str, Any] = clock.state()
        if profile is Profile.BANK and credentials.username.strip().casefold() == "user_select":
            chosen = await self._selection(session, accounts, request.state, linking)
            accounts = [a for a in accounts if a.account.external_id == chosen]
            state["selected"] = chosen
        return await self._finish(
            session, request, accounts, persona.identity(business=business), state
        )

    # ----- pieces -----------------------------------------------------------------------

    async def _step(self, session: Session, note: str) -> None:
        await session.progress(note)
        if self._step_delay > 0:
            await asyncio.sleep(self._step_delay)

    def _live_clock(self, request: SyncRequest, history_days: int = HISTORY_DAYS) -> Clock:
        return live_clock(
            self._today(),
            request.state,
            history_days=history_days,
            since=request.since,
            limit_days=request.options.history_days,
        )

    async def _synapse(self, session: Session, request: SyncRequest) -> Snapshot:
        login = synapse.parse_login(session.credentials)
        if request.kind is JobKind.LINK:
            await synapse.authenticate(session, login)
        synapse.check_refresh(login, request.kind)
        seed = login_seed(request.institution.id, login.user)
        persona = make_persona(seed)
        clock = self._live_clock(request, history_days=synapse.HISTORY_DAYS)
        accounts = synapse.synapse_snapshots(login, seed, persona, clock, request.kind)
        return await self._finish(session, request, accounts, persona.identity(), clock.state())

    def _generate(
        self,
        profile: Profile,
        seed: int,
        persona: Persona,
        clock: Clock,
        institution: Institution,
    ) -> list[AccountSnapshot]:
        if profile.is_biller:
            return [bill_snapshot(profile, seed, persona, clock)]
        routing = institution.routing_numbers[0] if institution.routing_numbers else None
        plan = _plan(profile, seed, routing)
        return Household(seed, persona, plan, clock).snapshots()

    async def _selection(
        self,
        session: Session,
        accounts: list[AccountSnapshot],
        state: Mapping[str, Any] | None,
        linking: bool,
    ) -> str:
        """The one account `user_select` links: asked at link, remembered afterwards."""
        ids = [a.account.external_id for a in accounts]
        remembered = (state or {}).get("selected")
        if not linking and remembered in ids:
            return str(remembered)
        options = [
            Option(a.account.external_id, f"{a.account.name} ••{a.account.mask}") for a in accounts
        ]
        answer = await scripts.ask(
            session, Challenge.select_account("Choose the account to link.", options)
        )
        if answer.text not in ids:
            raise ConnectorError(ErrorCode.INVALID_ANSWER, "That account is not offered.")
        return answer.text

    async def _finish(
        self,
        session: Session,
        request: SyncRequest,
        accounts: Sequence[AccountSnapshot],
        identity: Identity,
        state: dict[str, Any],
    ) -> Snapshot:
        """Hand over accounts first, then the whole snapshot (Sophtron's AccountsReady)."""
        complete = not request.account_ids
        if request.account_ids:
            wanted = set(request.account_ids)
            accounts = [a for a in accounts if a.account.external_id in wanted]
        await self._step(session, "Reading accounts")
        await session.accounts_ready(
            Snapshot(
                accounts=tuple(AccountSnapshot(a.account) for a in accounts), complete=complete
            )
        )
        await self._step(session, "Reading transactions")
        return Snapshot(accounts=tuple(accounts), identity=identity, state=state, complete=complete)


# ----- account plans per profile ---------------------------------------------------------


def _masks(seed: int, count: int) -> list[str]:
    """Distinct four-digit masks for the accounts of one login."""
    masks: list[str] = []
    tag = 0
    while len(masks) < count:
        mask = digits(seed, f"mask-{tag}", 4)
        tag += 1
        if mask not in masks:
            masks.append(mask)
    return masks


def _plan(profile: Profile, seed: int, routing: str | None) -> Plan:
    if profile.is_sophtron:
        return _sophtron_plan(profile, routing)
    chk, sav, card, loan = _masks(seed, 4)
    if profile is Profile.BANK:
        return Plan(
            checking=Slot("checking", "Everyday Checking", AccountType.CHECKING, chk),
            savings=Slot("savings", "High Yield Savings", AccountType.SAVINGS, sav),
            card=Slot("card", "Cash Rewards Visa Signature", AccountType.CREDIT_CARD, card),
            loan=Slot("mortgage", "30-Year Fixed Mortgage", AccountType.LOAN, loan),
            loan_terms=LoanTerms(
                lender="Billfold Home Lending",
                principal_cents=28_500_000 + 500_000 * (stable_int(seed, "home") % 28),
                rate_bp=325 + 25 * (stable_int(seed, "home-rate") % 14),
                months=360,
                first_payment=date(2020 + stable_int(seed, "home-year") % 3, 1 + seed % 12, 1),
            ),
            mortgage=True,
            card_share=40,
            routing_number=routing,
        )
    if profile is Profile.CREDIT_UNION:
        return Plan(
            checking=Slot("checking", "Share Draft Checking", AccountType.CHECKING, chk),
            savings=Slot("savings", "Primary Share Savings", AccountType.SAVINGS, sav),
            loan=Slot("auto", "Auto Loan", AccountType.LOAN, loan),
            loan_terms=LoanTerms(
                lender="Billfold Sandbox CU",
                principal_cents=2_400_000 + 100_000 * (stable_int(seed, "car") % 18),
                rate_bp=449 + 25 * (stable_int(seed, "car-rate") % 12),
                months=84,
                first_payment=date(2023, 1 + seed % 12, 15),
            ),
            bank_label="BILLFOLD CU",
            routing_number=routing,
        )
    return Plan(
        card=Slot("card", "Sandbox Rewards Visa", AccountType.CREDIT_CARD, card),
        card_share=100,
    )


def _sophtron_plan(profile: Profile, routing: str | None) -> Plan:
    if profile is Profile.SOPHTRON_BUSINESS:
        return Plan(
            checking=Slot("checking", "Business Checking", AccountType.CHECKING, "1234"),
            savings=Slot("savings", "Business Savings", AccountType.SAVINGS, "5678"),
            holder=Holder.BUSINESS,
            business=True,
            bank_label="SOPHTRON BANK",
            routing_number=routing,
            fixed_balances=(
                ("checking", SOPHTRON_CHECKING_CENTS),
                ("savings", SOPHTRON_BUSINESS_SAVINGS_CENTS),
            ),
        )
    return Plan(
        checking=Slot("checking", "Primary Checking", AccountType.CHECKING, "1234"),
        savings=Slot("savings", "Primary Savings", AccountType.SAVINGS, "5678"),
        bank_label="SOPHTRON BANK",
        routing_number=routing,
        fixed_balances=(("checking", SOPHTRON_CHECKING_CENTS), ("savings", SOPHTRON_SAVINGS_CENTS)),
    )
