"""Bill accounts for the sandbox billers: power, water, wireless and fiber.

A bill account works unlike a bank account: once a month the biller issues a
statement (a negative charge), and a payment (positive) arrives before the
due date. The person always pays in full, so what is owed at any moment is
just the latest statement, if it is not paid yet; no history needs summing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from billfold.connectors.sandbox.catalog import Profile
from billfold.connectors.sandbox.data import (
    Clock,
    Draws,
    Ledger,
    add_months,
    cents_between,
    digits,
    money,
    month_index,
)
from billfold.connectors.sandbox.persona import Persona
from billfold.domain.accounts import AccountData, AccountType
from billfold.domain.snapshot import AccountSnapshot

_DUE_AFTER = timedelta(days=21)  # statement date to due date
# Share of a yearly average usage per calendar month (percent).
_POWER_SEASON = (118, 108, 92, 80, 84, 112, 140, 146, 118, 90, 92, 110)
_WATER_SEASON = (82, 80, 86, 94, 104, 122, 138, 136, 116, 96, 84, 82)

# A statement: (cents, description, memo) for the period that ends the day before `issued`.
Charge = Callable[[random.Random, date, date, int], tuple[int, str, str]]


def _period(first: date, last: date) -> str:
    return f"{first:%m/%d/%y}-{last:%m/%d/%y}"


def _power(rng: random.Random, first: date, issued: date, seed: int) -> tuple[int, str, str]:
    base_kwh = 620 + seed % 380
    kwh = base_kwh * _POWER_SEASON[first.month - 1] // 100 + rng.getrandbits(32) % 90
    # Energy at 15.4 cents/kWh plus a monthly customer charge and 6% tax.
    energy = kwh * 154 // 10 + 1_250
    cents = energy + energy * 6 // 100
    last = issued - timedelta(days=1)
    return cents, f"Electric service {_period(first, last)}", f"{kwh} kWh"


def _water(rng: random.Random, first: date, issued: date, seed: int) -> tuple[int, str, str]:
    base_ccf = 40 + seed % 40  # tenths of a CCF (100 cubic feet)
    ccf = base_ccf * _WATER_SEASON[first.month - 1] // 100 + rng.getrandbits(32) % 12
    # Water 6.12 and sewer 7.48 per CCF, plus a fixed 18.50 service charge.
    cents = ccf * (612 + 748) // 10 + 1_850
    last = issued - timedelta(days=1)
    return cents, f"Water & sewer {_period(first, last)}", f"{ccf // 10}.{ccf % 10} CCF"


def _wireless(rng: random.Random, first: date, issued: date, seed: int) -> tuple[int, str, str]:
    plan = 8_500
    # A 24-month phone installment that started on a fixed month for this login.
    device_start = date(2023, 1 + seed % 12, 1)
    months_in = month_index(issued) - month_index(device_start)
    device = 2_778 if 0 <= months_in < 24 else 0
    fees = cents_between(rng, 690, 860)
    memo = f"Plan {money(plan)}, device {money(device)}, taxes & fees {money(fees)}"
    return plan + device + fees, f"Wireless service {first:%b %Y}", memo


def _fiber(rng: random.Random, first: date, issued: date, seed: int) -> tuple[int, str, str]:
    # A 12-month promotional price that ended on a fixed month for this login.
    promo_end = date(2023, 1 + seed % 12, 1)
    price = 5_500 if issued < promo_end else 7_499
    memo = f"Fiber 1 Gig {money(price)}"
    return price, f"Internet service {first:%b %Y}", memo


@dataclass(frozen=True, slots=True)
class Biller:
    account_name: str
    type: AccountType
    number_length: int
    charge: Charge
    autopay: bool  # autopay pays on the due date; otherwise a few days early


BILLERS: dict[Profile, Biller] = {
    Profile.POWER: Biller("Residential Electric Service", AccountType.UTILITY, 10, _power, False),
    Profile.WATER: Biller("Water & Sewer Service", AccountType.UTILITY, 9, _water, True),
    Profile.WIRELESS: Biller("Unlimited Plus Plan", AccountType.PHONE, 12, _wireless, True),
    Profile.FIBER: Biller("Fiber Internet", AccountType.INTERNET, 11, _fiber, False),
}


def bill_snapshot(profile: Profile, seed: int, persona: Persona, clock: Clock) -> AccountSnapshot:
    """One bill account with two years of statements and payments."""
    biller = BILLERS[profile]
    statement_day = 3 + seed % 24
    ledger = Ledger(f"{seed:016x}-bill", clock)
    draws = Draws(seed, "bills")
    last_bill: tuple[date, int, date] | None = None  # (issued, cents, paid on)
    issued = add_months(clock.start.replace(day=statement_day), -1)
    while issued <= clock.as_of:
        rng = draws.at(month_index(issued))
        first = add_months(issued, -1)
        cents, description, memo = biller.charge(rng, first, issued, seed)
        ledger.add(issued, -cents, description, None, "Bill", memo=memo)
        due = issued + _DUE_AFTER
        paid_on = due if biller.autopay else due - timedelta(days=rng.getrandbits(8) % 6)
        if paid_on <= clock.as_of:
            text = "AUTOPAY PAYMENT - THANK YOU" if biller.autopay else "PAYMENT - THANK YOU"
            ledger.add(paid_on, cents, text, None, "Payment")
        last_bill = (issued, cents, paid_on)
        issued = add_months(issued, 1)

    owed, due_date = 0, clock.as_of.replace(day=statement_day) + _DUE_AFTER
    if last_bill is not None:
        issued, cents, paid_on = last_bill
        if paid_on > clock.as_of:
            owed, due_date = cents, issued + _DUE_AFTER
        else:
            due_date = add_months(issued, 1) + _DUE_AFTER
    number = digits(seed, "bill-account", biller.number_length)
    if profile is Profile.WIRELESS:
        name = f"{biller.account_name} - {persona.phone}"
    elif biller.type is AccountType.UTILITY:
        name = f"{biller.account_name} - {persona.street}"
    else:
        name = biller.account_name
    account = AccountData(
        external_id=ledger.external_id,
        name=name,
        type=biller.type,
        mask=number[-4:],
        current_balance=money(owed),
        amount_due=money(owed),
        minimum_payment=money(owed),
        due_date=due_date,
        full_number=number,
        owner_name=persona.name,
    )
    return AccountSnapshot(account, tuple(ledger.transactions), window=clock.window)
