"""Everyday banking for one sandbox person or company: checking, savings, card, loan.

One pass over the days draws every account together, so both sides of a
movement agree (the savings transfer, the card payment and the loan payment
appear in both accounts with the same amount on the same day).

Balances are closed forms that need only the recent past, never "the sum of
all history": checking returns to a per-month target through a month-end
brokerage sweep, the card is paid in full each cycle, savings and loans are
rolled forward month by month with integer arithmetic. So a balance does not
depend on how much history a sync lists, and generation stays fast.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal

from billfold.connectors.sandbox.data import (
    Clock,
    Draws,
    Ledger,
    add_months,
    cents_between,
    full_account_number,
    money,
    month_index,
    month_start,
    stable_int,
)
from billfold.connectors.sandbox.persona import Persona, Spend
from billfold.domain.accounts import AccountData, AccountType, Holder
from billfold.domain.snapshot import AccountSnapshot

_ONE_DAY = timedelta(days=1)
_CARD_DUE = timedelta(days=25)
_SEASON = (118, 108, 92, 80, 84, 112, 140, 146, 118, 90, 92, 110)  # electricity, % by month


@dataclass(frozen=True, slots=True)
class Slot:
    """An account's fixed face: `key` names it inside the login and in its external id."""

    key: str
    name: str
    type: AccountType
    mask: str


@dataclass(frozen=True, slots=True)
class LoanTerms:
    lender: str
    principal_cents: int
    rate_bp: int  # yearly rate in basis points
    months: int
    first_payment: date  # later payments fall on the same day of each month

    def level_payment(self) -> int:
        """The monthly payment of the amortizing loan, rounded up to a cent."""
        rate = Decimal(self.rate_bp) / Decimal(120_000)
        level = Decimal(self.principal_cents) * rate / (1 - (1 + rate) ** -self.months)
        return int(level.to_integral_value(rounding=ROUND_CEILING))


@dataclass(frozen=True, slots=True)
class Plan:
    """Which accounts a login has and how the person uses them."""

    checking: Slot | None = None
    savings: Slot | None = None
    card: Slot | None = None
    loan: Slot | None = None
    loan_terms: LoanTerms | None = None
    holder: Holder = Holder.PERSONAL
    business: bool = False
    mortgage: bool = False  # the loan is the home, so there is no rent
    card_share: int = 0  # percent of everyday purchases put on the card
    bank_label: str = "BILLFOLD BANK"
    routing_number: str | None = None
    # Documented balances that win over the closed forms (Sophtron): slot key -> cents.
    fixed_balances: tuple[tuple[str, int], ...] = ()


class Household:
    """Draws every account of one login for the days up to `clock.as_of`."""

    def __init__(self, seed: int, persona: Persona, plan: Plan, clock: Clock) -> None:
        self.seed = seed
        self.persona = persona
        self.plan = plan
        self.clock = clock
        # Checking sweeps need whole months; a card payment needs the whole cycle that
        # closed the month before, which can start two months back.
        self.first_day = add_months(month_start(clock.start), -2 if plan.card else 0)
        self.chk = self._ledger(plan.checking)
        self.sav = self._ledger(plan.savings)
        self.card = self._ledger(plan.card)
        self.loan = self._ledger(plan.loan)
        self.close_day = 3 + stable_int(seed, "card-close") % 24
        self.credit_limit = 500_000 + 100_000 * (stable_int(seed, "card-limit") % 16)
        self.cycle_totals: dict[date, int] = {}
        self.card_due: dict[date, date] = {}  # payment day -> statement close it pays
        self.save_cents = 10_000 * (2 + stable_int(seed, "save") % 5)
        self.save_apy_bp = 40 + stable_int(seed, "apy") % 400
        self.savings_opened = date(2016 + stable_int(seed, "opened") % 3, 3, 1)
        self.savings_starts = self._roll_savings()
        self.schedule = self._loan_schedule()
        # Days of the month for power, water, phone, internet.
        self.bill_days = tuple(5 + stable_int(seed, "bill", i) % 20 for i in range(4))
        self.set_days = self._set_days()

    def _ledger(self, slot: Slot | None) -> Ledger | None:
        return None if slot is None else Ledger(f"{self.seed:016x}-{slot.key}", self.clock)

    def _set_days(self) -> frozenset[int]:
        days = {1, 2, *self.bill_days}
        days.update(s[3] for s in self.persona.subscriptions)
        if self.plan.loan_terms is not None:
            days.add(self.plan.loan_terms.first_payment.day)
        return frozenset(days)

    # ----- closed forms ---------------------------------------------------------------

    def checking_target(self, month: int) -> int:
        """Checking balance on the first of `month` (a month index)."""
        base, spread = (1_500_000, 2_500_000) if self.plan.business else (250_000, 350_000)
        return base + stable_int(self.seed, "checking-target", month) % spread

    def _roll_savings(self) -> dict[int, int]:
        """Savings balance at the start of each month, from opening to the as-of month."""
        balance = 150_000 + 5_000 * (stable_int(self.seed, "savings-open") % 200)
        starts: dict[int, int] = {}
        for month in range(month_index(self.savings_opened), month_index(self.clock.as_of) + 1):
            starts[month] = balance
            balance += self.save_cents
            balance += balance * self.save_apy_bp // 120_000
        return starts

    def _loan_schedule(self) -> dict[date, tuple[int, int, int]]:
        """Payment day -> (interest, payment, balance after), up to the as-of date."""
        terms = self.plan.loan_terms
        if terms is None:
            return {}
        level = terms.level_payment()
        schedule: dict[date, tuple[int, int, int]] = {}
        balance = terms.principal_cents
        for k in range(terms.months):
            day = add_months(terms.first_payment, k)
            if day > self.clock.as_of or balance <= 0:
                break
            interest = balance * terms.rate_bp // 120_000
            paid = min(level, balance + interest)
            balance = balance + interest - paid
            schedule[day] = (interest, paid, balance)
        return schedule

    def _cycle_close(self, day: date) -> date:
        close = day.replace(day=self.close_day)
        return close if day <= close else add_months(close, 1)

    # ----- the day loop ---------------------------------------------------------------

    def draw(self) -> None:
        draws = Draws(self.seed)
        # Months are drawn whole from their first day (see `Draws`).
        day, last = self.first_day, self.clock.as_of
        rng = draws.month_of(day)
        chk, card = self.chk, self.card
        month_mark = 0  # where this month's checking entries begin
        card_mark = 0
        everyday = self._business_day if self.plan.business else self._personal_day
        while day <= last:
            dom = day.day
            if dom == 1:
                rng = draws.month_of(day)
                month_mark = len(chk.entries) if chk is not None else 0
            everyday(day, rng)
            if dom in self.set_days:
                self._scheduled(day, dom, rng)
            if card is not None:
                if dom == self.close_day:
                    self.card_due[day + _CARD_DUE] = day
                if day in self.card_due:
                    card_mark = self._fold_cycles(card_mark)
                    self._pay_card(day, self.card_due[day])
            following = day + _ONE_DAY
            if following.day == 1:
                self._month_end(day, month_mark)
            day = following
        if card is not None:
            self._fold_cycles(card_mark)

    def _spend(self, day: date, rng: random.Random, options: tuple[Spend, ...]) -> None:
        """One purchase from `options`, on the card or the debit card."""
        bits = rng.getrandbits(64)
        desc, merchant, category, low, high = options[(bits & 0xFFFF) % len(options)]
        ledger = self.chk
        if self.card is not None and (ledger is None or (bits >> 16) % 100 < self.plan.card_share):
            ledger = self.card
        if ledger is not None:
            cents = low + (bits >> 24) % (high - low + 1)
            ledger.add(day, -cents, desc, merchant, category, True)

    def _personal_day(self, day: date, rng: random.Random) -> None:
        # One 64-bit draw decides which everyday events happen (8 bits each, compared
        # with chance x 256): the loop runs ~800 times per link, and this is much
        # cheaper than a `random()` call per event.
        p, chk = self.persona, self.chk
        weekday = day.weekday()
        roll = rng.getrandbits(64)
        if roll & 0xFF < 56:  # groceries a bit more than once a week
            self._spend(day, rng, p.groceries)
        if (roll >> 8) & 0xFF < (66 if weekday >= 4 else 26):  # eating out, mostly weekends
            self._spend(day, rng, p.restaurants)
        if weekday < 5 and (roll >> 16) & 0xFF < 56:  # coffee on some workdays
            self._spend(day, rng, p.coffee)
        if (roll >> 24) & 0xFF < 28:
            self._spend(day, rng, p.fuel)
        if (roll >> 32) & 0xFF < 33:
            self._spend(day, rng, p.shopping)
        if (roll >> 40) & 0xFF < 3:
            desc, merchant, _, low, high = p.shopping[0]
            target = self.card or chk
            if target is not None:
                cents = cents_between(rng, low, high)
                target.add(day, cents, f"REFUND {desc}", merchant, "Refunds", True)
        if chk is None:
            return
        if (roll >> 48) & 0xFF < 15:
            self._peer_payment(day, rng, chk)
        if (roll >> 56) & 0xFF < 7:
            amount = 2_000 * (1 + rng.getrandbits(8) % 8)
            chk.add(day, -amount, f"ATM WITHDRAWAL {p.city} {p.state}", None, "Cash")
        if day.toordinal() % 14 == p.payday_offset:
            pay = p.net_pay_cents * (100 + 3 * (day.year - 2022)) // 100
            text = f"{p.employer.upper()} PAYROLL PPD ID: {p.employer_id}"
            chk.add(day, pay, text, p.employer, "Paycheck")
        elif rng.getrandbits(8) < 9:  # a paper check now and then
            number = 1001 + (day.toordinal() % 900)
            cents = cents_between(rng, 2_500, 45_000)
            chk.add(day, -cents, f"CHECK {number}", None, "Checks", check_number=str(number))

    def _peer_payment(self, day: date, rng: random.Random, chk: Ledger) -> None:
        friend = ("J. ALVAREZ", "M. OKONKWO", "S. BRENNAN", "T. YAMADA")[rng.getrandbits(2)]
        cents = 500 * (2 + rng.getrandbits(6) % 30)
        if rng.getrandbits(1):
            chk.add(day, -cents, f"ZELLE PAYMENT TO {friend}", "Zelle", "Transfer")
        else:
            chk.add(day, cents, f"ZELLE PAYMENT FROM {friend}", "Zelle", "Transfer")

    def _business_day(self, day: date, rng: random.Random) -> None:
        p, chk = self.persona, self.chk
        if chk is None:
            return
        chance = rng.random
        if day.weekday() < 5:
            if chance() < 0.55:
                desc, merchant, category, low, high = p.business_income[rng.getrandbits(1)]
                chk.add(day, cents_between(rng, low, high), desc, merchant, category)
            if chance() < 0.45:
                self._spend(day, rng, p.business_spend)
        if day.toordinal() % 14 == p.payday_offset:
            text = f"ADP PAYROLL {p.employer_id[:6]} WAGE PAY"
            chk.add(day, -p.net_pay_cents * 4, text, "ADP", "Payroll")

    def _scheduled(self, day: date, dom: int, rng: random.Random) -> None:
        """What happens on set days: rent, savings, bills, subscriptions, loan payments."""
        p, chk, plan = self.persona, self.chk, self.plan
        if dom == 1 and chk is not None and not plan.mortgage:
            growth = 100 + 4 * (day.year - 2022)
            if plan.business:
                rent = p.housing_cents * 2 * growth // 100
                chk.add(day, -rent, "OFFICE LEASE PAYMENT WEB PMTS", "Office lease", "Rent")
            else:
                rent = p.housing_cents * growth // 100 // 500 * 500
                text = "OAKWOOD PROPERTY MGMT RENT WEB ID: 4820193311"
                chk.add(day, -rent, text, "Oakwood Property Management", "Rent")
        if dom == 2 and self.sav is not None and month_index(day) in self.savings_starts:
            self._save(day)
        if dom in self.bill_days:
            self._bill(day, rng, self.bill_days.index(dom))
        if not plan.business:
            for desc, merchant, cents, sub_day in p.subscriptions:
                target = self.card or chk
                if sub_day == dom and target is not None:
                    target.add(day, -cents, desc, merchant, "Subscriptions", True)
        if self.loan is not None and day in self.schedule:
            self._loan_payment(day)

    def _save(self, day: date) -> None:
        sav, chk, plan = self.sav, self.chk, self.plan
        if sav is None or chk is None or plan.savings is None or plan.checking is None:
            return
        out = f"ONLINE TRANSFER TO SAVINGS XXXXXX{plan.savings.mask}"
        chk.add(day, -self.save_cents, out, None, "Transfer")
        into = f"ONLINE TRANSFER FROM CHECKING XXXXXX{plan.checking.mask}"
        sav.add(day, self.save_cents, into, None, "Transfer")

    def _bill(self, day: date, rng: random.Random, which: int) -> None:
        """The household's own power, water, phone and internet bills."""
        if self.plan.business and which < 2:
            return
        target = self.chk
        if which == 0:
            cents = (6_400 + cents_between(rng, 0, 3_500)) * _SEASON[day.month - 1] // 100
            desc, merchant, category = (
                "SANDBOX POWER & LIGHT WEB PMT",
                "Sandbox Power & Light",
                "Utilities",
            )
        elif which == 1:
            cents = cents_between(rng, 3_800, 7_900)
            desc, merchant, category = (
                "SANDBOX WATER WORKS AUTOPAY",
                "Sandbox Water Works",
                "Utilities",
            )
        elif which == 2:
            cents = 8_500 + cents_between(rng, 640, 790)
            desc, merchant, category = "SANDBOX WIRELESS AUTOPAY", "Sandbox Wireless", "Phone"
            target = self.card or self.chk
        else:
            cents = 6_500 if day.year < 2024 else 7_499
            desc, merchant, category = "SANDBOX FIBER INTERNET", "Sandbox Fiber", "Internet"
            target = self.card or self.chk
        if target is not None:
            target.add(day, -cents, desc, merchant, category, card=target is self.card)

    def _fold_cycles(self, mark: int) -> int:
        """Add the card's new charges to their statement cycles; returns the new mark."""
        card = self.card
        assert card is not None
        totals = self.cycle_totals
        close = date.min
        for day, cents, on_card in card.entries[mark:]:
            if on_card:
                if day > close:  # entries are in date order, so cycles only move on
                    close = self._cycle_close(day)
                totals[close] = totals.get(close, 0) + cents
        return len(card.entries)

    def _pay_card(self, day: date, closed: date) -> None:
        """Pay the statement that closed on `closed` in full, by autopay."""
        card, plan = self.card, self.plan
        assert card is not None
        owed = -self.cycle_totals.get(closed, 0)
        if owed <= 0:
            return
        if self.chk is None:
            card.add(day, owed, "ONLINE PAYMENT - THANK YOU", None, "Credit Card Payment")
            return
        card.add(day, owed, "AUTOPAY PAYMENT - THANK YOU", None, "Credit Card Payment")
        mask = plan.card.mask if plan.card else ""
        text = f"{plan.bank_label} CARD PMT XXXX{mask}"
        self.chk.add(day, -owed, text, None, "Credit Card Payment")

    def _loan_payment(self, day: date) -> None:
        loan, terms = self.loan, self.plan.loan_terms
        assert loan is not None and terms is not None
        interest, paid, _ = self.schedule[day]
        loan.add(day, -interest, "INTEREST CHARGED", None, "Interest")
        memo = f"Principal {money(paid - interest)}, interest {money(interest)}"
        loan.add(day, paid, "PAYMENT RECEIVED - THANK YOU", None, "Loan Payment", memo=memo)
        if self.chk is not None:
            label, category = ("MORTGAGE", "Mortgage") if self.plan.mortgage else ("LOAN", "Loan")
            text = f"{terms.lender.upper()} {label} PMT"
            self.chk.add(day, -paid, text, terms.lender, f"{category} Payment")

    def _month_end(self, day: date, month_mark: int) -> None:
        month = month_index(day)
        if self.sav is not None and month in self.savings_starts:
            interest = (self.savings_starts[month] + self.save_cents) * self.save_apy_bp // 120_000
            self.sav.add(day, interest, "INTEREST PAYMENT", None, "Interest")
        if self.chk is not None:
            moved = sum(cents for _, cents, _ in self.chk.entries[month_mark:])
            sweep = self.checking_target(month + 1) - self.checking_target(month) - moved
            where = "BUSINESS RESERVE XXXX0415" if self.plan.business else "SANDBOX INVEST XXXX4821"
            text = f"TRANSFER {'FROM' if sweep > 0 else 'TO'} {where}"
            self.chk.add(day, sweep, text, None, "Transfer")

    # ----- accounts -------------------------------------------------------------------

    def snapshots(self) -> list[AccountSnapshot]:
        self.draw()
        builders = (
            (self.plan.checking, self.chk, self._checking_account),
            (self.plan.savings, self.sav, self._savings_account),
            (self.plan.card, self.card, self._card_account),
            (self.plan.loan, self.loan, self._loan_account),
        )
        return [
            AccountSnapshot(
                account=build(slot, ledger),
                transactions=tuple(ledger.transactions),
                window=self.clock.window,
            )
            for slot, ledger, build in builders
            if slot is not None and ledger is not None
        ]

    def _owner(self) -> str:
        return self.persona.company if self.plan.business else self.persona.name

    def _deposit(self, slot: Slot, ledger: Ledger, total: int) -> AccountData:
        """A deposit account whose ledger, pending included, adds up to `total`."""
        pending = ledger.pending_cents()
        fixed = dict(self.plan.fixed_balances).get(slot.key)
        if fixed is not None:
            current, available = fixed, fixed + pending
        else:
            current, available = total - pending, total
        return AccountData(
            external_id=ledger.external_id,
            name=slot.name,
            type=slot.type,
            mask=slot.mask,
            holder=self.plan.holder,
            current_balance=money(current),
            available_balance=money(available),
            full_number=full_account_number(self.seed, slot.key, slot.mask),
            routing_number=self.plan.routing_number,
            owner_name=self._owner(),
        )

    def _checking_account(self, slot: Slot, ledger: Ledger) -> AccountData:
        as_of = self.clock.as_of
        opening = self.checking_target(month_index(as_of))
        return self._deposit(
            slot, ledger, opening + ledger.total_between(month_start(as_of), as_of)
        )

    def _savings_account(self, slot: Slot, ledger: Ledger) -> AccountData:
        as_of = self.clock.as_of
        opening = self.savings_starts.get(month_index(as_of), 0)
        return self._deposit(
            slot, ledger, opening + ledger.total_between(month_start(as_of), as_of)
        )

    def _card_account(self, slot: Slot, ledger: Ledger) -> AccountData:
        as_of = self.clock.as_of
        open_close = self._cycle_close(as_of)
        last_close = add_months(open_close, -1)
        statement = max(0, -self.cycle_totals.get(last_close, 0))
        unpaid = statement if as_of < last_close + _CARD_DUE else 0
        owed = -self.cycle_totals.get(open_close, 0) + unpaid
        pending = -ledger.pending_cents()
        return AccountData(
            external_id=ledger.external_id,
            name=slot.name,
            type=AccountType.CREDIT_CARD,
            mask=slot.mask,
            holder=self.plan.holder,
            current_balance=money(owed - pending),
            available_balance=money(self.credit_limit - owed),
            credit_limit=money(self.credit_limit),
            amount_due=money(unpaid),
            minimum_payment=money(min(unpaid, max(3_500, unpaid // 100))),
            due_date=(last_close if unpaid else open_close) + _CARD_DUE,
            full_number="4" + full_account_number(self.seed, slot.key, slot.mask, 15),
            owner_name=self._owner(),
        )

    def _loan_account(self, slot: Slot, ledger: Ledger) -> AccountData:
        terms = self.plan.loan_terms
        assert terms is not None
        as_of = self.clock.as_of
        owed = terms.principal_cents
        for _, _, after in self.schedule.values():
            owed = after
        pay_day = as_of.replace(day=terms.first_payment.day)
        next_due = max(pay_day if as_of < pay_day else add_months(pay_day, 1), terms.first_payment)
        due = min(terms.level_payment(), owed)
        return AccountData(
            external_id=ledger.external_id,
            name=slot.name,
            type=AccountType.LOAN,
            mask=slot.mask,
            holder=self.plan.holder,
            current_balance=money(owed),
            amount_due=money(due),
            minimum_payment=money(due),
            due_date=next_due if owed > 0 else None,
            full_number=full_account_number(self.seed, slot.key, slot.mask, 10),
            owner_name=self._owner(),
        )
