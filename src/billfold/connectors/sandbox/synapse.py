"""The Synapse sandbox bank (`bank_name: "fake"`): logins, MFA loop, nodes, sync faults.

Synapse test logins encode behaviour in the password: `test1234`, then an
optional account-count variant, then an optional suffix that breaks later
refreshes. Values follow synapse-api.md section 11; where it and the seed
document differ on an example value (balances, names), the seed wins.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import timedelta

from billfold.connectors.base import Credentials, Session
from billfold.connectors.sandbox.catalog import SYNAPSE_ROUTING
from billfold.connectors.sandbox.data import (
    Clock,
    Draws,
    Ledger,
    full_account_number,
    money,
    month_start,
    stable_int,
)
from billfold.connectors.sandbox.persona import Persona
from billfold.domain.accounts import AccountData, AccountType, Holder
from billfold.domain.challenges import Challenge
from billfold.domain.errors import ConnectorError, ErrorCode
from billfold.domain.jobs import JobKind
from billfold.domain.snapshot import AccountSnapshot

QUESTION = "I heard you like questions so we put a question in your question?"
CODE_PROMPT = "Please enter the code sent to your device."
QUESTION_ANSWER = "test_answer"
AGAIN_ANSWER = "again"
CODE_ANSWER = "123456"
MAX_WRONG_ANSWERS = 5
HISTORY_DAYS = 90

GOOD, NOMFA, CODE_MFA = "synapse_good", "synapse_nomfa", "synapse_code_mfa"
ALIASES = {"test_good": GOOD}
# Logins that fail at once, whatever the password.
FAILING_USERS = {
    "synapse_no_accounts": ErrorCode.NO_ACCOUNTS,
    "synapse_bank_request": ErrorCode.ACTION_REQUIRED,
    "synapse_maintenance": ErrorCode.INSTITUTION_UNAVAILABLE,
}
VARIANTS = ("_one", "_checking", "_savings", "_random")
SYNC_ERRORS = {
    "_sync_not_allowed": ErrorCode.REFRESH_NOT_ALLOWED,
    "_needs_relink": ErrorCode.NEEDS_RELINK,
    "_sync_unknown_error": ErrorCode.UNKNOWN,
    "_sync_unavailable": ErrorCode.INSTITUTION_UNAVAILABLE,
}
# Suffix -> range of the new balance in cents, drawn afresh on each refresh.
SYNC_BALANCES = {
    "_sync_balance_higher": (80_000, 150_000),
    "_sync_balance_lower": (1_000, 5_000),
}
_PASSWORD = re.compile(
    r"test1234(?P<variant>{})?(?P<suffix>{})?".format(
        "|".join(VARIANTS), "|".join([*SYNC_ERRORS, *SYNC_BALANCES])
    )
)
# The seed document's two nodes: checking 8901 at 800.00, savings 8902 at 750.00.
DEFAULT_BALANCES = (80_000, 75_000)


@dataclass(frozen=True, slots=True)
class SynapseLogin:
    user: str  # canonical username (aliases resolved)
    variant: str  # "" or one of VARIANTS
    suffix: str  # "" or a key of SYNC_ERRORS / SYNC_BALANCES


def parse_login(credentials: Credentials) -> SynapseLogin:
    """Read the username and password grammar; refuse anything the sandbox does not list."""
    user = credentials.username.strip().casefold()
    user = ALIASES.get(user, user)
    if user in FAILING_USERS:
        raise ConnectorError(FAILING_USERS[user])
    if user not in (GOOD, NOMFA, CODE_MFA):
        raise ConnectorError(ErrorCode.INVALID_CREDENTIALS)
    match = _PASSWORD.fullmatch(credentials.password.strip())
    if match is None:
        raise ConnectorError(ErrorCode.INVALID_CREDENTIALS)
    return SynapseLogin(user, match["variant"] or "", match["suffix"] or "")


async def authenticate(session: Session, login: SynapseLogin) -> None:
    """The MFA loop: repeat while the answer asks for it, fail after five wrong answers."""
    if login.user == NOMFA:
        return
    if login.user == GOOD:
        challenge = Challenge.ask_questions(QUESTION, prompt=QUESTION)
        right, note = QUESTION_ANSWER, "That answer was not right. Try again."
    else:
        challenge = Challenge.enter_code(CODE_PROMPT, label="Code")
        right, note = CODE_ANSWER, "That code was not right. Try again."
    current, wrong = challenge, 0
    while True:
        answer = (await session.ask(current)).text.strip()
        if answer.casefold() == right:
            return
        if login.user == GOOD and answer.casefold() == AGAIN_ANSWER:
            current = challenge  # one more round, as the sandbox documents
            continue
        wrong += 1
        if wrong >= MAX_WRONG_ANSWERS:
            raise ConnectorError(ErrorCode.INVALID_ANSWER)
        current = challenge.with_retry_note(note)


def check_refresh(login: SynapseLogin, kind: JobKind) -> None:
    """Suffixes break refreshes only; the link itself always succeeds."""
    if kind is JobKind.REFRESH and login.suffix in SYNC_ERRORS:
        raise ConnectorError(SYNC_ERRORS[login.suffix])


def node_types(login: SynapseLogin, seed: int) -> list[AccountType]:
    """The class of each node, in order; counts of the variants come from the login seed."""
    if login.variant in ("", "_one"):
        return [AccountType.CHECKING, AccountType.SAVINGS]
    rng = random.Random(stable_int(seed, "synapse-nodes", login.variant))
    count = rng.randint(1, 10)
    if login.variant == "_checking":
        return [AccountType.CHECKING] * count
    if login.variant == "_savings":
        return [AccountType.SAVINGS] * count
    return [rng.choice((AccountType.CHECKING, AccountType.SAVINGS)) for _ in range(count)]


def _balances(login: SynapseLogin, seed: int, count: int, clock: Clock, kind: JobKind) -> list[int]:
    if kind is JobKind.REFRESH and login.suffix in SYNC_BALANCES:
        low, high = SYNC_BALANCES[login.suffix]
        rng = random.Random(stable_int(seed, "synapse-refresh", clock.syncs))
        return [rng.randint(low, high) for _ in range(count)]
    rng = random.Random(stable_int(seed, "synapse-balances"))
    extra = [rng.randint(50_000, 100_000) for _ in range(max(0, count - 2))]
    return [*DEFAULT_BALANCES[:count], *extra]


def synapse_snapshots(
    login: SynapseLogin, seed: int, persona: Persona, clock: Clock, kind: JobKind
) -> list[AccountSnapshot]:
    types = node_types(login, seed)
    balances = _balances(login, seed, len(types), clock, kind)
    ledgers = [Ledger(f"{seed:016x}-{8901 + i}", clock) for i in range(len(types))]
    _draw(seed, persona, types, ledgers, clock)
    snapshots = []
    for i, (kind_of, ledger, cents) in enumerate(zip(types, ledgers, balances, strict=True)):
        mask = str(8901 + i)
        label = "Checking" if kind_of is AccountType.CHECKING else "Savings"
        pending = ledger.pending_cents()
        account = AccountData(
            external_id=ledger.external_id,
            name=f"SynapsePay Test {label} Account - {mask}",
            type=kind_of,
            mask=mask,
            holder=Holder.BUSINESS,
            current_balance=money(cents),
            available_balance=money(cents + pending),
            full_number=full_account_number(seed, mask, mask),
            routing_number=SYNAPSE_ROUTING,
            owner_name=persona.name,
        )
        snapshots.append(AccountSnapshot(account, tuple(ledger.transactions), clock.window))
    return snapshots


def _draw(
    seed: int, persona: Persona, types: list[AccountType], ledgers: list[Ledger], clock: Clock
) -> None:
    """About 30 transactions per node over the last 90 days (months drawn whole, see Draws)."""
    draws = Draws(seed, "synapse")
    day = month_start(clock.start)
    shops = (*persona.groceries, *persona.restaurants, *persona.fuel, *persona.shopping)
    rng = draws.month_of(day)
    while day <= clock.as_of:
        if day.day == 1:
            rng = draws.month_of(day)
        for kind, ledger in zip(types, ledgers, strict=True):
            roll = rng.getrandbits(32)
            if roll % 3:  # one day in three has a transaction
                continue
            roll >>= 2
            if kind is AccountType.SAVINGS:
                if roll % 4 == 0:
                    ledger.add(
                        day,
                        -(5_000 + roll % 20_000),
                        "ONLINE TRANSFER TO CHECKING",
                        None,
                        "Transfer",
                    )
                else:
                    ledger.add(
                        day,
                        2_500 + roll % 25_000,
                        "ONLINE TRANSFER FROM CHECKING",
                        None,
                        "Transfer",
                    )
            elif roll % 5 == 0:
                ledger.add(
                    day,
                    25_000 + roll % 150_000,
                    "ACH DEPOSIT SYNAPSEPAY INC",
                    "SynapsePay",
                    "Deposit",
                )
            else:
                desc, merchant, category, low, high = shops[roll % len(shops)]
                cents = low + (roll >> 8) % (high - low + 1)
                ledger.add(
                    day, -cents, f"DEBIT CARD PURCHASE {desc}", merchant, category, card=True
                )
        day += timedelta(days=1)
