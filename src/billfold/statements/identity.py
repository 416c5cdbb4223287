"""Stable ids for statement lines, so re-importing an overlapping file adds nothing twice.

A line the file identifies (OFX FITID, CAMT reference) keeps that id. A line it
does not (CSV, QIF) is identified by its content: date, amount and a hash of its
normalised description, plus its occurrence among identical lines of the same day
in the file. Two genuinely identical purchases on one day are occurrences 0 and 1 and
both kept; the same two in a later, overlapping export get the same two ids and
are recognised as already imported.

Counting occurrences needs only the current day's lines when a file is sorted by
date (as exports are), so memory stays flat in file size. A file that turns out
not to be sorted after a day was forgotten raises `UnsortedLines`; the caller
reads it again with `remember_all_days=True`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

_MAX_REFERENCE = 150
_DIGEST_CACHE = 100_000


class UnsortedLines(Exception):
    """A day came back after its counts were forgotten; read again remembering all days."""


@dataclass(slots=True)
class _AccountDays:
    day: date | None = None
    # "line:<day>:", the start of every id of the current day.
    head: str = ""
    direction: int = 0
    forgot_a_day: bool = False
    counts: dict[object, int] = field(default_factory=dict)


class LineIdentities:
    def __init__(self, *, remember_all_days: bool = False) -> None:
        self._remember_all = remember_all_days
        self._accounts: dict[str, _AccountDays] = {}
        # Statements repeat their payees; hashing each distinct description once is
        # most of the cost of an id.
        self._digests: dict[str, str] = {}
        # The last account's days: files hold one account, or long runs of each.
        self._key: str | None = None
        self._days = _AccountDays()

    def external_id(
        self, account_key: str, day: date, minor: int, description: str, reference: str | None
    ) -> str:
        # Called once per line of files with millions: the common cases come first
        # and build no more strings than the id itself.
        if reference:
            if len(reference) <= _MAX_REFERENCE:
                return "ref:" + reference
            return "ref#" + hashlib.blake2b(reference.encode(), digest_size=16).hexdigest()
        days = self._days
        if account_key != self._key:
            found = self._accounts.get(account_key)
            if found is None:
                found = self._accounts[account_key] = _AccountDays()
            self._key, self._days = account_key, found
            days = found
        if day != days.day:
            self._move_to(days, day)
        digest = self._digests.get(description)
        if digest is None:
            digest = self._digest(description)
        counts = days.counts
        key = (day, minor, digest) if self._remember_all else (minor, digest)
        occurrence = counts.get(key, 0)
        counts[key] = occurrence + 1
        return f"{days.head}{minor}:{digest}:{occurrence}"

    def _digest(self, description: str) -> str:
        if len(self._digests) >= _DIGEST_CACHE:
            self._digests.clear()
        normal = " ".join(description.split()).casefold()
        digest = hashlib.blake2b(normal.encode(), digest_size=10).hexdigest()
        self._digests[description] = digest
        return digest

    def _move_to(self, days: _AccountDays, day: date) -> None:
        previous = days.day
        days.day = day
        days.head = f"line:{day.isoformat()}:"
        if previous is None or self._remember_all:
            return
        step = 1 if day > previous else -1
        if days.direction == 0:
            days.direction = step
        elif step != days.direction:
            if days.forgot_a_day:
                raise UnsortedLines
            return
        days.counts.clear()
        days.forgot_a_day = True
