"""Deterministic building blocks shared by every sandbox data generator.

Sandbox data must be reproducible without storing it: the same login gives
the same accounts and transactions on every run and on every machine, and a
later as-of date only adds days, never rewrites old ones. So all randomness
comes from generators seeded with the login seed and the period being drawn
(never the wall clock, the process hash seed or the global `random` state),
and the clock that says which days exist lives in the connector state.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from billfold.domain.transactions import TransactionData, TransactionStatus

HISTORY_DAYS = 730
# The live clock starts this far behind today so the first refreshes have days to add.
ANCHOR_LAG_DAYS = 3
_ONE_DAY = timedelta(days=1)
_TWO_DAYS = timedelta(days=2)
_CENT = Decimal("0.01")
_POSTED, _PENDING = TransactionStatus.POSTED, TransactionStatus.PENDING


def login_seed(institution_id: str, username: str) -> int:
    """A 64-bit seed for one login; usernames compare trimmed and case-insensitively."""
    text = f"{institution_id.lower()}\x1f{username.strip().casefold()}"
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def stable_int(seed: int, *parts: object) -> int:
    """A 64-bit number fixed by its inputs, for values that need no whole generator."""
    text = "\x1f".join([str(seed), *map(str, parts)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def cents_between(rng: random.Random, low: int, high: int) -> int:
    """Whole cents in [low, high]; integers only so no float ever touches an amount."""
    return low + rng.getrandbits(32) % (high - low + 1)


def money(cents: int) -> Decimal:
    return Decimal(cents) * _CENT


def digits(seed: int, tag: str, count: int) -> str:
    return f"{stable_int(seed, tag) % 10**count:0{count}d}"


def full_account_number(seed: int, slot: str, mask: str, length: int = 12) -> str:
    """A full number that ends in the mask, so masked and full numbers agree."""
    head = digits(seed, f"account-number:{slot}", length - len(mask))
    return ("1" + head[1:] if head[0] == "0" else head) + mask


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The same day-of-month `months` later, clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, days_in_month(year, month + 1)))


def days_in_month(year: int, month: int) -> int:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


class Draws:
    """A `random.Random` re-seeded from (login seed, period) for each period drawn.

    Generators draw whole periods (a month of activity, a month's bill) from
    the period's own seed, always starting on the period's first day, so a
    period never depends on the as-of date and a later as-of only adds days.
    A month rather than a single day per seed because seeding a Mersenne
    Twister costs more than drawing a whole day, and links must stay fast.
    """

    __slots__ = ("_rng", "_seed")

    def __init__(self, seed: int, stream: str = "") -> None:
        self._seed = stable_int(seed, "draws", stream) if stream else seed
        self._rng = random.Random()

    def at(self, period: int) -> random.Random:
        """The generator for `period` (a month index), freshly seeded."""
        # Periods stay below 2**22, so distinct (seed, period) pairs give distinct seeds.
        self._rng.seed((self._seed << 22) | period)
        return self._rng

    def month_of(self, day: date) -> random.Random:
        return self.at(month_index(day))


@dataclass(frozen=True, slots=True)
class Clock:
    """Which days a sync sees, and which card purchases have posted by then."""

    as_of: date
    start: date  # first day of the history this sync lists
    posted_through: date  # card purchases after this day are still pending
    anchor: date
    syncs: int
    # When set, purchases pending at the first sync post on this day (fixed-date data).
    settle_on: date | None = None

    @property
    def window(self) -> tuple[date, date]:
        return (self.start, self.as_of)

    def state(self) -> dict[str, Any]:
        return {"anchor": self.anchor.isoformat(), "syncs": self.syncs}


def _read_state(state: Mapping[str, Any] | None) -> tuple[date, int] | None:
    if not state:
        return None
    try:
        return date.fromisoformat(str(state["anchor"])), int(state["syncs"])
    except (KeyError, TypeError, ValueError):
        return None


def _history_start(as_of: date, default: date, since: date | None, days: int | None) -> date:
    start = default
    if days is not None and days > 0:
        start = max(start, as_of - timedelta(days=days - 1))
    if since is not None and since <= as_of:
        start = max(start, since)
    return start


def live_clock(
    today: date,
    state: Mapping[str, Any] | None,
    *,
    history_days: int = HISTORY_DAYS,
    since: date | None = None,
    limit_days: int | None = None,
) -> Clock:
    """The live-dated clock: a link starts 3 days back; each sync moves one day on."""
    known = _read_state(state)
    if known is None:
        anchor, syncs = today - timedelta(days=ANCHOR_LAG_DAYS), 0
    else:
        anchor, syncs = known[0], known[1] + 1
    as_of = min(anchor + timedelta(days=syncs), today)
    default = as_of - timedelta(days=history_days - 1)
    return Clock(
        as_of=as_of,
        start=_history_start(as_of, default, since, limit_days),
        posted_through=as_of - _TWO_DAYS,
        anchor=anchor,
        syncs=syncs,
    )


def fixed_clock(
    as_of: date,
    first_day: date,
    settle_on: date,
    state: Mapping[str, Any] | None,
    *,
    since: date | None = None,
    limit_days: int | None = None,
) -> Clock:
    """A clock stopped at `as_of`; only the first sync still shows purchases pending."""
    known = _read_state(state)
    syncs = 0 if known is None else known[1] + 1
    return Clock(
        as_of=as_of,
        start=_history_start(as_of, first_day, since, limit_days),
        posted_through=as_of - _TWO_DAYS if syncs == 0 else as_of,
        anchor=as_of,
        syncs=syncs,
        settle_on=settle_on,
    )


class Ledger:
    """One account's transactions for one sync, dressed as they are drawn.

    Generators add transactions in date order. Ids count transactions within
    (account, day), days before the window included, so a transaction keeps
    its id whatever window a sync lists. A link builds every transaction here
    (thousands), so `add` builds the `TransactionData` at once and keeps only
    (day, cents, card) for the balance sums.
    """

    __slots__ = (
        "_as_of",
        "_day",
        "_index",
        "_key",
        "_late",
        "_settle_on",
        "_start",
        "_through",
        "clock",
        "entries",
        "external_id",
        "transactions",
    )

    def __init__(self, external_id: str, clock: Clock) -> None:
        self.external_id = external_id
        self.clock = clock
        self.entries: list[tuple[date, int, bool]] = []
        self.transactions: list[TransactionData] = []
        self._start, self._as_of, self._through = clock.start, clock.as_of, clock.posted_through
        # Fixed-date data: purchases of the last two days post on `settle_on`.
        self._late, self._settle_on = clock.as_of - _ONE_DAY, clock.settle_on
        self._day = date.min
        self._index = 0
        self._key = ""

    def add(
        self,
        day: date,
        cents: int,
        description: str,
        merchant: str | None,
        category: str,
        card: bool = False,
        memo: str | None = None,
        check_number: str | None = None,
    ) -> None:
        """Record a transaction; `card` ones (card authorisations) pend for a day or two."""
        if day == self._day:
            self._index = index = self._index + 1
            key = self._key
        else:
            self._day, self._index, index = day, 0, 0
            self._key = key = f"{self.external_id}-{day.year:04d}{day.month:02d}{day.day:02d}-"
        self.entries.append((day, cents, card))
        if day < self._start or day > self._as_of:
            return
        base = f"{key}{index}"
        amount = Decimal(cents) * _CENT
        if not card:
            txn = TransactionData(base, amount, day, description, _POSTED, "USD", day, merchant,
                                  category, memo, check_number, None)  # fmt: skip
        elif day > self._through:
            txn = TransactionData("p-" + base, amount, day, description, _PENDING, "USD", None,
                                  merchant, category, memo, None, None)  # fmt: skip
        else:
            if self._settle_on is not None and day >= self._late:
                posted_on = self._settle_on
            else:
                # One or two days to settle, fixed per transaction so it never changes.
                posted_on = day + (_ONE_DAY if (index + day.day) % 3 else _TWO_DAYS)
            txn = TransactionData(base, amount, day, description, _POSTED, "USD", posted_on,
                                  merchant, category, memo, None, "p-" + base)  # fmt: skip
        self.transactions.append(txn)

    def total_between(self, first: date, last: date) -> int:
        return sum(cents for day, cents, _ in self.entries if first <= day <= last)

    def pending_cents(self) -> int:
        """The part of the balance still pending (negative for purchases)."""
        through, as_of = self.clock.posted_through, self.clock.as_of
        return sum(c for day, c, card in self.entries if card and through < day <= as_of)
