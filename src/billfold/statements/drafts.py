"""Mutable drafts the readers fill while they stream: lines and accounts.

`StatementLine` is a frozen dataclass; its own `__init__` assigns each of its
eleven fields through `object.__setattr__`, about 2 µs a line, which alone caps a
reader near 500,000 lines a second. A `DraftLine` has the same slot layout
without the frozen guard: a reader fills its slots and switches its class to
`StatementLine`, about 0.3 µs, giving an ordinary line (equal, hashable, frozen).
`CAN_PROMOTE` checks once that the switch gives exactly what the constructor
would; if `StatementLine` ever changes shape it says no and readers use the
constructor.

A `DraftAccount` gathers what a file says about an account as the reader meets
it (the number first, the balances after the transactions) and freezes into a
`StatementAccount` at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from billfold.statements.records import StatementAccount, StatementLine

LINE_FIELDS = tuple(f.name for f in fields(StatementLine))


class DraftLine:
    """`StatementLine`'s slots without its frozen guard; see the module docstring."""

    __slots__ = LINE_FIELDS


def _can_promote() -> bool:
    probe: Any = DraftLine()
    values = (
        date(2024, 1, 2), Decimal("1.5"), "x", "p", "m", "1", "r", Decimal(2), "EUR", "k", True
    )  # fmt: skip
    if hasattr(StatementLine, "__post_init__"):
        return False
    try:
        for name, value in zip(LINE_FIELDS, values, strict=True):
            setattr(probe, name, value)
        probe.__class__ = StatementLine
        return type(probe) is StatementLine and probe == StatementLine(*values)
    except (TypeError, ValueError):
        return False


CAN_PROMOTE = _can_promote()


@dataclass(slots=True)
class DraftAccount:
    key: str = ""
    number: str | None = None
    name: str | None = None
    type: str | None = None
    currency: str | None = None
    ledger_balance: Decimal | None = None
    available_balance: Decimal | None = None
    balance_date: date | None = None

    def freeze(self) -> StatementAccount:
        return StatementAccount(
            key=self.key,
            number=self.number,
            name=self.name,
            type=self.type,
            currency=self.currency,
            ledger_balance=self.ledger_balance,
            available_balance=self.available_balance,
            balance_date=self.balance_date,
        )
